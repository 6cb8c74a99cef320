"""Hold Ctrl-C back for the length of a block, so that a step and its bookkeeping land together."""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Run the block with SIGINT held back; a Ctrl-C that came meanwhile reaches the handler after it.

    Without this, an interrupt between an optimiser step, its step count and its log line saves
    a checkpoint whose step the log never saw. The handler in place (Python's, which raises
    KeyboardInterrupt, or the CLI's) runs once the block is done. Outside the main thread, or
    where SIGINT has no Python handler (ignored in a background job), it changes nothing.
    """
    handler = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(handler):
        yield
        return
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
    if received:
        handler(signal.SIGINT, None)  # a handler's frame may be None (signal module docs)
