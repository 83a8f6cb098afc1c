"""A function called every few seconds in a background thread while a block runs: a sweep's progress bar,
a helper's heartbeat on its claim."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def every(seconds: float, action: Callable[[], None]) -> Iterator[None]:
    """Call ``action()`` every ``seconds`` until the block ends (not at its start; the thread is joined at
    its end, so no call runs after it)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            action()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
