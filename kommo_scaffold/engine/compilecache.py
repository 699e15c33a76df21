"""Compiled Jinja code, kept between commands in the user's cache folder.

Compiling the template's Jinja sources (files, question defaults, ``when`` conditions and
validators) is about a fifth of what ``kommo add-area`` or ``kommo-new`` does, and only
changes with the template version. The code objects are kept with ``marshal``, as Jinja's own
``FileSystemBytecodeCache`` keeps code
(https://jinja.palletsprojects.com/en/stable/api/#bytecode-cache); that cache cannot be
used here, because its key includes the file's path and copier loads the template from a
new temporary clone in each render.

The folder is ``compiled-templates`` in kommo's cache folder (``cachedir``). It holds one
folder per Python, Jinja and copier version; a new combination removes the others.
Deleting it at any time is safe. A file that is damaged or was written by another version
is never loaded: each carries a checksum of its contents, and its key includes the
versions and the Jinja extensions' module files. The folder is not used where someone else
could write into it, since what it holds is run as code.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import marshal
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from kommo_scaffold.engine import cachedir
from kommo_scaffold.plumbing import interrupt

# Raised whenever the stored form changes, so that older files are never read.
_FORMAT = "2"
_DIGEST_SIZE = 32


def _stable(value: Any) -> str | None:
    """A text for ``value`` that is the same in every process, or None if there is none."""
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, tuple):
        parts = [_stable(item) for item in value]
        return None if None in parts else "(" + ",".join(parts) + ")"  # type: ignore[arg-type]
    return None


@functools.cache
def _extension_stamp(extension: type) -> str | None:
    """An extension's name and its module file's size and time: filters it adds can be
    evaluated while compiling (Jinja folds constant expressions), so reinstalling or
    upgrading the package that defines it must start afresh."""
    module = sys.modules.get(extension.__module__)
    path = getattr(module, "__file__", None)
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return f"{extension.__module__}.{extension.__qualname__}:{info.st_size}:{info.st_mtime_ns}"


class CodeCache:
    """Compiled sources on disk, by a key of the source and how it was compiled."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def open(cls) -> CodeCache | None:
        """The cache for this Python, Jinja and copier; None where it cannot be used."""
        import copier
        import jinja2

        versions = (_FORMAT, sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER.hex(),
                    jinja2.__version__, getattr(copier, "__version__", "unknown"))
        name = hashlib.sha256("\0".join(versions).encode()).hexdigest()[:16]
        root = cachedir.private_folder("compiled-templates")
        if root is None:
            return None
        folder = root / name
        try:
            if not folder.is_dir():
                for other in root.iterdir():  # another version's compiled code
                    if other.is_dir() and other.name != name:
                        shutil.rmtree(other, ignore_errors=True)
                folder.mkdir(mode=0o700, exist_ok=True)
        except OSError:  # a read-only or full disk: compile as if there were no cache
            return None
        if not cachedir.is_private(folder):
            return None
        return cls(folder)

    def key(self, environment: Any, settings: tuple[Any, ...], source: str,
            name: str | None, raw: bool, defer_init: bool) -> str | None:
        """The file name for compiling ``source`` in ``environment`` (whose syntax
        settings are ``settings``), or None if they cannot be named the same way in every
        process (a callable among them, an extension without a module file)."""
        stable = _stable(settings)
        extensions = sorted(_extension_stamp(extension.__class__) or ""
                            for extension in environment.extensions.values())
        if stable is None or "" in extensions:
            return None
        digest = hashlib.sha256()
        for part in (stable, *extensions, repr(name), repr(raw), repr(defer_init), source):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        return digest.hexdigest()

    def get(self, key: str) -> Any:
        """What was stored under ``key``; None if nothing (or nothing intact) was."""
        try:
            data = (self.folder / key).read_bytes()
        except OSError:
            return None
        checksum, payload = data[:_DIGEST_SIZE], data[_DIGEST_SIZE:]
        if hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest() != checksum:
            return None
        try:
            return marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return None

    def put(self, key: str, value: Any) -> None:
        """Store ``value``, a code object or the source Jinja generated; nothing is stored
        for what marshal cannot write."""
        try:
            payload = marshal.dumps(value)
        except ValueError:
            return
        data = hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest() + payload
        # A cache that cannot be written only costs time.
        with contextlib.suppress(OSError), \
                interrupt.temporary_file(self.folder, ".tmp-") as temporary:
            temporary.write_bytes(data)
            os.replace(temporary, self.folder / key)  # readers see all of it or none
