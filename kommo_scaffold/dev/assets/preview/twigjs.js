// Kommo's `twigjs` module and global `Twig`: the twig() function itself, callable as
// twigjs({data}) or Twig({ref}), carrying twig.js's exports (twig, extend, compile, ...) and
// its template registry Twig.Templates.registry, which Kommo's own sample widget reads. npm's
// twig build exports a namespace object instead, which widgets cannot call.
define(['twig-npm'], function (exported) {
  'use strict';
  var core = null;
  exported.extend(function (Twig) { core = Twig; });  // runs at once with twig.js's core

  function twigjs(params) {
    return exported.twig(params);
  }
  Object.keys(exported).forEach(function (key) { twigjs[key] = exported[key]; });
  twigjs.Templates = core.Templates;
  return twigjs;
});
