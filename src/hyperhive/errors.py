"""Errors a user can act on.

Every error here names what is wrong and how to recover. The CLI turns a
:class:`UsageError` into one line on stderr and exit code 2 (``--debug`` shows the
traceback). Each class also derives from the built-in exception that fits it, so code
written against ``ValueError`` or ``ConnectionError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "JournalDamagedError",
    "RunMismatchError",
    "StoreUnavailableError",
    "UsageError",
]


class UsageError(Exception):
    """Base class of the errors a user can fix (bad input, a busy or damaged run)."""


class RunMismatchError(UsageError, ValueError):
    """A resume was asked with a space, direction or objectives other than the run's."""


class JournalDamagedError(UsageError, RuntimeError):
    """A run's journal fails its integrity check; the message names the file and the
    recovery (``hyperhive repair RUN_DIR``)."""


class StoreUnavailableError(UsageError, ConnectionError):
    """The store did not answer within the grace period (``store_grace``); everything
    finished before the outage is kept and the run can be resumed."""
