"""The template's files follow the catalog: each area adds exactly the files areas.py lists,
under file names that read as names (computed flags of copier.yml, no expressions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import TEMPLATE
from test_generate import alone

from kommo_scaffold.catalog import areas, languages, templategen

# The render of one area (card_sdk with its card area) that test_generate's
# test_each_area_alone makes too: render_cache keys on the folder name, so both share it.
NAME = "widget-1"
LISTED = {path for area in areas.AREAS for path in area.project_files}


def files_of(project: Path) -> set[str]:
    return {path.relative_to(project).as_posix() for path in project.rglob("*")
            if path.is_file() and ".git" not in path.relative_to(project).parts}


def catalog_files(locations: list[str]) -> set[str]:
    return {path for code in locations for path in areas.AREA_BY_CODE[code].project_files}


@pytest.fixture(scope="module")
def base(render_cache) -> set[str]:
    """Files of a widget whose only area (lcard) adds none."""
    assert not areas.AREA_BY_CODE["lcard"].project_files
    files = files_of(render_cache(NAME, {"locations": ["lcard"]}))
    assert not files & LISTED, files & LISTED
    return files


@pytest.fixture(scope="module")
def shared_backend(render_cache) -> set[str]:
    """The back end every back-end area brings: what a widget with all of them has under
    backend/ beyond the files the catalog gives to one area."""
    project = render_cache(NAME, {"locations": ["lcard", *areas.BACKEND_AREAS]})
    files = files_of(project)
    assert catalog_files(list(areas.BACKEND_AREAS)) <= files
    shared = {path for path in files - LISTED if path.startswith("backend/")}
    assert {"backend/src/App.php", "backend/src/config.php", "backend/public/index.php"} <= shared
    return shared


@pytest.mark.parametrize("code", areas.AREA_CODES)
def test_each_area_alone_renders_exactly_its_catalog_files(render_cache, base, shared_backend,
                                                           code):
    locations = alone(code)
    files = files_of(render_cache(NAME, {"locations": locations}))
    wanted = base | catalog_files(locations)
    if set(locations) & set(areas.BACKEND_AREAS):
        wanted |= shared_backend
    assert sorted(files - wanted) == [] and sorted(wanted - files) == []


def test_every_area_file_has_its_template_file():
    assert templategen.missing_template_files(TEMPLATE) == []
    assert set(templategen.template_paths()) == LISTED


def test_area_files_are_named_by_flags():
    """Every conditional name in the template is `{% if FLAG %}name{% endif %}` with a flag
    copier.yml computes from the catalog (an area's or a language's; or the locales' yield),
    or `{% if 'PART' in ts_parts %}PART.ts{% endif %}` for a TypeScript part; an area's
    files use its flag and nothing else does, and every part has its file."""
    import yaml

    flags = {**templategen.flags(), **dict.fromkeys(languages.LANGUAGE_FLAGS, ())}
    questions = yaml.safe_load((TEMPLATE / "copier.yml").read_text("utf-8"))
    for flag in flags:
        assert questions[flag]["when"] is False, flag
    by_flag: dict[str, set[str]] = {}
    parts: set[str] = set()
    condition = re.compile(r"\{% if (\w+) %\}[^{}]+\{% endif %\}\Z")
    part_file = re.compile(r"\{% if '(\w+)' in ts_parts %\}(\w+)\.ts\{% endif %\}\Z")
    for path in (TEMPLATE / "project").rglob("*"):
        relative = path.relative_to(TEMPLATE / "project")
        for part in relative.parts:
            if "{%" not in part or part.startswith("{% yield locale from locales %}"):
                continue
            named = part_file.fullmatch(part.removesuffix(".jinja"))
            if named and named[1] == named[2] and "areas" in relative.parts:
                parts.add(named[1])
                continue
            found = condition.fullmatch(part.removesuffix(".jinja"))
            assert found and found[1] in flags, relative
            if path.is_file():
                by_flag.setdefault(found[1], set()).add(relative.as_posix())
    assert parts == set(languages.TS_PARTS)
    paths = templategen.template_paths()
    for area in areas.AREAS:
        if area.flag:
            own = set(paths[f] for f in area.project_files)
            assert {p.removesuffix(".jinja") for p in by_flag[area.flag]} == own, area.code


def test_template_logos_are_the_placeholders_under_the_catalogs_names(tmp_path):
    """scaffold.logos draws the template's placeholder PNGs under the names the catalog
    gives them (the maintainer tool that writes templates/widget/project/widget/images)."""
    from kommo_scaffold.scaffold import logos

    logos.write_placeholders(tmp_path)
    images = TEMPLATE / "project" / "widget" / "images"
    drawn = sorted(path.name for path in tmp_path.iterdir())
    assert drawn == sorted(path.name for path in images.iterdir() if ".png" in path.name)
    assert "{% if has_dp %}logo_dp.png{% endif %}" in drawn
    for name in drawn:
        assert (tmp_path / name).read_bytes() == (images / name).read_bytes(), name


def test_catalog_names_every_back_end_part_and_flag():
    """An area with a route names its class and hook; an area with files names its flag;
    flags are unique and no question of copier.yml other than the flag itself."""
    import yaml

    for area in areas.AREAS:
        has_route = bool(area.backend_route)
        assert has_route == bool(area.php_class) == bool(area.backend_hook), area.code
        assert not area.jwt or has_route, area.code
        assert bool(area.project_files) == bool(area.flag), area.code
    names = list(templategen.flags())
    assert len(names) == len(set(names)) == 1 + sum(1 for a in areas.AREAS if a.flag)
    questions = yaml.safe_load((TEMPLATE / "copier.yml").read_text("utf-8"))
    answers = {key for area in areas.AREAS for key in area.questions}
    assert not answers & set(names)
    assert all(questions[name]["type"] == "bool" for name in names)
