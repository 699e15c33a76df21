"""Command line: parse arguments, call one library function, map errors to one line.

Keep this module light: copier and Pillow are imported inside the library functions, so
`kommo --help` and shell completion stay fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from kommo_scaffold.errors import ConflictError, ScaffoldError

T = TypeVar("T")

app = typer.Typer(
    name="kommo",
    help="Start and grow Kommo (amoCRM) widgets: generate, add areas, check and pack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

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
ProjectOption = Annotated[
    Path,
    typer.Option("-C", "--project", metavar="PATH",
                 help="The widget project (default: the current directory)."),
]


def _fail(message: str, code: int) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def run(action: Callable[[], T]) -> T:
    """Call ``action``; turn expected failures into a one-line message and an exit code."""
    from kommo_scaffold._entry import release_early_guard

    release_early_guard()
    try:
        return action()
    except ConflictError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        for name in error.files:
            typer.echo(f"  conflict: {name}", err=True)
        raise typer.Exit(error.exit_code) from None
    except ScaffoldError as error:
        _fail(str(error), error.exit_code)
    except KeyboardInterrupt as error:
        signum = getattr(error, "signum", 2)
        _fail(getattr(error, "message", "interrupted; nothing was changed"), 128 + signum)
    except OSError as error:  # a safety net: library code reports these itself
        _fail(f"{error.filename or 'a file'}: {error.strerror or error}", 1)
    except RecursionError:
        _fail("a folder is nested too deeply to handle", 1)


def _version_callback(value: bool) -> None:
    if value:
        from kommo_scaffold.store import installed_version

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
    from kommo_scaffold import answers, store

    questions = answers.load_questions(store.templates_dir() / store.TEMPLATE_NAME)
    return answers.parse_data(data or [], data_file, questions)


def new(
    path: Annotated[Path, typer.Argument(metavar="PATH",
                                         help="Folder to create the widget project in.")],
    defaults: Annotated[bool, typer.Option("--defaults", help="Take the default for every "
                                           "question not answered with -d/--data-file.")]
    = False,
    data: DataOption = None,
    data_file: DataFileOption = None,
) -> None:
    """Generate a Kommo widget project (asks for areas and their details)."""

    def action() -> None:
        from kommo_scaffold import generate
        from kommo_scaffold.areas import manifest_location
        from kommo_scaffold.errors import UsageError

        if not defaults and not sys.stdin.isatty():
            raise UsageError("No terminal to ask the questions on: pass --defaults and/or "
                             "-d KEY=VALUE / --data-file")
        created = generate.create(path, _answers_from(data, data_file), defaults=defaults)
        recorded = created.answers
        panel = recorded.get("panel_locations") or []
        where = ", ".join(manifest_location(c, panel) for c in recorded["locations"])
        typer.echo(f"Created widget {recorded['widget_code']} in {created.path} "
                   f"(template {created.template_tag})")
        typer.echo(f"  locations: {where}")
        for warning in created.warnings:
            typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
        typer.echo(f"Next: cd {path} && kommo check && kommo pack")

    run(action)


app.command("new")(new)
# kommo-new is exactly `kommo new`: a one-command app runs that command directly.
new_app = typer.Typer(name="kommo-new", add_completion=False, pretty_exceptions_enable=False,
                      rich_markup_mode=None)
new_app.command()(new)


@app.command("add-area")
def add_area(
    area: Annotated[list[str], typer.Argument(metavar="AREA", help="Connection area(s) to add, "
                                              "e.g. digital_pipeline.")],
    no_panel: Annotated[bool, typer.Option("--no-panel", help="Card/list areas: no block in "
                                           "the right-hand panel (area-0).")] = False,
    defaults: Annotated[bool, typer.Option("--defaults", help="Do not ask; take defaults for "
                                           "the new area's details.")] = False,
    data: DataOption = None,
    project: ProjectOption = Path("."),
) -> None:
    """Add connection areas to a widget project, keeping your edits."""

    def action() -> None:
        from kommo_scaffold import update

        result = update.add_area(project, area, panel=not no_panel,
                                 data=_answers_from(data, None),
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


@app.command("remove-area")
def remove_area(
    area: Annotated[list[str], typer.Argument(metavar="AREA",
                                              help="Connection area(s) to remove.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting "
                                      "files you edited.")] = False,
    project: ProjectOption = Path("."),
) -> None:
    """Remove connection areas and their files from a widget project."""

    def action() -> None:
        from kommo_scaffold import update

        typer.echo(update.remove_area(project, area, confirm=_confirm_deletion(yes)).summary())

    run(action)


@app.command("update")
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
        from kommo_scaffold import update

        result = update.upgrade(project, interactive=not defaults and sys.stdin.isatty(),
                                confirm=_confirm_deletion(yes))
        typer.echo(result.summary())

    run(action)


@app.command("sync-template")
def sync_template() -> None:
    """Write this kommo-scaffold's template into ~/.kommo-scaffold/template (for plain copier)."""

    def action() -> None:
        from kommo_scaffold import store

        ref = store.sync()
        typer.echo(f"{ref.repo} (template {ref.tag})")

    run(action)


@app.command("check")
def check_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A kommo-new project, a widget "
                                         "folder or a widget.zip.")] = Path("."),
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
) -> None:
    """Find what Kommo would reject in a widget, before you upload it."""

    def action() -> int:
        from kommo_scaffold import check

        if output_format not in ("text", "json"):
            raise check.CheckUsageError("--format must be text or json")
        report = check.check_path(path)
        typer.echo(check.format_report(report, output_format), nl=False)
        return report.exit_code(strict=strict)

    code = run(action)
    raise typer.Exit(code)


@app.command("pack")
def pack_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A kommo-new project or a widget "
                                         "folder.")]
    = Path("."),
    output: Annotated[Path | None, typer.Option("-o", "--output", metavar="FILE",
                                                help="Archive to write (default: "
                                                "dist/widget.zip).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Pack even if check finds "
                                        "errors.")] = False,
    bump: Annotated[str | None, typer.Option("--bump", metavar="PART",
                                             help="Raise widget.version first: patch, minor "
                                             "or major.")] = None,
) -> None:
    """Build the upload zip (checks first; the same input gives the same bytes)."""

    def action() -> None:
        from kommo_scaffold import pack

        result = pack.pack(path, output=output, force=force, bump=bump)
        typer.echo(result.summary())

    run(action)


def main() -> None:
    app()


def new_main() -> None:
    new_app(prog_name="kommo-new")
