"""The store contract suite: pytest tests that every :class:`~hyperhive.storage.Store` passes.

Subclass :class:`StoreContract` in a test module and implement :meth:`make_store`::

    class TestMyStore(StoreContract):
        def make_store(self, tmp_path):
            return MyStore(tmp_path / "journal")

Tests that need a capability the store does not declare in
:attr:`Store.capabilities` are skipped with the reason. Override
:meth:`StoreContract.reopen_store` when a store cannot be reopened by calling
:meth:`make_store` again, :meth:`StoreContract.corrupt_last_record` for
``"torn_records"`` stores, and :meth:`StoreContract.store_opener` when pickling
the store does not give other processes a handle to the same journal.

This module needs pytest (the ``test`` extra).
"""

from __future__ import annotations

import functools
import multiprocessing
import random
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperhive.storage.base import CAPABILITIES, Store, StoreWarning
from hyperhive.trial import Report, Trial, TrialStatus, end_event, report_event, submit_event

__all__ = ["StoreContract"]

_SPAWN_TIMEOUT = 120.0
_STATUSES = (TrialStatus.DONE, TrialStatus.FAILED, TrialStatus.DONE, TrialStatus.LOST)


def _same(store: Store) -> Store:
    return store


def _finished(tid: int, objective: Any, **fields: Any) -> dict[str, Any]:
    """An ``end`` event for trial ``tid`` (status done unless given)."""
    trial = Trial(id=tid, config={}, status=TrialStatus.DONE, objective=objective)
    for name, value in fields.items():
        setattr(trial, name, value)
    return end_event(trial)


# -- child processes (module level so that spawn can import them) -------------------------
def _write_trials(
    opener: Callable[[], Store], tag: int, n: int, gate: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    store = opener()
    try:
        gate.wait(_SPAWN_TIMEOUT)
        ids = []
        for i in range(n):
            (tid,) = store.append([submit_event(None, {"writer": tag, "i": i})])
            store.append([_finished(tid, float(i), worker=f"w{tag}")])
            ids.append(tid)
        results.put((tag, ids))
    finally:
        store.close()


def _append_until_killed(
    opener: Callable[[], Store], round_no: int, pipe: Any
) -> None:  # pragma: no cover - runs in a child process
    store = opener()
    pipe.send("ready")
    batch = 0
    while True:
        ids = store.append(
            [submit_event(None, {"round": round_no, "batch": batch, "k": k}) for k in range(3)]
        )
        pipe.send(ids)
        batch += 1


class StoreContract:
    """Tests every store passes; subclass it and implement :meth:`make_store`."""

    # -- hooks -----------------------------------------------------------------------
    def make_store(self, tmp_path: Path) -> Store:
        """A new, empty store (for durable stores: one kept under ``tmp_path``)."""
        raise NotImplementedError

    def reopen_store(self, store: Store, tmp_path: Path) -> Store:
        """Close ``store`` and open the same journal again (durable stores only)."""
        store.close()
        return self.make_store(tmp_path)

    def corrupt_last_record(self, store: Store) -> None:
        """Garble the last committed record in place (``"torn_records"`` stores)."""
        pytest.skip(f"{type(self).__name__} has no corrupt_last_record hook")

    def store_opener(self, store: Store) -> Callable[[], Store]:
        """A picklable callable that opens ``store``'s journal in another process."""
        return functools.partial(_same, store)

    # -- helpers -----------------------------------------------------------------------
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        """The store under test, closed afterwards."""
        s = self.make_store(tmp_path)
        yield s
        s.close()

    @staticmethod
    def require(store: Store, capability: str) -> None:
        """Skip the test unless ``store`` declares ``capability``."""
        if capability not in store.capabilities:
            pytest.skip(f"{type(store).__name__} lacks the {capability!r} capability")

    @staticmethod
    def read_all(store: Store) -> list[tuple[int, dict[str, Any]]]:
        """Every event, failing on any store warning."""
        with warnings.catch_warnings():
            warnings.simplefilter("error", StoreWarning)
            return list(store.events())

    # -- basics ------------------------------------------------------------------------
    def test_empty_store(self, store: Store) -> None:
        assert isinstance(store.capabilities, frozenset) and store.capabilities <= CAPABILITIES
        assert self.read_all(store) == []
        assert store.trials() == {}
        assert store.append([]) == []
        assert self.read_all(store) == []

    def test_append_events_round_trip(self, store: Store) -> None:
        written = [
            submit_event(None, {"x": 0.5, "layers": [1, 2], "act": "relu"}, seed=7, time=10.0),
            submit_event(None, {"x": -1.0, "nested": {"a": None, "b": True}}, time=11.0),
        ]
        ids = store.append(written)
        assert len(ids) == 2 and ids[0] != ids[1]
        more = [
            {"kind": "start", "trial": ids[0], "time": 12.0, "worker": "w0", "host": "h"},
            report_event(ids[0], 1, 0.25, 13.0),
            report_event(ids[1], None, [1.0, 2.0], 14.0),
        ]
        assert store.append(more) == [ids[0], ids[0], ids[1]]
        got = self.read_all(store)
        expected = [{**written[0], "trial": ids[0]}, {**written[1], "trial": ids[1]}, *more]
        assert [ev for _, ev in got] == expected
        seqs = [seq for seq, _ in got]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] >= 1

    def test_append_does_not_modify_the_callers_events(self, store: Store) -> None:
        event = submit_event(None, {"x": 1})
        (tid,) = store.append([event])
        assert event["trial"] is None
        assert self.read_all(store)[0][1]["trial"] == tid

    def test_ids_unique_and_increasing(self, store: Store) -> None:
        ids: list[int] = []
        for size in (1, 3, 1, 5, 2):
            ids += store.append([submit_event(None, {"i": i}) for i in range(size)])
        assert all(isinstance(i, int) and i >= 0 for i in ids)
        assert ids == sorted(set(ids)) and len(ids) == 12
        assert sorted(store.trials()) == ids

    def test_explicit_ids_push_fresh_ids_above_them(self, store: Store) -> None:
        assert store.append([submit_event(100, {"x": 1})]) == [100]
        (fresh,) = store.append([submit_event(None, {"x": 2})])
        assert fresh > 100
        both = store.append([submit_event(500, {"x": 3}), submit_event(None, {"x": 4})])
        assert both[0] == 500 and both[1] > 500

    def test_events_after(self, store: Store) -> None:
        for i in range(6):
            store.append([submit_event(None, {"i": i})])
        every = self.read_all(store)
        seqs = [seq for seq, _ in every]
        assert list(store.events(after=seqs[2])) == every[3:]
        assert list(store.events(after=seqs[-1])) == []
        assert list(store.events(after=0)) == every

    def test_bad_batch_stores_nothing(self, store: Store) -> None:
        (tid,) = store.append([submit_event(None, {"x": 1})])
        before = self.read_all(store)
        with pytest.raises(TypeError):
            store.append([submit_event(None, {"x": 2}), report_event(tid, 1, object(), 1.0)])
        with pytest.raises(ValueError):
            store.append([submit_event(None, {"x": 3}), {"kind": "end", "trial": None}])
        with pytest.raises(ValueError):
            store.append([{"trial": tid}])
        with pytest.raises(TypeError):  # the fresh submit itself is not JSON
            store.append([report_event(tid, 2, 1.0, 2.0), submit_event(None, {"f": object()})])
        assert self.read_all(store) == before
        (again,) = store.append([submit_event(None, {"x": 4})])
        assert again > tid

    def test_non_finite_values_are_stored_as_null(self, store: Store) -> None:
        (tid,) = store.append([submit_event(None, {"x": 1.0})])
        store.append(
            [
                report_event(tid, 1, float("nan"), 1.0),
                _finished(tid, 2.0, metadata={"nan": float("nan"), "inf": [float("inf"), 1.0]}),
            ]
        )
        trial = store.trials()[tid]
        assert trial.reports[0].value is None
        assert trial.metadata == {"nan": None, "inf": [None, 1.0]}
        assert trial.objective == 2.0

    def test_meta_get_set(self, store: Store) -> None:
        assert store.get_meta("missing") is None
        value = {"name": "tpe", "settings": [1, 2.5, "x", None, True]}
        store.set_meta("optimizer", value)
        assert store.get_meta("optimizer") == value
        store.set_meta("optimizer", 3)
        assert store.get_meta("optimizer") == 3
        store.set_meta("other", float("nan"))
        assert store.get_meta("other") is None
        assert store.get_meta("optimizer") == 3
        assert self.read_all(store) == []

    def test_replay_gives_back_the_trials_written(self, store: Store) -> None:
        expected = []
        for k in range(4):
            (tid,) = store.append(
                [submit_event(None, {"x": k / 2, "c": "ab"[k % 2]}, seed=k, time=100.0 + k)]
            )
            trial = Trial(
                id=tid, config={"x": k / 2, "c": "ab"[k % 2]}, seed=k, submitted=100.0 + k
            )
            trial.status = _STATUSES[k]
            trial.started, trial.finished = 101.0 + k, 102.5 + k
            trial.worker, trial.host = f"w{k}", "node"
            if k == 0:
                trial.objective, trial.metadata = 0.125, {"acc": 0.9, "tag": "a"}
            elif k == 1:
                trial.reason, trial.traceback = "ValueError: boom", "Traceback ...\n"
            elif k == 2:
                trial.objective, trial.constraints = (1.5, -2.0), (0.5, -1.0)
            reports = [report_event(tid, s, 1.0 / (s + 1), 101.0 + s) for s in range(3)]
            start = {
                "kind": "start",
                "trial": tid,
                "time": trial.started,
                "worker": trial.worker,
                "host": trial.host,
            }
            store.append([start, *reports])
            store.append([end_event(trial)])
            store.append([_finished(tid, 99.0)])  # a late second end is ignored
            trial.reports = [Report(s, 1.0 / (s + 1), 101.0 + s) for s in range(3)]
            expected.append(trial)
        got = store.trials()
        assert [t.id for t in expected] == list(got)
        for trial in expected:
            assert got[trial.id].to_dict() == trial.to_dict()

    def test_threads_appending_and_reading(self, store: Store) -> None:
        n_threads, n_trials = 6, 40
        errors: list[BaseException] = []
        returned: dict[int, list[int]] = {}
        done = threading.Event()
        seen: list[int] = []

        def writer(tag: int) -> None:
            try:
                ids = []
                for i in range(n_trials):
                    (tid,) = store.append([submit_event(None, {"writer": tag, "i": i})])
                    store.append([_finished(tid, float(i))])
                    ids.append(tid)
                returned[tag] = ids
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def reader() -> None:
            last = 0
            while True:
                finished = done.is_set()
                for seq, _ in store.events(after=last):
                    seen.append(seq)
                    last = seq
                if finished:
                    return
                time.sleep(0.001)

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
        watcher = threading.Thread(target=reader)
        watcher.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(_SPAWN_TIMEOUT)
        done.set()
        watcher.join(_SPAWN_TIMEOUT)
        assert not errors, errors
        all_ids = [tid for ids in returned.values() for tid in ids]
        assert len(all_ids) == len(set(all_ids)) == n_threads * n_trials
        trials = store.trials()
        assert set(trials) == set(all_ids)
        for tag, ids in returned.items():
            for i, tid in enumerate(ids):
                assert trials[tid].config == {"writer": tag, "i": i}
                assert trials[tid].status == TrialStatus.DONE and trials[tid].objective == i
        assert seen == sorted(set(seen)) and len(seen) == 2 * n_threads * n_trials

    # -- durability and processes ---------------------------------------------------------
    def test_reopen_keeps_everything(self, store: Store, tmp_path: Path) -> None:
        self.require(store, "durable")
        ids = store.append([submit_event(None, {"i": i}) for i in range(3)])
        store.append([_finished(ids[0], 1.0)])
        store.set_meta("k", {"v": [1, 2]})
        before = self.read_all(store)
        again = self.reopen_store(store, tmp_path)
        try:
            assert self.read_all(again) == before
            assert again.get_meta("k") == {"v": [1, 2]}
            (fresh,) = again.append([submit_event(None, {"i": 3})])
            assert fresh > max(ids)
        finally:
            again.close()

    def test_processes_appending_at_once(self, store: Store) -> None:
        self.require(store, "multiprocess")
        n_procs, n_trials = 4, 100
        ctx = multiprocessing.get_context("spawn")
        gate, results = ctx.Event(), ctx.Queue()
        opener = self.store_opener(store)
        procs = [
            ctx.Process(target=_write_trials, args=(opener, tag, n_trials, gate, results))
            for tag in range(n_procs)
        ]
        for p in procs:
            p.start()
        gate.set()
        returned = dict(results.get(timeout=_SPAWN_TIMEOUT) for _ in procs)
        for p in procs:
            p.join(_SPAWN_TIMEOUT)
            assert p.exitcode == 0
        all_ids = [tid for ids in returned.values() for tid in ids]
        assert len(all_ids) == len(set(all_ids)) == n_procs * n_trials
        events = self.read_all(store)
        assert len(events) == 2 * n_procs * n_trials
        submits = [ev["trial"] for _, ev in events if ev["kind"] == "submit"]
        assert sorted(submits) == sorted(all_ids)
        trials = store.trials()
        assert len(trials) == n_procs * n_trials
        for tag, ids in returned.items():
            for i, tid in enumerate(ids):
                assert trials[tid].config == {"writer": tag, "i": i}
                assert trials[tid].status == TrialStatus.DONE and trials[tid].worker == f"w{tag}"

    def test_sigkilled_writer_loses_nothing_committed(self, store: Store, tmp_path: Path) -> None:
        self.require(store, "durable")
        self.require(store, "multiprocess")
        rng = random.Random()
        ctx = multiprocessing.get_context("spawn")
        opener = self.store_opener(store)
        reported: list[list[int]] = []
        rounds = 3
        for round_no in range(rounds):
            reader, writer = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_append_until_killed, args=(opener, round_no, writer))
            proc.start()
            writer.close()
            assert reader.poll(_SPAWN_TIMEOUT) and reader.recv() == "ready"
            wanted = rng.randint(5, 150)
            got = 0
            while got < wanted and reader.poll(_SPAWN_TIMEOUT):
                reported.append(reader.recv())
                got += 1
            time.sleep(rng.random() * 0.005)
            proc.kill()
            proc.join(_SPAWN_TIMEOUT)
            while True:  # what the child reported before it died
                try:
                    if not reader.poll(1.0):
                        break
                    reported.append(reader.recv())
                except (EOFError, OSError):
                    break
            reader.close()
            assert got == wanted, "the writer stopped reporting before it was killed"
        again = self.reopen_store(store, tmp_path)
        try:
            trials = again.trials()
            committed = {tid for ids in reported for tid in ids}
            assert committed <= set(trials)
            # At most one batch per kill was committed but not reported yet.
            assert len(trials) - len(committed) <= 3 * rounds
            per_batch: dict[tuple[int, int], int] = {}
            for t in trials.values():
                key = (t.config["round"], t.config["batch"])
                per_batch[key] = per_batch.get(key, 0) + 1
            assert set(per_batch.values()) == {3}, "a batch was torn"
            self.read_all(again)
            (fresh,) = again.append([submit_event(None, {"after": True})])
            assert fresh > max(trials)
        finally:
            again.close()

    def test_torn_record_is_skipped_with_a_warning(self, store: Store) -> None:
        self.require(store, "torn_records")
        ids = store.append([submit_event(None, {"i": i}) for i in range(3)])
        store.append([_finished(ids[0], 1.0)])
        self.corrupt_last_record(store)
        with pytest.warns(StoreWarning):
            events = list(store.events())
        assert [ev["kind"] for _, ev in events] == ["submit"] * 3
        with pytest.warns(StoreWarning):
            trials = store.trials()
        assert set(trials) == set(ids)
        assert trials[ids[0]].status == TrialStatus.RUNNING
        store.append([_finished(ids[0], 2.0)])
        with pytest.warns(StoreWarning):
            assert store.trials()[ids[0]].objective == 2.0
