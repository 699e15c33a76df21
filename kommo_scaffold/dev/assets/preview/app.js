// The preview's Kommo: loads widget/script.js by URL as Kommo does, runs the lifecycle of each
// area (render; init and bind_actions only after render returned true; destroy when leaving;
// init_once skips the re-init), logs every callback, and offers window.kommoPreview for tests.
define(['jquery', 'twigjs', 'backbone', 'widget', 'shells', 'areas'],
       function ($, Twig, Backbone, widgetApi, shells, makeAreas) {
  'use strict';

  var ELEMENT_TYPES = {contacts: 1, leads: 2, companies: 3, customers: 12};
  var log = [];
  var warnings = [];
  var state = null;
  var widget = null;
  var current = null;
  var shell = null;
  var inited = false;
  var system = {};

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
      if (seen.indexOf(code) === -1) { seen.push(code); }
    });
    return seen;
  }

  function cardArea() {
    return areas().filter(function (a) { return shells.CARDS[a]; })[0] || 'lcard';
  }

  var entries = makeAreas({
    state: function () { return state; }, shell: function () { return shell; },
    widget: function () { return widget; }, current: function () { return current; },
    call: call, warn: warn, describe: describe, go: function (area) { return go(area); },
    cardArea: cardArea
  });
  var enter = entries.enter;

  // APP.data.current_card: the same entity the card's DOM shows and the API answers, its
  // model a Backbone model with the card form's names (name, lead[PRICE], CFV[<id>]).
  function currentCard(entity) {
    var card = (state.cards || {})[entity] || {};
    var data = card.entity || {id: 1, name: ''};
    var prefix = entity.replace(/ies$/, 'y').replace(/s$/, '');
    var attributes = {id: data.id, name: data.name};
    attributes[prefix + '[NAME]'] = data.name;
    if (entity === 'leads') {
      attributes.price = data.price;
      attributes['lead[PRICE]'] = data.price;
    }
    (card.fields || []).forEach(function (field) {
      attributes['CFV[' + field.id + ']'] = field.enum_id !== null ? field.enum_id : field.value;
    });
    return {id: data.id, element_type: ELEMENT_TYPES[entity], entity: entity,
            model: new Backbone.Model(attributes)};
  }

  function go(area) {
    var leaving = current ? call(current, 'destroy', []) : Promise.resolve();
    return leaving.then(function () {
      $('.kp-modal').remove();
      $('#page_holder').off();
      current = area;
      system.area = area === 'card_sdk' ? cardArea() : area;
      $('#kp-area').val(area);
      shell = shells.build(area, {state: state, label: label, cardArea: cardArea()});
      window.APP.data.current_card = shell.isCard() ? currentCard(shell.entity()) : false;
      $(document).trigger('page:changed');
      if ((state.scriptless_areas || []).indexOf(area) !== -1) {
        return {scriptless: true};  // Kommo runs no script.js in this area
      }
      return call(area, 'render', []);
    }).then(function (result) {
      if (result.scriptless) { return null; }
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

  function showFindings(findings, summary) {
    var $box = $('#kp-findings').empty();
    $('#kp-check').text('kommo check: ' + (summary || '…'));
    (findings || []).forEach(function (f) {
      $box.append($('<div/>', {'class': 'kp-finding kp-' + f.severity}).text(
        (f.file || '') + (f.line ? ':' + f.line : '') + ' ' + f.rule + ' ' + f.severity +
        ': ' + f.message));
    });
  }

  // Resolves once the page listens (or could not), so that the widget, started after it,
  // has even its first API calls in the log.
  function listen() {
    if (!window.EventSource) { return Promise.resolve(); }
    var source = new EventSource('/__kommo/events');
    var checked = false;  // a 'check' event came since the stream (re)opened
    var listening = new Promise(function (resolve) {
      source.addEventListener('open', function () {
        // A check that ended while the page (re)loaded was announced before it listened:
        // read its findings now, unless a newer check arrives first.
        checked = false;
        $.getJSON('/__kommo/state').then(function (now) {
          if (!checked) { showFindings(now.findings, now.summary); }
        });
        resolve();
      });
      source.addEventListener('error', function () { resolve(); });
      setTimeout(resolve, 2000);
    });
    source.addEventListener('reload', function () { window.location.reload(); });
    source.addEventListener('check', function (event) {
      var data = JSON.parse(event.data);
      checked = true;
      showFindings(data.findings, data.summary);
    });
    // The widget's calls to Kommo's API, answered by kommo dev (fixtures, defaults or --api).
    source.addEventListener('api', function (event) {
      var data = JSON.parse(event.data);
      $('<li class="kp-api"/>').text('API ' + data.method + ' ' + data.path + ' → ' +
        data.status + ' (' + data.source + ')').appendTo('#kp-log');
    });
    window.addEventListener('beforeunload', function () { source.close(); });
    return listening;
  }

  // True when script.js uses the project's own code where Kommo's is needed: in one of
  // Kommo's DOM ids or API paths, or quoted with no run-time read of widget_code anywhere.
  // A project code kept for CSS classes and event namespaces is fine.
  function hardCodesKommoCode(text, code) {
    var kommoNames = ['#work-area-' + code, '#' + code + '_custom_content',
                      'widget-style_' + code, '/api/v4/widgets/' + code];
    var used = kommoNames.some(function (name) {
      var at = text.indexOf(name);
      return at !== -1 && !/[A-Za-z0-9_]/.test(text.charAt(at + name.length) || ' ');
    });
    var quoted = new RegExp('[\'"]' + code + '[\'"]');
    return used || (quoted.test(text) && !/\bwidget_code\b/.test(text));
  }

  function start() {
    var ready = $.getJSON('/__kommo/state').then(function (loaded) {
      state = loaded;
      var lang = (new URLSearchParams(window.location.search)).get('lang');
      if (lang && state.i18n[lang]) {
        state.settings.lang = lang;  // ?lang=ru: the widget as a user of that locale sees it
      }
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
      if (areas().indexOf('widget_page') !== -1) {  // the widget's own left-menu section
        $('<div class="nav__menu__item"/>').attr('data-entity', 'widget_page')
          .append($('<a class="nav__menu__item__link" href="#widget_page"/>').text(
            label(((state.manifest.left_menu || {})[Object.keys(state.manifest.left_menu || {})[0]] ||
                   {}).title) || state.code))
          .on('click', function (event) { event.preventDefault(); go('widget_page'); })
          .appendTo('#nav_menu');
      }
      $('#kp-area').on('change', function () { go($(this).val()); });
      $('#kp-settings').on('click', function () { go('settings'); });
      $('#kp-clear').on('click', function () { $('#kp-log').empty(); });
      return listen().then(function () {
        return $.ajax({url: state.base + '/script.js', dataType: 'text'});
      }).then(function (text) {
        if (hardCodesKommoCode(text, state.project_code)) {
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
            fail('load', 'script.js did not load: ' + error.requireType + ': ' + error.message);
            resolve(null);
          });
        });
      });
    });
    var api = window.kommoPreview;  // made by boot.js, `ready` included
    $.extend(api, {
      log: log, warnings: warnings, fail: fail,
      areas: function () { return areas(); },
      go: go, selectRows: entries.selectRows,
      openSettings: function () { return go('settings'); },
      save: function (fields) { return entries.save(fields, 'Y'); },
      saveBot: entries.saveBot,
      widget: function () { return widget; }
    });
    api.settleReady(Promise.resolve(ready).then(function () { return true; }));
  }

  return {start: start};
});
