"""Command-line values coerced without pydantic, so `kommo check` starts fast.

Typer 0.29 builds a pydantic TypeAdapter for every ``str``, ``Path`` and enum parameter.
Importing pydantic alone costs more than the whole of ``kommo check`` on a generated widget
(about 0.15 s of a 0.5 s run), and copier is not needed by check, pack or dev. Here the same
values are coerced by Typer's own choice and path functions. Where Typer's internals are not
as expected (another Typer release), ``light_runtime_param`` gives None and Typer's own
coercion runs: slower, never wrong.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Any, get_args, get_origin

try:
    from typer._click.exceptions import BadParameter
    from typer._coercion import (
        RuntimeParam,
        TypeDescriptor,
        build_runtime_param,
        resolve_type_descriptor,
    )
    from typer._param_types import coerce_cli_choice, coerce_cli_path

    TYPER_INTERNALS = True
except ImportError:  # pragma: no cover - another Typer release: Typer's own coercion
    RuntimeParam = object  # type: ignore[assignment, misc]
    TYPER_INTERNALS = False


def _is_list(annotation: Any) -> bool:
    origin: Any = get_origin(annotation)
    return origin is list


class _LightCoercion(RuntimeParam):
    """Typer's coercion of ``str``, ``Path``, ``bool`` and enum values, minus pydantic."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if _is_list(self.annotation):
            item = get_args(self.annotation)[0]
            return [self._one(v, item, param, ctx) for v in value]
        return self._one(value, self.annotation, param, ctx)

    def _one(self, value: Any, annotation: Any, param: Any, ctx: Any) -> Any:
        if annotation is bool and isinstance(value, bool):
            return value
        if annotation is bool:  # a flag given a string: Typer's own rules
            typer_rules = build_runtime_param(resolve_type_descriptor(bool, self.parameter_info))
            return typer_rules.coerce(value, param=param, ctx=ctx)
        if isinstance(value, bytes):
            value = os.fsdecode(value)
        if annotation is str:
            return str(value)
        if annotation is Path:
            return coerce_cli_path(Path(value), self.parameter_info, path_type=Path,
                                   param=param, ctx=ctx)
        try:
            return coerce_cli_choice(value, choices=tuple(annotation),
                                     case_sensitive=self.parameter_info.case_sensitive,
                                     ctx=ctx)
        except ValueError as error:
            raise BadParameter(str(error), ctx=ctx, param=param) from None


def light_runtime_param(described: TypeDescriptor) -> RuntimeParam | None:
    """A pydantic-free coercion for ``described``, or None: Typer's own then."""
    if not TYPER_INTERNALS:
        return None  # pragma: no cover
    annotation: Any = described.annotation
    if _is_list(annotation):
        (annotation,) = get_args(annotation)
    plain = annotation in (str, Path, bool) or (isinstance(annotation, type)
                                                and issubclass(annotation, enum.Enum))
    if not plain or described.parameter_info.parser is not None:
        return None
    return _LightCoercion(parameter_info=described.parameter_info,
                          annotation=described.annotation)

