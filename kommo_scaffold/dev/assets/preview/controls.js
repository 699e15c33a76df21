// Simplified stand-ins for Kommo's system templates /tmpl/controls/<name>.twig, taking the
// documented parameters (name, class_name, value, placeholder, items, text...). They are
// lookalikes written for the preview, not Kommo's markup.
define([], function () {
  'use strict';
  var input = '<input type="{{ type|default("text") }}" name="{{ name }}" ' +
    'class="control-input {{ class_name }}" value="{{ value }}" ' +
    'placeholder="{{ placeholder }}"{% if disabled %} disabled{% endif %}' +
    '{% if readonly %} readonly{% endif %}>';
  var button = '<button type="button" class="button-input {{ class_name }}" ' +
    'id="{{ id }}"{% if disabled %} disabled{% endif %}>{{ text }}</button>';
  var options = '{% for item in items %}<option value="{{ item.id }}"' +
    '{% if item.id == selected %} selected{% endif %}>{{ item.option }}</option>{% endfor %}';
  return {
    input: input,
    textarea: '<textarea name="{{ name }}" class="control-textarea {{ class_name }}" ' +
      'placeholder="{{ placeholder }}"{% if disabled %} disabled{% endif %}' +
      '{% if readonly %} readonly{% endif %}>{{ value }}</textarea>',
    button: button,
    cancel_button: button,
    delete_button: button,
    checkbox: '<label class="control-checkbox {{ class_name }}"><input type="checkbox" ' +
      'name="{{ name }}" value="{{ value|default("Y") }}"{% if checked %} checked{% endif %}>' +
      ' {{ text }}</label>',
    checkboxes_dropdown: '<div class="checkboxes_dropdown {{ class_name }}">' +
      '{% for item in items %}<label><input type="checkbox" name="{{ name }}[]" ' +
      'value="{{ item.id }}"{% if item.is_checked %} checked{% endif %}> {{ item.option }}' +
      '</label>{% endfor %}</div>',
    select: '<select name="{{ name }}" class="control--select {{ class_name }}">' + options +
      '</select>',
    multiselect: '<select multiple name="{{ name }}[]" class="control--select ' +
      '{{ class_name }}">' + options + '</select>',
    radio: '<div class="control-radio {{ class_name }}">{% for item in items %}<label>' +
      '<input type="radio" name="{{ name }}" value="{{ item.id }}"' +
      '{% if item.id == selected %} checked{% endif %}> {{ item.option }}</label>' +
      '{% endfor %}</div>',
    suggest: '<input type="text" name="{{ name }}" class="control-suggest {{ class_name }}" ' +
      'value="{{ value }}" placeholder="{{ placeholder }}" list="{{ name }}-list">' +
      '<datalist id="{{ name }}-list">{% for item in items %}<option value="{{ item.option }}">' +
      '{% endfor %}</datalist>',
    date_field: '<input type="date" name="{{ name }}" class="date_field {{ class_name }}" ' +
      'value="{{ value }}">',
    file: '<input type="file" name="{{ name }}" class="control-file {{ class_name }}">',
    switcher: '<label class="switcher {{ class_name }}"><input type="checkbox" ' +
      'name="{{ name }}"{% if checked %} checked{% endif %}> {{ text }}</label>'
  };
});
