from __future__ import annotations

import textwrap
from collections.abc import Callable
from inspect import signature
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hyperhive.cli.main import app

PROBLEM = textwrap.dedent(
    """
    import hyperhive as hh
    from cli_helper_mod import shift  # a module next to the problem file

    space = hh.Space({"x": hh.Float(-5.0, 5.0), "k": hh.Int(1, 4)})
    direction = "minimize"

    def objective(config):
        return (config["x"] - shift()) ** 2 + config["k"]
    """
)

HELPER = "def shift():\n    return 1.0\n"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``cli(*args)`` runs the command line in-process and returns the click result.

    The terminal is wide and plain so rich neither wraps nor colours the output.
    """
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    # stderr apart from stdout (click < 8.2 mixes them unless told not to).
    kwargs = {"mix_stderr": False} if "mix_stderr" in signature(CliRunner).parameters else {}
    runner = CliRunner(**kwargs)

    def invoke(*args: object) -> Result:
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def problem_file(tmp_path: Path) -> Path:
    """A problem file (with a helper module beside it) in its own folder."""
    folder = tmp_path / "problem"
    folder.mkdir()
    (folder / "cli_helper_mod.py").write_text(HELPER)
    path = folder / "problem.py"
    path.write_text(PROBLEM)
    return path
