"""A problem file for the command line:

    hyperhive run examples/problem.py
    hyperhive run examples/problem.py --max-evals 100 --workers 2 --optimizer random

The file defines `space` and `objective`; the module variables below them are
defaults for the options of `hyperhive run` (options given on the command line win).
"""

from __future__ import annotations

import math

import hyperhive as hh

space = hh.Space({"x": hh.Float(-5.0, 10.0), "y": hh.Float(0.0, 15.0)})

direction = "minimize"
max_evals = 40
executor = "serial"  # the objective takes microseconds; workers would only add overhead


def objective(config: dict) -> float:
    """The Branin function: three global minima of about 0.398."""
    x, y = config["x"], config["y"]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10
