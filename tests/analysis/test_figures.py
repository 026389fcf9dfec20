"""Every figure function: what it draws, comparisons, and where it does not apply."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("plotly")

import hyperhive as hh  # noqa: E402
from hyperhive import analysis  # noqa: E402
from hyperhive.analysis import NotApplicable  # noqa: E402
from hyperhive.trial import Report, Trial, TrialStatus  # noqa: E402


def _names(fig) -> list[str]:
    return [trace.name for trace in fig.data]


def test_trajectory_best_so_far(single_run: Path) -> None:
    fig = analysis.plot_trajectory(single_run)
    points, best = fig.data
    result = hh.load(single_run)
    assert len(points.x) == len(result.done)
    assert best.y[-1] == pytest.approx(result.best.objective)
    assert np.all(np.diff(np.asarray(best.y)) <= 0)  # minimized: never gets worse
    timed = analysis.plot_trajectory(single_run, x="time")
    assert timed.layout.xaxis.title.text == "seconds since the start"
    with pytest.raises(ValueError, match="x must be"):
        analysis.plot_trajectory(single_run, x="steps")


def test_comparison_draws_one_line_per_run(single_run: Path, multi_run: Path) -> None:
    fig = analysis.plot_trajectory([single_run, multi_run])
    assert len(fig.data) == 4
    assert _names(fig)[0].startswith("single:") and _names(fig)[2].startswith("multi:")


def test_utilization_colours_by_status(single_run: Path) -> None:
    fig = analysis.plot_utilization(single_run)
    assert set(_names(fig)) == {"done", "failed"}
    assert sum(len(t.y) for t in fig.data) == 40
    assert {y for t in fig.data for y in t.y} == {"thread-0", "thread-1"}
    assert "utilization" in fig.layout.title.text


def test_long_timelines_are_decimated() -> None:
    space = hh.Space({"x": hh.Float(0, 1)})
    trials = []
    for i in range(10_000):
        status = TrialStatus.FAILED if i % 1000 == 0 else TrialStatus.DONE
        t = Trial(i, {"x": 0.5}, status=status, objective=1.0 if status.value == "done" else None)
        t.started, t.finished, t.worker = float(i // 8), float(i // 8) + 0.9, f"w{i % 8}"
        trials.append(t)
    fig = analysis.plot_utilization(hh.Result(trials, space, ["minimize"]))
    bars = sum(len(t.y) for t in fig.data)
    assert bars <= 3000
    assert sum(n for t in fig.data for _, n in t.customdata) == 10_000  # every trial counted
    assert "failed" in _names(fig)


def test_failures_by_reason(single_run: Path, multi_run: Path) -> None:
    fig = analysis.plot_failures(single_run)
    assert fig.data[0].name == "failed"
    assert any("x1 too large" in y for y in fig.data[0].y)
    with pytest.raises(NotApplicable, match="no trial failed"):
        analysis.plot_failures(multi_run)


def test_parameter_figures(single_run: Path) -> None:
    imp = analysis.plot_importance(single_run)
    assert set(imp.data[0].y) == {"x0", "x1", "x2", "lr", "n", "kind", "a_width", "b_depth"}
    par = analysis.plot_parallel(single_run)
    labels = [d.label for d in par.data[0].dimensions]
    assert labels[-1] == "objective" and "log10(lr)" in labels
    assert any("inactive" in label for label in labels)  # a_width / b_depth are conditional
    sl = analysis.plot_slice(single_run, params=["x2", "lr"])
    assert len(sl.data) == 2 and sl.layout.xaxis2.type == "log"
    with pytest.raises(ValueError, match="unknown parameters"):
        analysis.plot_slice(single_run, params=["nope"])
    con = analysis.plot_contour(single_run, params=["x2", "lr"])
    assert con.data[0].type == "contour" and con.layout.yaxis.type == "log"
    with pytest.raises(ValueError, match="two numeric parameters"):
        analysis.plot_contour(single_run, params=["x2", "kind"])


def test_learning_curves_mark_stopped_trials(single_run: Path) -> None:
    fig = analysis.plot_curves(single_run)
    assert _names(fig) == ["ran to the end"]
    space = hh.Space({"x": hh.Float(0, 1)})
    a = Trial(0, {"x": 0.1}, status=TrialStatus.DONE, objective=1.0)
    a.reports = [Report(s, 3.0 - s, 0.0) for s in range(3)]
    b = Trial(1, {"x": 0.2}, status=TrialStatus.STOPPED)
    b.reports = [Report(0, 5.0, 0.0)]
    fig = analysis.plot_curves(hh.Result([a, b], space, ["minimize"]))
    assert _names(fig) == ["ran to the end", "stopped early", "stopped here"]
    assert list(fig.data[2].customdata) == [1]
    with pytest.raises(NotApplicable, match="intermediate"):
        analysis.plot_curves(hh.Result([], space, ["minimize"]))


def test_pareto_and_hypervolume(multi_run: Path, single_run: Path) -> None:
    result = hh.load(multi_run)
    fig = analysis.plot_pareto(multi_run)
    assert sorted(fig.data[1].customdata) == sorted(t.id for t in result.pareto_front())
    hv = analysis.plot_hypervolume(multi_run, reference=[1.0, 3.0])
    assert hv.data[0].y[-1] == pytest.approx(result.hypervolume([1.0, 3.0]))
    assert np.all(np.diff(np.asarray(hv.data[0].y)) >= 0)
    with pytest.raises(NotApplicable, match="several objectives"):
        analysis.plot_pareto(single_run)
    with pytest.raises(ValueError, match="one value per objective"):
        analysis.plot_hypervolume(multi_run, reference=[1.0])
