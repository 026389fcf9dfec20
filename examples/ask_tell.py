"""Ask/tell with hh.Run: you run the trials, hyperhive proposes and records them.

Useful when trials are launched by something else (a job array, a notebook loop).
Every ask and tell is journaled in the run directory at once, so several processes
may share it, and running this file again continues where it stopped.

    python examples/ask_tell.py
"""

from __future__ import annotations

import hyperhive as hh

space = hh.Space({"x": hh.Float(-3.0, 3.0), "n": hh.Int(1, 8)})


def train(x: float, n: int) -> float:
    """Stands in for a job you launch yourself."""
    if n == 8:
        raise RuntimeError("out of memory")
    return (x - 0.5) ** 2 + 0.1 * n


if __name__ == "__main__":
    run = hh.Run(space, run_dir="runs/ask-tell", direction="minimize", seed=0)
    for _ in range(12):
        trial = run.ask()  # journaled as running, with an id and a seed of its own
        try:
            value = train(**trial.config)
        except RuntimeError as exc:
            run.tell(trial, status="failed", reason=str(exc))
        else:
            run.tell(trial, value)

    result = run.result()
    print(result.summary())
    print(f"best: {result.best.objective:.4f} with {result.best.config}")
