"""A search run under ``mpirun -n N python -m mpi4py.futures`` by test_mpi_executor.py.

Usage: mpi_search.py RUN_DIR MAX_EVALS MODE, MODE one of:

* ``plain``: trials report and sleep a little; ``trial_timeout`` is set, so every trial
  runs in a killable child of its rank; trial 3 hangs and times out;
  ``gpus_per_trial=1`` over three fake devices.
* ``kill``: trials run in the rank's own process; the first trial with id >= 6 kills
  its rank (once, remembered by a marker file): MPI ends the job.
* ``spawn``: run without mpirun; ``MPI(workers=2)`` spawns two worker ranks.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import hyperhive as hh


def make_objective(mode: str, marker: Path):
    def objective(config):
        trial = hh.current_trial()
        for step in range(3):
            hh.report(config["x"] + step, step=step)
        if mode == "plain" and trial.id == 3:
            time.sleep(60)
        if mode == "kill" and trial.id >= 6 and not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.05)
        return {
            "objective": config["x"] ** 2,
            "pid": os.getpid(),
            "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
        }

    return objective


def main() -> None:
    run_dir, max_evals, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    space = hh.Space({"x": hh.Float(0.0, 1.0)})
    if mode == "plain":
        executor = hh.executors.MPI(gpus_per_trial=1, devices="0,1,2")
        timeout = 1.5
    elif mode == "spawn":
        executor = hh.executors.MPI(workers=2)
        timeout = None
    else:
        executor = hh.executors.MPI()
        timeout = None
    result = hh.search(
        make_objective(mode, run_dir.parent / f"{run_dir.name}.killed"),
        space,
        executor=executor,
        max_evals=max_evals,
        optimizer="random",
        trial_timeout=timeout,
        run_dir=run_dir,
        seed=1,
    )
    print(f"finished: {len(result.trials)} trials, stop_reason={result.stop_reason}")


if __name__ == "__main__":
    main()
