"""Signals and concurrent runs: the project is fully as before or fully as after.

The CLI runs in a process of its own. KOMMO_SCAFFOLD_TEST_PAUSE=point:seconds makes it stop at a
named point (it prints "kommo-pause: point"), so a signal or a second command arrives at a
known moment; timed kills over a range cover the moments in between. Every run gets its own
TMPDIR, which must be empty afterwards (no copier or kommo temporary folders left).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import python_c, rendered, user_git
from test_update import snapshot

from kommo_scaffold.plumbing.interrupt import PAUSE_ENV

ENTRY = "from kommo_scaffold.cli.entry import main; main()"  # as the `kommo` console script
CLI = [sys.executable, "-c", ENTRY]
NEW_CLI = [sys.executable, "-c", "from kommo_scaffold.cli.entry import new_main; new_main()"]
ADD = ["add-area", "digital_pipeline", "--defaults"]


# Tests of what a command does at a named point run `kommo` and `kommo-new` forked from the
# worker's server (tests/forked_cli.py), which passes signals on; the timed tests, whose
# first moments are the interpreter's start-up, and those that need the command's own pid
# or SIGKILL run CLI and NEW_CLI, real interpreters.
def kommo(cli_bin: Path) -> list[str]:
    return [str(cli_bin / "kommo")]


def kommo_new(cli_bin: Path) -> list[str]:
    return [str(cli_bin / "kommo-new")]


def start(args: list[str], tmpdir: Path, pause: str | None = None,
          extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    tmpdir.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmpdir), **(extra_env or {})}
    env.pop(PAUSE_ENV, None)
    if pause:
        env[PAUSE_ENV] = pause
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for_pause(process: subprocess.Popen[str], point: str) -> None:
    assert process.stderr is not None
    line = process.stderr.readline()
    assert line.strip() == f"kommo-pause: {point}", line


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


@pytest.fixture(scope="module")
def states(tmp_path_factory) -> dict[str, object]:
    """A project before add-area digital_pipeline, and its state after an undisturbed run."""
    base = rendered(tmp_path_factory.mktemp("signal-base") / "widget",
                    {"locations": ["lcard", "settings"]})
    done_copy = base.parent / "done"
    shutil.copytree(base, done_copy, symlinks=True)
    result = python_c(ENTRY, *ADD, "-C", str(done_copy))
    assert result.returncode == 0, result.stderr
    # snapshot() hashes relative paths only, so the copy's state is the after-state.
    return {"base": base, "before": snapshot(base), "after": snapshot(done_copy)}


@pytest.fixture
def fresh(states, tmp_path) -> Path:
    project = tmp_path / "widget"
    shutil.copytree(states["base"], project, symlinks=True)
    return project


def interpreter_start_up(err: str) -> bool:
    """The signal came before kommo's guard existed: no kommo code could handle it.

    Either CPython was still starting (importing `io` or `site`: it prints its own fatal
    error, "Fatal Python error: init_..."), or Python's
    default handler raised KeyboardInterrupt while the launcher imported the entry module
    (the first millisecond or two): every kommo frame of that traceback is module-level code
    of the package or of kommo_scaffold/cli/entry.py.
    """
    if err.startswith("Fatal Python error: init_"):
        return True
    lines = err.strip().splitlines()
    if not lines or lines[0] != "Traceback (most recent call last):" \
            or lines[-1] != "KeyboardInterrupt":
        return False
    ours = [line for line in lines if line.startswith("  File ") and "kommo_scaffold" in line]
    return all(line.endswith(", in <module>") and ("entry.py" in line or "__init__.py" in line)
               for line in ours)


def assert_before_or_after(project: Path, states: dict[str, object], code: int,
                           err: str) -> str:
    now = snapshot(project)
    if interpreter_start_up(err):
        assert now == states["before"]
        return "before"
    assert "Traceback" not in err, err
    if now == states["before"]:
        assert code != 0
        # A negative code: killed before Python set up its handlers, nothing ran.
        assert code < 0 or "nothing was changed" in err or "nothing was written" in err, err
        return "before"
    assert now == states["after"], "half-done project"
    assert code == 0 or "completed" in err, err
    return "after"


def assert_no_temp_left(tmpdir: Path) -> None:
    assert list(tmpdir.iterdir()) == []


POINTS = ["before-copier", "after-copier", "before-verify", "mid-write", "after-write",
          "command-reporting", "command-returned"]
# Once the command has returned a signal is ignored: the pause there runs to its end.
IGNORED_AT = "command-returned"


def pause_at(point: str) -> str:
    return f"{point}:{1 if point == IGNORED_AT else 30}"


# SIGHUP has the same handler as SIGTERM (interrupt.SIGNALS): checked at one point before
# the write and one inside it.
AT_EACH_POINT = [(point, signum) for point in POINTS for signum in (signal.SIGINT, signal.SIGTERM)]
AT_EACH_POINT += [("after-copier", signal.SIGHUP), ("mid-write", signal.SIGHUP)]


@pytest.mark.parametrize(("point", "signum"), AT_EACH_POINT)
def test_signal_at_each_point(fresh, states, tmp_path, point, signum, cli_bin):
    """A signal at each named point: before (nothing written) or after (all written)."""
    tmpdir = tmp_path / "tmp"
    process = start([*kommo(cli_bin), *ADD, "-C", str(fresh)], tmpdir, pause=pause_at(point))
    wait_for_pause(process, point)
    process.send_signal(signum)
    code, out, err = finish(process)
    state = assert_before_or_after(fresh, states, code, err)
    # Inside the write step signals wait until it is complete.
    expected = "before" if point in ("before-copier", "after-copier") else "after"
    assert state == expected, err
    if point == IGNORED_AT:
        assert code == 0 and "Added" in out, (out, err)
    else:
        assert code == 128 + signum
    assert_no_temp_left(tmpdir)


@pytest.mark.parametrize("point", ["after-copier", "mid-write"])
def test_double_ctrl_c(fresh, states, tmp_path, point, cli_bin):
    """Ctrl-C twice in quick succession: the clean-up still finishes."""
    tmpdir = tmp_path / "tmp"
    process = start([*kommo(cli_bin), *ADD, "-C", str(fresh)], tmpdir, pause=f"{point}:30")
    wait_for_pause(process, point)
    process.send_signal(signal.SIGINT)
    time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert_before_or_after(fresh, states, code, err)
    assert_no_temp_left(tmpdir)


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5])
def test_timed_ctrl_c(fresh, states, tmp_path, delay):
    """Ctrl-C at moments over the whole run, including the first milliseconds."""
    tmpdir = tmp_path / "tmp"
    process = start([*CLI, *ADD, "-C", str(fresh)], tmpdir)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert_before_or_after(fresh, states, code, err)
    assert_no_temp_left(tmpdir)


def test_signal_while_copier_waits_for_git(fresh, states, tmp_path):
    """No git child outlives the interrupt to write into a folder already cleaned up."""
    wrappers, started = tmp_path / "bin", tmp_path / "clone-started"
    wrappers.mkdir()
    real_git = shutil.which("git")
    assert real_git is not None
    # A slow `git clone`: it says it started, then waits before doing its work.
    (wrappers / "git").write_text(
        f'#!/bin/sh\ncase "$*" in *clone*) touch {shlex.quote(str(started))}; sleep 1;; '
        f'esac\nexec {shlex.quote(real_git)} "$@"\n', "utf-8")
    (wrappers / "git").chmod(0o755)
    tmpdir, cache = tmp_path / "tmp", tmp_path / "cache"  # no clone kept by other tests
    process = start([*CLI, *ADD, "-C", str(fresh)], tmpdir,
                    extra_env={"PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}",
                               "KOMMO_SCAFFOLD_CACHE": str(cache)})
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert assert_before_or_after(fresh, states, code, err) == "before"
    time.sleep(1.5)  # what a left-over clone would do, it has done by now
    assert_no_temp_left(tmpdir)
    assert list((cache / "template-clones").iterdir()) == []  # no half-made clone kept


def test_pack_bump_interrupted_between_manifest_and_archive(tmp_path, cli_bin):
    """The bumped manifest and its archive are written together, and the message says so."""
    from check_helpers import W

    folder = W(tmp_path / "w").build()
    tmpdir = tmp_path / "tmp"
    process = start([*kommo(cli_bin), "pack", str(folder), "--bump", "patch"], tmpdir,
                    pause="pack-mid-write:30")
    wait_for_pause(process, "pack-mid-write")
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert code == 130 and "interrupted after the changes were written" in err, err
    assert '"1.0.1"' in (folder / "manifest.json").read_text("utf-8")
    archives = list(tmp_path.rglob("*.zip"))
    assert len(archives) == 1, archives
    with zipfile.ZipFile(archives[0]) as archive:
        assert json.loads(archive.read("manifest.json"))["widget"]["version"] == "1.0.1"
    assert not [p for p in archives[0].parent.iterdir() if p.name.endswith(".tmp")]


def test_edit_while_running_is_never_lost(fresh, states, tmp_path, cli_bin):
    """An editor's save during the run: nothing written, the file named, the save kept."""
    tmpdir = tmp_path / "tmp"
    process = start([*kommo(cli_bin), *ADD, "-C", str(fresh)], tmpdir, pause="after-copier:2")
    wait_for_pause(process, "after-copier")
    style = fresh / "widget" / "style.css"
    saved = style.read_text("utf-8") + "/* saved in the editor meanwhile */\n"
    style.write_text(saved, "utf-8")
    code, _, err = finish(process)
    assert code == 1 and "widget/style.css changed while the command ran" in err
    assert "nothing was written" in err
    assert style.read_text("utf-8") == saved
    user_git(fresh, "checkout", "-q", "--", "widget/style.css")
    assert snapshot(fresh) == states["before"]
    assert_no_temp_left(tmpdir)


def test_new_file_while_running_at_a_generated_path(fresh, states, tmp_path, cli_bin):
    """The user creates a file the command is about to create: it is not overwritten."""
    tmpdir = tmp_path / "tmp"
    process = start([*kommo(cli_bin), *ADD, "-C", str(fresh)], tmpdir, pause="after-copier:2")
    wait_for_pause(process, "after-copier")
    logo = fresh / "widget" / "images" / "logo_dp.png"
    logo.write_bytes(b"my own logo")
    code, _, err = finish(process)
    assert code == 1 and "logo_dp.png" in err and "nothing was written" in err
    assert logo.read_bytes() == b"my own logo"


def test_second_command_refused_while_first_runs(fresh, states, tmp_path):
    """Two commands at once: the second waits, then refuses naming the first's pid; the
    first one's work is complete and untouched."""
    tmpdir = tmp_path / "tmp"
    first = start([*CLI, *ADD, "-C", str(fresh)], tmpdir, pause="after-copier:3")
    wait_for_pause(first, "after-copier")
    second = subprocess.run([*CLI, "add-area", "sms", "--defaults", "-C", str(fresh)],
                            capture_output=True, text=True,
                            env={**os.environ, "KOMMO_SCAFFOLD_LOCK_WAIT": "0.5"})
    assert second.returncode == 1
    assert f"another kommo command (pid {first.pid})" in second.stderr
    code, _, err = finish(first)
    assert code == 0, err
    assert snapshot(fresh) == states["after"]


def test_pack_waits_for_a_command_in_its_write_step(fresh, states, tmp_path, cli_bin):
    """pack never zips a widget half-way through another command's write."""
    first = start([*kommo(cli_bin), *ADD, "-C", str(fresh)], tmp_path / "tmp", pause="mid-write:2")
    wait_for_pause(first, "mid-write")
    archive = tmp_path / "widget.zip"
    packed = subprocess.run([*kommo(cli_bin), "pack", str(fresh), "-o", str(archive), "--force"],
                            capture_output=True, text=True)
    code, _, err = finish(first)
    assert code == 0, err
    assert packed.returncode == 0, packed.stderr
    assert snapshot(fresh) == states["after"]
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            assert zipped.read(name) == (fresh / "widget" / name).read_bytes(), name


def test_waiting_command_sees_the_first_ones_result(fresh, states, tmp_path, cli_bin):
    """A second command that waits for the lock then sees uncommitted changes: refuses,
    never undoes the first one's work."""
    tmpdir = tmp_path / "tmp"
    first = start([*kommo(cli_bin), *ADD, "-C", str(fresh)], tmpdir, pause="after-copier:1")
    wait_for_pause(first, "after-copier")
    second = start([*kommo(cli_bin), "remove-area", "settings", "--yes", "-C", str(fresh)], tmpdir)
    code, _, err = finish(first)
    assert code == 0, err
    code2, _, err2 = finish(second)
    assert code2 == 1 and "uncommitted changes" in err2, err2
    assert snapshot(fresh) == states["after"]


def test_stale_lock_file_does_not_block(fresh, cli_bin):
    """A lock file left by a killed command (a dead pid) is not in the way."""
    lock = fresh / ".git" / "kommo-scaffold.lock"
    lock.write_text("999999\n", "ascii")
    done = subprocess.run([*kommo(cli_bin), *ADD, "-C", str(fresh)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert lock.read_text("ascii") == ""  # released


def test_killed_holder_releases_the_lock(fresh, states, tmp_path):
    """SIGKILL (no clean-up possible) still frees the lock: the kernel drops it."""
    tmpdir = tmp_path / "tmp"
    first = start([*CLI, *ADD, "-C", str(fresh)], tmpdir, pause="before-copier:30")
    wait_for_pause(first, "before-copier")
    first.kill()
    finish(first)
    shutil.rmtree(tmpdir)  # SIGKILL leaves its temporary folder; nothing else
    assert snapshot(fresh) == states["before"]
    done = subprocess.run([*CLI, *ADD, "-C", str(fresh)], capture_output=True, text=True,
                          env={**os.environ, "KOMMO_SCAFFOLD_LOCK_WAIT": "0"})
    assert done.returncode == 0, done.stderr


# --- kommo-new ----------------------------------------------------------------------------

def assert_new_clean(parent: Path, dest: Path, code: int, err: str) -> None:
    if interpreter_start_up(err):
        assert list(parent.iterdir()) == []
        return
    assert "Traceback" not in err, err
    assert not [p for p in parent.iterdir() if p.name.startswith(".kommo-new-")]
    if dest.exists():  # fully made, committed
        assert code == 0 or "completed" in err, err
        assert user_git(dest, "status", "--porcelain") == ""
    else:
        assert code != 0
        # "created" once kommo-new runs; "changed" from the guard while the CLI starts up
        assert code < 0 or "interrupted; nothing was created" in err \
            or "interrupted; nothing was changed" in err, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_new_signal_before_move(tmp_path, signum, cli_bin):
    tmpdir, parent = tmp_path / "tmp", tmp_path / "out"
    parent.mkdir()
    dest = parent / "w"
    process = start([*kommo_new(cli_bin), str(dest), "--defaults"], tmpdir,
                    pause="new-before-move:30")
    wait_for_pause(process, "new-before-move")
    process.send_signal(signum)
    code, _, err = finish(process)
    assert code == 128 + signum
    assert not dest.exists()
    assert_new_clean(parent, dest, code, err)
    assert_no_temp_left(tmpdir)


@pytest.mark.parametrize("point", ["command-reporting", IGNORED_AT])
def test_new_signal_after_creating(tmp_path, point, cli_bin):
    """Ctrl-C once the project is in place: it stays, and the message says it completed."""
    tmpdir, parent = tmp_path / "tmp", tmp_path / "out"
    parent.mkdir()
    dest = parent / "w"
    process = start([*kommo_new(cli_bin), str(dest), "--defaults"], tmpdir, pause=pause_at(point))
    wait_for_pause(process, point)
    process.send_signal(signal.SIGINT)
    code, out, err = finish(process)
    assert dest.is_dir() and "Created widget" in out
    if point == IGNORED_AT:
        assert code == 0, err
    else:
        assert code == 130 and "interrupted after the changes were written" in err, err
    assert_new_clean(parent, dest, code, err)
    assert_no_temp_left(tmpdir)


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.1, 0.3, 0.5, 0.7, 0.9, 1.2])
def test_new_timed_ctrl_c(tmp_path, delay):
    """Ctrl-C at moments over kommo-new, from the very start: no traceback, no leftovers."""
    tmpdir, parent = tmp_path / "tmp", tmp_path / "out"
    parent.mkdir()
    dest = parent / "w"
    process = start([*NEW_CLI, str(dest), "--defaults"], tmpdir)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert_new_clean(parent, dest, code, err)
    assert_no_temp_left(tmpdir)


def test_two_kommo_new_into_one_folder(tmp_path, cli_bin):
    """Two kommo-new at once into the same folder: one makes it, the other refuses in one
    line; the winner's project is complete and nothing is left over."""
    tmpdir, parent = tmp_path / "tmp", tmp_path / "out"
    parent.mkdir()
    dest = parent / "w"
    first = start([*kommo_new(cli_bin), str(dest), "--defaults"], tmpdir,
                  pause="new-before-move:2")
    second = start([*kommo_new(cli_bin), str(dest), "--defaults", "-d", "widget_name=Other"],
                   tmpdir)
    results = [finish(first), finish(second)]
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and codes[1] != 0, results
    loser = next(err for code, _, err in results if code).replace(
        "kommo-pause: new-before-move\n", "")
    assert len(loser.strip().splitlines()) == 1 and "Traceback" not in loser
    assert user_git(dest, "status", "--porcelain") == ""
    assert not [p for p in parent.iterdir() if p.name.startswith(".kommo-new-")]
    assert_no_temp_left(tmpdir)


def test_an_interrupt_swallowed_by_native_code_is_sent_again(tmp_path):
    """CPython cannot pass an exception out of a callback from native code (pydantic's
    validators while copier loads) nor out of __del__: it prints "Exception ignored" and
    the Ctrl-C is lost. The command gets it again and stops."""
    code = (
        "import sys, time\n"
        "from kommo_scaffold.cli import app as cli\n"
        "class Swallowed:\n"
        "    def __del__(self):\n"
        "        raise KeyboardInterrupt\n"
        "def action():\n"
        "    Swallowed()\n"
        "    deadline = time.monotonic() + 10\n"
        "    while time.monotonic() < deadline:\n"
        "        time.sleep(0.01)\n"
        "    print('the interrupt was lost')\n"
        "try:\n"
        "    cli.run(action)\n"
        "except BaseException as done:  # typer.Exit, as typer would turn it into an exit\n"
        "    sys.exit(getattr(done, 'exit_code', 1))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 130, done.stdout + done.stderr
    assert "lost" not in done.stdout
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip() == "error: interrupted; nothing was changed"


@pytest.mark.parametrize(("err", "before_guard"), [
    ("Fatal Python error: init_import_site: Failed to import the site module\n", True),
    ("Fatal Python error: init_sys_streams: can't initialize sys standard streams\n", True),
    ('Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
     '  File "/x/kommo_scaffold/cli/entry.py", line 13, in <module>\n    import signal\n'
     '  File "/usr/lib/python3.11/signal.py", line 7, in <module>\nKeyboardInterrupt\n', True),
    # Raised inside a command: kommo's own handling failed, whatever the frames above it.
    ('Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
     '  File "/x/kommo_scaffold/cli/entry.py", line 40, in _guarded\n'
     '  File "/x/kommo_scaffold/cli/app.py", line 9, in run\nKeyboardInterrupt\n', False),
    ('Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
     'ValueError: x\n', False),
    ("error: interrupted; nothing was changed\n", False),
])
def test_interpreter_start_up_recognises_only_the_moments_before_the_guard(err, before_guard):
    assert interpreter_start_up(err) is before_guard
