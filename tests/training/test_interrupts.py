import os
import signal
import threading

import pytest

from vitocc.training.interrupts import deferred_interrupt


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def python_sigint():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_inside_the_block_is_raised_after_it(python_sigint):
    done = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt():
            _ctrl_c()
            done.append("rest of the step")
    assert done == ["rest of the step"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_ctrl_c_no_interrupt_and_handler_restored(python_sigint):
    with deferred_interrupt():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        _ctrl_c()  # the handler works again outside the block


def test_the_installed_handler_is_the_one_called(python_sigint):
    calls = []
    signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    with deferred_interrupt():
        _ctrl_c()
        _ctrl_c()
        assert calls == []
    assert calls == [signal.SIGINT]  # once, after the block


def test_an_exception_inside_the_block_still_restores_the_handler(python_sigint):
    with pytest.raises(ValueError):
        with deferred_interrupt():
            raise ValueError
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_outside_the_main_thread_nothing_changes():
    seen = []

    def body():
        with deferred_interrupt():
            seen.append(signal.getsignal(signal.SIGINT))

    before = signal.getsignal(signal.SIGINT)
    worker = threading.Thread(target=body)
    worker.start()
    worker.join()
    assert seen == [before]
