"""Help output in the plain style of classic Unix tools.

Typer's plain (no rich) help writes required arguments as ``{PATH}``, appends Python types
(``AREA <list[str]>``, ``--format <str>``) and cuts command summaries at about 45 characters.
These classes keep Typer's parsing and write usage the way man pages do: ``PATH``,
``[PATH]``, ``AREA...``, ``--format [text|json]``, and whole one-line summaries. Their
parameters coerce plain values without pydantic (:mod:`kommo_scaffold.cli.coerce`).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from kommo_scaffold.cli.coerce import light_runtime_param

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


class _PlainArgument(TyperArgument):
    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if self.nargs != 1:
            name += "..."
        return name if self.required else f"[{name}]"

    def _rich_display_name(self) -> str:
        return self._usage_display_name()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the name and the help say what to give; no Python type names


class _PlainOption(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar
        described = getattr(self, "type_descriptor", None)
        if described is not None and described.is_choice and described.choices:
            return "[" + "|".join(str(getattr(c, "value", c)) for c in described.choices) + "]"
        return self.name.upper() if self.name else None


def _plain(param: Any) -> Any:
    """A Typer parameter as one of the plain classes above, coercing without pydantic."""
    if isinstance(param, TyperArgument):
        param.__class__ = _PlainArgument
    elif isinstance(param, TyperOption):
        param.__class__ = _PlainOption
    else:
        return param
    if param._runtime_param is None:
        param._runtime_param = light_runtime_param(param.type_descriptor)
    return param


class PlainCommand(TyperCommand):
    """A command whose help reads like a man page (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params = [_plain(param) for param in self.params]

    def get_help_option(self, ctx: Any) -> Any:
        return _plain(super().get_help_option(ctx))


class PlainGroup(TyperGroup):
    """A command group that lists each command's whole first sentence."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params = [_plain(param) for param in self.params]

    def get_help_option(self, ctx: Any) -> Any:
        return _plain(super().get_help_option(ctx))

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
