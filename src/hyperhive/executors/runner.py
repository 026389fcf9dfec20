"""Worker-side code shared by every executor: run one trial and classify its result."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import socket
import sys
import threading
import time
import traceback as tb
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from hyperhive.executors.base import TrialOutcome, TrialTask
from hyperhive.trial import Channel, TrialContext, TrialStatus, bind, unbind

HOST = socket.gethostname()


def classify(value: Any) -> tuple[TrialStatus, dict[str, Any]]:
    """Turn what an objective returned into a status and outcome fields.

    A float (or int), a sequence of floats, or a mapping with an ``objective`` key
    (float or sequence), an optional ``constraints`` sequence and any other keys as
    metadata. NaN, infinite and wrong-type values make the trial ``failed``.
    """
    fields: dict[str, Any] = {}
    obj = value
    if isinstance(value, Mapping):
        if "objective" not in value:
            return TrialStatus.FAILED, {
                "reason": "objective returned a mapping without an 'objective' key "
                f"(keys: {sorted(map(str, value))})"
            }
        obj = value["objective"]
        meta = {
            str(k): _json_safe(v) for k, v in value.items() if k not in ("objective", "constraints")
        }
        fields["metadata"] = meta
        if value.get("constraints") is not None:
            cons = value["constraints"]
            if not isinstance(cons, Sequence) or isinstance(cons, str | bytes):
                cons = [cons]
            try:
                fields["constraints"] = tuple(float(c) for c in cons)
            except (TypeError, ValueError):
                return TrialStatus.FAILED, {
                    **fields,
                    "reason": f"constraints must be a sequence of floats, got {cons!r}",
                }
    parsed = _as_objective(obj)
    if isinstance(parsed, str):
        return TrialStatus.FAILED, {**fields, "reason": parsed}
    fields["objective"] = parsed
    return TrialStatus.DONE, fields


def _as_objective(obj: Any) -> float | tuple[float, ...] | str:
    """A float or tuple of floats, or a string saying why not."""
    if isinstance(obj, bool) or obj is None:
        return (
            f"objective returned {type(obj).__name__} {obj!r}; expected a float, "
            "a sequence of floats or a mapping with an 'objective' key"
        )
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    if isinstance(obj, int | float):
        try:
            f = float(obj)
        except OverflowError:
            return f"objective returned an integer too large for a float ({obj})"
        if not math.isfinite(f):
            return f"objective returned a non-finite value ({f})"
        return f
    if isinstance(obj, Sequence) or hasattr(obj, "__array__"):
        if isinstance(obj, str | bytes):
            return (
                f"objective returned {type(obj).__name__} {obj!r}; expected a float, "
                "a sequence of floats or a mapping with an 'objective' key"
            )
        try:
            vals = tuple(float(v) for v in list(obj))
        except (TypeError, ValueError, OverflowError):
            return f"objective returned {obj!r}, which is not a sequence of floats"
        if not vals:
            return "objective returned an empty sequence"
        if not all(math.isfinite(v) for v in vals):
            return f"objective returned a non-finite value ({list(vals)})"
        return vals
    return (
        f"objective returned {type(obj).__name__} {obj!r}; expected a float, "
        "a sequence of floats or a mapping with an 'objective' key"
    )


def _json_safe(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        if hasattr(value, "tolist"):
            return value.tolist()
        return repr(value)


def run_trial(
    objective: Callable[[dict[str, Any]], Any],
    task: TrialTask,
    channel: Channel | None,
    *,
    worker: str,
    capture: str | None = None,
    interrupt: bool = True,
) -> TrialOutcome:
    """Run ``objective`` on one task, bound to its trial context, and classify the result.

    A trial that runs past ``task.timeout`` is marked ``timeout`` when it returns
    (executors that can end a running trial pass a task without a timeout and
    enforce it themselves).

    Args:
        objective: the user's function.
        task: what to run.
        channel: carries ``hh.report`` values and stop requests.
        worker: a name for the worker slot, recorded on the trial.
        capture: ``"fd"`` redirects file descriptors 1 and 2 to the trial's artifact
            folder (for a worker process of its own), ``"proxy"`` redirects
            ``sys.stdout``/``sys.stderr`` per thread, None captures nothing.
        interrupt: re-raise a ``KeyboardInterrupt`` raised in the main thread (so that
            Ctrl-C reaches the driver when trials run in it) instead of recording it
            as a failure.

    Returns:
        The outcome; failures of the objective are outcomes, never exceptions.
    """
    art = Path(task.artifact_dir) if task.artifact_dir else None
    ctx = TrialContext(
        id=task.trial_id,
        seed=task.seed,
        artifact_dir=art,
        config=dict(task.config),
        channel=channel,
    )
    started = time.time()
    token = bind(ctx)
    try:
        if art is None or capture is None or not task.capture_output:
            value = objective(dict(task.config))
        else:
            with _captured(art, capture):
                value = objective(dict(task.config))
    except BaseException as exc:  # noqa: BLE001 - failure is data
        if (
            interrupt
            and isinstance(exc, KeyboardInterrupt)
            and threading.current_thread() is threading.main_thread()
        ):
            raise
        return TrialOutcome(
            trial_id=task.trial_id,
            status=TrialStatus.FAILED,
            reason=f"{type(exc).__name__}: {exc}",
            traceback=tb.format_exc(),
            started=started,
            finished=time.time(),
            worker=worker,
            host=HOST,
        )
    finally:
        unbind(token)
    finished = time.time()
    try:
        status, fields = classify(value)
        if status == TrialStatus.DONE and ctx.should_stop():
            status = TrialStatus.STOPPED
            fields.setdefault("reason", "stopped early by a stopper")
    except Exception as exc:  # noqa: BLE001 - a value we cannot read is a failure
        status = TrialStatus.FAILED
        fields = {"reason": f"could not read the objective's value: {type(exc).__name__}: {exc}"}
    if task.timeout is not None and finished - started > task.timeout:
        fields.setdefault("metadata", {})["late_objective"] = fields.pop("objective", None)
        status = TrialStatus.TIMEOUT
        fields["reason"] = (
            f"ran {finished - started:.3f} s, past trial_timeout={task.timeout} s "
            "(this executor cannot end a running trial; its value is kept in metadata)"
        )
    return TrialOutcome(
        trial_id=task.trial_id,
        status=status,
        started=started,
        finished=finished,
        worker=worker,
        host=HOST,
        **fields,
    )


# -- output capture -------------------------------------------------------------


@contextlib.contextmanager
def _captured(art: Path | None, mode: str | None) -> Iterator[None]:
    if art is None or mode is None:
        yield
        return
    if mode == "fd":
        with _fd_capture(art):
            yield
        return
    with _proxy_capture(art):
        yield


_scratch: list[int] = []


def _scratch_fds() -> list[int]:
    """Two anonymous files of this process that catch a trial's fd 1 and 2."""
    if not _scratch:
        import tempfile

        for _ in range(2):
            f = tempfile.TemporaryFile()  # noqa: SIM115 - kept for the process's life
            _scratch.append(os.dup(f.fileno()))
            f.close()
    return _scratch


@contextlib.contextmanager
def _fd_capture(art: Path) -> Iterator[None]:
    """Redirect fd 1 and 2 to scratch files; copy what was written to the artifact folder.

    Nothing is created on disk for a trial that prints nothing (the common case),
    which keeps per-trial cost low.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    scratch = _scratch_fds()
    saved = os.dup(1), os.dup(2)
    for fd in scratch:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
    try:
        os.dup2(scratch[0], 1)
        os.dup2(scratch[1], 2)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        for fd, name in zip(scratch, ("stdout.txt", "stderr.txt"), strict=True):
            size = os.lseek(fd, 0, os.SEEK_END)
            if size:
                os.lseek(fd, 0, os.SEEK_SET)
                art.mkdir(parents=True, exist_ok=True)
                with open(art / name, "ab") as out:
                    while chunk := os.read(fd, 1 << 20):
                        out.write(chunk)


class _LazyFile(io.TextIOBase):
    """A text file opened (folder included) on the first write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO | None = None

    def write(self, s: str) -> int:
        if self.file is None:
            if not s:
                return 0
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        return self.file.write(s)

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        super().close()


class _ThreadRouter(io.TextIOBase):
    """A ``sys.stdout`` stand-in that sends each thread's writes to that thread's file."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self.targets: dict[int, TextIO | _LazyFile] = {}

    def _target(self) -> TextIO | _LazyFile:
        return self.targets.get(threading.get_ident(), self.fallback)

    def write(self, s: str) -> int:
        return self._target().write(s)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return False


_router_lock = threading.Lock()
_routers: dict[str, _ThreadRouter] = {}
_router_users = 0


@contextlib.contextmanager
def _proxy_capture(art: Path) -> Iterator[None]:
    global _router_users
    ident = threading.get_ident()
    out = _LazyFile(art / "stdout.txt")
    err = _LazyFile(art / "stderr.txt")
    with _router_lock:
        if _router_users == 0:
            _routers["stdout"] = _ThreadRouter(sys.stdout)
            _routers["stderr"] = _ThreadRouter(sys.stderr)
            sys.stdout = _routers["stdout"]
            sys.stderr = _routers["stderr"]
        _router_users += 1
        _routers["stdout"].targets[ident] = out
        _routers["stderr"].targets[ident] = err
    try:
        yield
    finally:
        with _router_lock:
            _routers["stdout"].targets.pop(ident, None)
            _routers["stderr"].targets.pop(ident, None)
            _router_users -= 1
            if _router_users == 0:
                sys.stdout = _routers["stdout"].fallback
                sys.stderr = _routers["stderr"].fallback
        out.close()
        err.close()
