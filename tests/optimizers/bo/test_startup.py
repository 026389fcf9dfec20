"""Start-up of BO: the initial design needs no SciPy; the model waits for the preparation."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from hyperhive.optimizers import BO
from hyperhive.space import Float, Space
from hyperhive.trial import Trial, TrialStatus

SPACE = Space({f"x{i}": Float(0.0, 1.0) for i in range(6)})


def test_initial_design_imports_no_scipy():
    code = textwrap.dedent(
        """
        import sys
        from hyperhive.optimizers import BO
        from hyperhive.space import Float, Space

        space = Space({f"x{i}": Float(0.0, 1.0) for i in range(6)})
        opt = BO(seed=0)
        opt.setup(space, ["minimize"])
        configs = opt.ask(opt.design_size)
        assert len({tuple(c.values()) for c in configs}) == opt.design_size
        print(sorted(m for m in sys.modules if m == "scipy" or m.startswith("scipy.")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_model_proposals_wait_for_the_preparation():
    opt = BO(seed=0, n_initial=6)
    opt.setup(SPACE, ["minimize"])
    calls = []
    real_prepare = opt.prepare

    def slow_prepare():
        import time

        time.sleep(0.5)
        calls.append("prepared")
        real_prepare()

    opt.prepare = slow_prepare  # type: ignore[method-assign]
    opt.prepare_in_background()
    design = opt.ask(6)  # the design does not wait
    assert calls == []
    opt.tell(
        [Trial(i, c, TrialStatus.DONE, objective=sum(c.values())) for i, c in enumerate(design)]
    )
    opt.ask(1)  # model-based (one worker: no background fit): waits
    assert calls == ["prepared"]


def test_with_several_workers_no_ask_waits_for_the_first_model():
    opt = BO(seed=0, n_initial=6)
    opt.setup(SPACE, ["minimize"])
    opt.set_concurrency(8)
    gate = threading.Event()
    real_prepare = opt.prepare

    def gated_prepare():
        gate.wait(10)
        real_prepare()

    opt.prepare = gated_prepare  # type: ignore[method-assign]
    opt.prepare_in_background()
    design = opt.ask(6)
    opt.tell(
        [Trial(i, c, TrialStatus.DONE, objective=sum(c.values())) for i, c in enumerate(design)]
    )
    # the preparation is held: asks go on with quasi-random points, no fit is started
    extra = opt.ask(3)
    assert len(extra) == 3 and opt._models._fitting is None and not opt._models.has_model()
    gate.set()
    opt.wait_prepared()
    opt.ask(1)  # starts the first fit in the background, answers at once
    assert opt._models._fitting is not None or opt._models.has_model()
    opt._models.wait()
    assert opt._models.has_model() and opt._models.background_fits == 1
