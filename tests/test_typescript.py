"""TypeScript projects (`-d language=typescript`): src/ builds with the project's pinned
esbuild into the AMD widget/script.js Kommo loads, type-checks with tsc, passes its own node
tests and the checker, and packs without its source map; the commands that grow a project
keep the user's edits in src/.

The projects get the test run's npm tools (tests/npm, the same pinned versions) as their
node_modules, through a link; the generated README's example runs the real `npm ci` of the
shipped lock file, then `npm run typecheck` and `npm test` (tests/test_docs_examples.py)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import rendered, run_cli, run_copier, user_git
from npm_tools import LOCK, linked, npm_tools, tsc  # noqa: F401  (npm_tools is a fixture)
from widget_assertions import assert_valid_widget

from kommo_scaffold.catalog import areas
from kommo_scaffold.typescript import verdict

TS = {"language": "typescript"}
COMPANIONS = {code: [a.requires_any[0]] for code, a in areas.AREA_BY_CODE.items()
              if a.requires_any}
ALL = {**TS, "locations": list(areas.AREA_CODES), "panel_locations": ["lcard", "llist"],
       "locales": ["en", "ru"]}
TEMPLATE = Path(__file__).parents[1] / "templates" / "widget" / "project"


def node(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def build_ok(project: Path) -> None:
    done = node("build.mjs", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "built widget/script.js" in done.stdout


def type_errors(project: Path, tools: Path) -> list[str]:
    done = subprocess.run([str(tsc(tools)), "--noEmit", "-p", "tsconfig.json", "--pretty",
                           "false"], cwd=project, capture_output=True, text=True, timeout=120,
                          check=False)
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


def node_tests(project: Path) -> subprocess.CompletedProcess[str]:
    return node("--test", "tests/", cwd=project)


def no_errors_nor_warnings(project: Path) -> None:
    """The checker on the built project: no error, no avoidable warning."""
    report = verdict.check_built(project)
    findings = [f"{f.rule} {f.where()}: {f.message}" for f in report.findings
                if f.severity in ("error", "warning")
                and not (f.rule == "KS114" and "is a placeholder" in f.message)]
    assert findings == []


@pytest.fixture(scope="module")
def all_areas(tmp_path_factory: pytest.TempPathFactory, npm_tools: Path) -> Path:  # noqa: F811
    project = linked(rendered(tmp_path_factory.mktemp("ts-all") / "widget", ALL), npm_tools)
    build_ok(project)
    return project


def test_the_projects_pins_are_the_tools_the_tests_run():
    """One set of versions: the template's package.json and lock, and tests/npm."""
    package = (TEMPLATE / "package.json.jinja").read_text("utf-8")
    lock = json.loads((TEMPLATE / "{% if is_typescript %}package-lock.json"
                                  "{% endif %}.jinja").read_text("utf-8")
                      .replace("{{ widget_code | lower | tojson }}", '"x"'))
    ours = json.loads((LOCK / "package-lock.json").read_text("utf-8"))
    pinned = lock["packages"][""]["devDependencies"]
    assert set(pinned) == {"esbuild", "typescript", "@types/jquery"}
    for name, version in pinned.items():
        assert f'"{name}": "{version}"' in package
        assert ours["packages"][""]["devDependencies"][name] == version
    for path, entry in lock["packages"].items():
        if path:
            assert ours["packages"][path]["integrity"] == entry["integrity"], path


def test_all_areas_build_type_check_test_and_check_clean(all_areas, npm_tools):  # noqa: F811
    assert not (all_areas / "widget" / "script.js").read_text("utf-8").startswith("// @ts")
    assert type_errors(all_areas, npm_tools) == []
    done = node_tests(all_areas)
    assert done.returncode == 0, done.stdout[-3000:]
    assert_valid_widget(all_areas)
    no_errors_nor_warnings(all_areas)
    # The AMD dependency array names exactly the page's modules the code imports.
    head = (all_areas / "widget" / "script.js").read_text("utf-8").splitlines()[0]
    assert head == ('define(["require","exports","module","jquery",'
                    '"lib/components/base/modal"], function (require, exports, module) {')


def _combinations() -> list[list[str]]:
    """Each area alone (with the area it needs), and seeded random combinations."""
    alone = [[code, *COMPANIONS.get(code, [])] for code in areas.AREA_CODES]
    rng = random.Random(22)
    mixed = []
    for _ in range(4):
        chosen = rng.sample(list(areas.AREA_CODES), rng.randint(2, 8))
        for code in list(chosen):
            needs = areas.AREA_BY_CODE[code].requires_any
            if needs and not set(needs) & set(chosen):
                chosen.append(needs[0])
        mixed.append(chosen)
    return alone + mixed


@pytest.mark.parametrize("locations", _combinations(), ids=lambda codes: "+".join(codes))
def test_each_area_alone_and_mixed_build_test_and_check_clean(make_widget, npm_tools,  # noqa: F811
                                                               locations):
    project = linked(make_widget(locations=locations, **TS), npm_tools)
    assert not (project / "widget" / "script.js").exists()  # build output, not generated
    build_ok(project)
    done = node_tests(project)
    assert done.returncode == 0, done.stdout[-3000:]
    assert_valid_widget(project)
    no_errors_nor_warnings(project)
    if len(locations) > 2:  # tsc on the combinations; all_areas covers every part's file
        assert type_errors(project, npm_tools) == []


@pytest.mark.parametrize("answers", [
    {"locations": ["lcard", "settings"], "backend": True},          # button in the panel
    {"locations": ["advanced_settings", "settings"], "backend": True},  # on the page
    {"locations": ["llist", "settings"], "backend": True},          # in the settings modal
], ids=["panel", "advanced", "settings"])
def test_the_backend_button_type_checks_where_it_goes(make_widget, npm_tools, answers):  # noqa: F811
    project = linked(make_widget(**answers, **TS), npm_tools)
    assert type_errors(project, npm_tools) == []


def test_a_type_error_and_a_mistyped_widget_method_are_reported(make_widget, npm_tools):  # noqa: F811
    project = make_widget(**TS)
    kit = project / "src" / "kit.ts"
    kit.write_text(kit.read_text("utf-8").replace("self.get_settings()", "self.get_setings()", 1),
                   "utf-8")
    errors = type_errors(linked(project, npm_tools), npm_tools)
    assert len(errors) == 1 and "src/kit.ts(" in errors[0] and "get_setings" in errors[0]


def test_findings_in_the_built_file_point_at_the_typescript_line(make_widget, npm_tools):  # noqa: F811
    project = linked(make_widget(**TS), npm_tools)
    main = project / "src" / "main.ts"
    lines = main.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if "loadStyles(kit);" in line)
    lines.insert(at, "      console.log('debug');")
    main.write_text("\n".join(lines) + "\n", "utf-8")
    done = run_cli("check", cwd=project)
    assert done.returncode == 0, done.stderr
    assert f"src/main.ts:{at + 1}: KS704 warning" in done.stdout
    assert "(built widget/script.js:" in done.stdout


def test_a_build_error_is_one_line_and_packs_nothing(make_widget, npm_tools):  # noqa: F811
    project = linked(make_widget(**TS), npm_tools)
    (project / "src" / "areas.ts").write_text("export const AREAS = [;\n", "utf-8")
    for command in (["check"], ["pack"]):
        done = run_cli(*command, cwd=project)
        assert done.returncode == 1, done
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "the build of src/ failed: src/areas.ts:1:" in done.stderr
    assert not (project / "dist").exists()


def test_pack_builds_ships_no_source_map_unless_asked_and_stays_small(all_areas, tmp_path):
    project = tmp_path / "w"
    shutil.copytree(all_areas, project, symlinks=True)
    (project / "widget" / "script.js").unlink()
    done = run_cli("pack", "--force", cwd=project)  # --force: the placeholder endpoints
    assert done.returncode == 0, done.stderr
    archive = project / "dist" / "widget.zip"
    names = zipfile.ZipFile(archive).namelist()
    assert "script.js" in names and not any(name.endswith(".map") for name in names)
    assert "sourceMappingURL" not in zipfile.ZipFile(archive).read("script.js").decode()
    assert archive.stat().st_size < 30_000
    done = run_cli("pack", "--force", "--source-map", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "script.js.map" in zipfile.ZipFile(archive).namelist()
    assert user_git(project, "status", "--porcelain") == ""  # build output is ignored


def test_missing_tools_are_named_in_one_line(make_widget, tmp_path):
    project = make_widget(**TS)
    done = run_cli("pack", cwd=project)
    assert done.returncode == 2
    assert done.stderr.strip().endswith("run `npm ci` there (once; it installs the versions "
                                        "package-lock.json pins)")
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    done = run_cli("check", cwd=project, env={**os.environ, "PATH": str(bare)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "install Node.js 18 or newer with npm" in done.stderr


def test_language_is_kept_for_good(make_widget):
    project = make_widget(**TS)
    done = run_cli("set", "language=javascript", cwd=project)
    assert done.returncode == 2
    assert "a project keeps the language it was made with" in done.stderr
    assert user_git(project, "status", "--porcelain") == ""


def test_add_area_remove_area_and_set_keep_edits_in_src(make_widget, npm_tools):  # noqa: F811
    project = make_widget(locations=["lcard", "settings"], backend=True, **TS)
    main, panel = project / "src" / "main.ts", project / "src" / "areas" / "panel.ts"
    main.write_text(main.read_text("utf-8").replace(
        "render: () => true,", "render: () => { APP.data.current_card; return true; },"),
        "utf-8")
    panel.write_text(panel.read_text("utf-8") + "// my panel notes\n", "utf-8")
    (project / "src" / "mine.ts").write_text("export const MINE = 1;\n", "utf-8")
    user_git(project, "add", "-A")
    user_git(project, "commit", "-q", "-m", "my edits")

    def run(*args: str) -> None:
        done = run_cli(*args, cwd=project)
        assert done.returncode == 0, done.stderr
        user_git(project, "add", "-A")
        user_git(project, "commit", "-q", "-m", " ".join(args))

    run("add-area", "llist", "advanced_settings")
    registered = (project / "src" / "areas.ts").read_text("utf-8")
    assert "import { llist } from './areas/llist';" in registered
    assert "  advanced_settings,\n" in registered
    run("set", "backend_url=https://api.example.org/kommo")
    assert '"https://api.example.org/kommo"' in (project / "src" / "backend.ts").read_text()
    run("remove-area", "advanced_settings", "--yes")
    # Plain copier, as a user without kommo-scaffold runs it: tlist's part and its line.
    commit = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))["_commit"]
    done = run_copier("update", "--defaults", "--quiet", "--vcs-ref", str(commit), "-d",
                      "locations=[lcard, settings, llist, tlist]", cwd=project)
    assert done.returncode == 0, done.stderr
    assert (project / "src" / "areas" / "tlist.ts").is_file()
    assert "  tlist,\n" in (project / "src" / "areas.ts").read_text("utf-8")
    assert not (project / "src" / "areas" / "advanced_settings.ts").exists()
    assert "advanced_settings" not in (project / "src" / "areas.ts").read_text("utf-8")
    assert "APP.data.current_card; return true;" in main.read_text("utf-8")
    assert panel.read_text("utf-8").endswith("// my panel notes\n")
    assert (project / "src" / "mine.ts").read_text("utf-8") == "export const MINE = 1;\n"
    linked(project, npm_tools)
    build_ok(project)
    assert type_errors(project, npm_tools) == []
    assert node_tests(project).returncode == 0
    no_errors_nor_warnings(project)

