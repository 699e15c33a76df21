"""Build small hand-made widgets for checker tests: a clean base plus targeted mutations."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image

from kommo_scaffold.catalog import areas


def generated_warnings_ok(report: Any) -> list[str]:
    """The warnings a generated widget may not have: all but a KS114 that only says an
    endpoint is still the placeholder kommo-new writes when no backend_url was given."""
    return [f"{f.rule} {f.where()}: {f.message}" for f in report.warnings
            if not (f.rule == "KS114" and "is a placeholder" in f.message)]


@cache
def png(width: int, height: int, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, fmt)
    return buffer.getvalue()


def callbacks_js(names: list[str]) -> str:
    """A callbacks object literal with nested objects for dotted names."""
    tree: dict[str, Any] = {}
    for name in names:
        node = tree
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = None

    def render(node: dict[str, Any], indent: str) -> str:
        items = []
        for key, value in node.items():
            if value is None:
                items.append(f"{indent}{key}: function () {{ return true; }}")
            else:
                items.append(f"{indent}{key}: {{\n{render(value, indent + '  ')}\n{indent}}}")
        return ",\n".join(items)

    return "{\n" + render(tree, "      ") + "\n    }"


SCRIPT = """define(['jquery'], function ($) {
  var CustomWidget = function () {
    var self = this;
__EXTRA__
    this.callbacks = __CALLBACKS__;
    return this;
  };
  return CustomWidget;
});
"""


@dataclass
class W:
    """A widget folder described in memory; build() writes it (or a zip of it)."""

    root: Path
    manifest: dict[str, Any] = field(default_factory=lambda: {
        "widget": {
            "name": "widget.name", "description": "widget.description",
            "short_description": "widget.short_description", "version": "1.0.0",
            "interface_version": 2, "init_once": False, "locale": ["en"], "installation": True,
        },
        "locations": ["lcard-1", "settings"],
        "tour": {"is_tour": True, "tour_description": "widget.tour_description"},
        "settings": {"login": {"name": "settings.login", "type": "text", "required": True}},
    })
    i18n: dict[str, Any] = field(default_factory=lambda: {"en": {
        "widget": {"name": "Deal notes", "short_description": "Notes in the lead card",
                   "description": "Shows notes in the lead card.",
                   "tour_description": "Shows notes."},
        "settings": {"login": "Login"},
    }})
    callbacks: list[str] = field(default_factory=lambda: list(areas.BASE_CALLBACKS))
    extra_js: str = ""
    script: str | None = None
    raw: dict[str, bytes | str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    logos: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(areas.BASE_LOGOS))

    def add_locale(self, code: str, data: dict[str, Any] | None = None) -> None:
        self.manifest["widget"]["locale"].append(code)
        self.i18n[code] = json.loads(json.dumps(data or self.i18n["en"]))

    def add_area(self, code: str, location: str | None = None) -> None:
        """Add an area as kommo-new would configure it (block, callbacks, logo, texts)."""
        self.manifest["locations"].append(location or code)
        area = areas.AREA_BY_CODE[code]
        self.callbacks += [c for c in area.callbacks if c not in self.callbacks]
        for name, size in areas.logos_for([code]).items():
            self.logos[name] = size
        blocks = {
            "advanced": {"title": "advanced.title"},
            "dp": {"settings": {}, "action_multiple": False,
                   "webhook_url": "https://hooks.my-company.io/dp"},
            "sms": {"endpoint": "https://hooks.my-company.io/sms"},
            "mobile": {"frame_url": "https://hooks.my-company.io/m", "color": "#5F43CF"},
            "salesbot_designer": {"send": {"name": "salesbot.handler_name", "settings": {}}},
            "left_menu": {"notes": {"title": "left_menu.title", "icon": "images/menu.svg",
                                    "sort": {"after": "leads"}}},
        }
        if area.manifest_block:
            self.manifest[area.manifest_block] = blocks[area.manifest_block]
        for data in self.i18n.values():
            for key in ("advanced.title", "salesbot.handler_name", "left_menu.title",
                        "widget.ai_agent_description"):
                if key in area.i18n_keys:
                    head, tail = key.split(".")
                    data.setdefault(head, {})[tail] = "Notes"
        if code == "widget_page":
            self.raw["images/menu.svg"] = '<svg xmlns="http://www.w3.org/2000/svg"/>\n'

    def build(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        files: dict[str, bytes | str] = {
            "manifest.json": json.dumps(self.manifest, indent=2) + "\n",
            "style.css": ".deal-notes { color: #333; }\n",
        }
        script = self.script if self.script is not None else SCRIPT.replace(
            "__EXTRA__", self.extra_js).replace("__CALLBACKS__", callbacks_js(self.callbacks))
        files["script.js"] = script
        for code, data in self.i18n.items():
            files[f"i18n/{code}.json"] = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        for name, (w, h) in self.logos.items():
            files[f"images/{name}"] = png(w, h)
        files.update(self.raw)
        for name, content in files.items():
            if name in self.deleted:
                continue
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return self.root

    def files(self) -> dict[str, bytes]:
        root = self.build()
        return {p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted(root.rglob("*")) if p.is_file()}


def write_zip(path: Path, entries: dict[str, bytes], wrapper: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(wrapper + name, data)
    return path


def hostile_texts(size: int = 1 << 20) -> dict[str, str]:
    """Strings of about SIZE characters shaped against regular expressions: runs of one
    character, and repeated openings with no close, each a known way to make a backtracking
    pattern quadratic (tags, placeholders, e-mail domains, URLs, JSON strings, names)."""
    def fill(unit: str, prefix: str = "", suffix: str = "") -> str:
        return prefix + unit * max(1, (size - len(prefix) - len(suffix)) // len(unit)) + suffix

    return {
        "lt": fill("<"), "lt-a": fill("<a"), "percent": fill("%"), "percent-A": fill("%A"),
        "brace": fill("{"), "braces-A": fill("{{A"), "spaces": fill(" ", "a", "b"),
        "at-dots": fill(".", "a@", " "), "at-labels": fill(".b", "a@b", "@"),
        "slashes": fill("/", "https://a", "x"), "quote-backslash": fill('\\"', '"'),
        "hash-underscores": fill("_", "#a"), "at-a": fill("@a"), "authority": fill("//a"),
        "newlines": fill("\n"),
    }


def hostile_widget(root: Path, text: str) -> Path:
    """A widget whose every free text field holds TEXT: the listing texts, a settings
    label, the version, the DP webhook URL, a location's flag and a script comment."""
    w = W(root)
    w.add_area("digital_pipeline")
    for key in ("name", "short_description", "description", "tour_description"):
        w.i18n["en"]["widget"][key] = text
    w.i18n["en"]["settings"]["login"] = text
    w.manifest["widget"]["version"] = text
    w.manifest["dp"]["webhook_url"] = text
    w.manifest["locations"].append("llist-" + text)
    w.extra_js = "/* " + text.replace("*/", "* /") + " */"
    return w.build()
