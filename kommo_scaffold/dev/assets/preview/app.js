// The preview's Kommo: loads widget/script.js by URL as Kommo does, runs the lifecycle of each
// area (render; init and bind_actions only after render returned true; destroy when leaving;
// init_once skips the re-init), logs every callback, and offers window.kommoPreview for tests.
define(['jquery', 'twigjs', 'widget', 'shells'], function ($, Twig, widgetApi, shells) {
  'use strict';

  // Areas Kommo never opens in a browser tab: server-side, mobile app or AI agent only.
  var NOT_IN_BROWSER = ['sms', 'mobile_card', 'ai_agent'];
  var ENTRY = {
    advanced_settings: 'advancedSettings', widget_page: 'initMenuPage',
    digital_pipeline: 'dpSettings', card_sdk: 'loadPreloadedData',
    catalogs: 'loadCatalogElement', lead_sources: 'onAddAsSource',
    salesbot_designer: 'salesbotDesignerSettings', settings: 'settings'
  };
  var log = [];
  var warnings = [];
  var state = null;
  var widget = null;
  var current = null;
  var shell = null;
  var inited = false;
  var system = {};
  var salesbotExits = null;

  function describe(value, depth) {
    var level = depth || 0;
    if (value === undefined) { return undefined; }
    if (value === null || typeof value !== 'object' && typeof value !== 'function') {
      return value;
    }
    if (typeof value === 'function') { return '[function]'; }
    if (value.jquery) { return '[jQuery ' + (value.attr('class') || value.length) + ']'; }
    if (typeof value.then === 'function') { return '[Promise]'; }
    if (level > 3) { return '[object]'; }
    var out = Array.isArray(value) ? [] : {};
    Object.keys(value).slice(0, 30).forEach(function (key) {
      out[key] = describe(value[key], level + 1);
    });
    return out;
  }

  function show(text) {
    if (text === undefined) { return 'undefined'; }
    try { return JSON.stringify(text); } catch (e) { return String(text); }
  }

  function renderEntry(entry) {
    var $li = entry.$li || (entry.$li = $('<li/>').appendTo('#kp-log'));
    var text = entry.area + ' · ' + entry.callback + '(' +
      (entry.args || []).map(show).join(', ') + ')';
    if (entry.error) {
      text += ' ✗ ' + entry.error;
    } else if (entry.returned !== undefined || 'resolved' in entry) {
      text += ' → ' + show(entry.returned) + ('resolved' in entry ? ' ⇒ ' + show(entry.resolved) : '');
    }
    $li.text(text).attr('class', entry.error ? 'kp-error' : (entry.kind === 'warning' ?
      'kp-warning' : 'kp-call'));
  }

  function record(entry) {
    Object.defineProperty(entry, '$li', {enumerable: false, writable: true, value: null});
    log.push(entry);
    renderEntry(entry);
    return entry;
  }

  function warn(text) {
    if (warnings.indexOf(text) !== -1) { return; }
    warnings.push(text);
    var entry = {kind: 'warning', text: text};
    Object.defineProperty(entry, '$li', {enumerable: false, writable: true, value: null});
    entry.$li = $('<li class="kp-warning"/>').text('⚠ ' + text).appendTo('#kp-log');
  }

  function note(name, args) {
    record({area: current, callback: 'self.' + name, args: describe(args), returned: undefined,
            error: null});
  }

  function fail(name, message) {
    record({area: current, callback: name, args: [], returned: undefined, error: message});
  }

  function call(area, name, args) {
    var params = args || [];
    var entry = {area: area, callback: name, args: describe(params), returned: undefined,
                 error: null};
    record(entry);
    var callbacks = widget && widget.callbacks;
    var fn = widgetApi.lookup(callbacks, name);
    if (typeof fn !== 'function') {
      entry.error = 'callbacks.' + name + ' is missing';
      renderEntry(entry);
      warn('callbacks.' + name + ' is missing: Kommo calls it in ' + area);
      return Promise.resolve({missing: true});
    }
    var owner = name.indexOf('.') === -1 ? callbacks :
      widgetApi.lookup(callbacks, name.split('.').slice(0, -1).join('.'));
    var value;
    try {
      value = fn.apply(owner, params);
    } catch (error) {
      entry.error = (error && error.name ? error.name + ': ' + error.message : String(error));
      renderEntry(entry);
      return Promise.resolve({error: error});
    }
    entry.returned = describe(value);
    renderEntry(entry);
    if (value && typeof value.then === 'function') {
      return Promise.resolve(value).then(function (resolved) {
        entry.resolved = describe(resolved);
        renderEntry(entry);
        return {value: resolved, promise: true};
      }, function (error) {
        entry.error = 'rejected: ' + (error && error.message ? error.message : String(error));
        renderEntry(entry);
        return {error: error, promise: true};
      });
    }
    return Promise.resolve({value: value});
  }

  function mustBeTrue(area, name, result) {
    if (!result.error && !result.missing && result.value !== true) {
      warn(area + ': ' + name + ' returned ' + show(describe(result.value)) + ', not true');
    }
    return result.value === true;
  }

  function label(key) {
    var langs = state.i18n[state.settings.lang] || state.i18n.en ||
      state.i18n[Object.keys(state.i18n)[0]] || {};
    var found = widgetApi.lookup(langs, key);
    return typeof found === 'string' ? found : key;
  }

  function areas() {
    var seen = [];
    (state.manifest.locations || []).forEach(function (location) {
      var code = String(location).replace(/-[01]$/, '');
      if (NOT_IN_BROWSER.indexOf(code) === -1 && seen.indexOf(code) === -1) { seen.push(code); }
    });
    return seen;
  }

  function cardArea() {
    return areas().filter(function (a) { return shells.CARDS[a]; })[0] || 'lcard';
  }

  function checkWorkArea(area) {
    var $work = $('#work-area-' + state.code);
    if ($work.length && !$work.children().length) {
      warn(area + ': nothing was drawn into #work-area-' + state.code + '. Kommo assigns the ' +
           'widget code (here ' + state.code + '); read it with ' +
           'self.get_settings().widget_code');
    }
  }

  function enter(area) {
    var name = ENTRY[area];
    if (area === 'settings') {
      return openModal();
    }
    if (shells.LISTS[area]) {
      bindList(area);
      return Promise.resolve();
    }
    if (!name) { return Promise.resolve(); }
    if (area === 'widget_page') {
      var item = Object.keys(state.manifest.left_menu || {})[0];
      return call(area, name, [{location: 'widget_page', item_code: item}])
        .then(function () { checkWorkArea(area); });
    }
    if (area === 'advanced_settings') {
      return call(area, name, []).then(function () { checkWorkArea(area); });
    }
    if (area === 'catalogs') {
      return call(area, name, [{id: 501, catalog_id: state.settings.catalog_id || 0,
                                name: 'Catalog element #501'}]);
    }
    if (area === 'lead_sources') { return call(area, name, [1000]); }
    if (area === 'salesbot_designer') { return openSalesbot(area); }
    if (area === 'card_sdk') {
      return call(area, 'loadPreloadedData', []).then(function (result) {
        if (!result.promise && !result.missing && !result.error) {
          warn('card_sdk: loadPreloadedData must return a Promise');
        }
        return call(area, 'loadElements', [shells.CARDS[cardArea()], 1]);
      }).then(function (result) {
        if (!result.missing && !result.error && (!result.promise || !Array.isArray(result.value))) {
          warn('card_sdk: loadElements must return a Promise of an array');
        }
      });
    }
    return call(area, name, []);
  }

  function openModal() {
    var $modal = shell.settingsModal(state.settings.fields || {});
    $modal.on('click', '.js-widget-save, .js-widget-install', function () { save(); });
    $modal.on('click', '.js-widget-disable', function () { disable(); });
    return call('settings', 'settings', [$modal.find('.modal-body')]);
  }

  function bindList(area) {
    var $page = $('#page_holder');
    $page.on('change', '.list-row__checkbox', function () {
      $page.find('.kp-more').prop('disabled', !$page.find('.list-row__checkbox:checked').length);
    });
    $page.on('click', '.kp-more', function () { $page.find('.kp-more-menu').toggle(); });
    $page.on('click', '.kp-more-menu__item', function () { pick(area); });
  }

  function pick(area) {
    $('#page_holder .kp-more-menu').hide();
    $('#kp-overlay').show();
    shell.panel();
    return call(area, shells.LISTS[area] + '.selected', []);
  }

  function openSalesbot(area) {
    var handlers = Object.keys(state.manifest.salesbot_designer || {});
    var $body = $('#page_holder .salesbot-designer__body');
    var renderRow = function (caption) {
      var $row = $('<div class="widget_param"/>').append(
        $('<div class="widget_param__caption"/>').text(caption || ''));
      $body.append($row);
      return $row;
    };
    var fields = ((state.manifest.salesbot_designer || {})[handlers[0]] || {}).settings || {};
    $.each(fields, function (field) {
      $body.append($('<div/>', {'data-field-name': field}).append(
        $('<input/>', {type: 'text', name: 'value_manual'})));
    });
    $('#page_holder .kp-salesbot-save').on('click', function () { saveBot(); });
    return call(area, 'salesbotDesignerSettings', [$body, renderRow, {handler_code: handlers[0]}])
      .then(function (result) {
        var exits = result.value && result.value.exits;
        salesbotExits = Array.isArray(exits) ? exits.map(function (e) { return e.code; }) : [];
      });
  }

  function saveBot() {
    var handler = Object.keys(state.manifest.salesbot_designer || {})[0];
    var params = {};
    $('#page_holder [data-field-name]').each(function () {
      params[$(this).attr('data-field-name')] = $(this).find('input').val();
    });
    return call('salesbot_designer', 'onSalesbotDesignerSave', [handler, params])
      .then(function (result) {
        if (result.error || result.missing) { return result; }
        if (typeof result.value !== 'string') {
          warn('onSalesbotDesignerSave must return a string of Salesbot JSON');
          return result;
        }
        var steps;
        try { steps = JSON.parse(result.value); } catch (e) {
          warn('onSalesbotDesignerSave returned a string that is not JSON: ' + e.message);
          return result;
        }
        JSON.stringify(steps, function (key, value) {
          if (value && value.handler === 'exits' && value.params &&
              (salesbotExits || []).indexOf(value.params.value) === -1) {
            warn('Salesbot exit "' + value.params.value + '" is not declared by ' +
                 'salesbotDesignerSettings');
          }
          return value;
        });
        return result;
      });
  }

  function collectFields() {
    var fields = {};
    $('.kp-modal.' + state.code + ' [data-field]').each(function () {
      var name = $(this).attr('data-field');
      var $users = $(this).find('[data-user]');
      if ($users.length) {
        fields[name] = {};
        $users.each(function () { fields[name][$(this).attr('data-user')] = $(this).val(); });
      } else {
        fields[name] = $(this).find('input').last().val();
      }
    });
    return fields;
  }

  function save(given, active) {
    var opened = $('.kp-modal.' + state.code).length ? Promise.resolve() : go('settings');
    return opened.then(function () {
      var fields = $.extend(collectFields(), given || {});
      var evt = {fields: fields, active: active || 'Y'};
      return call('settings', 'onSave', [evt]).then(function (result) {
        var ok = !result.error && !result.missing && Boolean(result.value) &&
          result.value !== false;
        if (!ok) {
          warn('onSave did not return true: Kommo would not save the settings');
          return {saved: false, result: describe(result.value)};
        }
        return $.ajax({url: '/__kommo/settings', type: 'POST', contentType: 'application/json',
                       headers: {'X-Kommo-Preview': state.token},
                       data: JSON.stringify(evt)}).then(function () {
          widget.set_settings(evt.fields);
          widget.set_settings({active: evt.active});
          return {saved: true, result: describe(result.value)};
        });
      });
    });
  }

  function disable() {
    return save({}, 'N').then(function () { return call('settings', 'destroy', []); });
  }

  function go(area) {
    var leaving = current ? call(current, 'destroy', []) : Promise.resolve();
    return leaving.then(function () {
      $('.kp-modal').remove();
      $('#page_holder').off();
      current = area;
      system.area = area === 'card_sdk' ? cardArea() : area;
      window.APP.widgets.system.area = system.area;
      $('#kp-area').val(area);
      shell = shells.build(area, {state: state, label: label, cardArea: cardArea()});
      window.APP.data.current_card = shell.isCard() ? {id: 1, element_type: 2, model: {
        attributes: {id: 1}, get: function (key) { return this.attributes[key]; },
        set: function (key, value) { this.attributes[key] = value; }}} : false;
      $(document).trigger('page:changed');
      return call(area, 'render', []);
    }).then(function (result) {
      if (!mustBeTrue(area, 'render', result)) {
        warn(area + ': render did not return true, so Kommo does not call init and ' +
             'bind_actions');
        return null;
      }
      if (inited && (state.manifest.widget || {}).init_once === true) {
        return enter(area);
      }
      inited = true;
      return call(area, 'init', []).then(function (r) {
        mustBeTrue(area, 'init', r);
        return call(area, 'bind_actions', []);
      }).then(function (r) {
        mustBeTrue(area, 'bind_actions', r);
        return enter(area);
      });
    }).then(function () { return null; });
  }

  function selectRows(count) {
    var $boxes = $('#page_holder .list-row__checkbox');
    if (!$boxes.length) {
      return Promise.reject(new Error('selectRows: the current area is not a list'));
    }
    $boxes.prop('checked', false).slice(0, count).prop('checked', true).trigger('change');
    return pick(current).then(function (result) { return describe(result.value); });
  }

  function showFindings(findings, summary) {
    var $box = $('#kp-findings').empty();
    $('#kp-check').text('kommo check: ' + (summary || '…'));
    (findings || []).forEach(function (f) {
      $box.append($('<div/>', {'class': 'kp-finding kp-' + f.severity}).text(
        (f.file || '') + (f.line ? ':' + f.line : '') + ' ' + f.rule + ' ' + f.severity +
        ': ' + f.message));
    });
  }

  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource('/__kommo/events');
    source.addEventListener('reload', function () { window.location.reload(); });
    source.addEventListener('check', function (event) {
      var data = JSON.parse(event.data);
      showFindings(data.findings, data.summary);
    });
    window.addEventListener('beforeunload', function () { source.close(); });
  }

  function start() {
    var ready = $.getJSON('/__kommo/state').then(function (loaded) {
      state = loaded;
      $('#kp-code').text('widget code ' + state.code + ' (project: ' + state.project_code + ')');
      showFindings(state.findings, state.summary);
      system = {area: '', amouser_id: 2000001, amouser: 'dev@example.com', amohash: 'dev',
                subdomain: 'preview', domain: 'kommo.com', server: 'preview',
                displayed_count: 0, displayed_count_by_area: {}};
      var ctx = {state: state, system: system, warn: warn, note: note,
                 shell: {panel: function () { return shell.panel(); },
                         selectedRows: function () { return shell ? shell.selectedRows() : []; },
                         addButton: function (n, t, h) { shell.addButton(n, t, h); },
                         entity: function () { return shell ? shell.entity() : ''; },
                         isCard: function () { return shell ? shell.isCard() : false; },
                         pageCode: function () { return shell ? shell.pageCode() : ''; },
                         toast: function (m, k) { shell.toast(m, k); }}};
      window.APP = window.AMOCRM = widgetApi.globals(ctx);
      window.Twig = Twig;
      areas().forEach(function (area) { $('<option/>', {value: area}).text(area)
        .appendTo('#kp-area'); });
      $('#kp-area').on('change', function () { go($(this).val()); });
      $('#kp-settings').on('click', function () { go('settings'); });
      $('#kp-clear').on('click', function () { $('#kp-log').empty(); });
      listen();
      return $.ajax({url: state.base + '/script.js', dataType: 'text'}).then(function (text) {
        var quoted = new RegExp('[\'"]' + state.project_code + '[\'"]');
        if (quoted.test(text)) {
          warn('script.js hard-codes the widget code "' + state.project_code + '": Kommo ' +
               'assigns its own (here ' + state.code + '); read it with ' +
               'self.get_settings().widget_code');
        }
        return new Promise(function (resolve) {
          require([state.base + '/script.js'], function (Widget) {
            if (typeof Widget !== 'function') {
              fail('load', 'script.js did not return a widget constructor from define()');
              return resolve(null);
            }
            var base = widgetApi.create(ctx);
            var instance = Object.create(base);
            try {
              var made = Widget.call(instance);
              widget = made && typeof made === 'object' ? made : instance;
            } catch (error) {
              fail('constructor', error.name + ': ' + error.message);
              return resolve(null);
            }
            window.APP.widgets.list[state.code].params = widget.params;
            var wanted = (new URLSearchParams(window.location.search)).get('area');
            var list = areas();
            if (wanted && wanted !== 'settings' && list.indexOf(wanted) === -1) {
              warn('?area=' + wanted + ' is not an area of this widget (' + list.join(', ') +
                   ')');
              wanted = null;
            }
            resolve(go(wanted || list[0] || 'everywhere'));
          }, function (error) {
            resolve(null);
            return error;
          });
        });
      });
    });
    window.kommoPreview = {
      log: log, warnings: warnings, fail: fail,
      ready: Promise.resolve(ready).then(function () { return true; }),
      areas: function () { return areas(); },
      go: go, selectRows: selectRows,
      openSettings: function () { return go('settings'); },
      save: function (fields) { return save(fields, 'Y'); },
      saveBot: saveBot,
      widget: function () { return widget; }
    };
  }

  return {start: start};
});
