"""The forked-CLI harness (tests/forked_cli.py) gives what a real interpreter gives."""

from __future__ import annotations

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
