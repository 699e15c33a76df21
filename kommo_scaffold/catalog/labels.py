"""Built-in i18n texts of generated widgets, per locale.

User texts (name, descriptions, titles) come from the answers and are the same in every
locale file; these are the labels the template itself adds. Every key must exist for every
locale in ``areas.LOCALES`` (a test checks it), so all i18n files share one key structure.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "dp.message": {
        "en": "Message", "es": "Mensaje", "pt": "Mensagem", "tr": "Mesaj", "id": "Pesan",
        "ru": "Сообщение",
    },
    "salesbot.message": {
        "en": "Message", "es": "Mensaje", "pt": "Mensagem", "tr": "Mesaj", "id": "Pesan",
        "ru": "Сообщение",
    },
    "salesbot.success": {
        "en": "Success", "es": "Éxito", "pt": "Sucesso", "tr": "Başarılı", "id": "Berhasil",
        "ru": "Успешно",
    },
    "salesbot.fail": {
        "en": "Error", "es": "Error", "pt": "Erro", "tr": "Hata", "id": "Gagal",
        "ru": "Ошибка",
    },
    "ui.selected": {
        "en": "Selected", "es": "Seleccionados", "pt": "Selecionados", "tr": "Seçilenler",
        "id": "Dipilih", "ru": "Выбрано",
    },
}
