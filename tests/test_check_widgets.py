"""kommo check on what kommo-new makes, on odd input, through the real CLI, and its docs."""

from __future__ import annotations

import json
import random
import subprocess
import zipfile
from pathlib import Path

import pytest
from check_helpers import W, generated_warnings_ok
from conftest import REPO, run_cli, tool
from widget_assertions import callbacks_for

from kommo_scaffold import check
from kommo_scaffold.catalog import areas

COMPANIONS = {code: [a.requires_any[0]] for code, a in areas.AREA_BY_CODE.items()
              if a.requires_any}


def assert_clean(project: Path) -> check.Report:
    """Zero errors and zero avoidable warnings; notes only for what the template cannot
    avoid."""
    report = check.check_path(project)
    text = check.format_report(report, "text")
    assert not report.errors and not generated_warnings_ok(report), text
    # Notes a generated widget may carry: amoCRM-only areas and locales, placeholder URLs;
    # the one tolerated warning is described in check_helpers.
    assert report.rules() - {f.rule for f in report.warnings} <= {"KS207", "KS407", "KS709"}, \
        text
    return report


@pytest.mark.parametrize("code", areas.AREA_CODES)
def test_each_generated_area_alone_is_clean(make_widget, code):
    assert_clean(make_widget(locations=[code, *COMPANIONS.get(code, [])]))


def test_all_generated_areas_together_are_clean(make_widget):
    assert_clean(make_widget(locations=list(areas.AREA_CODES), locales=list(areas.LOCALES)))


@pytest.mark.parametrize("seed", range(6))
def test_random_generated_combinations_are_clean(make_widget, seed):
    rng = random.Random(1000 + seed)
    chosen = rng.sample(areas.AREA_CODES, rng.randint(1, 9))
    for code in list(chosen):
        chosen += [c for c in COMPANIONS.get(code, []) if c not in chosen]
    panel = [c for c in chosen if c in areas.PANEL_AREAS]
    assert_clean(make_widget(
        locations=chosen, locales=rng.sample(areas.LOCALES, rng.randint(1, 4)),
        panel_locations=rng.sample(panel, rng.randint(0, len(panel))),
        init_once=rng.random() < 0.5, installation=rng.random() < 0.7))


def test_generated_project_folder_and_zip_agree(make_widget, tmp_path):
    """A project, its widget/ folder and a zip of it give the same findings."""
    project = make_widget(locations=["digital_pipeline", "lcard"])
    by_project = check.check_path(project)
    by_folder = check.check_path(project / "widget")
    archive = tmp_path / "w.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((project / "widget").rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(project / "widget").as_posix())
    by_zip = check.check_path(archive)
    assert by_project.kind == "widget project"
    assert by_project.findings[0].file.startswith("widget/")

    def strip(report: check.Report) -> list[tuple[str, str | None]]:
        return sorted((f.rule, (f.file or "").removeprefix("widget/")) for f in report.findings)

    assert strip(by_project) == strip(by_folder) == strip(by_zip)


# --------------------------------------------------------------------------- odd input


def odd_inputs(tmp: Path) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    (tmp / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    paths["broken zip"] = tmp / "broken.zip"
    (tmp / "empty.zip").write_bytes(b"")
    paths["empty zip"] = tmp / "empty.zip"
    slip = tmp / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../../etc/cron.d/evil", "x")
        zf.writestr("manifest.json", "{}")
    paths["zip slip"] = slip
    for name, content in {"binary": bytes(range(256)) * 4, "list": b"[1, 2, 3]\n",
                          "string": b'"widget"', "deep": b"[" * 100000 + b"]" * 100000,
                          "nan": b'{"widget": NaN}', "empty": b""}.items():
        folder = tmp / f"manifest-{name}"
        folder.mkdir()
        (folder / "manifest.json").write_bytes(content)
        paths[f"manifest {name}"] = folder
    odd = tmp / "odd-types"
    odd.mkdir()
    (odd / "manifest.json").write_text(json.dumps({
        "widget": ["name"], "locations": [1, None, {"a": 1}, "lcard-x", "-1", ""],
        "settings": "none", "dp": [], "left_menu": {"x": 5}, "tour": {"tour_images": 3}}))
    (odd / "script.js").write_text("define(function () { this.callbacks = {...base, [k]: 1}; })")
    paths["odd types"] = odd
    js = tmp / "odd-js"
    W(js).build()
    (js / "script.js").write_bytes(b"define([`${`${'}'}`}`, /[/]/], function () {\n '\\\n' "
                                   b"/* { */ // }\n" + b"\xff\xfe")
    paths["odd js"] = js
    return paths


def test_odd_input_never_crashes(tmp_path):
    for label, path in odd_inputs(tmp_path).items():
        try:
            report = check.check_path(path)
        except check.CheckUsageError as error:
            assert str(error), label
            continue
        assert "KS001" not in report.rules(), (label, check.format_report(report, "text"))
        check.format_report(report, "json")


def test_zip_slip_entries_are_reported_and_not_read(tmp_path):
    report = check.check_path(odd_inputs(tmp_path)["zip slip"])
    assert "KS605" in report.rules()
    assert not any("etc" in name for name in report.files)


def test_entry_that_inflates_past_its_declared_size(tmp_path, monkeypatch):
    monkeypatch.setattr(check.reader, "MAX_ENTRY_BYTES", 1000)
    archive = tmp_path / "w.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", "{}")
        zf.writestr("big.js", "x" * 5000)
    assert "KS606" in check.check_path(archive).rules()


def test_broken_manifest_says_where(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "manifest.json").write_text('{\n  "widget": {\n    "name": "x",\n  }\n}\n')
    finding = next(f for f in check.check_path(folder).findings if f.rule == "KS102")
    assert finding.line == 4


@pytest.mark.parametrize("what", ["missing", "not a widget", "text file", "broken zip"])
def test_unreadable_path_exits_2(tmp_path, what):
    target = {
        "missing": tmp_path / "nope",
        "not a widget": tmp_path,
        "text file": tmp_path / "notes.txt",
        "broken zip": tmp_path / "broken.zip",
    }[what]
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.zip").write_bytes(b"garbage")
    result = run_cli("check", str(target))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- CLI


def test_cli_exit_codes_and_formats(tmp_path):
    clean = W(tmp_path / "clean").build()
    warn = W(tmp_path / "warn")
    warn.extra_js = "    console.log('x');"
    warn.build()
    bad = W(tmp_path / "bad")
    bad.manifest["widget"]["interface_version"] = 1
    bad.build()

    result = run_cli("check", str(clean))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("0 errors, 0 warnings, 0 notes")
    assert run_cli("check", str(warn.root)).returncode == 0
    assert run_cli("check", "--strict", str(warn.root)).returncode == 1
    result = run_cli("check", str(bad.root))
    assert result.returncode == 1
    # file:line [JSON path]: the line of the value in manifest.json
    assert "manifest.json:7 [widget.interface_version]: KS106 error:" in result.stdout
    assert "KS106 error: interface_version is not 2:" in result.stdout  # the rule's title
    assert "docs/checker-rules.md" not in result.stdout  # a file the user does not have
    assert result.stdout.strip().endswith("1 error, 0 warnings, 0 notes")

    result = run_cli("check", "--format", "json", str(bad.root))
    data = json.loads(result.stdout)
    assert result.returncode == 1
    assert data["summary"] == {"errors": 1, "warnings": 0, "notes": 0}
    assert data["findings"][0]["rule"] == "KS106"
    assert data["findings"][0]["json_path"] == "widget.interface_version"
    assert run_cli("check", "--format", "xml", str(clean)).returncode == 2


def test_cli_default_path_is_cwd(make_widget):
    project = make_widget(locations=["lcard", "settings"])
    result = run_cli("check", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "widget project" in result.stdout


# --------------------------------------------------------------------------- docs


def test_rules_doc_is_up_to_date():
    """docs/checker-rules.md is generated: python -m kommo_scaffold.check --docs."""
    on_disk = (REPO / "docs" / "checker-rules.md").read_text("utf-8")
    assert on_disk == check.rules_markdown()
    for rule in check.RULES:
        assert f'<a id="{rule.lower()}"></a>' in on_disk


def test_rules_have_docs_text():
    for rule in check.RULES.values():
        assert rule.title and rule.why.endswith(".") and rule.fix, rule.id
        assert rule.id[:3] in {"KS0", "KS1", "KS2", "KS3", "KS4", "KS5", "KS6", "KS7"}


@pytest.mark.skipif(not tool("node"), reason="node not installed")
def test_generated_scripts_agree_with_node(make_widget):
    """Our parser and node agree that generated scripts are valid JavaScript."""
    project = make_widget(locations=list(areas.AREA_CODES))
    script = project / "widget" / "script.js"
    assert subprocess.run(["node", "--check", str(script)]).returncode == 0
    from kommo_scaffold.check.js.parser import parse_module

    module = parse_module(script.read_text("utf-8"))
    assert set(callbacks_for(list(areas.AREA_CODES))) <= set(module.callbacks.entries)
