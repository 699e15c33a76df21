"""The AMD modules Kommo's page provides to widgets, by RequireJS id.

One list for the preview (kommo_scaffold/dev/libs.py serves them), the typings
(types/kommo-widget.d.ts declares them in ``Kommo.Modules``; a test compares) and the
TypeScript build (build.mjs keeps them out of the bundle, so the widget gets the page's
copy through its AMD dependency array). Sources: Kommo's https://developers.kommo.com/docs/modules
and the modules public widgets require (jquery, underscore, moment, twigjs,
lib/components/base/modal; the others as public amoCRM widgets use them).
"""

from __future__ import annotations

PAGE_MODULES: tuple[str, ...] = (
    "jquery", "lib/components/base/modal", "underscore", "moment", "twigjs",
    "backbone", "es6promise", "pubsub", "FileAPI", "intl-tel-input",
)
# RequireJS loader plugins on Kommo's page, used as `text!./file.html`, `json!./file.json`.
LOADER_PLUGINS: tuple[str, ...] = ("text", "json")
