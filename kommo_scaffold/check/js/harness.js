// The page kommo check loads a widget into (in V8, through mini-racer): a `define` that only
// records modules, stand-ins for what Kommo's page provides (jquery, underscore, twigjs, moment,
// lib/components/base/modal, APP, the widget object script.js is merged into) and for the
// browser's own globals. kommo_scaffold/check/js/engine.py drives it: it evaluates each file
// with __kommo.file set, then calls __kommo.construct() and reads back JSON.
(function (global) {
  'use strict';
  var K = {file: null, defines: {}, targets: new WeakMap(), throws: []};
  var nativeBind = Function.prototype.bind;
  var fnToString = Function.prototype.toString;

  // A stand-in for anything the checker does not model: every property is another stand-in,
  // calling or constructing one gives one, and it turns into '' or 0.
  function loose(label) {
    var children = Object.create(null);
    var target = function () {};
    return new Proxy(target, {
      get: function (t, key) {
        if (key === Symbol.toPrimitive) {
          return function (hint) { return hint === 'number' ? 0 : ''; };
        }
        if (key === Symbol.iterator) { return function* () {}; }
        // __esModule: a bundler's import helper reads it; Kommo's modules have none.
        if (typeof key === 'symbol' || key === 'then' || key === 'toJSON' ||
            key === 'nodeType' || key === 'jquery' || key === 'prototype' ||
            key === '__esModule') {
          return key === 'prototype' ? t.prototype : undefined;
        }
        if (key === 'length') { return 0; }
        if (key === 'toString' || key === 'valueOf') { return function () { return ''; }; }
        if (!(key in children)) { children[key] = loose(label + '.' + key); }
        return children[key];
      },
      set: function (t, key, value) { children[key] = value; return true; },
      apply: function () { return loose(label + '()'); },
      construct: function () { return loose('new ' + label); }
    });
  }

  // A real object whose missing members are stand-ins; callable when `call` is given.
  function blend(real, label, call) {
    var target = function () {};
    return new Proxy(target, {
      get: function (t, key) {
        if (key in real) { return real[key]; }
        if (typeof key === 'symbol' || key === 'then' || key === 'toJSON' ||
            key === '__esModule') { return undefined; }
        real[key] = loose(label + '.' + key);
        return real[key];
      },
      set: function (t, key, value) { real[key] = value; return true; },
      has: function (t, key) { return key in real; },
      apply: function (t, self, args) {
        return call ? call.apply(self, args) : loose(label + '()');
      },
      construct: function () { return loose('new ' + label); }
    });
  }

  function bound(fn, self, args) {
    var made = nativeBind.apply(fn, [self].concat(args || []));
    K.targets.set(made, K.targets.get(fn) || fn);
    return made;
  }
  Object.defineProperty(Function.prototype, 'bind', {
    configurable: true, writable: true,
    value: function (self) { return bound(this, self, [].slice.call(arguments, 1)); }
  });

  function each(list, fn, self) {
    if (!list) { return list; }
    var keys = Array.isArray(list) || typeof list === 'string' ? null : Object.keys(list);
    var n = keys ? keys.length : list.length;
    for (var i = 0; i < n; i++) {
      var key = keys ? keys[i] : i;
      fn.call(self, list[key], key, list);
    }
    return list;
  }
  function extend(into) {
    for (var i = 1; i < arguments.length; i++) {
      var from = arguments[i];
      if (from && typeof from === 'object' || typeof from === 'function') {
        for (var key in from) { into[key] = from[key]; }
      }
    }
    return into;
  }
  function isFunction(x) { return typeof x === 'function'; }
  function noop() {}
  var underscore = {
    bind: function (fn, self) { return bound(fn, self, [].slice.call(arguments, 2)); },
    bindAll: function (obj) {
      var names = [].slice.call(arguments, 1);
      names = names.length === 1 && Array.isArray(names[0]) ? names[0] : names;
      names.forEach(function (name) { obj[name] = bound(obj[name], obj); });
      return obj;
    },
    extend: extend, assign: extend, extendOwn: extend,
    defaults: function (into) {
      [].slice.call(arguments, 1).forEach(function (from) {
        for (var key in from) { if (into[key] === undefined) { into[key] = from[key]; } }
      });
      return into;
    },
    each: each, forEach: each,
    map: function (list, fn, self) {
      var out = [];
      each(list, function (v, k, l) { out.push(fn.call(self, v, k, l)); });
      return out;
    },
    filter: function (list, fn, self) {
      var out = [];
      each(list, function (v, k, l) { if (fn.call(self, v, k, l)) { out.push(v); } });
      return out;
    },
    keys: function (o) { return o ? Object.keys(o) : []; },
    values: function (o) { return o ? Object.keys(o).map(function (k) { return o[k]; }) : []; },
    has: function (o, k) { return o !== null && o !== undefined && Object.prototype.hasOwnProperty.call(o, k); },
    isFunction: isFunction, isArray: Array.isArray,
    isObject: function (x) { return typeof x === 'function' || (typeof x === 'object' && !!x); },
    isString: function (x) { return typeof x === 'string'; },
    isNumber: function (x) { return typeof x === 'number'; },
    isUndefined: function (x) { return x === undefined; },
    isNull: function (x) { return x === null; },
    isEmpty: function (x) { return !x || Object.keys(x).length === 0; },
    clone: function (x) { return Array.isArray(x) ? x.slice() : extend({}, x); },
    debounce: function (fn) { return fn; }, throttle: function (fn) { return fn; },
    once: function (fn) { return fn; }, delay: noop, defer: noop, noop: noop,
    identity: function (x) { return x; },
    template: function () { return function () { return ''; }; },
    uniqueId: function (prefix) { return (prefix || '') + '1'; }
  };
  var jquery = {
    extend: function () {
      var args = [].slice.call(arguments);
      if (args[0] === true) { args.shift(); }
      return extend.apply(null, args);
    },
    each: function (list, fn) {
      return each(list, function (v, k) { return fn.call(v, k, v); });
    },
    proxy: function (fn, self) {
      return typeof self === 'string' ? bound(fn[self], fn) : bound(fn, self);
    },
    isFunction: isFunction, isArray: Array.isArray, noop: noop,
    isPlainObject: function (x) { return !!x && Object.getPrototypeOf(x) === Object.prototype; },
    trim: function (s) { return String(s).trim(); },
    inArray: function (v, list) { return list ? [].indexOf.call(list, v) : -1; },
    parseJSON: JSON.parse, fn: loose('$.fn')
  };
  var $ = blend(jquery, '$');
  var _ = blend(underscore, '_');

  function storage() {
    var items = Object.create(null);
    var api = {
      getItem: function (key) { return key in items ? items[key] : null; },
      setItem: function (key, value) { items[key] = String(value); },
      removeItem: function (key) { delete items[key]; },
      clear: function () { items = Object.create(null); },
      key: function () { return null; }
    };
    return new Proxy(api, {
      get: function (t, key) { return key in api ? api[key] : key === 'length' ? 0 : items[key]; },
      set: function (t, key, value) { items[key] = String(value); return true; }
    });
  }

  var kommoModules = {
    jquery: $, underscore: _, lodash: _, moment: loose('moment'), twigjs: loose('twigjs'),
    'lib/components/base/modal': loose('Modal'), backbone: loose('Backbone'),
    text: loose('text'), json: loose('json'), css: loose('css')
  };

  K.setup = function (config) {
    var names = config.globals;
    for (var i = 0; i < names.length; i++) {
      if (!(names[i] in global)) { global[names[i]] = loose(names[i]); }
    }
    global.window = global.self = global.top = global.parent = global.frames = global;
    global.localStorage = storage();
    global.sessionStorage = storage();
    global.location = {href: 'https://account.kommo.com/leads/', protocol: 'https:',
                       host: 'account.kommo.com', hostname: 'account.kommo.com', port: '',
                       pathname: '/leads/', search: '', hash: '',
                       origin: 'https://account.kommo.com', reload: noop, assign: noop,
                       replace: noop};
    global.setTimeout = global.setInterval = global.requestAnimationFrame = function () {
      return 1;
    };
    global.clearTimeout = global.clearInterval = global.cancelAnimationFrame = noop;
    global.$ = global.jQuery = $;
    global._ = _;
    global.APP = global.AMOCRM = loose('APP');
    global.Twig = loose('Twig');
    global.moment = kommoModules.moment;
    global.define = define;
    global.require = global.requirejs = require;
    K.config = config;
  };

  function where(error, skip) {
    var lines = String(error && error.stack || '').split('\n');
    for (var i = 1; i < lines.length; i++) {
      var found = /\(?([^\s()]+):(\d+):(\d+)\)?\s*$/.exec(lines[i]);
      if (found && found[1] !== 'kommo-check-harness' && found[1] !== skip) {
        return {file: found[1], line: +found[2], column: +found[3]};
      }
    }
    return null;
  }

  function define(name, deps, factory) {
    if (typeof name !== 'string') { factory = deps; deps = name; name = null; }
    if (!Array.isArray(deps)) { factory = deps; deps = []; }
    var at = where(new Error(), null) || {};
    var list = K.defines[K.file] = K.defines[K.file] || [];
    list.push({name: name, deps: deps.map(String), factory: factory, line: at.line || 0,
               column: at.column || 0});
  }
  define.amd = {jQuery: true};
  function require() { return loose('require()'); }
  require.config = noop;

  function dependency(id) {
    var bare = id.replace(/^[\w-]+!/, '').split(/[?#]/)[0];
    var plugin = /^([\w-]+)!/.exec(id);
    if (/^(\.\.?\/)/.test(bare)) {
      var file = bare.replace(/^\.\//, '');
      if (plugin) { return K.config.texts[file] !== undefined ? K.config.texts[file] : ''; }
      var path = /\.js$/.test(file) ? file : file + '.js';
      return instantiate(path);
    }
    if (kommoModules[bare] !== undefined) { return kommoModules[bare]; }
    return loose(bare);
  }

  var made = Object.create(null);
  function instantiate(file) {
    if (file in made) { return made[file]; }
    made[file] = undefined;
    var found = (K.defines[file] || [])[0];
    if (!found) { return undefined; }
    // RequireJS's special dependencies: a CommonJS-style module (a TypeScript build's, for
    // one) fills module.exports, which is its value when the factory returns nothing.
    var cjs = {exports: {}};
    var values = found.deps.map(function (dep) {
      return dep === 'require' ? require : dep === 'exports' ? cjs.exports
        : dep === 'module' ? cjs : dependency(dep);
    });
    made[file] = typeof found.factory === 'function'
      ? found.factory.apply(global, values) : found.factory;
    if (made[file] === undefined && found.deps.some(function (dep) {
      return dep === 'exports' || dep === 'module';
    })) { made[file] = cjs.exports; }
    return made[file];
  }

  function widgetObject(config) {
    var settings = extend({widget_code: config.code, path: '/upl/' + config.code + '/widget',
                           images_path: '/upl/' + config.code + '/widget/images',
                           version: config.version, active: 'Y', status: 'installed', id: 1,
                           widget_active: 'Y', support: {}, oauth_client_uuid: ''},
                          config.fields);
    var langs = config.langs;
    function lookup(key) {
      var node = langs;
      String(key).split('.').forEach(function (part) { node = node && node[part]; });
      return node;
    }
    return {
      params: settings, langs: langs,
      system: function () {
        return {area: config.area, amouser_id: 1, amouser: 'user@kommo.com', amohash: '',
                subdomain: 'account', domain: 'kommo.com', server: '', displayed_count: 0,
                displayed_count_by_area: {}};
      },
      i18n: function (key) { var found = lookup(key); return found === undefined ? key : found; },
      set_lang: function (value) { this.langs = value; },
      get_settings: function () { return settings; },
      set_settings: function (values) { extend(settings, values); return settings; },
      get_version: function () { return config.version; },
      get_install_status: function () { return 'installed'; },
      set_status: noop,
      render: function () { return ''; },
      render_template: function () { return $(); },
      crm_post: function () { return loose('jqXHR'); },
      $authorizedAjax: function () { return loose('jqXHR'); },
      list_selected: function () {
        return {selected: [], count_selected: 0, summary: {items: 0, emails: 0, phones: 0}};
      },
      widgetsOverlay: noop, add_action: noop, add_source: noop,
      get_pipeline_id: function () { return Promise.resolve(1); },
      setSdkCatalogId: noop,
      get_current_card_contacts_data: function () { return Promise.resolve([]); },
      get_accounts_current: function () { return loose('account'); }
    };
  }

  function failure(stage, error) {
    var at = where(error, null) || {};
    return {stage: stage, name: error && error.name || typeof error,
            message: String(error && error.message !== undefined ? error.message : error),
            file: at.file || null, line: at.line || 0, column: at.column || 0};
  }

  function describe(callbacks) {
    var out = {};
    function walk(node, prefix, depth) {
      for (var key in node) {
        var value;
        try { value = node[key]; } catch (e) { continue; }
        var entry = {kind: typeof value === 'function' ? 'function'
          : value && typeof value === 'object' ? 'object'
            : value === undefined ? 'undefined' : 'other'};
        if (entry.kind === 'function') {
          var target = K.targets.get(value) || value;
          entry.bound = target !== value;
          try { entry.source = fnToString.call(target).slice(0, 200000); } catch (e) {
            entry.source = '';
          }
        }
        out[prefix + key] = entry;
        if (entry.kind === 'object' && depth < 2) { walk(value, prefix + key + '.', depth + 1); }
      }
    }
    walk(callbacks, '', 0);
    return out;
  }

  // Run script.js's module as Kommo does: its factory with the page's modules, then the
  // constructor with `this` already holding Kommo's widget methods.
  K.construct = function () {
    var config = K.config;
    var own = K.defines['script.js'] || [];
    var result = {defines: [], deps: {}};
    Object.keys(K.defines).forEach(function (file) {
      result.deps[file] = K.defines[file].map(function (d) { return d.deps; });
    });
    result.defines = own.map(function (d) {
      return {anonymous: d.name === null, line: d.line, column: d.column};
    });
    if (!own.length) { return JSON.stringify(result); }
    var Widget;
    try { Widget = instantiate('script.js'); } catch (error) {
      result.failure = failure('factory', error);
      return JSON.stringify(result);
    }
    if (typeof Widget !== 'function') {
      result.factoryType = Widget === null ? 'null' : typeof Widget;
      return JSON.stringify(result);
    }
    var base = widgetObject(config);
    var instance = Object.create(base);
    var widget;
    try {
      var returned;
      try {
        returned = Widget.call(instance);
      } catch (error) {
        if (!(error instanceof TypeError) || !/without 'new'/.test(error.message)) {
          throw error;
        }
        var Made = function () {};
        Made.prototype = instance;
        returned = Reflect.construct(Widget, [], Made);
      }
      widget = returned && typeof returned === 'object' ? returned : instance;
    } catch (error) {
      result.failure = failure('constructor', error);
      return JSON.stringify(result);
    }
    var callbacks = widget.callbacks;
    result.callbacksType = callbacks === null ? 'null' : typeof callbacks;
    if (callbacks && typeof callbacks === 'object') { result.callbacks = describe(callbacks); }
    return JSON.stringify(result);
  };

  global.__kommo = K;
})(this);
//# sourceURL=kommo-check-harness
