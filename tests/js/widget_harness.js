// Loads a generated script.js the way Kommo does (an AMD module whose constructor is run with
// `this` = the widget object), against stubs of define/require/jQuery and the widget API, then
// prints what the tests assert on: dependencies, callback names, and lifecycle results.
'use strict';
const fs = require('fs');
const vm = require('vm');

const [scriptPath, langsPath] = process.argv.slice(2);
const source = fs.readFileSync(scriptPath, 'utf8');
const langs = JSON.parse(fs.readFileSync(langsPath, 'utf8'));

// The code Kommo assigned to this widget; the project's own code differs on purpose, so a
// lookup that uses the project's code where Kommo's DOM needs Kommo's shows up.
const KOMMO_CODE = 'kommo_assigned_7';
// A jQuery stand-in: callable, chainable, every property is itself. The strings it is given
// (selectors, class names, URLs) are recorded.
const strings = [];
const $ = new Proxy(function () {}, {
  get: (target, prop) => (prop === 'then' || prop === '__esModule' ? undefined : $),
  apply: (target, self, args) => {
    for (const arg of args) {
      if (typeof arg === 'string') strings.push(arg);
    }
    return $;
  },
});

let amd = null;
const sandbox = {
  define: (deps, factory) => { amd = {deps, factory}; },
  // A string id is a dependency already loaded (RequireJS's synchronous form).
  require: (id) => (typeof id === 'string' ? $ : undefined),
  Promise, JSON, console, document: {}, window: {},
};
vm.runInNewContext(source, sandbox, {filename: scriptPath});
if (!amd) {
  throw new Error('script.js did not call define()');
}

const calls = [];
const widget = {
  langs,
  system: () => ({area: 'lcard', amouser_id: 1, subdomain: 'test'}),
  get_settings: () => ({path: '/widgets/test', version: '1.0.0', widget_code: KOMMO_CODE}),
  i18n: (key) => langs[key],
  render_template: (opts) => { calls.push(['render_template', opts.caption, opts.render]); },
  list_selected: () => ({selected: [{id: 1, type: 'lead'}], summary: {items: 1}}),
  set_settings: (obj) => { calls.push(['set_settings', obj]); },
  setSdkCatalogId: (id) => { calls.push(['setSdkCatalogId', id]); },
  get_pipeline_id: () => Promise.resolve(7),
};
// RequireJS's special ids serve a CommonJS-style module (a TypeScript build's); every other
// dependency (jquery and the page's other modules) gets the stand-in.
const cjs = {exports: {}};
const special = {require: sandbox.require, exports: cjs.exports, module: cjs};
const made = amd.factory(...(amd.deps || []).map((id) => (id in special ? special[id] : $)));
const Constructor = made === undefined ? cjs.exports : made;
const returned = Constructor.call(widget);
const callbacks = widget.callbacks || {};

const names = [];
for (const [key, value] of Object.entries(callbacks)) {
  if (typeof value === 'function') {
    names.push(key);
  } else if (value && typeof value === 'object') {
    for (const [sub, fn] of Object.entries(value)) {
      if (typeof fn === 'function') names.push(key + '.' + sub);
    }
  }
}

const results = {};
for (const name of ['render', 'init', 'bind_actions', 'onSave']) {
  if (typeof callbacks[name] === 'function') {
    results[name] = name === 'onSave' ? callbacks[name]({active: 'Y', fields: {}}) : callbacks[name]();
  }
}
for (const name of names.filter((n) => n.endsWith('.selected'))) {
  const [entity] = name.split('.');
  results[name] = callbacks[entity].selected();
}
// The callbacks that address Kommo's DOM or API by the widget's code.
strings.length = 0;
if (typeof callbacks.settings === 'function') callbacks.settings($);
for (const name of ['advancedSettings', 'dpSettings', 'loadPreloadedData']) {
  if (typeof callbacks[name] === 'function') callbacks[name]();
}
if (typeof callbacks.initMenuPage === 'function') callbacks.initMenuPage({item_code: 'x'});
const kommoLookups = strings.slice();
const out = {deps: amd.deps, returnsWidget: returned === widget, callbacks: names, results, calls,
             kommoCode: KOMMO_CODE, kommoLookups};
if (typeof callbacks.onSalesbotDesignerSave === 'function') {
  out.salesbotSteps = JSON.parse(callbacks.onSalesbotDesignerSave('handler', {message: 'hi'}));
  out.salesbotExits = callbacks.salesbotDesignerSettings($, () => {}, {});
}
process.stdout.write(JSON.stringify(out));
