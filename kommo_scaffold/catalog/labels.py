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
    # The button that calls the back end's /widget/ping (widgets with a back end).
    "backend.ping": {
        "en": "Call my back end", "es": "Llamar a mi servidor", "pt": "Chamar meu servidor",
        "tr": "Sunucumu çağır", "id": "Panggil server saya", "ru": "Вызвать мой сервер",
    },
    "backend.answer": {
        "en": "Back end answered", "es": "El servidor respondió", "pt": "O servidor respondeu",
        "tr": "Sunucu yanıt verdi", "id": "Server menjawab", "ru": "Сервер ответил",
    },
    "backend.failed": {
        "en": "Back end call failed", "es": "Falló la llamada al servidor",
        "pt": "A chamada ao servidor falhou", "tr": "Sunucu çağrısı başarısız",
        "id": "Panggilan server gagal", "ru": "Ошибка вызова сервера",
    },
}
