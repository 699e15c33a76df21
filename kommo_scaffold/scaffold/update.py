"""Grow a widget project: add or remove connection areas, take template upgrades.

All three commands are `copier update` underneath (see docs/updating.md):

* add-area / remove-area change only the answers (``locations``, ``panel_locations`` and the
  new area's details) and keep the project's template version (``vcs_ref`` = its ``_commit``);
* update moves the project to the template of the installed kommo-scaffold.

Each runs the same pre-flight first, before anything is touched, so every refusal is one line
and leaves the project exactly as it was. copier's changes are left uncommitted, as plain
``copier update`` leaves them: the summary says how to review and commit them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kommo_scaffold.catalog import areas
from kommo_scaffold.engine import runner, store
from kommo_scaffold.errors import ConflictError, ScaffoldError, UsageError
from kommo_scaffold.plumbing import interrupt, lock
from kommo_scaffold.plumbing.gitutil import git, status_lines
from kommo_scaffold.plumbing.transaction import Changes, Snapshot
from kommo_scaffold.scaffold import answers, locales, logos
from kommo_scaffold.scaffold.generate import images_dir
from kommo_scaffold.scaffold.update_result import UpdateResult

UPGRADE_HINT = ("install it the way you installed this one (from a source checkout: "
                "git pull && pip install .)")
# After a conflict the run is over and its paths are mixed with the merge's: the generic undo.
UNDO_COMMAND = "git reset -q -- . && git checkout -- . && git clean -fdq ."
__all__ = ["UNDO_COMMAND", "UpdateResult", "add_area", "remove_area", "upgrade"]


@dataclass(frozen=True)
class _Project:
    """A project that passed the pre-flight."""

    path: Path
    answers: dict[str, Any]
    tag: str  # the template version it was made or last updated with (_commit)

    @property
    def locations(self) -> list[str]:
        return list(self.answers.get("locations") or [])

    @property
    def panel(self) -> list[str]:
        return list(self.answers.get("panel_locations") or [])

    @property
    def widget_code(self) -> str:
        return str(self.answers.get("widget_code", ""))


def _check_git(project: Path) -> None:
    """A git work tree, the project committed, nothing uncommitted (copier's own rules)."""
    if not git("rev-parse", "--show-toplevel", cwd=project, check=False).strip():
        raise ScaffoldError(f"{project} is not in a git repository, and updates need git to "
                            "merge your edits: run `git init && git add -A && git commit -m "
                            "Widget` there first")
    tracked = git("ls-files", "--", answers.ANSWERS_FILE, cwd=project, check=False).strip()
    if not tracked:
        raise ScaffoldError(f"{project} is not committed to git yet: commit it "
                            "(git add -A && git commit) and run the command again")
    dirty = status_lines(project)
    if dirty:
        names = [line[3:] for line in dirty[:3]]
        more = f" and {len(dirty) - 3} more" if len(dirty) > 3 else ""
        raise ScaffoldError(f"{project} has uncommitted changes ({', '.join(names)}{more}): "
                            "commit or stash your changes first (git stash -u)")


def _check_template_source(recorded: dict[str, Any]) -> str:
    src = recorded.get("_src_path")
    if src != store.STORE_SRC:
        raise ScaffoldError(f"{answers.ANSWERS_FILE} records the template source {src!r}, not "
                            f"kommo-scaffold's store {store.STORE_SRC}: this project was not "
                            "made by kommo-new; update it with plain `copier update` instead")
    tag = recorded.get("_commit")
    version = store.parse_version(str(tag)) if tag else None
    if version is None:
        raise ScaffoldError(f"{answers.ANSWERS_FILE} records no usable template version "
                            f"(_commit: {tag!r}); restore the file from git history")
    # Compare public versions: a dev tag (v0.1.0+dev.2) belongs to the same release.
    from packaging.version import Version

    installed = store.parse_version(store.installed_version())
    if installed is not None and Version(version.public) > Version(installed.public):
        raise ScaffoldError(f"This project uses the template of kommo-scaffold "
                            f"{version.public}, newer than the installed {installed.public}: "
                            f"upgrade kommo-scaffold: {UPGRADE_HINT}")
    return str(tag)


def _preflight(project: Path) -> tuple[_Project, store.TemplateRef]:
    """Refuse, before touching anything, what copier would fail on (or fail on badly)."""
    path = project.expanduser().absolute()
    if not path.is_dir():
        raise UsageError(f"No folder {path}; run inside a widget project or pass -C PATH")
    recorded = answers.read_project_answers(path)
    answers.check_recorded(recorded)
    tag = _check_template_source(recorded)
    _check_git(path)
    ref = store.sync()  # fetches released history first, so older tags arrive here
    if not store.has_tag(tag):
        if "+" in tag:
            hint = ("it comes from a development checkout of kommo-scaffold on another "
                    "machine; run the command there")
        else:
            hint = (f"install a kommo-scaffold release that includes it: {UPGRADE_HINT}")
        raise ScaffoldError(f"The template store {store.STORE_SRC} has no {tag}, the template "
                            f"version this project uses; {hint}")
    return _Project(path, recorded, tag), ref


@contextlib.contextmanager
def _command(project: Path) -> Iterator[None]:
    """Signals handled and the project locked for the whole of a project-changing command."""
    with interrupt.handled():
        path = project.expanduser().absolute()
        if not path.is_dir():
            raise UsageError(f"No folder {path}; run inside a widget project or pass -C PATH")
        if not git("rev-parse", "--show-toplevel", cwd=path, check=False).strip():
            answers.read_project_answers(path)  # not a project: say that first
            _check_git(path)  # raises its one-line message
        with lock.project_lock(path):
            yield


def _personalise_new_logos(project: Path, created: list[str], widget_code: str) -> None:
    """Give logos this update created the widget's colour and initials, like kommo-new does.

    A file copier just created is the template's placeholder, byte for byte; logos that
    already existed (perhaps the user's own) are never touched.
    """
    images = images_dir(project)
    new = {name.removeprefix("widget/images/") for name in created
           if name.startswith("widget/images/")}
    placeholders = {name: (images / name).read_bytes() for name in new
                    if name in logos.ALL_LOGOS}
    if placeholders and widget_code:
        logos.personalise(images, widget_code, placeholders)


def _run_update(project: _Project, data: dict[str, Any], vcs_ref: str, defaults: bool,
                skip_answered: bool, version_to: str, expect_gone: Sequence[str] = (),
                confirm: Callable[[list[str]], bool] | None = None) -> UpdateResult:
    """copier update on a private copy, written back all-or-nothing.

    Files the update deletes that the user had edited are shown to ``confirm`` first (None:
    delete without asking); a no leaves the project unchanged. Conflicts are written like
    any merge result and then raise ConflictError (exit 3).
    """
    with _command(project.path), Snapshot.take(project.path) as snap:
        changes, edited = _update_copy(project, snap, data, vcs_ref, defaults,
                                       skip_answered, expect_gone, confirm)
        snap.write_back(changes)  # from here an interrupt reports the command completed
        interrupt.pause("after-write")
    result = UpdateResult(project.path, version_from=project.tag, version_to=version_to,
                          created=changes.created, modified=changes.modified,
                          deleted=changes.deleted, deleted_edited=edited)
    conflicts = changes.conflicts + [name for name in changes.created if name.endswith(".rej")]
    if conflicts:
        gone = (f"; deleted files you had edited (in git history): {', '.join(edited)}"
                if edited else "")
        raise ConflictError(
            f"The update merged with conflicts in {len(conflicts)} file(s): fix the <<<<<<< "
            f"markers (or .rej hunks), then `git add` and commit{gone}", sorted(set(conflicts)))
    return result


def _update_copy(project: _Project, snap: Snapshot, data: dict[str, Any], vcs_ref: str,
                 defaults: bool, skip_answered: bool, expect_gone: Sequence[str],
                 confirm: Callable[[list[str]], bool] | None) -> tuple[Changes, list[str]]:
    """Run copier in the private copy; (its changes, deleted files the user had edited)."""
    interrupt.pause("before-copier")
    runner.update(snap.copy, data=data, vcs_ref=vcs_ref, defaults=defaults,
                  skip_answered=skip_answered)
    interrupt.pause("after-copier")
    for name in expect_gone:
        # copier deletes what the old render had and the new one has not; make sure,
        # whatever copier version or _skip_if_exists pattern is in play.
        (snap.copy / name).unlink(missing_ok=True)
    _remove_empty_dirs(snap.copy, expect_gone)
    changes = snap.changes()
    recorded = answers.read_project_answers(snap.copy)
    _personalise_new_logos(snap.copy, changes.created, str(recorded.get("widget_code", "")))
    locales.seed_new_locales(snap.copy, changes.created, list(recorded.get("locales") or []))
    edited = _edited_among(project, snap, changes.deleted)
    if edited and confirm is not None and not confirm(edited):
        raise ScaffoldError("Nothing deleted or changed: the project is unchanged")
    return changes, edited


def _edited_among(project: _Project, snap: Snapshot, deleted: list[str]) -> list[str]:
    """Those of ``deleted`` whose contents differ from the template's at the project's version."""
    candidates = [name for name in deleted if name in snap.originals
                  and not snap.originals[name].link]
    if not candidates:
        return []
    old_answers = {k: v for k, v in project.answers.items() if not k.startswith("_")}
    with interrupt.temporary_folder("kommo-scaffold-old-") as tmp:
        old = Path(tmp, "old")
        runner.copy(store.STORE_SRC, old, project.tag, old_answers, defaults=True)
        pristine = _pristine_variants(old, project.widget_code)
    edited = []
    for name in candidates:
        data = (project.path / name).read_bytes()
        if name in snap.crlf:
            data = data.replace(b"\r\n", b"\n")
        if data not in pristine.get(name, set()):
            edited.append(name)
    return edited


def _check_areas(codes: list[str]) -> None:
    if not codes:
        raise UsageError("Name at least one connection area")
    for code in codes:
        if code not in areas.AREA_BY_CODE:
            answers.validate_locations([code])  # raises the catalog's one-line message


def add_area(project: Path, areas_to_add: list[str], panel: bool | None, data: dict[str, Any],
             interactive: bool) -> UpdateResult:
    """Add connection areas, keeping the project's template version and the user's edits.

    ``panel``: True/False puts every added card or list area in the right-hand panel or not;
    None follows the default of new projects (cards yes, lists no)."""
    _check_areas(areas_to_add)
    for key in ("locations", "panel_locations"):
        if key in data:
            raise UsageError(f"-d {key}: name the areas as arguments instead "
                             "(kommo add-area AREA... [--panel|--no-panel])")
    flagged = [areas.AREA_BY_CODE[code] for code in areas_to_add
               if areas.AREA_BY_CODE[code].takes_panel_flag]
    if panel is not None and not flagged:
        raise UsageError(f"--{'' if panel else 'no-'}panel applies to card and list areas "
                         f"only ({', '.join(areas.PANEL_AREAS)})")
    paneled = [area.code for area in flagged
               if (area.panel_by_default if panel is None else panel)]
    with _command(project):
        return _add_area(project, areas_to_add, data, interactive, paneled)


def _add_area(project: Path, areas_to_add: list[str], data: dict[str, Any],
              interactive: bool, paneled: list[str]) -> UpdateResult:
    proj, _ = _preflight(project)
    present = [code for code in areas_to_add if code in proj.locations]
    if present:
        raise UsageError(f"The project already has {', '.join(present)}; nothing to add "
                         "(see its areas in .copier-answers.yml)")
    locations = proj.locations + areas_to_add
    answers.validate_locations(locations)
    panel_locations = proj.panel + paneled
    wanted = {**data, "locations": locations, "panel_locations": panel_locations}
    answers.validate(wanted)
    if "settings_fields" in proj.answers and "settings_fields" not in data:
        answers.validate_settings_fields(proj.answers["settings_fields"], locations)
    result = _run_update(proj, wanted, vcs_ref=proj.tag, defaults=not interactive,
                         skip_answered=interactive, version_to=proj.tag)
    result.areas_added = list(areas_to_add)
    return result


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


def _pristine_variants(render: Path, widget_code: str) -> dict[str, set[bytes]]:
    """Each rendered file's unedited contents: as rendered and, for logos, as personalised."""
    variants = {name: {path.read_bytes()} for name, path in _files(render).items()}
    images = images_dir(render)
    if images.is_dir() and widget_code:
        logos.personalise(images, widget_code,
                          {p.name: p.read_bytes() for p in images.iterdir() if p.is_file()})
        for name, path in _files(render).items():
            variants[name].add(path.read_bytes())
    return variants


def _files_removed(project: _Project, new_answers: dict[str, Any]) -> tuple[list[str],
                                                                            list[str]]:
    """(files the removal deletes, those of them the user edited).

    Rendered exactly as copier does it: the project's answers and the new ones, both at the
    project's template version; what only the old render has, copier deletes.
    """
    old_answers = {k: v for k, v in project.answers.items() if not k.startswith("_")}
    with interrupt.temporary_folder("kommo-remove-") as tmp:
        old, new = Path(tmp, "old"), Path(tmp, "new")
        runner.copy(store.STORE_SRC, old, project.tag, old_answers, defaults=True)
        runner.copy(store.STORE_SRC, new, project.tag, new_answers, defaults=True)
        new_files = _files(new)
        pristine = _pristine_variants(old, project.widget_code)
        gone, edited = [], []
        for name in sorted(pristine):
            target = project.path / name
            if name in new_files or not target.is_file():
                continue
            gone.append(name)
            data = target.read_bytes()
            if data not in pristine[name] and data.replace(b"\r\n", b"\n") not in pristine[name]:
                edited.append(name)
    return gone, edited


def remove_area(project: Path, areas_to_remove: list[str],
                confirm: Callable[[list[str]], bool]) -> UpdateResult:
    """Remove connection areas and their files; ask before deleting files the user edited."""
    _check_areas(areas_to_remove)
    with _command(project):
        return _remove_area(project, areas_to_remove, confirm)


def _remove_area(project: Path, areas_to_remove: list[str],
                 confirm: Callable[[list[str]], bool]) -> UpdateResult:
    proj, _ = _preflight(project)
    absent = [code for code in areas_to_remove if code not in proj.locations]
    if absent:
        raise UsageError(f"The project has no {', '.join(absent)} area; its areas: "
                         f"{', '.join(proj.locations) or 'none'}")
    locations = [c for c in proj.locations if c not in areas_to_remove]
    answers.validate_locations(locations)
    if "settings_fields" in proj.answers:
        answers.validate_settings_fields(proj.answers["settings_fields"], locations)
    wanted: dict[str, Any] = {"locations": locations,
                              "panel_locations": [c for c in proj.panel if c in locations]}
    new_answers = {**{k: v for k, v in proj.answers.items() if not k.startswith("_")},
                   **wanted}
    gone, edited = _files_removed(proj, new_answers)
    notes: list[str] = []
    if areas.WIDGET_HOOK in edited:
        # The last back-end area goes, but the widget's own actions are the user's work:
        # keep the back end they live in (copier recorded no `backend` answer while an
        # area decided).
        wanted[areas.BACKEND_QUESTION] = True
        gone, edited = _files_removed(proj, {**new_answers, **wanted})
        notes.append(f"kept the back end (backend=true) for your actions in "
                     f"{areas.WIDGET_HOOK}; `kommo set backend=false` removes it")
    if edited and not confirm(edited):
        raise ScaffoldError("Nothing removed: the project is unchanged")
    result = _run_update(proj, wanted, vcs_ref=proj.tag, defaults=True, skip_answered=False,
                         version_to=proj.tag, expect_gone=gone)
    result.areas_removed = list(areas_to_remove)
    result.notes = notes
    return result


def _remove_empty_dirs(project: Path, removed: Sequence[str]) -> None:
    for name in removed:
        for parent in (project / name).parents:
            if parent == project or not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()


def upgrade(project: Path, interactive: bool,
            confirm: Callable[[list[str]], bool] | None = None) -> UpdateResult:
    """Move the project to the template of the installed kommo-scaffold.

    Files the newer template no longer has are deleted; those the user edited are shown to
    ``confirm`` first (None: delete them and list them in the summary).
    """
    with _command(project):
        return _upgrade(project, interactive, confirm)


def _upgrade(project: Path, interactive: bool,
             confirm: Callable[[list[str]], bool] | None) -> UpdateResult:
    proj, ref = _preflight(project)
    have, target = store.parse_version(proj.tag), store.parse_version(ref.tag)
    if have is not None and target is not None and have > target:
        raise ScaffoldError(f"This project uses template {proj.tag}, newer than this "
                            f"kommo-scaffold's {ref.tag}: {UPGRADE_HINT}")
    if proj.tag == ref.tag:
        return UpdateResult(proj.path, version_from=proj.tag, version_to=ref.tag)
    return _run_update(proj, {}, vcs_ref=ref.tag, defaults=not interactive,
                       skip_answered=interactive, version_to=ref.tag, confirm=confirm)


