"""Find the code blocks of the documentation pages, and which of them run in the tests.

The convention (also described in docs/contributing-docs.md and mkdocs.yml):

- only fenced blocks tagged ``python`` run;
- the runnable blocks of a page run in order, as one script, in a fresh folder;
- ``<!-- snippet: skip REASON -->`` on the line just before a block keeps it from
  running (a cluster, a GPU, a server, a long run); the reason is required.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<body>.*?)\s*-->\s*$")


class SnippetError(ValueError):
    """A page breaks the snippet convention (the message names the page and line)."""


@dataclass
class Block:
    """One fenced code block of a page."""

    lang: str
    code: str
    line: int
    skip: str | None = None

    @property
    def runs(self) -> bool:
        return self.lang == "python" and self.skip is None


def blocks(text: str, name: str = "<page>") -> list[Block]:
    """Every fenced block of ``text`` with its language, first line and skip reason."""
    lines = text.splitlines()
    found: list[Block] = []
    pending: tuple[str, int] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            mark = fence["fence"]
            closing = re.compile(rf"^\s*{re.escape(mark[0])}{{{len(mark)},}}\s*$")
            body: list[str] = []
            j = i + 1
            while j < len(lines) and not closing.match(lines[j]):
                body.append(lines[j])
                j += 1
            if j == len(lines):
                raise SnippetError(f"{name}:{i + 1}: code block never closed")
            code = textwrap.dedent("\n".join(body))
            found.append(Block(fence["lang"], code, i + 1, pending[0] if pending else None))
            pending = None
            i = j + 1
            continue
        marker = MARKER.match(line)
        if marker:
            words = marker["body"].split(maxsplit=1)
            if not words or words[0] != "skip" or len(words) < 2:
                raise SnippetError(
                    f"{name}:{i + 1}: expected '<!-- snippet: skip REASON -->', "
                    f"got {line.strip()!r}"
                )
            pending = (words[1], i + 1)
        elif pending is not None and line.strip():
            raise SnippetError(f"{name}:{pending[1]}: skip marker not followed by a code block")
        i += 1
    if pending is not None:
        raise SnippetError(f"{name}:{pending[1]}: skip marker not followed by a code block")
    return found


def page_script(path: Path) -> str | None:
    """The runnable blocks of a page joined into one script, or None when it has none."""
    runnable = [b for b in blocks(path.read_text(encoding="utf-8"), str(path)) if b.runs]
    if not runnable:
        return None
    parts = [f"# {path.name}, line {b.line}\n{b.code}" for b in runnable]
    return "\n\n".join(parts) + "\n"
