// Page shells with the DOM Kommo creates around a widget in each area (selectors from
// Kommo's widget docs and official examples). Each shell also tells the widget object where
// the right-hand panel is, which list rows are ticked, and what the page is.
define(['jquery'], function ($) {
  'use strict';

  var CARDS = {lcard: 'leads', ccard: 'contacts', comcard: 'companies', cucard: 'customers'};
  var LISTS = {llist: 'leads', clist: 'contacts', tlist: 'todo', culist: 'customers'};
  var PAGE_CODES = {lcard: 'leads_card', ccard: 'contacts_card', comcard: 'companies_card',
                    cucard: 'customers_card', llist: 'leads', clist: 'contacts', tlist: 'todo',
                    culist: 'customers', settings: 'widgetsSettings',
                    advanced_settings: 'advanced-settings', digital_pipeline: 'leads-dp',
                    salesbot_designer: 'salesbot', catalogs: 'catalogs',
                    lead_sources: 'leads-pipeline', everywhere: 'dashboard'};

  function el(tag, attrs, text) {
    var $node = $('<' + tag + '/>', attrs || {});
    if (text !== undefined) { $node.text(text); }
    return $node;
  }

  function cardShell(code, entity, withTab) {
    var $holder = el('div', {id: 'card_holder', 'class': 'card-holder kp-card'});
    var $fields = el('div', {'class': 'card-fields'}).append(
      el('h2', {'class': 'card-fields__name'}, entity.replace(/s$/, '') + ' #1'),
      el('div', {'class': 'card-fields__row'}, 'Budget: 1 000'));
    var $widgets = el('div', {id: 'widgets_block', 'class': 'card-widgets js-widgets-active'})
      .append(el('div', {'class': 'card-widgets__widget card-widgets__widget-' + code}));
    var $feed = el('div', {'class': 'notes-wrapper feed-compose'})
      .append(el('div', {'class': 'feed-compose__sources'}));
    $holder.append($fields, $widgets, $feed);
    if (withTab) {
      $fields.append(el('div', {'class': 'card-tabs'}).append(
        el('span', {'class': 'card-tabs__item card-tabs__item-selected', 'data-id': code},
           'Widget tab')), el('div', {id: code, 'class': 'card-sdk-tab'}));
    }
    return $holder;
  }

  function listShell(code, entity, widgetName) {
    var $table = el('table', {'class': 'list__body'});
    for (var i = 1; i <= 5; i += 1) {
      $table.append(el('tr', {'class': 'list-row js-list-row', 'data-id': String(100 + i)}).append(
        el('td').append(el('input', {type: 'checkbox', 'class': 'list-row__checkbox'})),
        el('td', {}, entity + ' #' + (100 + i))));
    }
    var $menu = el('ul', {'class': 'kp-more-menu'}).hide().append(
      el('li', {'class': 'kp-more-menu__item js-widget-' + code}, widgetName));
    return el('div', {'class': 'list kp-list', 'data-entity': entity}).append(
      el('div', {'class': 'list__top'}).append(
        el('button', {type: 'button', 'class': 'kp-more', disabled: true}, 'More'), $menu),
      $table, el('div', {'class': 'list-widget-panel card-widgets__widget-' + code}).hide());
  }

  function settingsShell(code, manifest, values, label) {
    var $controls = el('div', {'class': 'widget_settings_block__controls'});
    $.each(manifest.settings || {}, function (name, spec) {
      var type = (spec && spec.type) || 'text';
      var $field = el('div', {'class': 'widget_settings_block__item_field', 'data-field': name})
        .append(el('div', {'class': 'widget_settings_block__title_field'}, label(spec.name)));
      if (type === 'custom') {
        $field.append(el('div', {id: code + '_custom_content'}),
                      el('input', {type: 'hidden', id: code + '_custom', name: name,
                                   value: values[name] || ''}));
      } else if (type === 'users' || type === 'users_lp') {
        $field.append(el('input', {type: 'text', name: name + '[2000001]',
                                   'data-user': '2000001',
                                   value: (values[name] || {})['2000001'] || ''}));
      } else {
        // Kommo's .widget_settings_block__input_field wraps the input: widgets query
        // '.widget_settings_block__input_field input'.
        $field.append(el('div', {'class': 'widget_settings_block__input_field'}).append(
          el('input', {type: type === 'pass' ? 'password' : 'text', name: name,
                       'class': 'text-input', value: values[name] || ''})));
      }
      $controls.append($field);
    });
    var $descr = el('div', {'class': 'widget_settings_block__descr'})
      .append(el('div', {'class': 'widget-settings__desc-space'}));
    var $buttons = el('div', {'class': 'widget_settings_block__buttons'}).append(
      el('button', {type: 'button', 'class': 'button-input js-widget-save',
                    'data-onsave-destroy-modal': 'true'}, 'Save'),
      el('button', {type: 'button', 'class': 'button-input js-widget-install'}, 'Install'),
      el('button', {type: 'button', 'class': 'button-input js-widget-disable'}, 'Disable'));
    return el('div', {'class': 'modal kp-modal ' + code}).append(
      el('div', {'class': 'modal-body widget-settings'}).append(
        el('div', {'class': 'widget_settings_block'}).append($controls, $descr, $buttons)));
  }

  // Builds the shell of AREA into #page_holder and returns the shell's interface.
  function build(area, ctx) {
    var code = ctx.state.code;
    var manifest = ctx.state.manifest;
    var widgetName = ctx.label((manifest.widget || {}).name) || code;
    var $page = $('#page_holder').empty().attr('data-area', area);
    var cardArea = CARDS[area] ? area : (area === 'card_sdk' ? ctx.cardArea : null);
    var $root;
    if (cardArea) {
      $root = cardShell(code, CARDS[cardArea], area === 'card_sdk');
    } else if (LISTS[area]) {
      $root = listShell(code, LISTS[area], widgetName);
    } else if (area === 'settings') {
      $root = el('div', {'class': 'kp-settings-page'}, 'Settings > Integrations');
    } else if (area === 'advanced_settings' || area === 'widget_page') {
      $root = el('div', {'class': 'kp-work-page'}).append(
        el('nav', {'class': 'kp-left-menu'}).append(el('a', {href: '#'}, widgetName)),
        el('div', {id: 'work-area-' + code, 'class': 'work-area'}));
    } else if (area === 'digital_pipeline') {
      var $fields = el('div', {id: 'widget_settings__fields_wrapper'});
      $.each((manifest.dp || {}).settings || {}, function (name, spec) {
        $fields.append(el('div', {'class': 'widget_settings_block__item_field'}).append(
          el('div', {'class': 'widget_settings_block__title_field'}, ctx.label(spec.name)),
          el('div', {'class': 'widget_settings_block__input_field'}).append(
            el('input', {type: 'text', name: name, 'class': 'text-input'}))));
      });
      $root = el('div', {'class': 'digital-pipeline kp-dp'}).append(
        el('div', {'class': 'digital-pipeline__action', 'data-action': 'send_widget_hook'})
          .append(el('div', {'class': 'digital-pipeline__short-task_widget-style_' + code},
                     widgetName), $fields));
    } else if (area === 'salesbot_designer') {
      $root = el('div', {'class': 'kp-salesbot'}).append(
        el('div', {'class': 'salesbot-designer__modal'}).append(
          el('div', {'class': 'salesbot-designer__body'}),
          el('button', {type: 'button', 'class': 'button-input kp-salesbot-save'},
             'Save bot')));
    } else if (area === 'catalogs') {
      $root = el('div', {'class': 'kp-catalog list'}).append(
        el('div', {'class': 'list-row', 'data-id': '501'}, 'Catalog element #501'));
    } else if (area === 'lead_sources') {
      $root = el('div', {'class': 'kp-pipeline'}).append(
        el('div', {'class': 'pipeline_leads__sources', 'data-pipeline-id': '1000'},
           'Lead sources of pipeline 1000'));
    } else {
      $root = el('div', {'class': 'kp-dashboard'}, 'Dashboard');
    }
    $page.append($root, el('div', {id: 'kp-overlay', 'class': 'kp-overlay'}).hide(),
                 el('div', {id: 'kp-toasts'}));

    return {
      area: area,
      panel: function () {
        var $panel = $page.find('.card-widgets__widget-' + code).first();
        return $panel.length ? $panel.show() : $page;
      },
      selectedRows: function () {
        var entity = LISTS[area] || 'leads';
        return $page.find('.js-list-row').filter(function () {
          return $(this).find('input').prop('checked');
        }).map(function () {
          return {id: Number($(this).attr('data-id')), type: entity.replace(/s$/, ''),
                  emails: ['row' + $(this).attr('data-id') + '@example.com'],
                  phones: ['+1000000' + $(this).attr('data-id')]};
        }).get();
      },
      entity: function () { return CARDS[cardArea] || LISTS[area] || ''; },
      isCard: function () { return Boolean(cardArea); },
      pageCode: function () { return PAGE_CODES[area] || area; },
      addButton: function (name, text, handler) {
        $page.find('.feed-compose__sources').append(
          el('button', {type: 'button', 'class': 'kp-' + name}, text).on('click', handler));
      },
      toast: function (message, kind) {
        var m = message && typeof message === 'object' ? message : {text: message};
        $('#kp-toasts').append(el('div', {'class': 'kp-toast kp-toast-' + kind},
                                  [m.header, m.text].filter(Boolean).join(': ')));
      },
      settingsModal: function (values) {
        $('.kp-modal.' + code).remove();
        var $modal = settingsShell(code, manifest, values, ctx.label);
        $('body').append($modal);
        return $modal;
      }
    };
  }

  return {build: build, CARDS: CARDS, LISTS: LISTS};
});
