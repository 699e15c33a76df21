"""The JavaScript libraries Kommo's page provides, for the preview page.

They are not copied into kommo-scaffold: ``assets/libs/package.json`` pins them and the
shipped ``package-lock.json`` fixes every byte (npm checks the integrity hashes). The first
`kommo dev` runs ``npm ci`` once into a per-user cache keyed by the lock file's hash; after
that the preview works offline. jQuery stays on 3.x: jQuery 4 dropped helpers such as
``$.trim`` and ``$.isArray`` that widgets written for Kommo's page still call.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import threading
from importlib import resources
from pathlib import Path

from kommo_scaffold.engine import cachedir

# RequireJS module id -> file inside node_modules.
MODULE_FILES: dict[str, str] = {
    "require": "requirejs/require.js",
    "jquery": "jquery/dist/jquery.js",
    "underscore": "underscore/underscore-umd.js",
    "moment": "moment/moment.js",
    "twigjs": "twig/twig.min.js",
    "text": "requirejs-text/text.js",
    # The other modules Kommo's page defines, which widgets require by these names.
    "json": "requirejs-plugins/src/json.js",  # json!./file.json (needs `text`)
    "backbone": "backbone/backbone.js",
    "es6promise": "es6-promise/dist/es6-promise.js",
    "pubsub": "pubsub-js/src/pubsub.js",
    "FileAPI": "fileapi/dist/FileAPI.html5.js",  # defines the named module "FileAPI"
    "intl-tel-input": "intl-tel-input/build/js/intlTelInput-jquery.js",  # $.fn.intlTelInput
    "intl-tel-input-utils": "intl-tel-input/build/js/utils.js",  # window.intlTelInputUtils
}


class LibsError(Exception):
    """The libraries cannot be had; the message is one line that says why."""


def lock_dir() -> Path:
    return Path(str(resources.files("kommo_scaffold.dev") / "assets" / "libs"))


def target_dir() -> Path:
    digest = hashlib.sha256((lock_dir() / "package-lock.json").read_bytes()).hexdigest()
    return cachedir.root() / "preview-libs" / digest[:16]


def _complete(folder: Path) -> bool:
    return all((folder / "node_modules" / name).is_file() for name in MODULE_FILES.values())


class PreviewLibs:
    """Installs the libraries once (in a background thread) and finds their files."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or target_dir()
        self.error: str | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._cancelled = False

    def cancel(self) -> None:
        """Stop a running npm ci (kommo dev is stopping); nothing half-installed stays."""
        with self._lock:
            self._cancelled = True
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()

    def _reap(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def file(self, module: str) -> Path | None:
        name = MODULE_FILES.get(module)
        return self.folder / "node_modules" / name if name and self.ready else None

    def ensure(self) -> None:
        """Install if needed; sets ``error`` (one line) instead of raising."""
        try:
            if not _complete(self.folder):
                self._install()
        except LibsError as error:
            self.error = str(error)
        finally:
            self._ready.set()

    def _install(self) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise LibsError("the preview needs npm once to install its JavaScript libraries "
                            "(install Node.js with npm, then run kommo dev again)")
        parent = self.folder.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(dir=parent, prefix=f".{self.folder.name}."))
        except OSError as error:
            raise LibsError(f"cannot write {parent}: {error.strerror or error}") from None
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(lock_dir() / name, work / name)
            try:
                with self._lock:
                    if self._cancelled:
                        raise LibsError("stopped before the libraries were installed")
                    self._process = subprocess.Popen(
                        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                         "--omit=dev", "--loglevel=error"],
                        cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                stdout, stderr = self._process.communicate(timeout=300)
                returncode = self._process.returncode
            except (OSError, subprocess.TimeoutExpired) as error:
                raise LibsError(f"npm ci failed: {error}") from None
            finally:
                self._reap()
            if self._cancelled:
                raise LibsError("stopped before the libraries were installed")
            if returncode != 0 or not _complete(work):
                lines = [line for line in (stderr or stdout).splitlines() if line.strip()]
                reason = lines[-1].strip() if lines else f"exit code {returncode}"
                raise LibsError("cannot install the preview's JavaScript libraries from the "
                                f"npm registry ({reason}); the widget is still served")
            try:
                work.rename(self.folder)
            except OSError:
                if not _complete(self.folder):  # not another kommo dev that won the race
                    raise LibsError(f"cannot move the libraries into {self.folder}") from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
