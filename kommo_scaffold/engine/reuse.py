"""Work copier repeats, done once: within a command and, where safe, between commands.

copier 9 renders the template three times in an update, each time with a new clone and a new
Jinja environment, and asks git the same question after each file it writes. Each adaptation
here wraps one copier or Jinja internal for the length of a command (``adapt.replaced``) and
turns itself off where another version lacks that internal or gives it other parameters; the
results are unchanged (tested against copier's own behaviour). Kept are those that pay:
compiling each Jinja source once (about 1.6 s of CPU per ``kommo add-area``), one clone per
template version (about 0.5 s) and reading ``core.fileMode`` once (about 0.2 s).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import CodeType
from typing import Any

from kommo_scaffold.engine.adapt import has_parameters, replaced
from kommo_scaffold.engine.compilecache import CodeCache


def _environment_key(env: Any) -> tuple[Any, ...]:
    """What Jinja's code generation depends on besides the source (runtime lookups such as
    filters and globals are made through the environment the template is bound to)."""
    return (type(env), env.block_start_string, env.block_end_string,
            env.variable_start_string, env.variable_end_string, env.comment_start_string,
            env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
            env.keep_trailing_newline, env.optimized, env.autoescape, env.finalize,
            env.is_async, env.code_generator_class,
            tuple(sorted(type(ext).__qualname__ for ext in env.extensions.values())))


@contextlib.contextmanager
def compiled_once(on_disk: CodeCache | None = None) -> Iterator[None]:
    """Each Jinja source is compiled once per command.

    copier compiles every question's default, ``when`` and validator again at each
    render, in each of the three renders of an update (old copy, project, new copy),
    with a new environment each time, and loads the template files from a new clone for
    each: about 2,000 compilations of some 200 sources, half the time of ``kommo
    add-area``. Compiling is a pure function of the source and the environment's syntax
    settings, so the code object is reused for an equal key, within the command and, through
    ``on_disk`` (the user's cache folder, compilecache), in later commands.
    """
    from jinja2 import Environment

    compiled: dict[tuple[Any, ...], Any] = {}

    def wrap(original: Any) -> Any:
        def compile_once(self: Any, source: Any, name: str | None = None,
                         filename: str | None = None, raw: bool = False,
                         defer_init: bool = False) -> Any:
            if not isinstance(source, str):
                return original(self, source, name, filename, raw, defer_init)
            # Not the filename: copier loads the same template files from a new clone in
            # each render; the first clone's path stays in the code object (tracebacks
            # only).
            settings = _environment_key(self)
            key = (source, name, raw, defer_init, settings)
            if key in compiled:
                code = compiled[key]
            else:
                file = (on_disk.key(self, settings, source, name, raw, defer_init) if on_disk
                        else None)
                code = on_disk.get(file) if on_disk and file else None
                if not isinstance(code, CodeType | str):
                    code = original(self, source, name, filename, raw, defer_init)
                    if on_disk and file:
                        on_disk.put(file, code)
                    compiled[key] = code
                    return code
                compiled[key] = code
            # Compiling runs the extensions' preprocess hooks, and copier's yield tag keeps
            # state there (reset by its hook, set while a file name renders): reused code
            # runs them too, or one name's yield leaks into the next name.
            self.preprocess(source, name, filename)
            return code
        return compile_once

    with replaced(Environment, "compile", wrap,
                  ("self", "source", "name", "filename", "raw", "defer_init")):
        yield


@contextlib.contextmanager
def file_mode_read_once() -> Iterator[None]:
    """copier reads git's ``core.fileMode`` once per destination, not once per file.

    After writing each file copier runs ``git config --get core.fileMode`` in the
    destination and does more only where it is false (git then ignores the executable bit
    on disk, so copier sets it in the index). One git process per rendered file was about
    60 per ``kommo add-area``; the setting cannot change while copier renders, so it is
    read once per render and destination, and copier's own code runs where it is false.
    """
    from copier import _main
    from plumbum import ProcessExecutionError

    get_git: Any = getattr(_main, "get_git", None)
    if not has_parameters(get_git, ("context_dir",)):  # another copier: its step as it is
        yield
        return
    settings: dict[tuple[int, str], str | None] = {}
    renders: list[Any] = []  # kept alive, so that no id() in the keys is reused

    def wrap(original: Any) -> Any:
        def sync(self: Any, dst_relpath: Any, src_mode: int) -> None:
            root = str(self.subproject.local_abspath)
            key = (id(self), root)
            if key not in settings:
                renders.append(self)
                try:
                    settings[key] = get_git(context_dir=root)(
                        "config", "--type=bool", "--get", "core.fileMode").strip()
                except ProcessExecutionError:  # not a repository, or the key is unset
                    settings[key] = None
            if settings[key] == "false":
                original(self, dst_relpath, src_mode)
        return sync

    with replaced(_main.Worker, "_sync_git_index_executable_bit", wrap,
                  ("self", "dst_relpath", "src_mode")):
        yield


@contextlib.contextmanager
def cloned_once() -> Iterator[None]:
    """Each version of the template is cloned once per command, and that clone is shared.

    copier clones the template for each of its renders, five clones in an update, and each
    clone is about ten git processes (clone, checkout, submodule update, describe...). A
    clone of one tag of one repository is the same all through a command, and copier only
    reads from it (renders files, and runs read-only git commands such as ``describe``), so
    every render of that tag uses one clone: the one kept between commands
    (``templateclones``), or else one in the command's temporary folder. The folder copier
    made for its own clone stays empty, and copier removes it as usual. A clone of HEAD is
    always made anew: for a local template copier adds its uncommitted changes.
    """
    import tempfile

    from copier import _template

    from kommo_scaffold.engine import templateclones

    kept: dict[tuple[str, str], str] = {}

    def wrap(original: Any) -> Any:
        def clone(url: str, ref: str = "HEAD", location: str | None = None) -> str:
            if ref == "HEAD":
                return str(original(url, ref, location))
            if (url, ref) not in kept:
                kept[url, ref] = (
                    templateclones.kept_clone(url, ref, lambda folder: original(url, ref, folder))
                    or str(original(url, ref, tempfile.mkdtemp(prefix="clone-"))))
            return kept[url, ref]
        return clone

    with replaced(_template, "clone", wrap, ("url", "ref", "location")):
        yield


@contextlib.contextmanager
def repeated_work_done_once() -> Iterator[None]:
    from kommo_scaffold.engine import adapt

    if not adapt.enabled():  # not even the cache folder
        yield
        return
    on_disk = CodeCache.open()
    with compiled_once(on_disk), file_mode_read_once(), cloned_once():
        yield
