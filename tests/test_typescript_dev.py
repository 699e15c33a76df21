"""`kommo dev` in a TypeScript project: one build process rebuilds src/ on every save; a
build error or a type error is a finding on the page and a line in the terminal, the loop
goes on, and nothing is left running when dev stops."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import rendered
from dev_helpers import EventReader, dev_session
from npm_tools import linked, npm_tools  # noqa: F401  (npm_tools is a fixture)

from kommo_scaffold.dev.session import DevSession
from kommo_scaffold.dev.workspace import DevError


@pytest.fixture
def project(tmp_path: Path, npm_tools: Path) -> Path:  # noqa: F811
    path = rendered(tmp_path / "widget", {"language": "typescript",
                                          "locations": ["lcard", "llist", "settings"]})
    return linked(path, npm_tools)


def rules(data: dict) -> list[tuple[str, str | None]]:
    return [(f["rule"], f["file"]) for f in data["findings"]]


def test_saves_rebuild_errors_are_findings_and_the_loop_goes_on(project: Path) -> None:
    kit = project / "src" / "kit.ts"
    good = kit.read_text("utf-8")
    with dev_session(project, dev_zip=False) as (session, lines):
        assert "built widget/script.js" in lines[0]
        process = session.builder._process  # the one build process
        assert process is not None and process.poll() is None
        events = EventReader(session.server.port)
        try:
            # A syntax error: a build finding, no reload, the old script.js stays.
            before = (project / "widget" / "script.js").read_text("utf-8")
            kit.write_text(good + "\nexport const broken = ;\n", "utf-8")
            data, _ = events.wait_for("check", after=len(events.events), timeout=20)
            while ("build", "src/kit.ts") not in rules(data):
                data, _ = events.wait_for("check", after=len(events.events), timeout=20)
            assert data["summary"].startswith("1 build/type error")
            assert (project / "widget" / "script.js").read_text("utf-8") == before
            # A type error builds (esbuild does not type-check) and reloads; tsc reports it.
            mark = len(events.events)
            kit.write_text(good + "\nexport const typed: number = 'text';\n", "utf-8")
            reload, _ = events.wait_for("reload", after=mark, timeout=20)
            assert "script.js" in reload["files"]
            deadline = len(events.events)
            data, _ = events.wait_for("check", after=deadline, timeout=30)
            while ("TS2322", "src/kit.ts") not in rules(data):
                data, _ = events.wait_for("check", after=len(events.events), timeout=30)
            assert not any(rule == "build" for rule, _ in rules(data))
            # Fixed: the findings clear.
            kit.write_text(good, "utf-8")
            data, _ = events.wait_for("check", after=len(events.events), timeout=30)
            while rules(data):
                data, _ = events.wait_for("check", after=len(events.events), timeout=30)
        finally:
            events.close()
    assert process.poll() is not None  # stopped with kommo dev
    assert any("src/kit.ts" in line and "TS2322" in line for line in lines), lines
    assert any("build failed: src/kit.ts:" in line for line in lines), lines


def test_without_npm_ci_dev_says_so_in_one_line(project: Path) -> None:
    (project / "node_modules").unlink()
    with pytest.raises(DevError, match=r"run `npm ci` there"):
        DevSession(project, 0, echo=lambda _: None, preview_libs=False).start()


def test_a_first_build_that_fails_with_no_script_stops_dev(project: Path) -> None:
    (project / "src" / "areas.ts").write_text("export const AREAS = [;\n", "utf-8")
    session = DevSession(project, 0, echo=lambda _: None, preview_libs=False, dev_zip=False)
    try:
        with pytest.raises(DevError, match=r"the first build of src/ failed: src/areas.ts:1:"):
            session.start()
    finally:
        session.stop()
    assert session.builder is not None and session.builder._process is None
    assert not os.path.exists(project / "widget" / "script.js")
