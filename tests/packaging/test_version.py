"""The version: one number, from the package metadata, everywhere."""

from __future__ import annotations

import re
from importlib.metadata import version

from typer.testing import CliRunner

import hyperhive
from hyperhive.cli.main import app


def test_version_comes_from_the_package_metadata():
    assert hyperhive.__version__ == version("hyperhive")
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", hyperhive.__version__)


def test_cli_version_agrees():
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0
    assert res.stdout.strip() == f"hyperhive {version('hyperhive')}"


def test_changelog_starts_with_this_release():
    from pathlib import Path

    changelog = Path(__file__).resolve().parents[2] / "CHANGELOG.md"
    headings = re.findall(r"^## \[?([^\]\s]+)", changelog.read_text(), flags=re.M)
    assert headings and headings[0] == version("hyperhive")
