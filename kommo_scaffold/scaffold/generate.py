"""kommo-new: generate a widget project.

The project is rendered into a staging folder beside the destination, personalised (logos),
committed, and only then moved into place: a failure or Ctrl-C leaves nothing half-written.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kommo_scaffold.catalog import languages, listing
from kommo_scaffold.engine import runner, store
from kommo_scaffold.errors import ScaffoldError, UsageError
from kommo_scaffold.plumbing import interrupt
from kommo_scaffold.plumbing.gitutil import commit_all, git
from kommo_scaffold.scaffold import answers, logos

# A conditional file name such as "{% if ... %}logo_dp.png{% endif %}" renders to the inner name.
_JINJA_TAG = re.compile(r"\{%.*?%\}")


@dataclass(frozen=True)
class Created:
    """What kommo-new made."""

    path: Path
    answers: dict[str, Any]
    template_tag: str
    warnings: list[str]
    # The enclosing git repository when the project was made as a folder of one (not committed).
    repository: Path | None = None

    def summary(self, typed_path: Path) -> str:
        """What kommo-new prints: the widget, its locations, what to commit and run next
        (paths quoted for a POSIX shell; ``typed_path`` as the user gave it)."""
        from kommo_scaffold.catalog.areas import manifest_location

        panel = self.answers.get("panel_locations") or []
        where = ", ".join(manifest_location(c, panel) for c in self.answers["locations"])
        lines = [f"Created widget {self.answers['widget_code']} in {self.path} "
                 f"(template {self.template_tag})", f"  locations: {where}"]
        if self.repository is not None:
            top, here = self.repository.resolve(), self.path.resolve()
            folder = shlex.quote(str(here.relative_to(top) if here.is_relative_to(top)
                                     else here))
            repo = shlex.quote(str(self.repository))
            message = shlex.quote(f"Add widget {self.answers['widget_code']}")
            lines.append(f"The project is a new folder of the git repository "
                         f"{self.repository} (nothing committed); commit it with:")
            # `commit -- FOLDER` commits only the project, whatever else is staged.
            lines.append(f"  git -C {repo} add {folder} && git -C {repo} commit -m "
                         f"{message} -- {folder}")
        # A TypeScript project's build tools come from its lock file first.
        tools = " && npm ci" if languages.is_typescript(self.answers) else ""
        lines.append(f"Next: cd {shlex.quote(str(typed_path))}{tools} && kommo check && "
                     "kommo pack")
        return "\n".join(lines)


def listing_warnings(recorded: dict[str, Any]) -> list[str]:
    """Answers that break Kommo's limits for public integrations (fine for private ones)."""
    checks = (("widget_name", listing.name_problem),
              ("short_description", listing.short_description_problem),
              ("widget_description", listing.description_problem))
    return [f"{key}: {problem} (a limit for public integrations; kommo check reports it too)"
            for key, problem_of in checks
            if (problem := problem_of(str(recorded.get(key, ""))))]


def _check_destination(dest: Path) -> None:
    text = str(dest)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{text.encode('utf-8', 'surrogateescape')!r} is not a UTF-8 name; "
                         "choose a folder name in UTF-8") from None
    # Lengths first: every stat below would fail on a name the file system cannot hold.
    if len(os.fsencode(text)) >= 4096 or len(dest.parts) > 1000:
        raise UsageError("The destination path is too long (or nested too deeply) for the "
                         "file system; choose a shorter path")
    limit = 255  # NAME_MAX of Linux, macOS and Windows file systems
    for part in dest.parts[1:]:
        if len(os.fsencode(part)) > limit:
            raise UsageError(f"The folder name {part[:40]}... is longer than the file "
                             f"system allows ({limit} bytes); choose a shorter name")
    if dest.is_symlink():
        raise UsageError(f"{dest} is a symbolic link; give the real folder it points to, "
                         "or a new folder name")
    for parent in dest.parents:
        if parent.is_symlink() and not parent.exists():
            raise UsageError(f"{parent} is a symbolic link to nothing; fix it or choose "
                             "another path")
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} exists and is not a folder; choose another path")
    if dest.is_dir() and any(dest.iterdir()):
        raise UsageError(f"{dest} already exists and is not empty; choose a new folder "
                         "(or use `kommo add-area` inside an existing project)")


def _existing_ancestor(path: Path) -> Path:
    for parent in path.parents:
        if parent.is_dir():
            return parent
    raise UsageError(f"No existing folder above {path}")


def enclosing_repository(folder: Path) -> Path | None:
    """The top of the git work tree ``folder`` is in, or None outside any repository."""
    top = git("rev-parse", "--show-toplevel", cwd=folder, check=False).strip()
    return Path(top) if top else None


def _move_into_place(staged: Path, dest: Path) -> None:
    """One rename: dest is then the whole project or, if anything fails, untouched."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        # rename() replaces an empty folder and refuses a non-empty one, atomically, so a
        # folder another program filled in the meantime is never touched.
        os.rename(staged, dest)
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise UsageError(f"{dest} was created by something else while kommo-new ran; "
                             "nothing was written: choose a new folder") from error
        raise


def images_dir(project: Path) -> Path:
    return project / "widget" / "images"


def personalise_logos(project: Path, widget_code: str) -> list[str]:
    """Draw widget-specific logos over the untouched placeholders of the installed template."""
    template_images = store.templates_dir() / store.TEMPLATE_NAME / "project" / "widget" / "images"
    placeholders = {_JINJA_TAG.sub("", p.name): p.read_bytes() for p in template_images.iterdir()}
    return logos.personalise(images_dir(project), widget_code, placeholders)


def create(dest: Path, data: dict[str, Any], defaults: bool) -> Created:
    """Generate a widget project at ``dest`` from the answers in ``data``."""
    with interrupt.handled():
        return _create(dest, data, defaults)


def _create(dest: Path, data: dict[str, Any], defaults: bool) -> Created:
    dest = dest.expanduser().absolute()
    _check_destination(dest)
    answers.validate(data)
    ref = store.sync()
    parent = _existing_ancestor(dest)
    # Inside a repository the project becomes one of its folders (a nested repository would
    # hide it from the outer one); the user commits it there.
    repository = enclosing_repository(parent)
    try:
        with interrupt.temporary_folder(".kommo-new-", parent) as staging_root:
            recorded = _render_into_place(staging_root, dest, ref, data, defaults, repository)
    except OSError as error:  # only creating the staging folder: the rest says more
        raise ScaffoldError(f"Cannot create a folder in {parent}: {error.strerror}; choose "
                            "a writable place") from error
    return Created(path=dest, answers=recorded, template_tag=ref.tag,
                   warnings=listing_warnings(recorded), repository=repository)


def _render_into_place(staging_root: Path, dest: Path, ref: store.TemplateRef,
                       data: dict[str, Any], defaults: bool,
                       repository: Path | None) -> dict[str, Any]:
    """Render in the staging folder, commit there if outside a repository, then move the
    project to ``dest``; the recorded answers."""
    try:
        # Render under the final folder name: copier offers it as the default widget name.
        staged = staging_root / dest.name
        runner.copy(ref.src_path, staged, ref.tag, data, defaults)
        recorded = answers.read_project_answers(staged)
        personalise_logos(staged, str(recorded["widget_code"]))
        if repository is None:
            git("init", "--quiet", "--initial-branch=main", cwd=staged)
            commit_all(staged, f"Generate {recorded['widget_code']} with kommo-scaffold "
                               f"{ref.version}")
        interrupt.pause("new-before-move")
        with interrupt.critical():
            _move_into_place(staged, dest)
            interrupt.changed()
    except OSError as error:
        raise ScaffoldError(f"Cannot write {error.filename or dest}: {error.strerror}; "
                            "nothing was created") from error
    return recorded
