"""Every shell example in the docs runs as written.

The ```sh blocks of README.md, docs/*.md and the READMEs of generated projects are run with
bash (`set -euo pipefail`), this checkout's `kommo` and `kommo-new` on PATH. A line
`<!-- example: ... -->` right above a block says where it runs:

* ``cwd=empty`` (the default in the repository's docs): an empty folder;
  ``cwd=checkout``: a stand-in for a clone of kommo-scaffold (a committed repository in an
  empty folder), which the example must leave as it was;
  ``cwd=project``: a committed project (``areas=lcard,settings,...``);
  ``cwd=changed``: that project right after ``kommo add-area digital_pipeline``;
  ``cwd=conflicted``: a project where ``kommo remove-area`` ended in a conflict;
* ``each-line``: the lines are alternatives, each is run alone in a fresh folder;
* ``files=answers.yml``: the document's ```yaml block starting ``# answers.yml`` is there;
* ``stub=pip``: ``pip`` does nothing (this checkout's kommo is already installed);
* ``lines=N``: only the first N lines run (the README's test command runs the whole suite,
  which is what .ci/run runs);
* ``skip="reason"``: needs a Kommo account or the internet; not run.

Blocks of a generated project's README run in a copy of that project. A line that starts a
``php -S`` server (``php -d display_errors=0 -S ...``, ``cd demo && php -S ...``) runs the
server in the background, in a network namespace of its own (so the documented fixed port is
free), and waits for it before the next line.

docs/dev-loop.md is a walk-through: its blocks run in order in one folder and start and stop
the long-running ``kommo dev``; tests/test_dev_docs.py runs it that way (``OWN_RUNNER``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import REPO, USER_GIT_ENV, copy_project, shell, user_git, user_path

BLOCK = re.compile(r"(?:<!-- example:(?P<options>[^>]*)-->[ \t]*\n)?"
                   r"```(?:sh|bash|shell)\n(?P<code>.*?)```", re.S)
SERVER = re.compile(r"php (?:-n |-d \S+ )*-S (?P<host>[\d.]+):(?P<port>\d+)")
# Documents whose examples another test runs, in its own way.
OWN_RUNNER = {"docs/dev-loop.md": REPO / "tests" / "test_dev_docs.py"}
# Generated READMEs whose examples are run: the default widget, and one with a back end
# (its README has a back-end section with a server example).
GENERATED = {
    "default": {},
    "back end": {"locations": ["lcard", "settings", "sms"]},
    "typescript": {"language": "typescript"},
}
# Edge cases whose examples are only compared with what must be offered (rendering is cheap,
# running every line again is not): (answers, areas to add, area to remove, copier example).
GENERATED_EDGES = {
    "one area": ({"locations": ["everywhere"]}, ["digital_pipeline", "llist"], None, True),
    "lists, llist present": ({"locations": ["llist", "culist", "clist", "tlist", "settings"],
                              "locales": ["ru"]}, ["digital_pipeline"], "settings", True),
    "a custom field keeps settings": (
        {"locations": ["lcard", "settings"],
         "settings_fields": [{"code": "c", "name": "C", "type": "custom", "required": False}]},
        ["digital_pipeline", "llist"], "lcard", True),
    "nothing left to add": (
        {"locations": ["lcard", "settings", "digital_pipeline", "salesbot_designer", "sms",
                       "advanced_settings", "llist"]}, [], "salesbot_designer", False),
}


@dataclass
class Example:
    source: str  # "docs/updating.md:42"
    code: str
    options: dict[str, str] = field(default_factory=dict)
    document: str = ""

    @property
    def lines(self) -> list[str]:
        """Commands of the block, backslash continuations joined, comments dropped."""
        joined = self.code.replace("\\\n", " ")
        return [line for line in (raw.strip() for raw in joined.splitlines())
                if line and not line.startswith("#")]


def examples_in(text: str, source: str, defaults: dict[str, str] | None = None
                ) -> list[Example]:
    found = []
    for match in BLOCK.finditer(text):
        options = dict(defaults or {})
        for token in shlex.split(match.group("options") or ""):
            key, _, value = token.partition("=")
            options[key] = value
        line = text.count("\n", 0, match.start("code"))
        found.append(Example(f"{source}:{line}", match.group("code"), options, text))
    return found


def repository_examples() -> list[Example]:
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    return [example for path in docs
            for example in examples_in(path.read_text("utf-8"),
                                       path.relative_to(REPO).as_posix())]


def test_examples_are_found():
    sources = {example.source.split(":")[0] for example in repository_examples()}
    assert {"README.md", "docs/updating.md", "docs/generating.md"} <= sources


def documented_file(example: Example, name: str) -> str:
    for match in re.finditer(r"```yaml\n(.*?)```", example.document, re.S):
        if match.group(1).startswith(f"# {name}"):
            return match.group(1)
    raise AssertionError(f"{example.source}: no ```yaml block starting '# {name}'")


# --- contexts --------------------------------------------------------------------------------

def make_project(render_cache, where: Path, areas: str) -> Path:
    answers = {"locations": areas.split(",")} if areas else {}
    project = copy_project(render_cache("my-widget", answers), where / "my-widget")
    return project


def make_conflict(project: Path, cli_bin: Path) -> None:
    """The project's digital-pipeline callback edited, then the area removed: a conflict."""
    script = project / "widget" / "script.js"
    line = "        .addClass(PROJECT_CODE + '-widget ' + PROJECT_CODE + '-dp');\n"
    text = script.read_text("utf-8")
    assert text.count(line) == 1, "the test's edit no longer applies to script.js"
    script.write_text(text.replace(line, "        .addClass('mine'); // USER EDIT\n"), "utf-8")
    user_git(project, "commit", "-qam", "My dpSettings")
    removed = shell("kommo remove-area digital_pipeline --yes", project, cli_bin)
    assert removed.returncode == 3, removed.stdout + removed.stderr
    assert user_git(project, "diff", "--name-only", "--diff-filter=U").strip()


def prepare(example: Example, where: Path, render_cache, cli_bin: Path) -> Path:
    """The folder the example runs in, set up as its options say."""
    where.mkdir(parents=True)
    cwd = example.options.get("cwd", "empty")
    if cwd == "empty":
        folder = where
    elif cwd == "checkout":
        folder = where / "kommo-scaffold"
        folder.mkdir()
        (folder / "pyproject.toml").write_text("[project]\nname = 'kommo-scaffold'\n", "utf-8")
        user_git(folder, "init", "-q")
        user_git(folder, "add", "-A")
        user_git(folder, "commit", "-qm", "kommo-scaffold")
    else:
        default_areas = "lcard,settings,digital_pipeline" if cwd == "conflicted" else ""
        folder = make_project(render_cache, where, example.options.get("areas", default_areas))
        if cwd == "changed":
            added = shell("kommo add-area digital_pipeline --defaults", folder, cli_bin)
            assert added.returncode == 0, added.stderr
        elif cwd == "conflicted":
            make_conflict(folder, cli_bin)
        else:
            assert cwd == "project", f"{example.source}: unknown cwd={cwd}"
    for name in filter(None, example.options.get("files", "").split(",")):
        (folder / name).write_text(documented_file(example, name), "utf-8")
    return folder


# --- running ---------------------------------------------------------------------------------

def with_servers(script: str) -> tuple[str, list[str]]:
    """Put `php -S` lines in the background and wait for them; the command prefix to use."""
    out, servers = [], False
    for line in script.splitlines():
        match = SERVER.search(line)
        if match:
            servers = True
            # `cd demo && php -S ...`: the cd stays in the foreground, or the lines after
            # it would run in the wrong folder; only the server goes to the background.
            before = line[:match.start()].rstrip()
            server = re.sub(r"\s+#.*$", "", line[match.start():])
            if before:
                assert before.endswith("&&"), f"cannot run `{line}` as a server example"
                out.append(before[:-2].rstrip())
            out.append(f"{server} >/dev/null 2>&1 &")
            url = f"http://{match['host']}:{match['port']}/"
            out.append(f"for _ in $(seq 100); do curl -s -o /dev/null {url} && break; "
                       "sleep 0.1; done")
        else:
            out.append(line)
    if not servers:
        return script, []
    if shutil.which("unshare") is None or shutil.which("curl") is None:
        pytest.skip("needs unshare and curl to run a server example on its own port")
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("network namespaces are not available here")
    head = "ip link set lo up 2>/dev/null || true\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT"
    return head + "\n" + "\n".join(out), ["unshare", "-rn"]


def stubs(example: Example, folder: Path) -> list[Path]:
    """The ``stub=`` commands (each does nothing), in a folder for the front of PATH."""
    names = list(filter(None, example.options.get("stub", "").split(",")))
    for name in names:
        assert name == "pip", f"{example.source}: no stand-in for {name}"
        folder.mkdir(exist_ok=True)
        (folder / name).write_text("#!/bin/sh\nexit 0\n", "utf-8")
        (folder / name).chmod(0o755)
    return [folder] if names else []


def run_script(script: str, cwd: Path, cli_bin: Path, front: list[Path] | None = None
               ) -> subprocess.CompletedProcess[str]:
    script, prefix = with_servers(script)
    path = os.pathsep.join([*map(str, front or []), user_path(cli_bin)])
    process = subprocess.Popen(
        [*prefix, "bash", "-c", "set -euo pipefail\n" + script], cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, **USER_GIT_ENV, "PATH": path}, start_new_session=True)
    try:
        out, err = process.communicate(timeout=300)
    finally:
        # Whatever the example started (a server, say) ends with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def run_example(example: Example, tmp_path: Path, render_cache, cli_bin: Path) -> None:
    if "skip" in example.options:
        pytest.skip(f"{example.source}: {example.options['skip']}")
    each = "each-line" in example.options
    lines = example.lines[:int(example.options["lines"])] if "lines" in example.options \
        else None
    scripts = example.lines if each else ["\n".join(lines) if lines else example.code]
    front = stubs(example, tmp_path / "stubs")
    for number, script in enumerate(scripts):
        cwd = prepare(example, tmp_path / f"run-{number}", render_cache, cli_bin)
        result = run_script(script, cwd, cli_bin, front)
        assert result.returncode == 0, (
            f"{example.source}: `{script.strip()}` exited {result.returncode}\n"
            f"{result.stdout}\n{result.stderr}")
        if example.options.get("cwd") == "checkout":
            status = user_git(cwd, "status", "--porcelain", "--untracked-files=all")
            assert status == "", f"{example.source}: wrote into the checkout:\n{status}"
            made = [folder for folder in cwd.parent.iterdir() if folder != cwd]
            assert made and all((folder / ".git").is_dir() for folder in made), (
                f"{example.source}: made no project of its own next to the checkout")
        if example.options.get("cwd") == "conflicted":
            status = user_git(cwd, "status", "--porcelain", "--untracked-files=all", "--", ".")
            assert status == "", f"{example.source}: not back to the last commit:\n{status}"


def test_documents_with_their_own_runner_are_run():
    for document, runner in OWN_RUNNER.items():
        assert (REPO / document).is_file() and runner.is_file()
        assert document in runner.read_text("utf-8").replace('" / "', "/"), runner


@pytest.mark.parametrize("example", [example for example in repository_examples()
                                     if example.source.split(":")[0] not in OWN_RUNNER],
                         ids=lambda example: example.source)
def test_repository_docs_example_runs(example, tmp_path, render_cache, cli_bin):
    run_example(example, tmp_path, render_cache, cli_bin)


def generated_examples(project: Path) -> list[Example]:
    found = []
    for readme in sorted(project.rglob("README.md")):
        if ".git" in readme.parts:
            continue
        source = f"{project.name}/{readme.relative_to(project).as_posix()}"
        found += examples_in(readme.read_text("utf-8"), source)
    return found


@pytest.mark.parametrize("answers", GENERATED.values(), ids=GENERATED.keys())
def test_generated_readme_examples_run(answers, tmp_path, render_cache, cli_bin):
    project = render_cache("my-widget", answers)
    examples = generated_examples(project)
    assert examples, "the generated README shows no commands"
    for index, example in enumerate(examples):
        if "skip" in example.options:
            continue
        lines = example.lines if "each-line" in example.options else [example.code]
        for number, script in enumerate(lines):
            cwd = copy_project(project, tmp_path / f"example-{index}-{number}" / "my-widget")
            result = run_script(script, cwd, cli_bin)
            assert result.returncode == 0, (
                f"{example.source}: `{script.strip()}` exited {result.returncode}\n"
                f"{result.stdout}\n{result.stderr}")


@pytest.mark.parametrize("edge", GENERATED_EDGES.values(), ids=GENERATED_EDGES.keys())
def test_generated_readme_offers_areas_the_project_can_take(edge, render_cache):
    answers, to_add, to_remove, copier_example = edge
    project = render_cache("my-widget", answers)
    lines = [line for example in generated_examples(project) for line in example.lines]
    added = [line.split()[2] for line in lines if line.startswith("kommo add-area")]
    removed = [line.split()[2] for line in lines if line.startswith("kommo remove-area")]
    assert added == to_add
    assert removed == ([to_remove] if to_remove else [])
    copier = [line for line in lines if line.startswith("copier update")]
    if copier_example:
        recorded = (project / ".copier-answers.yml").read_text("utf-8")
        locations = yaml.safe_load(recorded)["locations"]
        assert copier == [f"copier update --defaults -d 'locations=["
                          f"{', '.join(locations + to_add[:1])}]'"]
    else:
        assert copier == []


def test_examples_never_run_placeholders():
    """Examples use real names, never PATH, AREA or `...` that a shell cannot run."""
    for example in repository_examples():
        if "skip" in example.options:
            continue
        for line in example.lines:
            command = line.split("  #")[0]
            assert not re.search(r"\b(PATH|AREA|NAME|FILE)\b|\.\.\.", command), (
                f"{example.source}: placeholder in `{command}`")
