// Stand-in for Kommo's lib/components/base/modal: new Modal({class_name, init($body),
// destroy}). init gets the modal body; the widget triggers modal:loaded and modal:centrify.
define(['jquery'], function ($) {
  'use strict';

  function Modal(options) {
    var self = this;
    this.options = options || {};
    this.$modal = $('<div/>', {'class': 'modal kp-modal ' + (this.options.class_name || '')});
    this.$body = $('<div/>', {'class': 'modal-body'});
    var $close = $('<button type="button" class="modal-body__close">&times;</button>');
    this.$modal.append($('<div class="modal-overlay"></div>'),
                       $('<div class="modal-scroller"></div>').append(this.$body.append($close)));
    $close.on('click', function () { self.destroy(); });
    this.$body.on('modal:loaded', function () { self.$modal.addClass('kp-modal-loaded'); });
    this.$body.on('modal:centrify', function () { self.$modal.addClass('kp-modal-centered'); });
    $('body').append(this.$modal);
    if (typeof this.options.init === 'function') {
      this.options.init(this.$body);
    }
  }

  Modal.prototype.destroy = function () {
    if (typeof this.options.destroy === 'function') {
      this.options.destroy();
    }
    this.$modal.remove();
  };

  Modal.prototype._showError = function (message) {
    this.$body.find('.kp-modal-error').remove();
    this.$body.prepend($('<div class="kp-modal-error"></div>').text(message));
  };

  return Modal;
});
