"""What an add-area, remove-area or update did, and the summary the CLI prints."""

from __future__ import annotations

import os
import shlex
import textwrap
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class UpdateResult:
    """What an add-area, remove-area or update changed in the project."""

    project: Path
    version_from: str
    version_to: str
    areas_added: list[str] = field(default_factory=list)
    areas_removed: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    deleted_edited: list[str] = field(default_factory=list)  # among deleted: the user's edits
    notes: list[str] = field(default_factory=list)  # what the command decided, one line each

    @property
    def changed(self) -> bool:
        return bool(self.created or self.modified or self.deleted)

    def _headline(self) -> str:
        if self.areas_added:
            return f"Added {', '.join(self.areas_added)} (template {self.version_to} kept)"
        if self.areas_removed:
            return f"Removed {', '.join(self.areas_removed)} (template {self.version_to} kept)"
        if self.version_from != self.version_to:
            return f"Updated the template from {self.version_from} to {self.version_to}"
        return f"Already at template {self.version_to}; nothing to update"

    def _commit_message(self) -> str:
        if self.areas_added:
            return f"Add {', '.join(self.areas_added)}"
        if self.areas_removed:
            return f"Remove {', '.join(self.areas_removed)}"
        return f"Update template to {self.version_to}"

    def summary(self) -> str:
        lines = [self._headline(), *(f"  {note}" for note in self.notes)]
        for label, names in (("created", self.created), ("modified", self.modified),
                             ("deleted", self.deleted)):
            if names:
                lines.append(textwrap.fill(", ".join(names), width=100,
                                           initial_indent=f"  {label + ':':9} ",
                                           subsequent_indent=" " * 12,
                                           break_on_hyphens=False, break_long_words=False))
        if self.deleted_edited:
            lines.append(f"  deleted files you had edited (still in git history): "
                         f"{', '.join(self.deleted_edited)}")
        if self.changed:
            lines.append("Nothing is committed yet: review with `git status` and `git diff`, "
                         "then commit:")
            lines.append(f"  git add -A {self._project_pathspec()} && "
                         f"git commit -m {shlex.quote(self._commit_message())}")
            lines.append(f"(or undo exactly this, in the project folder: {self.undo_command()})")
        return "\n".join(lines)

    def _project_pathspec(self) -> str:
        """The project folder as seen from where the command ran: ``git add -A`` with it
        stages the whole project (also from a subfolder) and nothing of an enclosing
        repository's other work."""
        try:
            relative = os.path.relpath(self.project.resolve(), Path.cwd().resolve())
        except (OSError, ValueError):  # no current folder, or another drive
            relative = str(self.project)
        return shlex.quote(relative)

    def undo_command(self) -> str:
        """Shell commands that undo this run only (never touching the user's other files)."""
        steps = []
        restore = [*self.modified, *self.deleted]
        if restore:
            steps.append("git checkout HEAD -- " + " ".join(shlex.quote(n) for n in restore))
        if self.created:
            steps.append("rm -f -- " + " ".join(shlex.quote(n) for n in self.created))
        return " && ".join(steps)
