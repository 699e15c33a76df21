// Configures RequireJS the way Kommo's page provides modules, then starts the preview.
(function () {
  'use strict';
  requirejs.config({
    baseUrl: '/preview/',
    waitSeconds: 30,
    paths: {
      jquery: 'libs/jquery',
      underscore: 'libs/underscore',
      moment: 'libs/moment',
      'twig-npm': 'libs/twigjs',
      text: 'libs/text',
      'lib/components/base/modal': 'modal'
    }
  });
  requirejs.onError = function (error) {
    var detail = (error.requireModules || []).join(', ');
    var message = error.requireType + ': ' + error.message + (detail ? ' (' + detail + ')' : '');
    if (window.kommoPreview && window.kommoPreview.fail) {
      window.kommoPreview.fail('load', message);
    } else {
      document.getElementById('kp-log').insertAdjacentHTML(
        'beforeend', '<li class="kp-error"></li>');
      document.getElementById('kp-log').lastChild.textContent = message;
    }
  };
  require(['underscore', 'app'], function (_, app) {
    window._ = _;  // Kommo's page has underscore as a global too; widgets use it unrequired
    app.start();
  });
}());
