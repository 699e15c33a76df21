"""The interrupt message tells whether the command's result is in place."""

from __future__ import annotations

import os
import signal
import time

import pytest

from kommo_scaffold.plumbing import interrupt


def _signal_self() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(1)  # the handler raises out of this sleep
    pytest.fail("the signal did not arrive")


def test_before_the_result_is_in_place_nothing_changed():
    with pytest.raises(interrupt.Interrupted) as caught, interrupt.handled():
        _signal_self()
    assert caught.value.message == interrupt.NOTHING_CHANGED
    assert caught.value.signum == signal.SIGINT


def test_after_the_result_is_in_place_completed():
    with pytest.raises(interrupt.Interrupted) as caught, interrupt.handled():
        interrupt.changed()
        _signal_self()
    assert caught.value.message == interrupt.COMPLETED


@pytest.mark.parametrize("change", [False, True])
def test_a_signal_held_by_critical_raises_after_it_with_the_right_message(change):
    finished = []
    with (pytest.raises(interrupt.Interrupted) as caught, interrupt.handled(),
          interrupt.critical()):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # held: the block goes on
        if change:
            interrupt.changed()
        finished.append(True)
    assert finished == [True]
    expected = interrupt.COMPLETED if change else interrupt.NOTHING_CHANGED
    assert caught.value.message == expected


def test_each_command_starts_unchanged():
    with interrupt.handled():
        interrupt.changed()
    with pytest.raises(interrupt.Interrupted) as caught, interrupt.handled():
        _signal_self()
    assert caught.value.message == interrupt.NOTHING_CHANGED


def test_handlers_are_restored_after_the_command():
    before = signal.getsignal(signal.SIGINT)
    with interrupt.handled():
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before


def test_sigint_sigterm_and_sighup_share_one_handler():
    """What the signal tests check for one of them at a point holds for the others."""
    assert {signal.SIGINT, signal.SIGTERM, signal.SIGHUP} <= set(interrupt.SIGNALS)
    with interrupt.handled():
        handlers = {signal.getsignal(signum) for signum in interrupt.SIGNALS}
    assert len(handlers) == 1


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_a_signal_as_a_temporary_is_created_leaves_nothing(tmp_path, monkeypatch, kind):
    """The signal arrives the moment mkdir/open returns: Python's tempfile leaves the new
    folder or file behind (shown first); ours removes it."""
    import tempfile

    bare, ours = tmp_path / "bare", tmp_path / "ours"
    bare.mkdir()
    ours.mkdir()
    name = "mkdir" if kind == "folder" else "open"
    real = getattr(os, name)

    def then_signal(*args, **kwargs):
        result = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # the handler runs at the next bytecode
        return result

    monkeypatch.setattr(os, name, then_signal)
    with pytest.raises(interrupt.Interrupted), interrupt.handled():
        (tempfile.mkdtemp if kind == "folder" else tempfile.mkstemp)(dir=bare)
        time.sleep(1)
    assert len(list(bare.iterdir())) == 1  # what tempfile leaves
    with pytest.raises(interrupt.Interrupted), interrupt.handled():
        if kind == "folder":
            with interrupt.temporary_folder("x-", ours):
                pytest.fail("the held signal raises before the block")
        else:
            with interrupt.temporary_file(ours, "x-"):
                pytest.fail("the held signal raises before the block")
    monkeypatch.undo()
    assert list(ours.iterdir()) == []


def test_a_clean_up_that_fails_during_an_interrupt_still_reports_the_interrupt(capsys):
    """A library's temporary folder that cannot be removed while the interrupt goes on (a
    child process still writing into it): the message is the interrupt's, exit 130."""
    import errno

    import typer

    from kommo_scaffold.cli import run as clirun

    def action() -> None:
        try:
            raise interrupt.Interrupted(signal.SIGINT)
        finally:
            raise OSError(errno.ENOTEMPTY, "Directory not empty", ".git")

    with pytest.raises(typer.Exit) as done:
        clirun.run(action)
    assert done.value.exit_code == 130
    assert capsys.readouterr().err.strip() == f"error: {interrupt.NOTHING_CHANGED}"


def test_an_oserror_without_an_interrupt_is_reported_as_itself(capsys):
    import errno

    import typer

    from kommo_scaffold.cli import run as clirun

    def action() -> None:
        raise OSError(errno.EACCES, "Permission denied", "widget/manifest.json")

    with pytest.raises(typer.Exit) as done:
        clirun.run(action)
    assert done.value.exit_code == 1
    assert capsys.readouterr().err.strip() == "error: widget/manifest.json: Permission denied"


def test_an_interrupt_pydantic_turns_into_a_schema_error_is_reported_as_the_interrupt(capsys):
    """Ctrl-C while copier is imported can land in pydantic-core's isinstance() probe, which
    reports it as a SchemaError with no trace of the interrupt: exit 130, the interrupt's
    message, no traceback."""
    import typer
    from pydantic import ConfigDict
    from pydantic.dataclasses import dataclass

    from kommo_scaffold.cli import run as clirun

    class InterruptedProbe(type):
        def __instancecheck__(cls, obj: object) -> bool:
            os.kill(os.getpid(), signal.SIGINT)
            return False

    class Probe(metaclass=InterruptedProbe):
        pass

    def action() -> None:
        # The annotation as an object: this module's postponed (string) annotations would
        # leave pydantic a name it cannot resolve, and no validator to build.
        built = type("Built", (), {"__annotations__": {"field": Probe}})
        dataclass(config=ConfigDict(arbitrary_types_allowed=True))(built)

    with pytest.raises(typer.Exit) as done:
        clirun.run(action)
    assert done.value.exit_code == 130
    assert capsys.readouterr().err.strip() == f"error: {interrupt.NOTHING_CHANGED}"


def test_an_unexpected_error_without_an_interrupt_is_not_mistaken_for_one(
        capsys, monkeypatch, tmp_path):
    """It is reported as a bug (exit 1, its log named), never as an interrupt."""
    import typer

    from kommo_scaffold.cli import run as clirun

    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path))

    def action() -> None:
        raise ValueError("a bug")

    with pytest.raises(typer.Exit) as done:
        clirun.run(action)
    assert done.value.exit_code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: internal error (a bug in kommo-scaffold): ValueError: a bug;")
    assert "interrupted" not in err
    assert len(list((tmp_path / "logs").iterdir())) == 1


def test_an_interrupt_a_check_library_turns_into_its_error_is_not_a_finding(tmp_path, monkeypatch):
    """tree-sitter compiling a query calls back into Python for its regular expressions; a
    Ctrl-C there comes out as "QueryError: ... regular expression error". `kommo check` must
    end as interrupted, not report KS001 and go on."""
    from check_helpers import W

    from kommo_scaffold import check

    def converting(_ctx: object) -> None:
        try:
            _signal_self()
        except KeyboardInterrupt as error:
            raise ValueError("Invalid predicate: regular expression error") from error

    folder = W(tmp_path / "w").build()
    monkeypatch.setitem(check.__dict__, "CHECKS", (converting,))
    with pytest.raises(interrupt.Interrupted), interrupt.handled():
        check.check_path(folder)
    monkeypatch.setitem(check.__dict__, "CHECKS", (lambda _ctx: (_ for _ in ()).throw(
        ValueError("odd input")),))
    with interrupt.handled():
        report = check.check_path(folder)
    assert [f.rule for f in report.findings] == ["KS001"]
