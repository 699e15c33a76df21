"""kommo set: change answers of a generated project later, keeping the user's edits.

It is `copier update -d KEY=VALUE` at the project's own template version (the documented
plain-copier equivalent), with kommo-scaffold's pre-flight and refusals (a committed
project, answers checked before anything is touched, all-or-nothing) and two more things:

* endpoints that followed ``backend_url`` keep following it. A project made by the v0.1.0
  template recorded ``dp_webhook_url``/``sms_endpoint`` as ``<backend_url>/dp``; when the
  base URL changes, such a value is reset to empty (= derived again) unless the user sets
  that endpoint in the same command. Templates from v0.2.1 on do this themselves under plain
  copier; a project still at v0.2.0 needs it done here;
* files the new answers delete (a locale dropped) are listed, and edited ones need a yes.

The update machinery is ``update._preflight``, ``update._files_removed`` and
``update._run_update``, used only here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kommo_scaffold.catalog import areas, languages
from kommo_scaffold.engine import store
from kommo_scaffold.errors import ScaffoldError, UsageError
from kommo_scaffold.scaffold import answers, update

# Answers that have their own commands, which also handle the areas' files.
AREA_KEYS = ("locations",)


@dataclass
class SetResult(update.UpdateResult):
    """An update that changed answers (and kept the template version)."""

    answers_changed: dict[str, Any] = field(default_factory=dict)

    def _headline(self) -> str:
        keys = ", ".join(self.answers_changed)
        return f"Changed {keys} (template {self.version_to} kept)"

    def _commit_message(self) -> str:
        return f"Change {', '.join(self.answers_changed)}"


def parse_pairs(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE arguments, typed by the installed template's questions."""
    if not pairs:
        raise UsageError("Name at least one answer to change, e.g. kommo set "
                         "backend_url=https://api.example.com/kommo")
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"{pair!r}: write answers as KEY=VALUE, e.g. "
                             "'locales=[en, ru]'")
    questions = answers.load_questions(store.templates_dir() / store.TEMPLATE_NAME)
    data = answers.parse_data(pairs, None, questions)
    if languages.LANGUAGE_QUESTION in data:
        raise UsageError(f"{languages.LANGUAGE_QUESTION}: a project keeps the language it was "
                         "made with (its sources differ file by file); make a new project "
                         "with kommo-new -d language=... and move your code over")
    for key in AREA_KEYS:
        if key in data:
            raise UsageError(f"{key}: change the areas with `kommo add-area` and "
                             "`kommo remove-area`, which also handle their files")
    return data


def _check_areas_have(keys: list[str], locations: list[str], backend: bool) -> None:
    """Per-area answers only for areas the project has (copier would ignore them)."""
    owners: dict[str, list[str]] = {}
    for area in areas.AREAS:
        for key in area.questions:
            owners.setdefault(key, []).append(area.code)
    if "backend_url" in keys and not areas.has_backend(locations, backend):
        raise UsageError("backend_url belongs to the back end, which this project does not "
                         "have: add it in the same command with backend=true")
    for key in keys:
        if key in owners and not set(owners[key]) & set(locations):
            raise UsageError(f"{key} belongs to {' or '.join(owners[key])}, which this "
                             "project does not have (add it with `kommo add-area`)")


def _check_backend(wanted: Any, locations: list[str]) -> None:
    """backend=true where an area already brings the back end changes nothing: say so
    (backend=false there is refused by answers.validate)."""
    needed = areas.backend_needed_by(locations)
    if wanted is True and needed:
        raise UsageError(f"backend: the project already has the back end ({', '.join(needed)} "
                         "needs it); nothing to change")


def _follow_backend_url(recorded: dict[str, Any], wanted: dict[str, Any],
                        template_tag: str) -> dict[str, Any]:
    """Endpoints still at the old <backend_url>/<route> follow the new backend_url."""
    if "backend_url" not in wanted:
        return {}
    keys = [key for key in answers.derived_endpoints(recorded) if key not in wanted]
    version = store.parse_version(template_tag)
    if version is None or version.release >= (0, 2):
        return dict.fromkeys(keys, "")  # empty: derived from backend_url by the template
    # The v0.1.0 template has no empty form: the endpoint gets its new derived value.
    base = str(wanted["backend_url"]).rstrip("/")
    return {key: base + answers.DERIVED_ENDPOINTS[key] for key in keys}


def set_answers(project: Path, pairs: list[str],
                confirm: Callable[[list[str]], bool]) -> SetResult:
    """Change the answers in ``pairs`` (KEY=VALUE) and re-render the project."""
    data = parse_pairs(pairs)
    proj, _ = update._preflight(project)
    recorded = {k: v for k, v in proj.answers.items() if not k.startswith("_")}
    backend = data.get(areas.BACKEND_QUESTION, recorded.get(areas.BACKEND_QUESTION))
    _check_areas_have(list(data), proj.locations, backend is True)
    answers.validate({**data, "locations": proj.locations})
    _check_backend(data.get(areas.BACKEND_QUESTION), proj.locations)
    # A project made without the question (or with no) has no back end of its own.
    current = {areas.BACKEND_QUESTION: False, **recorded}
    changed = {key: value for key, value in data.items() if current.get(key) != value}
    if not changed:
        raise UsageError(f"The project already has these answers ({', '.join(data)}); "
                         "nothing to change")
    wanted = {**changed, **_follow_backend_url(recorded, changed, proj.tag)}
    gone, edited = update._files_removed(proj, {**recorded, **wanted})
    if edited and not confirm(edited):
        raise ScaffoldError("Nothing changed: the project is unchanged")
    result = update._run_update(proj, wanted, vcs_ref=proj.tag, defaults=True,
                                skip_answered=False, version_to=proj.tag, expect_gone=gone)
    return SetResult(result.project, result.version_from, result.version_to,
                     created=result.created, modified=result.modified,
                     deleted=result.deleted, answers_changed=changed)
