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
                    lead_sources: 'leads-pipeline', everywhere: 'dashboard',
                    mobile_card: 'mobile', ai_agent: 'ai-agent', sms: 'sms'};

  function el(tag, attrs, text) {
    var $node = $('<' + tag + '/>', attrs || {});
    if (text !== undefined) { $node.text(text); }
    return $node;
  }

  // One row of Kommo's card form: label (with the name as its title) and the value's control.
  function fieldRow(field) {
    var $value = el('div', {'class': 'linked-form__field__value'});
    var name = 'CFV[' + field.id + ']';
    if (field.type === 'select' || field.type === 'radiobutton') {
      // Kommo's select control: a button showing the choice, the list, a hidden input.
      var chosen = field.enums.filter(function (o) { return o.id === field.enum_id; })[0];
      var $list = el('ul', {'class': 'control--select--list'});
      field.enums.forEach(function (option) {
        $list.append(el('li', {'class': 'control--select--list--item' +
                                 (option.id === field.enum_id ? ' control--select--list--item-selected' : ''),
                               'data-value': String(option.id)}, option.value));
      });
      $value.append(el('div', {'class': 'control--select linked-form__select'}).append(
        el('button', {type: 'button', 'class': 'control--select--button'},
           chosen ? chosen.value : ''),
        $list, el('input', {type: 'hidden', 'class': 'control--select--input', name: name,
                            value: field.enum_id === null ? '' : String(field.enum_id)})));
    } else {
      $value.append(el('input', {type: 'text', 'class': 'text-input linked-form__cf', name: name,
                                 value: field.value}));
    }
    return el('div', {'class': 'linked-form__field linked-form__field-' + field.type,
                      'data-id': String(field.id)}).append(
      el('div', {'class': 'linked-form__field__label', title: field.name}).append(
        el('span', {}, field.name)), $value);
  }

  // The card's form as Kommo renders it, from the entity GET /api/v4/<entity>/1 answers.
  function cardShell(code, entity, withTab, card) {
    var data = (card && card.entity) || {id: 1, name: entity.replace(/s$/, '') + ' #1'};
    var prefix = entity.replace(/ies$/, 'y').replace(/s$/, '');
    var $holder = el('div', {id: 'card_holder', 'class': 'card-holder kp-card',
                             'data-id': String(data.id)});
    var $fields = el('div', {'class': 'card-fields linked-form'}).append(
      el('div', {'class': 'linked-form__field linked-form__field-name'}).append(
        el('input', {type: 'text', id: 'person_n', 'class': 'linked-form__field__value-name',
                     name: prefix + '[NAME]', value: data.name || ''})));
    if (entity === 'leads') {
      $fields.append(el('div', {'class': 'linked-form__field linked-form__field-price'}).append(
        el('div', {'class': 'linked-form__field__label', title: 'Budget'}).append(
          el('span', {}, 'Budget')),
        el('div', {'class': 'linked-form__field__value'}).append(
          el('input', {type: 'text', id: 'lead_card_budget', 'class': 'text-input',
                       name: 'lead[PRICE]', value: data.price === undefined ? '' :
                         String(data.price)}))));
    }
    ((card && card.fields) || []).forEach(function (field) { $fields.append(fieldRow(field)); });
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

  // The mobile app's block: a header in mobile.color over mobile.frame_url in a frame of a
  // phone's size. The app shows the page; no script.js runs there.
  function mobileShell(manifest, widgetName) {
    var mobile = manifest.mobile || {};
    var url = typeof mobile.frame_url === 'string' ? mobile.frame_url : '';
    var color = /^#[0-9A-Fa-f]{6}$/.test(mobile.color || '') ? mobile.color : '#5F43CF';
    var $phone = el('div', {'class': 'kp-phone'}).append(
      el('div', {'class': 'kp-phone__header'}, widgetName).css('background', color));
    if (/^https?:\/\//i.test(url)) {
      $phone.append(el('iframe', {'class': 'kp-phone__frame', src: url, title: widgetName,
                                  sandbox: 'allow-scripts allow-forms allow-same-origin'}));
    } else {
      $phone.append(el('p', {'class': 'kp-phone__missing'},
                       'mobile.frame_url must be an http(s) URL: ' + (url || 'not set')));
    }
    return el('div', {'class': 'kp-mobile kp-scriptless'}).append($phone);
  }

  // The AI agent's list of widgets: the name and widget.ai_agent_description of each locale.
  function aiAgentShell(state, widgetName) {
    var $list = el('dl', {'class': 'kp-ai-agent__descriptions'});
    Object.keys(state.i18n).forEach(function (lang) {
      var text = ((state.i18n[lang] || {}).widget || {}).ai_agent_description;
      $list.append(el('dt', {}, lang), el('dd', {'data-lang': lang, 'class': typeof text ===
        'string' && text.trim() ? '' : 'kp-missing'},
        typeof text === 'string' && text.trim() ? text : 'no widget.ai_agent_description'));
    });
    return el('div', {'class': 'kp-ai-agent kp-scriptless'}).append(
      el('h2', {'class': 'kp-ai-agent__name'}, widgetName), $list);
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
      $root = cardShell(code, CARDS[cardArea], area === 'card_sdk',
                        (ctx.state.cards || {})[CARDS[cardArea]]);
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
    } else if (area === 'mobile_card') {
      $root = mobileShell(manifest, widgetName);
    } else if (area === 'ai_agent') {
      $root = aiAgentShell(ctx.state, widgetName);
    } else if (area === 'sms') {
      var endpoint = (manifest.sms || {}).endpoint;
      $root = el('div', {'class': 'kp-sms kp-scriptless'}).append(
        el('p', {}, 'Kommo sends system SMS from its servers: it POSTs each message to ' +
                    'sms.endpoint (' + (endpoint || 'not set') + '). No script.js runs here.'));
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
