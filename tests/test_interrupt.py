"""The interrupt message tells whether the command's result is in place."""

from __future__ import annotations

import os
import signal
import time

import pytest

from kommo_scaffold import interrupt


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
