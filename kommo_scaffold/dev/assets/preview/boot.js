// Configures RequireJS the way Kommo's page provides modules, then starts the preview.
(function () {
  'use strict';
  // window.kommoPreview exists from the start, with its `ready` Promise: a browser test may
  // ask for it the moment the page has loaded, before app.js (loaded asynchronously) runs.
  // app.js adds the rest of the API and settles `ready` once the first area is open.
  var settle;
  var preview = {ready: new Promise(function (resolve) { settle = resolve; })};
  Object.defineProperty(preview, 'settleReady', {value: function (value) { settle(value); }});
  window.kommoPreview = preview;
  requirejs.config({
    baseUrl: '/preview/',
    waitSeconds: 30,
    paths: {
      jquery: 'libs/jquery',
      underscore: 'libs/underscore',
      moment: 'libs/moment',
      'twig-npm': 'libs/twigjs',
      text: 'libs/text',
      json: 'libs/json',
      backbone: 'libs/backbone',
      es6promise: 'libs/es6promise',
      pubsub: 'libs/pubsub',
      FileAPI: 'libs/FileAPI',
      'intl-tel-input': 'libs/intl-tel-input',
      'intl-tel-input-utils': 'libs/intl-tel-input-utils',
      'lib/components/base/modal': 'modal'
    },
    // libphonenumber's build is a plain script that sets a global.
    shim: {'intl-tel-input-utils': {exports: 'intlTelInputUtils'}}
  });
  requirejs.onError = function (error) {
    var detail = (error.requireModules || []).join(', ');
    var message = error.requireType + ': ' + error.message + (detail ? ' (' + detail + ')' : '');
    if (window.kommoPreview && window.kommoPreview.fail) {
      window.kommoPreview.fail('load', message);
    } else {  // the preview itself did not load: `ready` says so
      document.getElementById('kp-log').insertAdjacentHTML(
        'beforeend', '<li class="kp-error"></li>');
      document.getElementById('kp-log').lastChild.textContent = message;
      preview.settleReady(Promise.reject(new Error(message)));
    }
  };
  require(['underscore', 'app'], function (_, app) {
    window._ = _;  // Kommo's page has underscore as a global too; widgets use it unrequired
    app.start();
  });
}());
