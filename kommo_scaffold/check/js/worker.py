"""V8 in a process of its own, forked the moment `kommo check` or `kommo pack` starts.

Importing mini-racer (it imports asyncio) and starting V8 take about 80 ms, much of it
holding the interpreter's lock, so on a thread it still runs one after the other with loading
the CLI. A child forked before the CLI loads has its own interpreter and core: V8 is ready by
the time the widget has been read. The child evaluates exactly as the in-process page
(:class:`kommo_scaffold.check.js.engine.Page`) does, and answers with the run as JSON.

Linux only: Windows has no fork, and on macOS Python's multiprocessing documentation calls
fork unsafe (system libraries may start threads). Elsewhere, and when no command asked for a
worker (library calls, tests, ``kommo dev``), the in-process page is used.

The child:
- resets the signal handlers to the system default: a Ctrl-C, sent to the whole process
  group, ends it silently, and the parent says what happened;
- keeps none of the parent's descriptors but its two pipes;
- ends when the parent closes the request pipe, and the kernel ends it when the parent dies;
- always leaves with ``os._exit``: it never runs the parent's exit handlers or flushes the
  parent's buffered output.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from typing import Any

_COMMANDS = ("check", "pack")
_CHUNK = 1 << 20
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class WorkerError(RuntimeError):
    """The worker failed or ended without an answer (reported as KS001 by the checker)."""


def _read_all(fd: int) -> bytes:
    parts = []
    while chunk := os.read(fd, _CHUNK):
        parts.append(chunk)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _die_with(parent: int) -> None:
    """In the child: the kernel ends it when the parent ends, however the parent ends
    (SIGKILL too), even while V8 is busy and nobody reads the pipe (prctl PR_SET_PDEATHSIG,
    man 2 prctl)."""
    import ctypes

    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before that call
        os._exit(0)


def _keep_only(*fds: int) -> None:
    """In the child: the standard streams on /dev/null and every other descriptor closed but
    ``fds``. A caller that reads the command's output until it ends (a pipe) or holds a
    lock through an inherited descriptor must not wait for the child too."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    low = 3
    for fd in sorted(fds):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, max(low, os.sysconf("SC_OPEN_MAX")))


def _encode(scripts: dict[str, str], config: dict[str, Any]) -> bytes:
    """A JSON line (config, names and sizes) and the files' bytes: a megabyte bundle costs a
    copy, where JSON would escape and unescape it."""
    data = [text.encode("utf-8", "surrogatepass") for text in scripts.values()]
    head = json.dumps([config, [[name, len(raw)] for name, raw in zip(scripts, data, strict=True)]])
    return b"".join([head.encode("utf-8"), b"\n", *data])


def _decode(raw: bytes) -> tuple[dict[str, str], dict[str, Any]]:
    head, _, body = raw.partition(b"\n")
    config, sizes = json.loads(head)
    scripts, at = {}, 0
    for name, size in sizes:
        scripts[name] = body[at:at + size].decode("utf-8", "surrogatepass")
        at += size
    return scripts, config


class Worker:
    """One forked V8 page: ``run`` once, then ``close`` (``close`` alone when unused)."""

    def __init__(self) -> None:
        request_read, self._request = os.pipe()
        self._answer, answer_write = os.pipe()
        parent = os.getpid()
        self._pid = os.fork()
        if self._pid == 0:  # the child
            status = 1
            try:
                _die_with(parent)
                for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                    signal.signal(signum, signal.SIG_DFL)
                _keep_only(request_read, answer_write)
                _serve(request_read, answer_write)
                status = 0
            finally:
                os._exit(status)
        os.close(request_read)
        os.close(answer_write)

    def start(self, scripts: dict[str, str], config: dict[str, Any]) -> None:
        """As ``engine.Page.start``: hand the files to the child, which evaluates them while
        the caller goes on."""
        if self._request < 0:
            self.close()
            raise WorkerError("the V8 worker was used or closed already")
        request, self._request = self._request, -1
        try:
            _write_all(request, _encode(scripts, config))
        except BrokenPipeError:
            pass  # the child ended early: its answer (or its absence) says why
        except BaseException:
            self.close()
            raise
        finally:
            os.close(request)

    def result(self) -> Any:
        """As ``engine.Page.result``; the worker is closed afterwards."""
        from kommo_scaffold.check.js import engine

        try:
            raw = _read_all(self._answer) if self._answer >= 0 else b""
        finally:
            self.close()
        if not raw:
            raise WorkerError(f"the V8 worker ended without an answer ({self._ended})")
        answer = json.loads(raw)
        if "error" in answer:
            raise WorkerError(answer["error"])
        return engine.Run.from_json(answer["run"])

    def run(self, scripts: dict[str, str], config: dict[str, Any]) -> Any:
        """``start`` and ``result``."""
        self.start(scripts, config)
        return self.result()

    def close(self) -> None:
        """Stop the child if it is still running and reap it."""
        if self._request >= 0:
            os.close(self._request)
            self._request = -1
        if self._answer >= 0:
            os.close(self._answer)
            self._answer = -1
        if self._pid > 0:
            pid, self._pid = self._pid, -1
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == 0:  # still evaluating: nobody is left to read its answer
                    os.kill(pid, signal.SIGKILL)
                    _, status = os.waitpid(pid, 0)
            except ChildProcessError:  # reaped already (a SIGCHLD handler of the caller's)
                status = 0
            self._ended = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                           else f"exit status {os.WEXITSTATUS(status)}")

    _ended = "still running"


def _start_v8(imported: threading.Event) -> None:
    """Load V8 (about 30 ms, without the interpreter's lock) while the child imports the
    engine and reads the request; the page's own start then finds it loaded."""
    try:
        from py_mini_racer import init_mini_racer
    except BaseException:  # the page's start reports it
        return
    finally:
        imported.set()
    with contextlib.suppress(BaseException):
        init_mini_racer(ignore_duplicate_init=True)


def _serve(request_fd: int, answer_fd: int) -> None:
    """The child: start V8 while the parent reads the widget, run the one request, answer."""
    answer: dict[str, Any]
    imported = threading.Event()
    threading.Thread(target=_start_v8, args=(imported,), daemon=True).start()
    imported.wait()  # one import at a time: two threads importing could deadlock
    try:
        from kommo_scaffold.check.js import engine

        page = engine.Page()
        raw = _read_all(request_fd)
        if not raw:
            return  # the parent needed no page (or it ended)
        scripts, config = _decode(raw)
        answer = {"run": page.run(scripts, config).to_json()}
    except BaseException as error:  # the parent turns it into the checker's KS001
        answer = {"error": f"{type(error).__name__}: {error}"}
    with contextlib.suppress(BrokenPipeError):  # the parent is gone
        _write_all(answer_fd, json.dumps(answer).encode("utf-8"))


_early: list[Worker] = []


def start_for(argv: list[str]) -> None:
    """At the CLI's entry: fork the worker when the command is one that checks a widget."""
    if (len(argv) > 1 and argv[1] in _COMMANDS and sys.platform.startswith("linux")
            and not {"-h", "--help", "--explain"} & set(argv[2:])):
        # No fork or pipe to spare: the in-process page does the same work.
        with contextlib.suppress(OSError):
            _early.append(Worker())


def take() -> Worker | None:
    """The worker forked at entry, once; None when there is none."""
    return _early.pop() if _early else None


def discard() -> None:
    """At the CLI's exit: reap a worker no check took (a usage error, a build that failed)."""
    while _early:
        _early.pop().close()
