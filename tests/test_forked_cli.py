"""The forked-CLI harness (tests/forked_cli.py) gives what a real interpreter gives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import python_c, shell

PROBE = ("import os, sys; print(sys.argv, os.getcwd(), os.environ.get('PROBE'), sys.path[0]); "
         "print(sys.stdin.read().upper(), file=sys.stderr); sys.exit(int(sys.argv[1]))")


@pytest.mark.parametrize("code", ["0", "3"])
def test_forked_run_matches_a_real_interpreter(tmp_path, code):
    forked = python_c(PROBE, code, "ä b", cwd=tmp_path, env={"PROBE": "ü"}, input_text="in\r\n")
    real = subprocess.run([sys.executable, "-c", PROBE, code, "ä b"], cwd=tmp_path,
                          env={**os.environ, "PROBE": "ü"}, input="in\r\n",
                          capture_output=True, text=True, check=False)
    assert (forked.returncode, forked.stdout, forked.stderr) == \
        (real.returncode, real.stdout, real.stderr)
    assert forked.returncode == int(code)


@pytest.mark.parametrize(("code", "expected"), [
    ("raise KeyboardInterrupt", -signal.SIGINT),
    ("import os; os.kill(os.getpid(), 15)", -signal.SIGTERM),
    ("raise ValueError('x')", 1),
    ("import atexit, sys; atexit.register(lambda: print('bye')); sys.exit('why')", 1),
])
def test_forked_run_ends_as_a_real_one(tmp_path, code, expected):
    forked = python_c(code, cwd=tmp_path)
    real = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert forked.returncode == real.returncode == expected
    assert forked.stdout == real.stdout
    assert forked.stderr.splitlines()[-1:] == real.stderr.splitlines()[-1:]


def test_startup_variables_get_a_real_interpreter(tmp_path):
    code = "import sys; print(sys.flags.utf8_mode, sys.stdout.encoding)"
    env = {"PYTHONUTF8": "1", "PYTHONIOENCODING": "latin-1"}
    forked = python_c(code, cwd=tmp_path, env=env)
    assert forked.stdout.split() == ["1", "iso8859-1"]


def test_path_command_passes_exit_status_on(tmp_path, cli_bin):
    assert shell("kommo --version; echo status=$?", cwd=tmp_path, cli_bin=cli_bin).stdout \
        .endswith("status=0\n")
    assert "status=2" in shell("kommo nosuch; echo status=$?", cwd=tmp_path,
                               cli_bin=cli_bin).stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_path_command_passes_signals_on(tmp_path, cli_bin, signum):
    import conftest
    import forked_cli

    # Handlers set as kommo's entry points set them (the test's process may ignore SIGINT,
    # and a child inherits that).
    code = ("import signal, time; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "print('ready', flush=True); time.sleep(60)")
    real = tmp_path / "real"
    real.write_text(f"#!{sys.executable}\n{code}\n", "utf-8")
    command = tmp_path / "sleeper"
    command.write_text(forked_cli.client_script(conftest._forked_cli, code, real), "utf-8")
    command.chmod(0o755)
    process = subprocess.Popen([str(command)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    process.send_signal(signum)
    process.communicate(timeout=30)
    assert process.returncode == -signum


def test_the_off_switch_and_a_platform_without_fork_start_real_interpreters(
        tmp_path, monkeypatch):
    import forked_cli

    monkeypatch.setenv(forked_cli.OFF_ENV, "1")
    off = forked_cli.Server(tmp_path / "off")
    monkeypatch.delenv(forked_cli.OFF_ENV)
    monkeypatch.delattr(os, "fork")
    no_fork = forked_cli.Server(tmp_path / "no-fork")
    monkeypatch.undo()
    for server in (off, no_fork):
        assert not server.forking
        result = server.run(PROBE, ["4", "x"], tmp_path, {**os.environ, "PROBE": "p"}, "a")
        assert (result.returncode, result.stderr) == (4, "A\n")
        assert server.process is None  # no server was started
        real = tmp_path / "real"
        real.write_text(f"#!{sys.executable}\nprint('the real script')\n", "utf-8")
        command = tmp_path / "command"
        command.write_text(forked_cli.client_script(server, "print('forked')", real), "utf-8")
        command.chmod(0o755)
        assert subprocess.run([str(command)], capture_output=True, text=True,
                              check=True).stdout == "the real script\n"


def test_a_server_that_cannot_start_means_real_interpreters(tmp_path):
    import forked_cli

    server = forked_cli.Server(tmp_path / "no-such-folder")  # the socket cannot be bound
    result = server.run("print('ran')", [], tmp_path, dict(os.environ), None)
    assert (result.returncode, result.stdout) == (0, "ran\n")
    assert not server.forking and server.process is None


# What a fork of the server inherits from importing kommo_scaffold: none of it may be set.
STATE = r"""
import atexit, importlib, json, logging, os, pkgutil, signal, sys, tempfile, threading
import warnings


def state():
    umask = os.umask(0o22)
    os.umask(umask)
    return {
        "signals": {str(s): repr(signal.getsignal(s)) for s in signal.valid_signals()
                    if signal.getsignal(s) is not None},
        "threads": sorted(t.name for t in threading.enumerate()),
        "environ": dict(os.environ), "cwd": os.getcwd(), "umask": umask,
        "tempdir": tempfile.tempdir, "excepthook": repr(sys.excepthook),
        "atexit": atexit._ncallbacks(), "logging": repr(logging.getLogger().handlers),
        "warnings": len(warnings.filters), "recursion": sys.getrecursionlimit(),
        "stdio": [repr(stream) for stream in (sys.stdin, sys.stdout, sys.stderr)],
    }


# The libraries first: what they do on import is theirs, and happens in any interpreter.
for name in sys.argv[1:]:
    importlib.import_module(name)
before = state()
import kommo_scaffold
for module in pkgutil.walk_packages(kommo_scaffold.__path__, "kommo_scaffold."):
    importlib.import_module(module.name)
after = state()
print(json.dumps({key: [before[key], after[key]] for key in before if before[key] != after[key]}))
"""
LIBRARIES = ["copier", "copier._main", "jinja2", "typer", "click", "plumbum", "questionary",
             "prompt_toolkit", "yaml", "PIL.Image", "PIL.ImageDraw", "PIL.ImageFont",
             "tree_sitter", "tree_sitter_javascript", "watchfiles", "packaging.version",
             "pydantic", "dunamai", "rich"]


def test_importing_kommo_scaffold_sets_no_process_wide_state(tmp_path):
    import importlib.util

    libraries = [name for name in LIBRARIES if importlib.util.find_spec(name.split(".")[0])]
    result = subprocess.run([sys.executable, "-c", STATE, *libraries], cwd=tmp_path,
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == {}


def test_the_state_guard_sees_each_kind_of_change(tmp_path):
    """The same probe, with a module that changes everything it looks at."""
    package = tmp_path / "kommo_scaffold"
    package.mkdir()
    (package / "__init__.py").write_text("", "utf-8")
    (package / "bad.py").write_text(
        "import atexit, os, signal, tempfile, threading, time\n"
        "signal.signal(signal.SIGUSR1, lambda *a: None)\n"
        "threading.Thread(target=time.sleep, args=(5,), daemon=True, name='x').start()\n"
        "os.environ['SET_AT_IMPORT'] = '1'\n"
        "tempfile.tempdir = '/tmp'\n"
        "os.chdir('/')\n"
        "atexit.register(print)\n", "utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", STATE], cwd=tmp_path, env=env,
                            capture_output=True, text=True, check=True)
    assert set(json.loads(result.stdout)) == {"signals", "threads", "environ", "tempdir",
                                              "cwd", "atexit"}
