"""Command line: parse arguments, call one library function, map errors to one line.

Keep this module light: copier and Pillow are imported inside the library functions, so
`kommo --help` and shell completion stay fast.
"""

from __future__ import annotations

import enum
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from kommo_scaffold.cli.helpformat import HELP_OPTIONS, PlainCommand, PlainGroup
from kommo_scaffold.cli.run import run
from kommo_scaffold.errors import EXIT_CODES
from kommo_scaffold.plumbing import projectroot as project_root

EXIT_CODES_HELP = "Exit codes:\n\n\b\n" + "\n".join(f"  {code:<3}  {meaning}"
                                                   for code, meaning in EXIT_CODES)

app = typer.Typer(
    name="kommo",
    cls=PlainGroup,
    help="Start and grow Kommo (amoCRM) widgets: generate, add areas, check and pack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=HELP_OPTIONS,
    epilog=EXIT_CODES_HELP,
)


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


class BumpPart(enum.StrEnum):
    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"

DataOption = Annotated[
    list[str] | None,
    typer.Option("--data", "-d", metavar="KEY=VALUE",
                 help="An answer, as in copier (lists in YAML: -d 'locations=[lcard, settings]')."
                      " Repeatable."),
]
DataFileOption = Annotated[
    Path | None,
    typer.Option("--data-file", metavar="FILE", help="A YAML file of answers; -d wins over it."),
]
AreaDataOption = Annotated[
    list[str] | None,
    typer.Option("--data", "-d", metavar="KEY=VALUE",
                 help="An answer to the new area's questions, e.g. -d "
                      "sms_endpoint=https://api.example.com/sms. Repeatable."),
]
ProjectOption = Annotated[
    Path,
    typer.Option("-C", "--project", metavar="PATH", show_default=False,
                 help="Run as if started in PATH (default: the current folder); the "
                      "project is found there or in a parent folder."),
]


def _quote(path: Path | str) -> str:
    """A path as the user would type it in a POSIX shell."""
    return shlex.quote(str(path))


def _project(path: Path) -> Path:
    """The project containing ``path`` (like git, from any folder inside it)."""
    return project_root.require_root(path)


def _version_callback(value: bool) -> None:
    if value:
        from kommo_scaffold.engine.store import installed_version

        typer.echo(f"kommo-scaffold {installed_version()}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback,
                                          is_eager=True, help="Show the version and exit.")]
    = False,
) -> None:
    """Start and grow Kommo (amoCRM) widgets: generate, add areas, check and pack."""


def _answers_from(data: list[str] | None, data_file: Path | None) -> dict[str, Any]:
    if not data and data_file is None:
        return {}  # nothing to type-check: skip parsing copier.yml
    from kommo_scaffold.engine import store
    from kommo_scaffold.scaffold import answers

    questions = answers.load_questions(store.templates_dir() / store.TEMPLATE_NAME)
    return answers.parse_data(data or [], data_file, questions)


VersionOption = Annotated[
    bool,
    typer.Option("--version", callback=_version_callback, is_eager=True,
                 help="Show the version and exit."),
]


def new(
    path: Annotated[Path, typer.Argument(metavar="PATH",
                                         help="Folder to create the widget project in.")],
    defaults: Annotated[bool, typer.Option("--defaults", help="Take the default for every "
                                           "question not answered with -d/--data-file.")]
    = False,
    data: DataOption = None,
    data_file: DataFileOption = None,
    version: VersionOption = False,
) -> None:
    """Generate a Kommo widget project (asks for areas and their details).

    Without a terminal, every question must be answered by -d/--data-file, or --defaults
    given. Inside a git repository the project becomes a folder of it (nothing committed);
    elsewhere it is a new repository with one commit.
    """

    def action() -> None:
        from kommo_scaffold.engine import store
        from kommo_scaffold.plumbing import interrupt
        from kommo_scaffold.scaffold import generate, prompts

        given = _answers_from(data, data_file)
        take_defaults = defaults or prompts.nothing_to_ask(
            given, store.templates_dir() / store.TEMPLATE_NAME, terminal=sys.stdin.isatty())
        with prompts.recording(given) as recorder:
            try:
                created = generate.create(path, given, defaults=take_defaults)
            except KeyboardInterrupt as error:
                if getattr(error, "message", None) == interrupt.COMPLETED:
                    raise  # the project was made: nothing to resume, and it says so
                saved = recorder.save_for_resume()
                resume = (f"; to go on from here: kommo-new {_quote(path)} --data-file "
                          f"{_quote(saved)}" if saved else "")
                # The signal's own exit code (130, 143, 129) is kept.
                raise interrupt.Interrupted(getattr(error, "signum", signal.SIGINT),
                                            f"interrupted; nothing was created{resume}") from None
        typer.echo(created.summary(path))
        for warning in created.warnings:
            typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
        _drop_resume_file(data_file)

    run(action)


def _drop_resume_file(data_file: Path | None) -> None:
    """The answers file an interrupted kommo-new left to resume from (written by
    prompts.Recorder.save_for_resume: its name and first line) has done its job once the
    project is made; any other data file is the user's and stays."""
    if data_file is None or not (data_file.name.startswith("kommo-new-answers-")
                                 and data_file.suffix == ".yml"):
        return
    import contextlib

    with contextlib.suppress(OSError), data_file.open(encoding="utf-8", errors="replace") as f:
        if not f.readline().startswith("# Answers given before the interruption;"):
            return
    with contextlib.suppress(OSError):
        data_file.unlink()


app.command("new", cls=PlainCommand)(new)
# kommo-new is exactly `kommo new`: a one-command app runs that command directly.
new_app = typer.Typer(name="kommo-new", add_completion=False, pretty_exceptions_enable=False,
                      rich_markup_mode=None, context_settings=HELP_OPTIONS)
new_app.command(cls=PlainCommand)(new)


ADD_AREA_EXAMPLES = """Examples:

\b
  kommo add-area digital_pipeline
  kommo add-area ccard llist
  kommo add-area llist --panel
  kommo add-area sms --defaults -d sms_endpoint=https://api.example.com/sms
  kommo add-area salesbot_designer && git add -A && git commit -m "Add Salesbot step"
"""


@app.command("add-area", cls=PlainCommand, epilog=ADD_AREA_EXAMPLES)
def add_area(
    area: Annotated[list[str], typer.Argument(metavar="AREA", help="Connection area(s) to add, "
                                              "e.g. digital_pipeline.")],
    panel: Annotated[bool | None, typer.Option(
        "--panel/--no-panel", show_default=False,
        help="Card/list areas: a block in the right-hand panel (-1) or code only (-0). "
             "Default: cards -1, lists -0.")] = None,
    defaults: Annotated[bool, typer.Option("--defaults", help="Do not ask; take defaults for "
                                           "the new area's details.")] = False,
    data: AreaDataOption = None,
    project: ProjectOption = Path("."),
) -> None:
    """Add connection areas to a widget project, keeping your edits."""

    def action() -> None:
        from kommo_scaffold.scaffold import prompts, update

        root = _project(project)
        given = _answers_from(data, None)
        with prompts.recording(given):
            result = update.add_area(root, area, panel=panel, data=given,
                                     interactive=not defaults and sys.stdin.isatty())
        typer.echo(result.summary())

    run(action)


def _confirm_deletion(yes: bool) -> Callable[[list[str]], bool]:
    """Ask before deleting files the user edited (--yes: list them and go on)."""

    def confirm(edited: list[str]) -> bool:
        typer.echo("These files you edited will be deleted (they stay in git history):")
        for name in edited:
            typer.echo(f"  {name}")
        if yes:
            return True
        if not sys.stdin.isatty():
            from kommo_scaffold.errors import ScaffoldError

            raise ScaffoldError("Not deleting edited files without confirmation; pass --yes "
                                "(nothing was changed)")
        return typer.confirm("Delete them?", default=False)

    return confirm


@app.command("remove-area", cls=PlainCommand)
def remove_area(
    area: Annotated[list[str], typer.Argument(metavar="AREA",
                                              help="Connection area(s) to remove.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting "
                                      "files you edited.")] = False,
    project: ProjectOption = Path("."),
) -> None:
    """Remove connection areas and their files from a widget project."""

    def action() -> None:
        from kommo_scaffold.scaffold import update

        typer.echo(update.remove_area(_project(project), area,
                                      confirm=_confirm_deletion(yes)).summary())

    run(action)


@app.command("set", cls=PlainCommand)
def set_command(
    answer: Annotated[list[str], typer.Argument(metavar="KEY=VALUE",
                                                help="Answers to change, e.g. backend_url=https:"
                                                "//api.example.com 'locales=[en, ru]'.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting "
                                      "files you edited.")] = False,
    project: ProjectOption = Path("."),
) -> None:
    """Change answers of a widget project (same template version), keeping your edits."""

    def action() -> None:
        from kommo_scaffold.scaffold import reanswer

        typer.echo(reanswer.set_answers(_project(project), answer,
                                        confirm=_confirm_deletion(yes)).summary())

    run(action)


@app.command("update", cls=PlainCommand)
def update_command(
    defaults: Annotated[bool, typer.Option("--defaults", help="Do not ask; take defaults for "
                                           "new questions.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting "
                                      "files you edited that the newer template drops.")]
    = False,
    project: ProjectOption = Path("."),
) -> None:
    """Upgrade a widget project to the template of this kommo-scaffold, keeping your edits."""

    def action() -> None:
        from kommo_scaffold.scaffold import prompts, update

        root = _project(project)
        with prompts.recording({}):
            result = update.upgrade(root, interactive=not defaults and sys.stdin.isatty(),
                                    confirm=_confirm_deletion(yes))
        typer.echo(result.summary())

    run(action)


@app.command("sync-template", cls=PlainCommand)
def sync_template() -> None:
    """Write this kommo-scaffold's template into ~/.kommo-scaffold/template (for plain copier)."""

    def action() -> None:
        from kommo_scaffold.engine import store

        ref = store.sync()
        typer.echo(f"{ref.repo} (template {ref.tag})")

    run(action)


@app.command("check", cls=PlainCommand)
def check_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", show_default=False,
                                         help="A folder of a kommo-new project, a widget "
                                         "folder or a widget.zip (default: the project "
                                         "around the current folder).")] = Path("."),
    output_format: Annotated[OutputFormat, typer.Option("--format", help="Report format.")]
    = OutputFormat.TEXT,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    explain: Annotated[str | None, typer.Option("--explain", metavar="RULE",
                                                help="Explain a rule (e.g. KS302) and "
                                                "exit.")] = None,
) -> None:
    """Find what Kommo would reject in a widget, before you upload it."""

    def action() -> int:
        from kommo_scaffold import check

        if explain is not None:
            typer.echo(check.explain_or_fail(explain), nl=False)
            return 0
        from kommo_scaffold.typescript import verdict

        report = verdict.check(project_root.widget_target(path))
        typer.echo(check.format_report(report, output_format.value), nl=False)
        return report.exit_code(strict=strict)

    code = run(action)
    raise typer.Exit(code)


@app.command("pack", cls=PlainCommand)
def pack_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", show_default=False,
                                         help="A folder of a kommo-new project or a widget "
                                         "folder (default: the project around the current "
                                         "folder).")]
    = Path("."),
    output: Annotated[Path | None, typer.Option("-o", "--output", metavar="FILE",
                                                help="Archive to write (default: the "
                                                "project's dist/widget.zip).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Pack even if check finds "
                                        "errors.")] = False,
    bump: Annotated[BumpPart | None, typer.Option("--bump",
                                                  help="Raise widget.version first.")] = None,
    source_map: Annotated[bool, typer.Option("--source-map",
                                             help="TypeScript projects: ship "
                                             "widget/script.js.map too.")] = False,
) -> None:
    """Build the upload zip (checks first; the same input gives the same bytes)."""

    def action() -> None:
        from kommo_scaffold.typescript import verdict

        result = verdict.pack(project_root.widget_target(path), output=output, force=force,
                              bump=bump.value if bump else None, source_map=source_map)
        typer.echo(result.summary())

    run(action)


@app.command("dev", cls=PlainCommand)
def dev_command(
    port: Annotated[int, typer.Option("--port", min=1, max=65535,
                                      help="Port on 127.0.0.1.")] = 9000,
    project: ProjectOption = Path("."),
    api: Annotated[str | None, typer.Option(
        "--api", metavar="URL",
        help="Forward the preview's API calls to this account (https://SUBDOMAIN.kommo.com), "
             "with the long-lived token in KOMMO_API_TOKEN.")] = None,
) -> None:
    """Serve the widget to a Kommo tab and a local preview; reload on every save."""

    def action() -> None:
        from kommo_scaffold.dev import session

        session.run(project, port, echo=typer.echo, api_url=api)

    run(action)


def main() -> None:
    app()


def new_main() -> None:
    new_app(prog_name="kommo-new")
