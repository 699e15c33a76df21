// The widget object Kommo merges script.js into, and the APP/AMOCRM globals, built from the
// manifest, the i18n files and .kommo/dev-settings.json. Members follow Kommo's script.js,
// environment-variables, lists-sdk, card-sdk and one-time-tokens documentation.
define(['jquery', 'twigjs', 'controls'], function ($, Twig, controls) {
  'use strict';

  var IGNORED_KEYS = ['then', 'toJSON', 'constructor', 'valueOf', 'toString', 'length',
                      'nodeType', 'jquery', 'hasOwnProperty', 'isPrototypeOf'];

  function lookup(tree, dotted) {
    return String(dotted).split('.').reduce(function (node, key) {
      return node === null || node === undefined ? undefined : node[key];
    }, tree);
  }

  // Warns when the widget reads a text that the locale file lacks.
  function watchedLangs(langs, warn, path) {
    if (!langs || typeof langs !== 'object' || typeof Proxy === 'undefined') {
      return langs;
    }
    return new Proxy(langs, {
      get: function (target, key) {
        var value = target[key];
        if (typeof key !== 'string' || IGNORED_KEYS.indexOf(key) !== -1 || key.charAt(0) === '_') {
          return value;
        }
        var full = path ? path + '.' + key : key;
        if (value === undefined && !(key in target)) {
          warn('i18n: no key "' + full + '" in the locale file');
        }
        return value && typeof value === 'object' ? watchedLangs(value, warn, full) : value;
      }
    });
  }

  var registered = false;

  function registerControls() {
    if (registered) { return; }
    registered = true;
    Object.keys(controls).forEach(function (name) {
      Twig.twig({id: '/tmpl/controls/' + name + '.twig', data: controls[name],
                 allowInlineIncludes: true});
    });
  }

  // ctx: {state, system (object), warn(text), note(name, args, returned), shell}
  function create(ctx) {
    var state = ctx.state;
    var code = state.code;
    var manifestWidget = state.manifest.widget || {};
    var lang = state.settings.lang || 'en';
    if (!state.i18n[lang]) {
      lang = Object.keys(state.i18n)[0] || 'en';
    }
    registerControls();
    var settings = $.extend({}, state.settings.fields || {}, {
      widget_code: code, path: state.base, cdn_path: state.base, images_path: state.base + '/images',
      version: manifestWidget.version, active: state.settings.active || 'Y',
      status: state.settings.install_status || 'installed', id: 1, widget_active: 'Y',
      oauth_client_uuid: '00000000-0000-4000-8000-000000000000'
    });
    var installStatus = state.settings.install_status || 'installed';

    var widget = {
      params: settings,
      langs: watchedLangs(state.i18n[lang] || {}, ctx.warn, ''),
      system: function () { return ctx.system; },
      get_settings: function () { return settings; },
      set_settings: function (values) { $.extend(settings, values); return settings; },
      i18n: function (key) {
        var found = lookup(state.i18n[lang], key);
        if (found === undefined) {
          ctx.warn('i18n: self.i18n("' + key + '") has no text in i18n/' + lang + '.json');
        }
        return found;
      },
      set_lang: function (values) { widget.langs = values; },
      get_version: function () { return manifestWidget.version; },
      get_install_status: function () { return installStatus; },
      set_status: function (status) {
        ctx.note('set_status', [status]);
        $('#kp-status').text(status);
      },
      render: function (template, params) {
        var tpl = template || {};
        if (tpl.href) {
          var url = (tpl.base_path || state.base) + tpl.href + (tpl.v ? '?v=' + tpl.v : '');
          Twig.twig({
            href: url, async: true, allowInlineIncludes: true,
            load: function (loaded) {
              if (typeof tpl.load === 'function') { tpl.load(loaded); }
            },
            error: function (error) { ctx.warn('render: cannot load ' + url + ': ' + error); }
          });
          return undefined;
        }
        var compiled;
        if (tpl.ref) {
          compiled = Twig.twig({ref: tpl.ref});
          if (!compiled) {
            ctx.warn('render: no system template ' + tpl.ref + ' in the preview');
            return '';
          }
        } else {
          compiled = Twig.twig({data: String(tpl.data || ''), allowInlineIncludes: true});
        }
        return compiled.render(params || {});
      },
      render_template: function (options, data) {
        var opts = options || {};
        var caption = opts.caption || {};
        var body = opts.body || '';
        if (opts.render) {
          body += Twig.twig({data: String(opts.render)}).render(data || {});
        }
        var $panel = ctx.shell.panel();
        var $caption = $('<div/>', {'class': 'card-widgets__widget__caption ' +
                                             (caption.class_name || '')});
        if (caption.html) {
          $caption.html(caption.html);
        } else {  // as Kommo: the widget's name in the user's language, as text
          var name = lookup(state.i18n[lang], manifestWidget.name);
          $caption.text(typeof name === 'string' ? name : manifestWidget.name || code);
        }
        $panel.empty().append(
          $caption, $('<div/>', {'class': 'card-widgets__widget__body'}).html(body));
        return $panel;
      },
      crm_post: function (url, data, success, type, error) {
        var request = $.ajax({
          url: '/__kommo/proxy', type: 'POST', contentType: 'application/json',
          headers: {'X-Kommo-Preview': state.token}, dataType: 'json',
          data: JSON.stringify({url: url, data: data})
        });
        request.done(function (answer) {
          var body = answer.body;
          if (answer.status >= 400) {
            if (typeof error === 'function') { error({status: answer.status, responseText: body}); }
            return;
          }
          try {
            if (type === 'json') { body = JSON.parse(body); }
          } catch (e) {
            if (typeof error === 'function') { error({status: answer.status, responseText: body}); }
            return;
          }
          if (typeof success === 'function') { success(body, 'success'); }
        }).fail(function (xhr) {
          ctx.warn('crm_post ' + url + ': ' + ((xhr.responseJSON || {}).error || xhr.status));
          if (typeof error === 'function') { error(xhr); }
        });
        return request;
      },
      $authorizedAjax: function (options) {
        var opts = $.extend(true, {}, options);
        return $.ajax({
          url: '/__kommo/jwt', type: 'POST', contentType: 'application/json',
          headers: {'X-Kommo-Preview': state.token}, dataType: 'json',
          data: JSON.stringify({audience: opts.url || ''})
        }).then(function (answer) {
          opts.headers = $.extend({}, opts.headers, {'X-Auth-Token': answer.token});
          return $.ajax(opts);
        });
      },
      list_selected: function () {
        var rows = ctx.shell.selectedRows();
        return {
          selected: rows, count_selected: rows.length,
          summary: {items: rows.length, emails: rows.length, phones: rows.length}
        };
      },
      widgetsOverlay: function (on) { $('#kp-overlay').toggle(on !== false); },
      add_action: function (type, handler) {
        ctx.note('add_action', [type]);
        ctx.shell.addButton('action-' + type, type, function () {
          handler({value: type === 'phone' ? '+10000000000' : 'dev@example.com'});
        });
      },
      add_source: function (type, handler) {
        ctx.note('add_source', [type]);
        ctx.shell.addButton('source-' + type, type, function () {
          handler({phone: '+10000000000', message: 'Hello', contact_id: 1});
        });
      },
      get_pipeline_id: function () { return Promise.resolve(1000); },
      setSdkCatalogId: function (id) { ctx.note('setSdkCatalogId', [id]); settings.catalog_id = id; },
      // The account as APP.constant('account') has it, without an API call.
      get_accounts_current: function () { return window.APP.constant('account'); },
      get_current_card_contacts_data: function () {
        return Promise.resolve([{id: 1, name: 'Jane Doe', first_name: 'Jane', last_name: 'Doe',
                                 phones: ['+10000000000'], emails: ['jane@example.com']}]);
      }
    };
    return widget;
  }

  function globals(ctx) {
    var state = ctx.state;
    var constants = {
      user: {id: 2000001, name: 'Developer', login: 'dev@example.com',
             personal_mobile: '+10000000000'},
      user_rights: {is_admin: 'Y', is_free: 'N', is_active: 'Y'},
      account: {id: 1000001, subdomain: 'preview', timezone: 'UTC', cf: {},
                products: {catalog_id: 0}},
      managers: {2000001: {id: 2000001, title: 'Developer', active: true}},
      groups: {0: 'Main'}, task_types: {1: {id: 1, option: 'Follow-up'}}
    };
    var widgets = {};
    widgets[state.code] = {params: null};
    var APP = {
      lang_id: state.settings.lang || 'en',
      constant: function (key, value) {
        if (arguments.length > 1) {
          ctx.warn('APP.constant("' + key + '", value) changes Kommo data: public widgets ' +
                   'must not');
          constants[key] = value;
        }
        if (key === 'card_id') {  // the open card's id, 0 outside cards
          return APP.data.current_card ? APP.data.current_card.id : 0;
        }
        return constants[key];
      },
      getBaseEntity: function () { return ctx.shell.entity(); },
      isCard: function () { return ctx.shell.isCard(); },
      getWidgetsArea: function () { return ctx.shell.pageCode(); },
      data: {current_view: {$el: $('#page_holder')}, current_card: false, current_list: []},
      sdk: {showUserStatus: function () {}, setCallingStatus: function () {}},
      notifications: {
        show_message: function (m) { ctx.shell.toast(m, 'message'); },
        show_message_error: function (m) { ctx.shell.toast(m, 'error'); },
        show_notification: function (m) { ctx.shell.toast(m, 'notification'); },
        add_error: function (m) { ctx.shell.toast(m, 'error'); },
        add_call: function (m) { ctx.shell.toast(m, 'call'); }
      },
      addNotificationCallback: function (widgetCode) {
        if (!(state.manifest.widget || {}).init_once) {
          ctx.warn('APP.addNotificationCallback needs widget.init_once: true in manifest.json');
        }
      },
      widgets: {system: ctx.system, list: widgets},  // the same object as self.system()
      // Date and time formats of the user's account, as moment format strings (widgets
      // write moment(x).format(APP.system.format.date.date)).
      system: {subdomain: ctx.system.subdomain, domain: ctx.system.domain, format: {
        date: {date: 'DD.MM.YYYY', date_short: 'DD.MM', time: 'HH:mm',
               full: 'DD.MM.YYYY HH:mm'}}},
      cf_types: {text: 1, numeric: 2, checkbox: 3, select: 4, multiselect: 5, date: 6, url: 7},
      element_types: {contacts: 1, leads: 2, companies: 3, tasks: 4, customers: 12}
    };
    return APP;
  }

  return {create: create, globals: globals, lookup: lookup};
});
