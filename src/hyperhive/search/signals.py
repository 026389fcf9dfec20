"""SIGINT/SIGTERM handling: the first signal asks the search to stop cleanly."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class StopFlag:
    """Set by a signal handler; the loop checks it between events."""

    def __init__(self) -> None:
        self.signal: str | None = None
        self.count = 0

    def __bool__(self) -> bool:
        return self.signal is not None


@contextlib.contextmanager
def stop_on_signals(flag: StopFlag) -> Iterator[StopFlag]:
    """While active (main thread only), SIGINT and SIGTERM set ``flag``.

    A second SIGINT raises KeyboardInterrupt at once, for a user who wants out now.
    """
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: object) -> None:
        flag.signal = signal.Signals(signum).name
        flag.count += 1
        if signum == signal.SIGINT and flag.count > 1:
            raise KeyboardInterrupt

    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, handler)
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)
