"""``hyperhive report`` and ``hyperhive dashboard``: files written, errors in one line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import hyperhive as hh

pytest.importorskip("plotly")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("view")
    space = hh.Space({"x": hh.Float(-2.0, 2.0), "k": hh.Int(1, 4)})
    for name, seed in (("a", 0), ("b", 1)):
        hh.search(
            lambda c: c["x"] ** 2 + c["k"], space, max_evals=12, seed=seed, run_dir=base / name
        )
    return base / "a", base / "b"


def test_report_one_run(cli, two_runs, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = cli("report", two_runs[0], "-o", out)
    assert res.exit_code == 0, res.output
    assert "wrote the report of 1 run(s)" in res.stderr
    text = out.read_text(encoding="utf-8")
    assert "hyperhive report: a" in text and "plot-trajectory" in text


def test_report_compares_runs(cli, two_runs, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = cli("report", *two_runs, "--title", "a vs b")
    assert res.exit_code == 0, res.output
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<title>a vs b</title>" in text and "a: best so far" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "missing-run"], "does not exist"),
        (["report", "{a}", "-o", "no/such/folder/r.html"], "folder does not exist"),
        (["dashboard", "missing-run"], "does not exist"),
        (["dashboard", "{a}", "--port", "70000"], "--port must be in [0, 65535]"),
    ],
)
def test_user_errors_exit_2_with_one_line(cli, two_runs, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    res = cli(*[a.format(a=two_runs[0]) for a in args])
    assert res.exit_code == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_dashboard_port_in_use(cli, two_runs) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = cli("dashboard", two_runs[0], "--port", port)
    assert res.exit_code == 2
    assert f"127.0.0.1:{port}" in res.stderr
