"""Analysis of searches: importance, figures, the offline HTML report and the live dashboard.

Everything here only reads a run (see :mod:`hyperhive.analysis.source`): a run
directory, a store URL (``sqlite:///...``, ``redis://...``) or a
:class:`~hyperhive.Result`; the figure functions also take a list of runs to compare.
Figures are plotly figures and need the ``report`` extra
(``pip install 'hyperhive[report]'``); :func:`importance` needs only scikit-learn.

Example:
    >>> from hyperhive import analysis
    >>> analysis.importance("runs/demo")  # doctest: +SKIP
    >>> analysis.plot_trajectory(["runs/a", "runs/b"]).show()  # doctest: +SKIP
    >>> analysis.write_report("runs/demo", "report.html")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "NotApplicable",
    "build_report",
    "importance",
    "load_run",
    "plot_contour",
    "plot_curves",
    "plot_failures",
    "plot_hypervolume",
    "plot_importance",
    "plot_parallel",
    "plot_pareto",
    "plot_slice",
    "plot_trajectory",
    "plot_utilization",
    "serve_dashboard",
    "write_report",
]

_WHERE = {
    "NotApplicable": "_plotting",
    "importance": "parameter_importance",
    "load_run": "source",
    "plot_trajectory": "plots_search",
    "plot_utilization": "plots_search",
    "plot_failures": "plots_search",
    "plot_importance": "plots_params",
    "plot_parallel": "plots_params",
    "plot_slice": "plots_params",
    "plot_contour": "plots_params",
    "plot_curves": "plots_objectives",
    "plot_pareto": "plots_objectives",
    "plot_hypervolume": "plots_objectives",
    "build_report": "report",
    "write_report": "report",
    "serve_dashboard": "dashboard",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hyperhive.analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hyperhive.analysis.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
