"""Build the sdist and the wheel, install the wheel into a fresh virtual environment (no
checkout on the path) and run hyperhive from there.

Slow (it builds, creates a venv and installs the dependencies from the package index,
using pip's cache): marked ``wheel``, so ``pytest -m "not wheel"`` leaves it out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.wheel, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    res = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, f"{args} exited {res.returncode}:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path):
    # Build from a copy of the files the sdist needs, so the checkout gets no build/ or
    # *.egg-info folders.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", dist, source], tmp_path, env)
    wheels = sorted(dist.glob("hyperhive-*-py3-none-any.whl"))
    assert len(wheels) == 1 and len(sorted(dist.glob("hyperhive-*.tar.gz"))) == 1

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path, env)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    _run([bindir / "python", "-m", "pip", "install", "--quiet", wheels[0]], tmp_path, env)

    work = tmp_path / "elsewhere"  # not the checkout: nothing of it on sys.path
    work.mkdir()
    where = _run(
        [
            bindir / "python",
            "-c",
            "import hyperhive; print(hyperhive.__file__, hyperhive.__version__)",
        ],
        work,
        env,
    )
    location, installed_version = where.split()
    assert Path(location).resolve().is_relative_to(venv.resolve())
    assert wheels[0].name.startswith(f"hyperhive-{installed_version}-")
    assert _run([bindir / "hyperhive", "--version"], work, env).strip() == (
        f"hyperhive {installed_version}"
    )
    out = _run(
        [bindir / "hyperhive", "demo", "--max-evals", "5", "--run-dir", work / "demo"], work, env
    )
    assert "done" in out and (work / "demo" / "journal.sqlite").exists()
