"""Refits in a background thread (several workers) and the search loop asking ahead."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import hyperhive as hh
from hyperhive.optimizers import BO, RandomSearch
from hyperhive.space import Float, Space
from hyperhive.trial import Trial, TrialStatus

SPACE = Space({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)})


def bowl(c):
    return (c["x"] - 0.3) ** 2 + (c["y"] - 0.6) ** 2


def feed(opt, n, start=0):
    """Ask and tell ``n`` trials one at a time."""
    for i in range(start, start + n):
        (c,) = opt.ask(1)
        opt.tell([Trial(i, c, TrialStatus.DONE, objective=bowl(c))])


@pytest.mark.parametrize("surrogate", ["et", "gp"])
def test_background_refit_gives_the_inline_model(surrogate):
    """A refit done in the thread is the refit done inline: same rows, same stream."""
    rng = np.random.default_rng(4)
    trials = []
    for i in range(40):
        c = {"x": float(rng.random()), "y": float(rng.random())}
        trials.append(Trial(i, c, TrialStatus.DONE, objective=bowl(c)))
    inline = BO(seed=3, surrogate=surrogate, n_initial=6, n_trees=8)
    back = BO(seed=3, surrogate=surrogate, n_initial=6, n_trees=8, background_refit=True)
    for opt in (inline, back):
        opt.setup(SPACE, ["minimize"])
        for t in trials:  # one result at a time, the model asked for after each
            opt.tell([t])
            opt.model()
    for _ in range(3):  # let the thread catch up with the last refit size
        back._models.wait()
        back.model()
    m_in, _ = inline.model()
    m_bg, _ = back.model()
    assert back._models.background_fits > 0
    assert inline._models._fitted_at == back._models._fitted_at
    x = rng.random((50, 2))
    np.testing.assert_allclose(m_in.predict(x).mean, m_bg.predict(x).mean, rtol=1e-9)


def test_background_refit_does_not_block_a_proposal():
    """While a slow refit runs in the thread, asks use the previous model at once."""
    opt = BO(seed=0, surrogate="et", n_initial=6, n_trees=8, background_refit=True)
    opt.setup(SPACE, ["minimize"])
    feed(opt, 20)
    models = opt._models
    while models._fitting is not None:  # refits started earlier are taken first
        models.wait()
        opt.model()
    gate = threading.Event()
    real_fit = models._start_fit

    def slow_start(job, key):
        real_fit(job, key)
        fut = models._fitting
        held = type(fut)()  # a future that resolves only when the gate opens

        def relay():
            gate.wait(10)
            held.set_result(fut.result())

        threading.Thread(target=relay, daemon=True).start()
        models._fitting = held

    models._start_fit = slow_start
    before = models._fitted_at
    feed(opt, 10, start=20)  # crosses refit thresholds; none may block
    assert models._fitted_at == before and models._fitting is not None
    gate.set()
    models.wait()
    opt.model()
    assert models._fitted_at != before


def test_serial_search_refits_inline_and_process_search_in_background():
    assert BO().background_refit is None
    opt = BO(seed=0)
    opt.setup(SPACE, ["minimize"])
    opt.set_concurrency(1)
    assert not opt._models.background
    opt.set_concurrency(4)
    assert opt._models.background
    fixed = BO(seed=0, background_refit=False)
    fixed.setup(SPACE, ["minimize"])
    fixed.set_concurrency(4)
    assert not fixed._models.background
    with pytest.raises(ValueError, match="background_refit.*'yes'"):
        BO(background_refit="yes")  # type: ignore[arg-type]


def test_serial_searches_stay_deterministic():
    a = hh.search(bowl, SPACE, max_evals=30, seed=5)
    b = hh.search(bowl, SPACE, max_evals=30, seed=5)
    assert [t.config for t in a.records] == [t.config for t in b.records]


class _Recording(RandomSearch):
    """Random search that asks ahead and records how many trials were pending."""

    ask_ahead = True

    def __init__(self, seed=None):
        super().__init__(seed)
        self.pending_seen: list[int] = []

    def _ask(self, n, pending):
        self.pending_seen.append(len(pending))
        return super()._ask(n, pending)


def test_search_asks_ahead_while_all_workers_are_busy():
    def objective(c):
        time.sleep(0.03)
        return bowl(c)

    opt = _Recording(seed=1)
    result = hh.search(objective, SPACE, optimizer=opt, executor="thread", workers=2, max_evals=20)
    assert sum(t.status.counted for t in result.records) == 20 == len(result.records)
    # asked with both workers busy: only the loop's ask-ahead does that
    assert max(opt.pending_seen) == 2


def test_serial_search_never_asks_ahead():
    opt = _Recording(seed=1)
    hh.search(bowl, SPACE, optimizer=opt, max_evals=10)
    assert max(opt.pending_seen) == 0
