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
      twigjs: 'libs/twigjs',
      text: 'libs/text',
      'lib/components/base/modal': 'modal'
    }
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
  require(['app'], function (app) {
    app.start();
  });
}());
