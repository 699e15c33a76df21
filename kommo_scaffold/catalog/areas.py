"""The catalog of Kommo connection areas: the one source of truth.

Everything that depends on an area (copier.yml choices and validators, the Jinja data the
template renders from, the checker's rules, the tests and the docs table) is generated from
or tested against ``AREAS``. Facts come from Kommo's manifest, locations and script.js
references: https://developers.kommo.com/docs/manifest-json,
https://developers.kommo.com/docs/widget-locations, https://developers.kommo.com/docs/script-js.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["card", "list", "other"]
Platform = Literal["kommo", "amocrm", "both"]

# Callbacks every script.js defines, whatever the areas (Kommo needs render/init/bind_actions
# or the widget does not start; settings/onSave/destroy are called by the settings modal).
BASE_CALLBACKS: tuple[str, ...] = (
    "render", "init", "bind_actions", "settings", "onSave", "destroy",
)

# Logos every widget needs, with Kommo's exact sizes (https://developers.kommo.com/docs/images).
BASE_LOGOS: dict[str, tuple[int, int]] = {
    "logo.png": (130, 100),
    "logo_main.png": (400, 272),
    "logo_medium.png": (240, 84),
    "logo_min.png": (84, 84),
    "logo_small.png": (108, 108),
}
# Logos that only some areas need.
AREA_LOGOS: dict[str, tuple[int, int]] = {"logo_dp.png": (174, 109)}
MAX_IMAGE_BYTES = 300 * 1024

# Kommo's locales plus ru for amoCRM accounts (https://developers.kommo.com/docs/i18n).
LOCALES: tuple[str, ...] = ("en", "es", "pt", "tr", "id", "ru")

SETTINGS_FIELD_TYPES: tuple[str, ...] = ("text", "pass", "users", "users_lp", "custom")

# Left-menu system sections a widget page may follow
# (https://developers.kommo.com/docs/left-menu).
LEFT_MENU_AFTER: tuple[str, ...] = (
    "dashboard", "leads", "customers", "tasks", "catalogs", "mail", "stats", "settings",
)


@dataclass(frozen=True)
class Area:
    """One connection area: where Kommo loads the widget and what that place needs."""

    code: str
    title: str
    help: str
    kind: Kind = "other"
    platform: Platform = "both"
    # Callbacks script.js must define for this area, on top of BASE_CALLBACKS.
    callbacks: tuple[str, ...] = ()
    # Callbacks we also generate as aliases for what widgets in the wild use.
    alias_callbacks: tuple[str, ...] = ()
    # The area needs at least one of these areas too.
    requires_any: tuple[str, ...] = ()
    # Top-level manifest block the area needs, and the keys that block must have.
    manifest_block: str | None = None
    manifest_keys: tuple[str, ...] = ()
    # i18n keys (dotted) the area adds to every locale file.
    i18n_keys: tuple[str, ...] = ()
    # Files under widget/ the area adds.
    files: tuple[str, ...] = ()
    # Back-end route the area needs (served by backend/public/index.php), the PHP class in
    # backend/src/<php_class>.php that handles it, and the file in backend/hooks/ that
    # holds the user's code for it.
    backend_route: str | None = None
    php_class: str | None = None
    backend_hook: str | None = None
    # Kommo signs the route's requests with a one-time JWT (checked by backend/src/Jwt.php,
    # part of every back end: the widget's own /widget/<action> calls carry one too).
    jwt: bool = False
    # The computed copier value (`when: false` in copier.yml) that names the area's files
    # in the template, as in widget/images/{% if has_dp %}logo_dp.png{% endif %}.
    flag: str | None = None
    # Per-area answer keys asked only when the area is chosen.
    questions: tuple[str, ...] = ()
    # Kommo's web page loads script.js here; False where Kommo's servers (sms), the mobile
    # app (mobile_card) or the AI agent use only the manifest and i18n.
    runs_script: bool = True

    @property
    def backend_files(self) -> tuple[str, ...]:
        """Files under backend/ the area adds (the shared back end comes with any of them)."""
        if not self.backend_route:
            return ()
        return (f"src/{self.php_class}.php", f"hooks/{self.backend_hook}")

    @property
    def project_files(self) -> tuple[str, ...]:
        """Every file the area adds, as paths in the project."""
        return (tuple(f"widget/{path}" for path in self.files)
                + tuple(f"backend/{path}" for path in self.backend_files))

    @property
    def takes_panel_flag(self) -> bool:
        """Card and list areas take the -1/-0 right-panel suffix; nothing else does."""
        return self.kind in ("card", "list")

    @property
    def panel_by_default(self) -> bool:
        """Kommo's examples: the right-hand panel belongs to the cards; lists take -0."""
        return self.kind == "card"


AREAS: tuple[Area, ...] = (
    Area("lcard", "Lead card", "Right-hand panel and code in the lead card.", kind="card"),
    Area("cucard", "Customer card (amoCRM)", "The customer (buyer) card; amoCRM and legacy "
         "Kommo accounts only.", kind="card", platform="amocrm"),
    Area("ccard", "Contact card", "Right-hand panel and code in the contact card.", kind="card"),
    Area("comcard", "Company card", "Right-hand panel and code in the company card.",
         kind="card"),
    Area("llist", "Leads list", "Action in the leads list: the user ticks leads, opens More and "
         "picks the widget; Kommo calls leads.selected.", kind="list",
         callbacks=("leads.selected",)),
    Area("culist", "Customers list (amoCRM)", "Action in the customers list; amoCRM and legacy "
         "Kommo accounts only. No `*.selected` callback is documented for it.", kind="list",
         platform="amocrm"),
    Area("clist", "Contacts list", "Action in the contacts and companies list; Kommo calls "
         "contacts.selected.", kind="list", callbacks=("contacts.selected",)),
    Area("tlist", "Tasks list", "Action in the tasks list; Kommo calls todo.selected (amoCRM "
         "widgets often use tasks.selected, which we wire to the same code).", kind="list",
         callbacks=("todo.selected",), alias_callbacks=("tasks.selected",)),
    Area("settings", "Settings modal", "Your own UI in the install/settings modal (needed for "
         "custom settings fields); Kommo calls settings().", callbacks=("settings",)),
    Area("advanced_settings", "Advanced settings page", "A page of the widget's own under "
         "Settings; Kommo calls advancedSettings() and you draw the whole page.",
         callbacks=("advancedSettings",), manifest_block="advanced", manifest_keys=("title",),
         i18n_keys=("advanced.title",), questions=("advanced_title",)),
    Area("card_sdk", "Card SDK tab", "A tab of the widget's own inside cards (products, "
         "orders...). Needs a card area too.", callbacks=(
             "loadPreloadedData", "loadElements", "linkCard", "searchDataInCard"),
         requires_any=("lcard", "ccard", "comcard", "cucard")),
    Area("catalogs", "Lists (catalogs) element card", "Replace the edit card of a List "
         "element; the widget binds to the list with setSdkCatalogId.",
         callbacks=("loadCatalogElement",), questions=("catalog_id",)),
    Area("digital_pipeline", "Digital pipeline action", "An automation action in the digital "
         "pipeline; Kommo POSTs to dp.webhook_url on your server.", callbacks=("dpSettings",),
         manifest_block="dp", manifest_keys=("action_multiple", "webhook_url", "settings"),
         i18n_keys=("dp.message",), files=("images/logo_dp.png",), backend_route="/dp",
         php_class="Dp", backend_hook="dp.php", flag="has_dp",
         questions=("dp_webhook_url", "dp_action_multiple")),
    Area("lead_sources", "Lead source", "The widget can be a lead source in the digital "
         "pipeline; Kommo calls onAddAsSource(pipeline_id).", callbacks=("onAddAsSource",)),
    Area("everywhere", "Everywhere", "Load the widget on every page and decide in code where to "
         "act. Never takes a panel flag."),
    Area("sms", "System SMS sender", "Kommo sends system SMS through your server: it POSTs to "
         "sms.endpoint.", manifest_block="sms", manifest_keys=("endpoint",),
         backend_route="/sms", php_class="Sms", backend_hook="sms.php", jwt=True,
         flag="has_sms", questions=("sms_endpoint",), runs_script=False),
    Area("whatsapp_modal", "WhatsApp modal", "The modal of WhatsApp integrations; amoCRM and "
         "legacy Kommo list it.", platform="amocrm"),
    Area("mobile_card", "Mobile app card", "A block in the mobile app that opens your page in a "
         "frame.", manifest_block="mobile", manifest_keys=("frame_url", "color"),
         questions=("mobile_frame_url", "mobile_color"), runs_script=False),
    Area("salesbot_designer", "Salesbot step", "A step of the widget's own in the Salesbot "
         "designer; the bot calls your server and waits for it.",
         callbacks=("onSalesbotDesignerSave", "salesbotDesignerSettings"),
         manifest_block="salesbot_designer", i18n_keys=(
             "salesbot.handler_name", "salesbot.message", "salesbot.success", "salesbot.fail"),
         backend_route="/salesbot", php_class="Salesbot", backend_hook="salesbot.php", jwt=True,
         flag="has_salesbot", questions=("salesbot_handler_code", "salesbot_handler_name")),
    Area("website_chat_button", "Website chat button", "Usable when setting up the website "
         "chat button."),
    Area("widget_page", "Left-menu page", "A section of the widget's own in the left menu "
         "(public integrations); Kommo calls initMenuPage().", callbacks=("initMenuPage",),
         manifest_block="left_menu", i18n_keys=("left_menu.title",),
         files=("images/menu_icon.svg",), flag="has_widget_page",
         questions=("left_menu_code", "left_menu_title", "left_menu_after")),
    Area("ai_agent", "AI agent", "Offer the widget to Kommo's AI agent; it reads "
         "widget.ai_agent_description from every locale.",
         i18n_keys=("widget.ai_agent_description",), questions=("ai_agent_description",),
         runs_script=False),
)

AREA_BY_CODE: dict[str, Area] = {area.code: area for area in AREAS}
AREA_CODES: tuple[str, ...] = tuple(AREA_BY_CODE)
PANEL_AREAS: tuple[str, ...] = tuple(a.code for a in AREAS if a.takes_panel_flag)
# The default panel_locations (new projects and kommo add-area): the chosen card areas.
CARD_AREAS: tuple[str, ...] = tuple(a.code for a in AREAS if a.panel_by_default)
BACKEND_AREAS: tuple[str, ...] = tuple(a.code for a in AREAS if a.backend_route)
JWT_AREAS: tuple[str, ...] = tuple(a.code for a in AREAS if a.jwt)
# The `backend` answer gives any widget the back end, for the widget's own calls
# (`/widget/<action>` with Kommo's one-time token); BACKEND_AREAS always have it, and then
# the question is not asked.
BACKEND_QUESTION = "backend"
# The user's widget actions (GET|POST /widget/<action>), in every back end.
WIDGET_HOOK = "backend/hooks/widget.php"
BACKEND_HELP = ("Does the widget call a server of yours? Yes adds the PHP back end "
                "(backend/) with a /widget/<action> route for script.js")


def backend_needed_by(locations: list[str] | tuple[str, ...]) -> list[str]:
    """The chosen areas that cannot work without the back end."""
    return [code for code in locations if code in BACKEND_AREAS]


def has_backend(locations: list[str] | tuple[str, ...], backend: bool = False) -> bool:
    """Whether a widget with these answers has backend/ (copier.yml's has_backend)."""
    return bool(backend) or bool(backend_needed_by(locations))
# Areas that exist only on amoCRM / legacy Kommo accounts: still valid, worth a note.
LEGACY_AREAS: tuple[str, ...] = tuple(a.code for a in AREAS if a.platform == "amocrm")
# Areas seen in amoCRM docs that the generator does not offer but the checker must accept.
EXTRA_KNOWN_LOCATIONS: tuple[str, ...] = ("personal_page", "amoforms", "tline", "tcalendar")

# A widget using many areas at once, used in tests and docs.
SEED_EXAMPLE_LOCATIONS: tuple[str, ...] = (
    "settings", "digital_pipeline", "lead_sources", "advanced_settings", "lcard", "ccard",
    "llist", "clist",
)
SEED_EXAMPLE_PANEL: tuple[str, ...] = ("lcard", "ccard")


def logos_for(locations: list[str] | tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Logo file name -> (width, height) for a widget with these areas."""
    logos = dict(BASE_LOGOS)
    for code in locations:
        for path in AREA_BY_CODE[code].files:
            name = path.removeprefix("images/")
            if name in AREA_LOGOS:
                logos[name] = AREA_LOGOS[name]
    return logos


def manifest_location(code: str, panel_locations: list[str] | tuple[str, ...]) -> str:
    """The string written into manifest.json `locations` for one area."""
    if not AREA_BY_CODE[code].takes_panel_flag:
        return code
    return f"{code}-{1 if code in panel_locations else 0}"
