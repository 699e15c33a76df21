"""`python -c CODE ARGS...` for the CLI tests, forked from a process that has imported kommo.

A fresh interpreter spends about 0.6 s of CPU importing kommo_scaffold, copier, pydantic,
prompt_toolkit... before a command starts, and the suite runs the CLI hundreds of times. Each
pytest worker therefore starts one server (this file run as a script) that imports those
modules and does nothing else. Every run is a fork of it: the child takes the run's standard
streams, working folder, environment and argv, and runs CODE as the main program, so exit
status, atexit, threads, uncaught exceptions and Ctrl-C end it as they end `python -c`.

A fork cannot reproduce how an interpreter starts, so runs whose environment changes that
(PYTHON* or locale variables) get a real interpreter. The timed-signal tests (whose first
moments are the interpreter's start-up and kommo's lazy imports), the terminal (pexpect)
tests and the `kommo dev` walk-through run real interpreters too.

``KOMMO_TESTS_REAL_INTERPRETERS=1`` makes every run a real interpreter (to rule the harness
out), and so does a platform without fork, Unix sequenced-packet sockets with file
descriptor passing or pidfd (the server's wait), or a server that does not start. A fork
inherits whatever importing kommo_scaffold set up in the server: tests/test_forked_cli.py
holds that importing it sets up no process-wide state.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

# Environment variables read while an interpreter starts (encodings, flags, paths).
_STARTUP = ("PYTHON", "LC_", "LANG")
_MAX_MESSAGE = 1 << 20
OFF_ENV = "KOMMO_TESTS_REAL_INTERPRETERS"


def forking_possible() -> bool:
    """Whether this platform has what the server and its clients use."""
    return (hasattr(os, "fork") and hasattr(os, "pidfd_open") and hasattr(socket, "AF_UNIX")
            and hasattr(socket, "SOCK_SEQPACKET") and hasattr(socket, "send_fds"))


def wanted() -> bool:
    """Forked runs, unless switched off or impossible here."""
    return forking_possible() and os.environ.get(OFF_ENV, "") in ("", "0")


def _startup_env(env: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if key.startswith(_STARTUP)}


# --- server ----------------------------------------------------------------------------------

def _preload() -> None:
    import importlib
    import pkgutil

    import copier  # noqa: F401

    import kommo_scaffold

    for module in pkgutil.walk_packages(kommo_scaffold.__path__, "kommo_scaffold."):
        importlib.import_module(module.name)


def _serve(path: str) -> dict[str, Any]:
    """Fork a child per request; return the request in the child, never in the server."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(16)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(0, selectors.EVENT_READ, "stdin")  # EOF: the pytest worker is gone
    own_startup_env = _startup_env(dict(os.environ))
    os.write(1, b"ready\n")
    while True:
        for key, _ in selector.select():
            if key.data == "stdin":
                if not os.read(0, 4096):
                    raise SystemExit(0)
            elif key.data == "accept":
                conn, _ = listener.accept()
                message, fds, _, _ = socket.recv_fds(conn, _MAX_MESSAGE, 3)
                request = json.loads(message)
                if _startup_env(request["env"]) != own_startup_env:
                    for fd in fds:
                        os.close(fd)
                    conn.send(json.dumps({"fallback": True}).encode())
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    conn.close()
                    for target, fd in enumerate(fds):
                        os.dup2(fd, target)
                        os.close(fd)
                    return request
                for fd in fds:
                    os.close(fd)
                conn.send(json.dumps({"pid": pid}).encode())
                pidfd = os.pidfd_open(pid)
                selector.register(pidfd, selectors.EVENT_READ, (conn, pid))
            else:
                conn, pid = key.data
                selector.unregister(key.fd)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                with contextlib.suppress(OSError):  # the client may be gone
                    conn.send(json.dumps(os.waitstatus_to_exitcode(status)).encode())
                conn.close()


def _become(request: dict[str, Any]) -> str:
    """Take on the run's folder, environment and argv; return the code to run."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    # plumbum (copier runs git through it) copies the environment when it is imported.
    from plumbum import local

    local.env.clear()
    local.env.update(os.environ)
    # The standard library's own lazily computed setting that depends on the environment.
    import tempfile

    tempfile.tempdir = None
    argv0 = request.get("argv0", "-c")
    sys.argv = [argv0, *request["args"]]
    # As the interpreter sets it: the working folder for -c, else the script's folder.
    sys.path[0] = "" if argv0 == "-c" else os.path.dirname(os.path.realpath(argv0))
    code: str = request["code"]
    return code


# --- client ----------------------------------------------------------------------------------

class Server:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.forking = wanted()  # False: every run is a real interpreter

    @property
    def socket_path(self) -> Path:
        return self.folder / "socket"

    def start(self) -> None:
        if self.process is not None or not self.forking:
            return
        path = self.socket_path
        self.process = subprocess.Popen([sys.executable, __file__, str(path)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        if self.process.stdout.readline() != b"ready\n":  # real interpreters, then
            self.stop()
            self.forking = False

    def stop(self) -> None:
        if self.process is not None:
            assert self.process.stdin is not None
            with contextlib.suppress(BrokenPipeError):  # a server that died at its start
                self.process.stdin.close()
            self.process.wait(timeout=30)
            assert self.process.stdout is not None
            self.process.stdout.close()
            self.process = None

    def run(self, code: str, args: list[str], cwd: Path | None, env: dict[str, str],
            input_text: str | None) -> subprocess.CompletedProcess[str]:
        """What subprocess.run([python, "-c", code, *args], capture_output=True, text=True,
        cwd=cwd, env=env, input=input_text) gives, from a fork of the server."""
        command = [sys.executable, "-c", code, *args]
        self.start()
        if not self.forking:
            return subprocess.run(command, cwd=cwd, env=env, input=input_text,
                                  capture_output=True, text=True, check=False)
        request = {"code": code, "args": args, "cwd": str(cwd or os.getcwd()), "env": env}
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
            try:
                conn.connect(str(self.socket_path))
                socket.send_fds(conn, [json.dumps(request).encode()], [in_r, out_w, err_w])
            finally:
                for fd in (in_r, out_w, err_w):
                    os.close(fd)
            if "pid" not in json.loads(conn.recv(_MAX_MESSAGE)):
                for fd in (in_w, out_r, err_r):
                    os.close(fd)
                return subprocess.run(command, cwd=cwd, env=env, input=input_text,
                                      capture_output=True, text=True, check=False)
            stdout, stderr = _communicate(in_w, out_r, err_r, (input_text or "").encode())
            returncode = json.loads(conn.recv(_MAX_MESSAGE))
        return subprocess.CompletedProcess(command, returncode, _text(stdout), _text(stderr))


def client_script(server: Server, code: str, real_script: Path) -> str:
    """A command (`kommo`, `kommo-new`) for PATH that runs CODE as a fork of the server.

    It hands its own standard streams over, passes Ctrl-C, SIGTERM and SIGHUP on to the run,
    and ends as the run ended (its exit code, or killed by the same signal). Without the
    server, or where the environment changes how Python starts, it becomes ``real_script``;
    where runs are not forked (``Server.forking``), it is that from the start.
    """
    if not server.forking:
        return (f"#!{sys.executable} -IS\nimport os, sys\nos.execv(sys.executable, "
                f"[sys.executable, {str(real_script)!r}, *sys.argv[1:]])\n")
    return f"""#!{sys.executable} -IS
import json, os, signal, socket, sys
pending = []
for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(signum, lambda signum, frame: pending.append(signum))
request = {{"code": {code!r}, "args": sys.argv[1:], "argv0": sys.argv[0],
           "cwd": os.getcwd(), "env": dict(os.environ)}}
reply = {{}}
try:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    conn.connect({str(server.socket_path)!r})
    socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
    reply = json.loads(conn.recv({_MAX_MESSAGE}))
except OSError:
    pass
if "pid" not in reply:
    os.execv(sys.executable, [sys.executable, {str(real_script)!r}, *sys.argv[1:]])
pid = reply["pid"]
def forward(signum, frame):
    os.kill(pid, signum)
for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(signum, forward)
for signum in pending:
    os.kill(pid, signum)
code = json.loads(conn.recv({_MAX_MESSAGE}))
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
os._exit(code)
"""


def _communicate(in_w: int, out_r: int, err_r: int, data: bytes) -> tuple[bytes, bytes]:
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    with selectors.DefaultSelector() as selector:
        for fd in chunks:
            selector.register(fd, selectors.EVENT_READ)
        if data:
            os.set_blocking(in_w, False)
            selector.register(in_w, selectors.EVENT_WRITE)
        else:
            os.close(in_w)
        while selector.get_map():
            for key, _ in selector.select():
                if key.fd == in_w:
                    try:
                        data = data[os.write(in_w, data[:65536]):]
                    except BrokenPipeError:
                        data = b""
                    if not data:
                        selector.unregister(in_w)
                        os.close(in_w)
                    continue
                chunk = os.read(key.fd, 65536)
                if chunk:
                    chunks[key.fd].append(chunk)
                else:
                    selector.unregister(key.fd)
                    os.close(key.fd)
    return b"".join(chunks[out_r]), b"".join(chunks[err_r])


def _text(data: bytes) -> str:
    # As subprocess's text mode decodes: the locale's encoding, universal newlines.
    import locale

    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


if __name__ == "__main__":
    import types

    _preload()
    _code = _become(_serve(sys.argv[1]))
    _main = types.ModuleType("__main__")
    sys.modules["__main__"] = _main
    exec(compile(_code, "<string>", "exec"), _main.__dict__)
