"""`kommo check` evaluates in a V8 worker forked as the CLI starts (check.js.worker): the same
verdicts as the in-process page, and no process left however the command or the worker ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from check_helpers import SCRIPT, W, callbacks_js
from conftest import python_c

from kommo_scaffold import check
from kommo_scaffold.catalog import areas

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the worker is forked on Linux only")

ENTRY = "from kommo_scaffold.cli.entry import main; main()"  # as the `kommo` console script
# The same, saying on stderr whether the check's run came from the worker.
TRACED = ("import sys, atexit\nfrom kommo_scaffold.check.js import worker\n"
          "used = []\nresult = worker.Worker.result\n"
          "def traced(self):\n    used.append(1)\n    return result(self)\n"
          "worker.Worker.result = traced\n"
          "forks = []\ninit = worker.Worker.__init__\n"
          "def forked(self):\n    init(self)\n    forks.append(1)\n"  # the child never returns
          "worker.Worker.__init__ = forked\n"
          "atexit.register(lambda: print('worker runs:', len(used), 'forks:', len(forks),\n"
          "                              file=sys.stderr))\n"
          + ENTRY)
BUSY = "  var start = Date.now(); while (Date.now() - start < 1500) {}\n"
CALLBACKS = callbacks_js(list(areas.BASE_CALLBACKS))
SCRIPTS = {
    "clean": None,
    "syntax error": "define(['jquery'], function ($) {\n  var a = ;\n});\n",
    "constructor throws": SCRIPT.replace("__EXTRA__", "    this.load();\n    this.load = 1;")
    .replace("__CALLBACKS__", CALLBACKS),
    "missing dependency": "define(['./build/app.js'], function (app) { return app; });\n",
    "time limit": "while (true) {}\n",
    "text beyond ASCII": SCRIPT.replace("__EXTRA__", "    var hi = 'Привет, 👋 \\u00e9';\n"
                                        "    var t = self.i18n('ui.greeting');")
    .replace("__CALLBACKS__", CALLBACKS),
}


def widget(tmp_path: Path, script: str | None, files: dict[str, str] | None = None) -> Path:
    w = W(tmp_path / "widget")
    w.script = script
    w.raw.update(files or {})
    return w.build()


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_worker_verdicts_are_the_in_process_verdicts(tmp_path, name):
    folder = widget(tmp_path, SCRIPTS[name])
    cli = python_c(TRACED, "check", "--format", "json", str(folder))
    assert "worker runs: 1 forks: 1" in cli.stderr, cli.stderr
    assert json.loads(cli.stdout) == json.loads(check.format_report(check.check_path(folder),
                                                                     "json"))


def test_files_script_js_loads_are_evaluated_in_the_worker(tmp_path):
    script = ("define(['./lib/a.js', 'text!./t.twig'], function (a) {\n"
              "  return function () { this.callbacks = a; return this; };\n});\n")
    folder = widget(tmp_path, script, {
        "lib/a.js": "define([], function () { return {render: function () {} }; });\n",
        "t.twig": "<b>{{ x }}</b>\n", "unused.js": "var = 1;\n"})
    cli = python_c(TRACED, "check", "--format", "json", str(folder))
    assert "worker runs: 1" in cli.stderr, cli.stderr
    report = json.loads(cli.stdout)
    assert report == json.loads(check.format_report(check.check_path(folder), "json"))
    found = {(f["rule"], f["file"]) for f in report["findings"]}
    assert ("KS302", "unused.js") in found and ("KS314", "lib/a.js") in found, found


def test_pack_checks_in_the_worker(tmp_path):
    folder = widget(tmp_path, SCRIPTS["syntax error"])
    cli = python_c(TRACED, "pack", str(folder), "-o", str(tmp_path / "w.zip"))
    assert cli.returncode != 0 and "worker runs: 1" in cli.stderr, cli.stderr
    assert "KS302" in cli.stdout + cli.stderr
    assert not (tmp_path / "w.zip").exists()


def test_no_worker_for_help_and_explain(tmp_path):
    for args in (["check", "--help"], ["check", "--explain", "KS302"]):
        cli = python_c(TRACED, *args)
        assert cli.returncode == 0 and "worker runs: 0 forks: 0" in cli.stderr, cli.stderr


# --- however it ends, no process is left ----------------------------------------------------


def start(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", ENTRY, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "TMPDIR": str(tmp_path)})


def worker_of(process: subprocess.Popen[str]) -> int:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = children.read_text().split()
        if found:
            return int(found[0])
        time.sleep(0.01)
    raise AssertionError("kommo check forked no worker")


def gone(pid: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":  # ended; its parent has not reaped it yet
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def busy_widget(tmp_path) -> Path:
    return widget(tmp_path, SCRIPT.replace("__EXTRA__", "").replace("__CALLBACKS__", CALLBACKS)
                  .replace("define(", BUSY + "define(", 1))


def test_a_worker_that_dies_is_a_finding_not_a_crash(tmp_path, busy_widget):
    process = start(["check", str(busy_widget)], tmp_path)
    os.kill(worker_of(process), signal.SIGKILL)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "KS001" in out and "the V8 worker ended without an answer (signal 9)" in out, out
    assert "Traceback" not in err


def test_the_worker_ends_with_its_parent_even_while_busy(tmp_path, busy_widget):
    process = start(["check", str(busy_widget)], tmp_path)
    child = worker_of(process)
    process.kill()
    process.communicate(timeout=60)
    assert gone(child, within=1.0)  # the busy loop alone would keep it 1.5 s


@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c to the group", "sigint to kommo"])
def test_interrupt_while_the_worker_runs(tmp_path, busy_widget, group):
    process = start(["check", str(busy_widget)], tmp_path)
    child = worker_of(process)
    time.sleep(0.3)  # the widget is in V8 by now
    if group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert err.strip() == "error: interrupted; nothing was changed", err
    assert gone(child)
    assert list(tmp_path.iterdir()) == [busy_widget]


def test_a_usage_error_leaves_no_worker(tmp_path):
    missing = str(tmp_path / "no-such-widget")
    process = start(["check", missing], tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and err.count("\n") == 1, err
    # A forked worker has its parent's command line.
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and
            missing.encode() in _cmdline(pid)]
    assert left == []


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_kommo_new_forks_no_worker_for_a_widget_named_check(tmp_path):
    code = TRACED.replace("main; main()", "new_main; new_main()")
    cli = python_c(code, "check", "--no-such-option", cwd=tmp_path)
    assert cli.returncode == 2 and "worker runs: 0 forks: 0" in cli.stderr, cli.stderr
    assert list(tmp_path.iterdir()) == []
