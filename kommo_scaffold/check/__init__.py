"""`kommo check`: find what Kommo or the browser would reject in a widget before it is uploaded.

Works on a kommo-new project, a plain widget folder (manifest.json at its root) or a zip, and
judges exactly the files `kommo pack` ships (both read the widget with
:mod:`kommo_scaffold.check.reader`). Every rule has a stable ID, a severity and an
explanation (`kommo check --explain KS302`; docs/checker-rules.md is generated from the
registry: ``python -m kommo_scaffold.check --docs``). One module per rule family; what each
connection area needs is read from ``kommo_scaffold.catalog.areas``.

Severities: ``error`` = Kommo would reject the upload or the widget cannot work;
``warning`` = Kommo's public checklist or a likely mistake; ``note`` = fine, but worth
knowing (amoCRM legacy, placeholders).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kommo_scaffold.check.registry import Rule, add_examples, explain, rule

if TYPE_CHECKING:
    from kommo_scaffold.check.context import Context
    from kommo_scaffold.check.reader import (
        JUNK_DIRS,
        CheckUsageError,
        Widget,
        is_junk,
        locate,
        read,
    )
    from kommo_scaffold.check.report import Finding, Report, format_report, summary_line

# Loaded on first use: `kommo check` forks its V8 worker (check.js.worker) as it starts, and
# the sooner the fork, the sooner V8 is ready.
_LAZY = {"Context": "context", "JUNK_DIRS": "reader", "CheckUsageError": "reader",
         "Widget": "reader", "is_junk": "reader", "locate": "reader", "read": "reader",
         "Finding": "report", "Report": "report", "format_report": "report",
         "summary_line": "report"}

KS001 = rule("KS001", "error", "A check could not finish",
             "The checker met input it did not expect and stopped that check; the rest ran.",
             "Fix the other findings first; if this stays, report it with the widget.",
             example="a manifest nested thousands of levels deep")


def _checks() -> tuple[Callable[[Context], None], ...]:
    """The rule families' checks, in order; imported (and their rules registered) once,
    on first use, so that `kommo check --help` and the CLI's start-up do not pay for them."""
    checks: tuple[Callable[[Context], None], ...] | None = globals().get("CHECKS")
    if checks is None:
        from kommo_scaffold.check import (
            backend,
            checklist,
            files,
            i18n,
            images,
            locations,
            manifest,
            scripts,
        )
        from kommo_scaffold.check.examples import EXAMPLES

        add_examples(EXAMPLES)
        checks = (files.check_files, manifest.check_manifest, locations.check_locations,
                  scripts.check_scripts, i18n.check_i18n, images.check_images,
                  backend.check_backend, checklist.check_checklist)
        globals()["CHECKS"] = checks
    return checks


def __getattr__(name: str) -> Any:
    """The names of ``_LAZY``; ``CHECKS`` and the complete ``RULES`` registry, once the rule
    families are loaded."""
    if name in _LAZY:
        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    if name == "CHECKS":
        return _checks()
    if name == "RULES":
        _checks()
        from kommo_scaffold.check.registry import RULES

        return RULES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_widget(widget: Widget, label: str | None = None, page: Any = None) -> Report:
    """Run every check on a widget that was already read. ``page``: a V8 page
    (kommo_scaffold.check.js.engine.Page) made in advance; one is started here otherwise,
    before the other checks run, and closed whatever happens."""
    if page is None and any(name.endswith(".js") for name in widget.data):
        from kommo_scaffold.check.js.engine import new_page

        page = new_page()
    from kommo_scaffold.check.context import Context
    from kommo_scaffold.check.report import Report
    from kommo_scaffold.plumbing import interrupt

    report = Report(path=label or str(widget.root), kind=widget.kind)
    report.files = sorted(widget.sizes)
    report.findings.extend(widget.findings)
    ctx = Context(widget=widget, report=report, page=page)
    try:
        for check in _checks():
            try:
                check(ctx)
            except RecursionError:
                ctx.add(KS001, f"{check.__name__}: input nested too deeply")
            except Exception as error:  # never crash on odd input; say which check gave up
                # A Ctrl-C inside a C extension's call back into Python comes out as that
                # library's error (tree-sitter: "QueryError: ... regular expression error"):
                # the interrupt is what happened.
                interrupted = interrupt.raised()
                if interrupted is not None:
                    raise interrupted from error
                ctx.add(KS001, f"{check.__name__}: {type(error).__name__}: {error}")
    finally:
        if ctx.page is not None:  # the page made here, or the one a check started
            ctx.page.close()
    return report


def check_path(path: Path, page: Any = None, exclude: frozenset[str] = frozenset()) -> Report:
    """Check a kommo-new project, a widget folder or a widget.zip (V8 starts while the files
    are read); ``exclude``: widget-relative files that are not part of the upload."""
    if page is None:
        from kommo_scaffold.check.js.engine import new_page

        page = new_page()
    from kommo_scaffold.check.reader import read

    try:
        widget = read(Path(path), exclude)
    except BaseException:
        page.close()
        raise
    return check_widget(widget, str(path), page)


def explain_or_fail(rule_id: str) -> str:
    """`kommo check --explain RULE`; CheckUsageError (exit 2) for an unknown rule."""
    _checks()
    try:
        return explain(rule_id)
    except KeyError:
        from kommo_scaffold.check.reader import CheckUsageError
        from kommo_scaffold.check.registry import RULES

        raise CheckUsageError(f"no rule {rule_id!r}; rules are KS001 to "
                              f"{max(RULES)} (see `kommo check --help`)") from None


def rules_markdown() -> str:
    _checks()
    from kommo_scaffold.check.docs import rules_markdown as markdown

    return markdown()


__all__ = ["JUNK_DIRS", "RULES", "CheckUsageError", "Context", "Finding", "Report", "Rule",
           "Widget", "check_path", "check_widget", "explain", "explain_or_fail",
           "format_report", "is_junk", "locate", "read", "rules_markdown", "summary_line"]
