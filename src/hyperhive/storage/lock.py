"""One driver per run: a lock on a file in the run directory that the operating system
releases when its holder dies.

:class:`DriverLock` holds an exclusive ``flock`` on ``<run>/driver.lock`` for as long
as the driver runs the search, with the holder's host, pid and start time written
into the file. The lock belongs to the open file, not to the file's existence: when
the holder ends in any way (a return, an exception, ``kill -9``, a crash of the
machine) the kernel drops it, so there is never a stale lock to clean up by hand,
and the file itself stays (removing it could race with a new holder). A second
driver that finds the lock taken gets :class:`RunLockedError`, which names the
holder. Readers (``hh.load``, ``hyperhive status``) and decentralized peers never
take it.

On Linux, ``flock`` over NFS (since kernel 2.6.12) is mapped to a POSIX byte-range
lock that the server arbitrates, so two drivers on different nodes of a cluster that
share the run directory also exclude each other. Forked children (workers started
with the ``fork`` method) close their copy of the lock's file at once, so a worker
that outlives a killed driver does not keep the run locked. On a file system that
cannot lock at all (Lustre mounted without ``flock``, some FUSE mounts) the driver logs
a warning and runs unguarded rather than not at all.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from hyperhive.errors import UsageError

__all__ = ["DriverLock", "RunLockedError"]

logger = logging.getLogger("hyperhive")

#: errno values of a file system that cannot lock (e.g. Lustre mounted without ``flock``)
_UNSUPPORTED = {
    getattr(errno, name)
    for name in ("ENOLCK", "EOPNOTSUPP", "ENOTSUP", "ENOSYS", "EINVAL")
    if hasattr(errno, name)
}

_held: weakref.WeakSet[DriverLock] = weakref.WeakSet()
_held_guard = threading.Lock()


class RunLockedError(UsageError, RuntimeError):
    """Another driver holds the run directory.

    Attributes:
        path: the lock file.
        holder: what the holder wrote into it (``host``, ``pid``, ``since``), or an
            empty dict when it could not be read.
    """

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        self.path, self.holder = path, holder
        host, pid = holder.get("host"), holder.get("pid")
        who = f"pid {pid} on host {host}" if pid is not None else "another process"
        since = holder.get("since_utc")
        when = f" since {since}" if since else ""
        super().__init__(
            f"run directory {str(path.parent)!r} is already driven by {who}{when} "
            f"(it holds {path.name}); wait for that search to end or stop it, "
            "or use another run_dir"
        )


def _close_in_child() -> None:
    """In a forked child, close the copies of held locks (the parent keeps its lock)."""
    for lock in list(_held):
        lock._forget()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


class DriverLock:
    """An exclusive, non-blocking lock on a file, released by the OS when its holder dies.

    Args:
        path: the lock file (its folder must exist; the file is created if missing).

    Use :meth:`acquire` and :meth:`release` (or ``with DriverLock(path):``).
    :meth:`acquire` on a lock this object already holds does nothing, and so does
    :meth:`release` on one it does not hold.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock and write this process's host and pid into the file.

        Raises:
            RunLockedError: another holder has it (named in the message).
            OSError: the file cannot be opened (a missing or read-only folder).
        """
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            try:
                locked = _try_lock(fd)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED:
                    raise
                logger.warning(
                    "the file system of %s cannot lock files (%s): one driver per run is "
                    "not enforced there; do not start a second search on it",
                    self.path.parent,
                    exc.strerror or exc,
                )
                locked = True
            if not locked:
                raise RunLockedError(self.path, self._holder_of(fd))
            now = time.time()
            info = {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "since": now,
                "since_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now)),
            }
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(info) + "\n").encode())
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        with _held_guard:
            _held.add(self)

    def release(self) -> None:
        """Give the lock up (the file stays, emptied)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with _held_guard:
            _held.discard(self)
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        finally:
            os.close(fd)  # closing the file drops the lock

    def holder(self) -> dict[str, Any]:
        """What the current holder wrote (host, pid, since), or {} when nobody holds it
        (to find out, this may hold the lock for an instant)."""
        if not self.path.exists():
            return {}
        fd = os.open(self.path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        try:
            try:
                free = self._fd is None and _try_lock(fd)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED:
                    raise
                return {}  # cannot tell: the file system does not lock
            if free:
                return {}
            return self._holder_of(fd) or {"host": None, "pid": None}  # held, not yet named
        finally:
            os.close(fd)  # also drops the probe's lock, if it got one

    def _holder_of(self, fd: int) -> dict[str, Any]:
        # The holder writes its name just after taking the lock: give it a moment.
        for _ in range(20):
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                text = os.read(fd, 4096).decode("utf-8", "replace").strip()
                data = json.loads(text) if text else None
            except (OSError, ValueError):
                data = None
            if isinstance(data, dict):
                return data
            time.sleep(0.01)
        return {}

    def _forget(self) -> None:
        """Close this process's copy of the file without touching the lock (fork child)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> DriverLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        self._forget()

    def __repr__(self) -> str:
        return f"DriverLock({str(self.path)!r}, held={self.held})"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _WINDOWS_BYTE = 1 << 20

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, _WINDOWS_BYTE, os.SEEK_SET)  # a byte past the holder's note
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
