"""The live dashboard: JSON state, and a trial on the page within 2 s of its end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("plotly")

import hyperhive as hh  # noqa: E402
from hyperhive.analysis.dashboard import Dashboard  # noqa: E402
from hyperhive.testing.browser import open_page  # noqa: E402


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_state_and_versions(single_run: Path) -> None:
    with Dashboard(single_run, port=0) as board:
        assert board.url.startswith("http://127.0.0.1:")
        state = _get(board.url + "api/state?since=-1")
        assert state["trials"] == 40
        keys = [f["key"] for f in state["figures"]]
        assert keys[0] == "trajectory" and "importance" in keys
        drawn = {f["key"] for f in state["figures"] if f["figure"]}
        assert drawn >= {"trajectory", "utilization", "importance", "curves", "failures"}
        assert _get(board.url + f"api/state?since={state['version']}") == {
            "version": state["version"]
        }
        with pytest.raises(urllib.error.HTTPError):
            _get(board.url + "nothing")


def test_refuses_a_port_in_use(single_run: Path) -> None:
    with Dashboard(single_run, port=0) as board:
        port = int(board.url.rsplit(":", 1)[1].strip("/"))
        with pytest.raises(OSError):
            Dashboard(single_run, port=port)


SEARCH = """
import time, sys
import hyperhive as hh

def slow(config):
    time.sleep(0.4)
    return config["x"] ** 2

space = hh.Space({"x": hh.Float(-1.0, 1.0), "y": hh.Float(0.0, 1.0)})
hh.search(slow, space, max_evals=int(sys.argv[2]), workers=2, executor="thread", seed=0,
          run_dir=sys.argv[1], optimizer="random")
"""


def test_a_finished_trial_shows_within_two_seconds(browser, tmp_path: Path) -> None:
    """The search runs in its own process, as it would beside `hyperhive dashboard`."""
    run_dir = tmp_path / "live"
    script = tmp_path / "search.py"
    script.write_text(SEARCH)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    # Start the run (two trials, here) so the dashboard has something to open, then
    # continue it in another process.
    space = hh.Space({"x": hh.Float(-1.0, 1.0), "y": hh.Float(0.0, 1.0)})
    hh.search(lambda c: c["x"] ** 2, space, max_evals=2, seed=0, run_dir=run_dir)
    with Dashboard(run_dir, port=0) as board:
        page, log = open_page(browser, block_network=False)
        page.goto(board.url)
        page.wait_for_selector("tr[data-trial='1']", timeout=20_000)
        seen: dict[int, float] = {}
        search = subprocess.Popen([sys.executable, script, run_dir, "14"], env=env)
        deadline = time.time() + 120
        while (search.poll() is None or len(seen) < 14) and time.time() < deadline:
            ids = page.evaluate(
                "Array.from(document.querySelectorAll('tr[data-trial]'), r => +r.dataset.trial)"
            )
            now = time.time()
            for tid in ids:
                seen.setdefault(tid, now)
            page.wait_for_timeout(50)
        assert search.wait(timeout=60) == 0
        drawn = page.evaluate(
            "document.querySelectorAll('#plot-trajectory .scatterlayer path.point').length"
        )
        page.close()
    result = hh.load(run_dir)
    assert result.n_counted == 14
    late = {
        t.id: round(seen[t.id] - t.finished, 2) if t.id in seen else None
        for t in result.records
        if t.id >= 2 and (t.id not in seen or seen[t.id] - t.finished > 2.0)
    }
    assert late == {}, f"trials shown later than 2 s after they finished: {late}"
    assert drawn >= 14
    assert log.errors == []
    assert all(u.startswith(board.url) for u in log.requests), log.requests
