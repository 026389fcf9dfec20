"""Start-up of BO: the initial design needs no SciPy; the model waits for the preparation."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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

    def slow_prepare():
        import time

        time.sleep(0.5)
        calls.append("prepared")

    opt.prepare = slow_prepare  # type: ignore[method-assign]
    opt.prepare_in_background()
    design = opt.ask(6)  # the design does not wait
    assert calls == []
    opt.tell(
        [Trial(i, c, TrialStatus.DONE, objective=sum(c.values())) for i, c in enumerate(design)]
    )
    opt.ask(1)  # model-based: waits
    assert calls == ["prepared"]
    assert opt._preparing is None
