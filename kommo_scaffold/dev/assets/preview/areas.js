// What happens in each area once render, init and bind_actions ran: the area's own callback
// (settings modal, lists' "More" menu, Salesbot designer, card SDK tab, ...), and the actions
// the automation contract offers (selectRows, save, saveBot).
define(['jquery', 'shells'], function ($, shells) {
  'use strict';

  var ENTRY = {
    advanced_settings: 'advancedSettings', widget_page: 'initMenuPage',
    digital_pipeline: 'dpSettings', card_sdk: 'loadPreloadedData',
    catalogs: 'loadCatalogElement', lead_sources: 'onAddAsSource',
    salesbot_designer: 'salesbotDesignerSettings', settings: 'settings'
  };

  // api: {state(), shell(), widget(), current(), call(area, name, args), warn(text),
  //       describe(value), go(area), cardArea()}
  return function (api) {
    var salesbotExits = null;
    var savedBot = {};

    // Drawing may end after the callback returns (React's root.render draws in a later task,
    // a template loaded with self.render when it arrives): look once the page has had
    // DRAW_GRACE_MS, if the user is still in the area, without holding up the area's start.
    var DRAW_GRACE_MS = 300;

    function checkWorkArea(area) {
      setTimeout(function () {
        var $work = $('#work-area-' + api.state().code);
        if (api.current() === area && $work.length && !$work.children().length) {
          api.warn(area + ': nothing was drawn into #work-area-' + api.state().code +
                   '. Kommo assigns the widget code (here ' + api.state().code +
                   '); read it with self.get_settings().widget_code');
        }
      }, DRAW_GRACE_MS);
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
        var item = Object.keys(api.state().manifest.left_menu || {})[0];
        return api.call(area, name, [{location: 'widget_page', item_code: item}])
          .then(function () { checkWorkArea(area); });
      }
      if (area === 'advanced_settings') {
        return api.call(area, name, []).then(function () { checkWorkArea(area); });
      }
      if (area === 'catalogs') {
        return api.call(area, name, [{id: 501, catalog_id: api.state().settings.catalog_id || 0,
                                  name: 'Catalog element #501'}]);
      }
      if (area === 'lead_sources') { return api.call(area, name, [1000]); }
      if (area === 'salesbot_designer') { return openSalesbot(area); }
      if (area === 'card_sdk') {
        return api.call(area, 'loadPreloadedData', []).then(function (result) {
          if (!result.promise && !result.missing && !result.error) {
            api.warn('card_sdk: loadPreloadedData must return a Promise');
          }
          return api.call(area, 'loadElements', [shells.CARDS[api.cardArea()], 1]);
        }).then(function (result) {
          if (!result.missing && !result.error && (!result.promise || !Array.isArray(result.value))) {
            api.warn('card_sdk: loadElements must return a Promise of an array');
          }
        });
      }
      return api.call(area, name, []);
    }

    function openModal() {
      var $modal = api.shell().settingsModal(api.state().settings.fields || {});
      $modal.on('click', '.js-widget-save, .js-widget-install', function () { save(); });
      $modal.on('click', '.js-widget-disable', function () { disable(); });
      return api.call('settings', 'settings', [$modal.find('.modal-body')]);
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
      api.shell().panel();
      // Only the callbacks the area catalog documents for this list (none for culist).
      var names = (api.state().list_callbacks || {})[area] || [];
      return names.reduce(function (done, name) {
        return done.then(function () { return api.call(area, name, []); });
      }, Promise.resolve({}));
    }

    function openSalesbot(area) {
      var handlers = Object.keys(api.state().manifest.salesbot_designer || {});
      var $body = $('#page_holder .salesbot-designer__body');
      var renderRow = function (caption) {
        var $row = $('<div class="widget_param"/>').append(
          $('<div class="widget_param__caption"/>').text(caption || ''));
        $body.append($row);
        return $row;
      };
      var fields = ((api.state().manifest.salesbot_designer || {})[handlers[0]] || {}).settings || {};
      // The third argument: the step's values by field code, as the bot saved them (here
      // the manifest's default_value until the preview's bot is saved).
      var values = {};
      $.each(fields, function (field, spec) {
        var value = savedBot[field] !== undefined ? savedBot[field] :
          spec && spec.default_value !== undefined ? String(spec.default_value) : '';
        values[field] = value;
        $body.append($('<div/>', {'data-field-name': field}).append(
          $('<input/>', {type: 'text', name: 'value_manual', value: value})));
      });
      $('#page_holder .kp-salesbot-save').on('click', function () { saveBot(); });
      return api.call(area, 'salesbotDesignerSettings', [$body, renderRow, values])
        .then(function (result) {
          var exits = result.value && result.value.exits;
          salesbotExits = Array.isArray(exits) ? exits.map(function (e) { return e.code; }) : [];
        });
    }

    function saveBot() {
      var handler = Object.keys(api.state().manifest.salesbot_designer || {})[0];
      var params = {};
      $('#page_holder [data-field-name]').each(function () {
        params[$(this).attr('data-field-name')] = $(this).find('input').val();
      });
      savedBot = params;
      return api.call('salesbot_designer', 'onSalesbotDesignerSave', [handler, params])
        .then(function (result) {
          if (result.error || result.missing) { return result; }
          if (typeof result.value !== 'string') {
            api.warn('onSalesbotDesignerSave must return a string of Salesbot JSON');
            return result;
          }
          var steps;
          try { steps = JSON.parse(result.value); } catch (e) {
            api.warn('onSalesbotDesignerSave returned a string that is not JSON: ' + e.message);
            return result;
          }
          JSON.stringify(steps, function (key, value) {
            if (value && value.handler === 'exits' && value.params &&
                (salesbotExits || []).indexOf(value.params.value) === -1) {
              api.warn('Salesbot exit "' + value.params.value + '" is not declared by ' +
                   'salesbotDesignerSettings');
            }
            return value;
          });
          return result;
        });
    }

    function collectFields() {
      var fields = {};
      $('.kp-modal.' + api.state().code + ' [data-field]').each(function () {
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
      var opened = $('.kp-modal.' + api.state().code).length ? Promise.resolve() : api.go('settings');
      return opened.then(function () {
        var fields = $.extend(collectFields(), given || {});
        var evt = {fields: fields, active: active || 'Y'};
        return api.call('settings', 'onSave', [evt]).then(function (result) {
          var ok = !result.error && !result.missing && Boolean(result.value) &&
            result.value !== false;
          if (!ok) {
            api.warn('onSave did not return true: Kommo would not save the settings');
            return {saved: false, result: api.describe(result.value)};
          }
          return $.ajax({url: '/__kommo/settings', type: 'POST', contentType: 'application/json',
                         headers: {'X-Kommo-Preview': api.state().token},
                         data: JSON.stringify(evt)}).then(function () {
            api.widget().set_settings(evt.fields);
            api.widget().set_settings({active: evt.active});
            return {saved: true, result: api.describe(result.value)};
          });
        });
      });
    }

    function disable() {
      return save({}, 'N').then(function () { return api.call('settings', 'destroy', []); });
    }

    function selectRows(count) {
      var $boxes = $('#page_holder .list-row__checkbox');
      if (!$boxes.length) {
        return Promise.reject(new Error('selectRows: the current area is not a list'));
      }
      $boxes.prop('checked', false).slice(0, count).prop('checked', true).trigger('change');
      return pick(api.current()).then(function (result) { return api.describe(result.value); });
    }

    return {enter: enter, save: save, saveBot: saveBot, selectRows: selectRows};
  };
});
