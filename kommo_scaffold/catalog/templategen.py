"""Keep the copier template in step with the area catalog.

Plain ``copier update`` must work without kommo-scaffold installed, so the template cannot
import ``areas.py``. Instead this module writes the catalog into the template: a Jinja data
file (``catalog.jinja``) and generated blocks of ``copier.yml``. ``python -m
kommo_scaffold.catalog.templategen`` rewrites them; ``--check`` fails when they are stale
(tests and CI run it).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from kommo_scaffold.catalog import areas, languages, modules
from kommo_scaffold.catalog.labels import LABELS

LOCALE_TITLES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "pt": "Portuguese",
    "tr": "Turkish",
    "id": "Indonesian",
    "ru": "Russian (amoCRM accounts)",
}

_BLOCK = re.compile(
    r"(?P<head>^[ \t]*# >>> generated: (?P<name>[\w-]+)[^\n]*\n)"
    r"(?P<body>.*?)"
    r"(?P<tail>^[ \t]*# <<< generated[^\n]*$)",
    re.MULTILINE | re.DOTALL,
)


def _jinja_literal(value: object) -> str:
    # JSON without nulls is a valid Jinja literal (true/false are accepted lowercase).
    text = json.dumps(value, ensure_ascii=False, indent=None, separators=(", ", ": "))
    if "null" in re.sub(r'"(?:[^"\\]|\\.)*"', "", text):
        raise ValueError("null cannot be written as a Jinja literal")
    return text


def catalog_jinja() -> str:
    """The text of templates/widget/catalog.jinja: the catalog facts the template reads."""
    area_data = {
        a.code: {
            "title": a.title,
            "panel": a.takes_panel_flag,
            "requires_any": list(a.requires_any),
            "backend_route": a.backend_route or "",
            "php_class": a.php_class or "",
        }
        for a in areas.AREAS
    }
    lines = [
        "{#- Generated from kommo_scaffold/catalog/areas.py by",
        "    `python -m kommo_scaffold.catalog.templategen`; do not edit by hand.",
        "    Imported by copier.yml validators and the project files. -#}",
        f"{{% set AREAS = {_jinja_literal(area_data)} %}}",
        f"{{% set AREA_CODES = {_jinja_literal(list(areas.AREA_CODES))} %}}",
        f"{{% set PANEL_AREAS = {_jinja_literal(list(areas.PANEL_AREAS))} %}}",
        f"{{% set CARD_AREAS = {_jinja_literal(list(areas.CARD_AREAS))} %}}",
        f"{{% set BACKEND_AREAS = {_jinja_literal(list(areas.BACKEND_AREAS))} %}}",
        f"{{% set BASE_CALLBACKS = {_jinja_literal(list(areas.BASE_CALLBACKS))} %}}",
        f"{{% set SETTINGS_FIELD_TYPES = {_jinja_literal(list(areas.SETTINGS_FIELD_TYPES))} %}}",
        f"{{% set LEFT_MENU_AFTER = {_jinja_literal(list(areas.LEFT_MENU_AFTER))} %}}",
        f"{{% set LOCALES = {_jinja_literal(list(areas.LOCALES))} %}}",
        f"{{% set LABELS = {_jinja_literal(LABELS)} %}}",
        f"{{% set LANGUAGES = {_jinja_literal(list(languages.LANGUAGES))} %}}",
        f"{{% set TS_AREA_PARTS = {_jinja_literal(list(languages.TS_AREA_PARTS))} %}}",
        f"{{% set PAGE_MODULES = {_jinja_literal(list(modules.PAGE_MODULES))} %}}",
        f"{{% set LOADER_PLUGINS = {_jinja_literal(list(modules.LOADER_PLUGINS))} %}}",
        "",
    ]
    return "\n".join(lines)


def _any_of(codes: tuple[str, ...] | list[str]) -> str:
    """A Jinja test that ``locations`` holds one of ``codes`` (area codes are identifiers)."""
    if not all(re.fullmatch(r"\w+", code) for code in codes):
        raise ValueError(f"area codes must be identifiers: {codes}")
    if len(codes) == 1:
        return f"'{codes[0]}' in locations"
    listed = ", ".join(f"'{code}'" for code in codes)
    return f"(locations | select('in', [{listed}]) | list | length) > 0"


def flags() -> dict[str, tuple[str, ...]]:
    """Each computed flag the template's file and folder names use -> the areas that set it
    (has_backend is also set by the `backend` answer)."""
    result: dict[str, tuple[str, ...]] = {"has_backend": areas.BACKEND_AREAS}
    for area in areas.AREAS:
        if area.flag:
            result[area.flag] = (area.code,)
    return result


def _flag_questions() -> list[str]:
    lines = []
    for name, codes in flags().items():
        test = _any_of(codes)
        if name == "has_backend":
            test = f"{areas.BACKEND_QUESTION} or {test}"
        lines += [f"{name}:", "  type: bool", f'  default: "{{{{ {test} }}}}"',
                  "  when: false"]
    return lines


def _backend_question() -> list[str]:
    """The `backend` yes/no, asked only when no chosen area needs the back end anyway."""
    return [f"{areas.BACKEND_QUESTION}:", "  type: bool", "  help: >-",
            *(f"    {line}" for line in _wrap(areas.BACKEND_HELP)), "  default: false",
            f'  when: "{{{{ not ({_any_of(areas.BACKEND_AREAS)}) }}}}"']


def _language_question() -> list[str]:
    """The `language` choice; the answer is kept for good (`kommo set` refuses a change)."""
    return [f"{languages.LANGUAGE_QUESTION}:", "  type: str", "  help: >-",
            *(f"    {line}" for line in _wrap(languages.LANGUAGE_HELP)), "  choices:",
            *(f"    - {code}" for code in languages.LANGUAGES),
            f"  default: {languages.DEFAULT_LANGUAGE}",
            *(line for flag, code in languages.LANGUAGE_FLAGS.items()
              for line in (f"{flag}:", "  type: bool",
                           f'  default: "{{{{ language == \'{code}\' }}}}"', "  when: false"))]


def _wrap(text: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, 84)


def conditional_name(name: str, flag: str) -> str:
    """A template file or folder name that copier renders only when ``flag`` is true."""
    return f"{{% if {flag} %}}{name}{{% endif %}}"


def template_paths() -> dict[str, str]:
    """Each project file an area adds -> its path in templates/widget/project (a copier
    template file: the same name, with `.jinja` when rendered, under conditional names)."""
    backend = conditional_name("backend", "has_backend")
    result = {}
    for area in areas.AREAS:
        if area.project_files and not area.flag:
            raise ValueError(f"area {area.code} adds files but has no flag to name them")
        for path in area.files:
            folder, _, name = f"widget/{path}".rpartition("/")
            result[f"widget/{path}"] = f"{folder}/{conditional_name(name, str(area.flag))}"
        for path in area.backend_files:
            folder, _, name = path.rpartition("/")
            result[f"backend/{path}"] = (f"{backend}/{folder}/"
                                         f"{conditional_name(name, str(area.flag))}")
    return result


def _yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def generated_blocks() -> dict[str, list[str]]:
    """Body lines of each `# >>> generated: NAME` block of copier.yml."""
    location_choices = [
        f"    {_yaml_str(f'{a.code:<20} {a.title}')}: {a.code}" for a in areas.AREAS
    ]
    locale_choices = [
        f"    {_yaml_str(f'{code}  {LOCALE_TITLES[code]}')}: {code}" for code in areas.LOCALES
    ]
    after_choices = [f"    - {code}" for code in areas.LEFT_MENU_AFTER]
    return {
        "location-choices": location_choices,
        "locale-choices": locale_choices,
        "left-menu-after": after_choices,
        "backend": _backend_question(),
        "flags": _flag_questions(),
        "language": _language_question(),
    }


def render_copier_yml(text: str) -> str:
    """copier.yml text with every generated block rewritten from the catalog."""
    blocks = generated_blocks()
    seen: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in blocks:
            raise KeyError(f"copier.yml has an unknown generated block {name!r}")
        seen.add(name)
        return match["head"] + "".join(line + "\n" for line in blocks[name]) + match["tail"]

    result = _BLOCK.sub(replace, text)
    missing = set(blocks) - seen
    if missing:
        raise KeyError(f"copier.yml lacks generated blocks: {', '.join(sorted(missing))}")
    return result


def template_root() -> Path:
    """templates/widget in a source checkout (this tool is for maintainers)."""
    return Path(__file__).resolve().parents[2] / "templates" / "widget"


def wanted_files(root: Path) -> dict[Path, str]:
    """Each generated file of the template under ``root``, with its wanted text."""
    return {
        root / "catalog.jinja": catalog_jinja(),
        root / "copier.yml": render_copier_yml((root / "copier.yml").read_text("utf-8")),
    }


def stale(wanted: dict[Path, str]) -> dict[Path, str]:
    """The files of ``wanted`` whose content on disk differs from the wanted text."""
    return {path: text for path, text in wanted.items()
            if not path.exists() or path.read_text("utf-8") != text}


def missing_template_files(root: Path) -> list[str]:
    """The catalog's area files that templates/widget/project lacks under their names."""
    project = root / "project"
    return [path for path in template_paths().values()
            if not (project / path).is_file() and not (project / f"{path}.jinja").is_file()]


def write_or_check(wanted: dict[Path, str], argv: list[str], command: str) -> int:
    """Write the generated files that changed, or with --check report them and fail."""
    outdated = stale(wanted)
    if "--check" in argv:
        for path in outdated:
            print(f"stale: {path} (run {command})", file=sys.stderr)
        return 1 if outdated else 0
    for path, text in outdated.items():
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    root = template_root()
    # Files are written by hand (PHP) or by scaffold.logos (PNG); only their names are checked.
    for path in missing_template_files(root):
        print(f"missing: {root / 'project' / path} (the catalog lists it)", file=sys.stderr)
    status = write_or_check(wanted_files(root), sys.argv[1:] if argv is None else argv,
                            "python -m kommo_scaffold.catalog.templategen")
    return 1 if missing_template_files(root) else status


if __name__ == "__main__":
    raise SystemExit(main())
