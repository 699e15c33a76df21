// A small harness for widget tests under `node --test` (Node 18+, no dependencies).
// It loads widget/script.js the way Kommo does: as an AMD module whose constructor runs with
// `this` = Kommo's widget object. Here that object, jQuery and the page are stand-ins that
// record what the widget does, so tests can call callbacks and check their results.
// Made by kommo-scaffold; it is yours to change (kommo update merges our later changes).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const WIDGET_DIR = path.join(__dirname, '..', 'widget');
// Kommo assigns its own widget code, different from the project's: so do the tests.
const ASSIGNED_CODE = 'kommo_assigned_code';

function readJson(rel) {
  return JSON.parse(fs.readFileSync(path.join(WIDGET_DIR, rel), 'utf8').replace(/^\uFEFF/, ''));
}

function manifest() {
  return readJson('manifest.json');
}

function locales() {
  const dir = path.join(WIDGET_DIR, 'i18n');
  return fs.readdirSync(dir).filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -5)).sort();
}

function lookup(tree, dotted) {
  return dotted.split('.').reduce((node, key) => (node == null ? undefined : node[key]), tree);
}

// Members a stand-in must not have: a Promise's then, and the __esModule flag a bundler's
// import helper reads (jQuery has neither).
const NOT_MEMBERS = new Set(['then', '__esModule']);

// A jQuery stand-in: callable and chainable; `.length` is 0 (nothing on the page).
function makeJQuery(log) {
  const $ = new Proxy(function () {}, {
    get(target, prop) {
      if (NOT_MEMBERS.has(prop) || typeof prop === 'symbol') return undefined;
      if (prop === 'length') return 0;
      return new Proxy(function () {}, {
        apply(t, self, args) {
          log.push(['$.' + String(prop), args.length]);
          return $;
        },
        get(t, inner) {
          return NOT_MEMBERS.has(inner) || typeof inner === 'symbol' ? undefined : $[inner];
        },
      });
    },
    apply() {
      return $;
    },
  });
  return $;
}

// Text i18n keys: every string passed to t('...') or self.i18n('...') in the script.
function i18nKeysUsed(source) {
  const keys = new Set();
  const pattern = /\b(?:t|i18n)\(\s*(['"])([A-Za-z0-9_.-]+)\1\s*\)/g;
  let match;
  while ((match = pattern.exec(source)) !== null) keys.add(match[2]);
  return [...keys].sort();
}

// AMD ids the page provides are looked up in `modules`; relative ids ('./lib/format.js',
// '../x', 'text!./templates/card.twig') are files of the widget folder, resolved against the
// folder of the module that asks for them, as RequireJS does for the script Kommo loads:
// '.js' is added to an id without it, a query string (`?v=2`) is dropped, and `text!` gives
// the file's text. Each file is evaluated once, on the same page as script.js.
const PLUGIN = /^([A-Za-z][\w-]*)!(.*)$/;

function isRelative(id) {
  return id.startsWith('./') || id.startsWith('../');
}

function widgetFile(id, fromDir, addJs) {
  const bare = id.replace(/[?#].*$/, '');
  const named = addJs && !bare.endsWith('.js') ? bare + '.js' : bare;
  const file = path.resolve(fromDir, named);
  if (path.relative(WIDGET_DIR, file).startsWith('..')) {
    throw new Error(`module ${id} is outside widget/`);
  }
  if (!fs.existsSync(file)) {
    throw new Error(`module ${id} is not in widget/ (looked for ${path.relative(WIDGET_DIR, file)})`);
  }
  return file;
}

// Loads script.js. options: area, settings, lang, listSelected, modules (AMD id -> value),
// script (another file to load instead of widget/script.js).
function loadWidget(options) {
  const opts = options || {};
  const file = opts.script || path.join(WIDGET_DIR, 'script.js');
  const source = fs.readFileSync(file, 'utf8');
  const lang = opts.lang || locales()[0];
  const langs = readJson(path.join('i18n', lang + '.json'));
  const version = (manifest().widget || {}).version;
  const log = [];
  let defines = [];
  const $ = makeJQuery(log);
  const modal = function Modal(params) {
    log.push(['Modal', params && params.class_name]);
    if (params && typeof params.init === 'function') params.init($);
    this.destroy = function () {};
  };
  const modules = Object.assign({
    jquery: $, underscore: {}, moment: function () { return {}; }, twigjs: {},
    'lib/components/base/modal': modal,
  }, opts.modules || {});
  const loaded = new Map();  // file -> its module value (null while it is being loaded)
  let page = null;
  function evaluate(moduleFile) {
    if (loaded.has(moduleFile)) return loaded.get(moduleFile);  // a cycle gets null, as in RequireJS
    loaded.set(moduleFile, null);
    const outer = defines;
    defines = [];
    try {
      vm.runInContext(fs.readFileSync(moduleFile, 'utf8'), page, {filename: moduleFile});
      const value = instantiate(defines[0], path.dirname(moduleFile));
      loaded.set(moduleFile, value);
      return value;
    } finally {
      defines = outer;
    }
  }
  // A define()'s value. RequireJS's special ids require, exports and module serve
  // CommonJS-style modules (a TypeScript build's): module.exports is the value when the
  // factory returns nothing.
  function instantiate(found, fromDir) {
    if (!found) return undefined;
    if (typeof found.factory !== 'function') return found.factory;
    const cjs = {exports: {}};
    const special = {require: page.require, exports: cjs.exports, module: cjs};
    const value = found.factory(...found.deps.map((id) => (
      id in special ? special[id] : resolve(id, fromDir))));
    const commonjs = found.deps.includes('exports') || found.deps.includes('module');
    return value === undefined && commonjs ? cjs.exports : value;
  }
  function resolve(id, fromDir) {
    if (id in modules) return modules[id];
    const plugin = PLUGIN.exec(id);
    if (plugin && plugin[1] === 'text' && isRelative(plugin[2])) {
      return fs.readFileSync(widgetFile(plugin[2], fromDir, false), 'utf8');
    }
    if (!plugin && isRelative(id)) return evaluate(widgetFile(id, fromDir, true));
    return {};
  }
  page = {
    define(...args) {
      const name = typeof args[0] === 'string' ? args.shift() : undefined;
      if (typeof args[0] === 'function' || args.length === 1) {
        defines.push({name, deps: [], factory: args[0]});
      } else {
        defines.push({name, deps: Array.from(args[0] || []), factory: args[1]});
      }
    },
    require(deps, callback) {
      if (typeof deps === 'string') return resolve(deps, path.dirname(file));
      const values = deps.map((id) => resolve(id, path.dirname(file)));
      if (typeof callback === 'function') callback(...values);
      return undefined;
    },
    console, Promise, JSON, Math, Date, setTimeout, clearTimeout,
    document: {}, localStorage: {getItem: () => null},
  };
  page.define.amd = {jQuery: true};
  page.window = page;
  page.APP = page.AMOCRM = {
    lang_id: lang, constant: () => ({}), data: {current_card: false},
    getWidgetsArea: () => opts.area || 'lcard',
    notifications: {show_message() {}, show_message_error() {}},
  };
  vm.createContext(page);
  vm.runInContext(source, page, {filename: file});
  const scriptDefines = defines;

  const settings = Object.assign({
    widget_code: ASSIGNED_CODE, path: '/upl/' + ASSIGNED_CODE + '/widget', version,
    active: 'Y', status: 'installed',
  }, opts.settings || {});
  const listSelected = opts.listSelected || {
    selected: [{id: 1, type: 'lead', emails: [], phones: []},
               {id: 2, type: 'lead', emails: [], phones: []}],
    count_selected: 2, summary: {items: 2, emails: 0, phones: 0},
  };
  const base = {
    langs, params: settings,
    system: () => ({area: opts.area || 'lcard', amouser_id: 1, amouser: 'dev@example.com',
                    amohash: 'hash', subdomain: 'test', domain: 'kommo.com'}),
    get_settings: () => settings,
    set_settings(values) { Object.assign(settings, values); log.push(['set_settings', values]); },
    i18n: (key) => lookup(langs, key),
    set_lang(values) { base.langs = values; },
    get_version: () => version,
    get_install_status: () => 'installed',
    set_status(status) { log.push(['set_status', status]); },
    render(template, params) {
      log.push(['render', template && (template.ref || template.href || 'data'), params]);
      return {render: () => ''};
    },
    render_template(tpl, data) { log.push(['render_template', tpl && tpl.caption]); },
    crm_post(url, data, success) { log.push(['crm_post', url, data]); },
    $authorizedAjax(request) { log.push(['$authorizedAjax', request && request.url]); return $; },
    list_selected: () => listSelected,
    widgetsOverlay(on) { log.push(['widgetsOverlay', on]); },
    add_action(type) { log.push(['add_action', type]); },
    add_source(type) { log.push(['add_source', type]); },
    get_pipeline_id: () => Promise.resolve(7),
    setSdkCatalogId(id) { log.push(['setSdkCatalogId', id]); },
  };
  const found = scriptDefines[0];
  let widget = null;
  if (found && typeof found.factory === 'function') {
    const Ctor = instantiate(found, path.dirname(file));
    if (typeof Ctor === 'function') {
      const instance = Object.create(base);
      const returned = Ctor.call(instance);
      widget = returned && typeof returned === 'object' ? returned : instance;
    }
  }
  return {defines: scriptDefines, widget, log, langs, source, settings, $,
          callback: (name) => callbackOf(widget, name)};
}

// The callback at a dotted name ('render', 'leads.selected'), or undefined.
function callbackOf(widget, name) {
  const callbacks = widget && widget.callbacks;
  const fn = lookup(callbacks, name);
  if (typeof fn !== 'function') return undefined;
  const owner = name.includes('.') ? lookup(callbacks, name.split('.').slice(0, -1).join('.'))
    : callbacks;
  return (...args) => fn.apply(owner, args);
}

// Values from the script's realm, copied so node:assert compares them as plain data.
function plain(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

async function settled(value) {
  return value && typeof value.then === 'function' ? await value : value;
}

module.exports = {
  ASSIGNED_CODE, WIDGET_DIR, callbackOf, i18nKeysUsed, loadWidget, locales, lookup, manifest,
  plain, readJson, settled,
};
