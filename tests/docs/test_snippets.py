"""Every runnable code block of the documentation runs (see docs/contributing-docs.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from snippets import SnippetError, blocks, page_script

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_results" not in p.parts)


def test_pages_are_found():
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"index.md", "getting-started.md", "guides/sklearn.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_code_runs(page, tmp_path):
    script = page_script(page)
    if script is None:
        pytest.skip("no runnable python block")
    path = tmp_path / "page_snippets.py"
    path.write_text(script, encoding="utf-8")
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "torch")
    res = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, (
        f"{page.name} failed:\n{res.stderr[-4000:]}\n--- script ---\n{script}"
    )


def test_the_convention():
    text = "\n".join(
        [
            "```python",
            "a = 1",
            "```",
            "<!-- snippet: skip needs a cluster -->",
            "```python",
            "b = 2",
            "```",
            "````markdown",
            "```python",
            "c = 3",
            "```",
            "````",
            "  ```bash",
            "  echo hi",
            "  ```",
        ]
    )
    found = blocks(text)
    assert [(b.lang, b.runs, b.skip) for b in found] == [
        ("python", True, None),
        ("python", False, "needs a cluster"),
        ("markdown", False, None),
        ("bash", False, None),
    ]
    with pytest.raises(SnippetError, match="skip REASON"):
        blocks("<!-- snippet: skip -->\n```python\nx\n```")
    with pytest.raises(SnippetError, match="not followed"):
        blocks("<!-- snippet: skip a server -->\ntext\n```python\nx\n```")
    with pytest.raises(SnippetError, match="never closed"):
        blocks("```python\nx = 1\n")
