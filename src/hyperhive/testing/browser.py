"""A real headless Chromium for tests, driven by Playwright (Debian's ``chromium`` package).

Playwright is used only as a driver: it never downloads a browser here, it launches
the system's ``chromium`` with a fresh profile and flags that keep it off the
network (this machine has none; without them Chromium keeps retrying connections).
A missing browser or driver skips the test, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CHROMIUM_FLAGS", "PageLog", "chromium_or_skip", "find_chromium", "open_page"]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> str | None:
    """The system Chromium's path (``$HYPERHIVE_CHROMIUM`` first), or None."""
    for name in (os.environ.get("HYPERHIVE_CHROMIUM"), "chromium", "chromium-browser"):
        if name:
            path = shutil.which(name)
            if path:
                return path
    return None


@contextlib.contextmanager
def chromium_or_skip(width: int = 1200, height: int = 900) -> Iterator[Any]:
    """A Playwright browser context on the system Chromium with a fresh profile.

    Skips the test when Chromium or Playwright is missing (fails under ``CI=true``).
    """
    import pytest

    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright (pip install playwright)")
    exe = find_chromium()
    if exe is None:
        missing.append("chromium (apt-get install chromium)")
    if missing:
        msg = f"the browser tests need {' and '.join(missing)}"
        if ci:
            pytest.fail(f"{msg}; under CI=true they fail instead of being skipped")
        pytest.skip(msg)
    with tempfile.TemporaryDirectory(prefix="hh-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=exe,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": width, "height": height},
        )
        try:
            yield context
        finally:
            context.close()


@dataclass
class PageLog:
    """What a page did: JavaScript errors, console errors and every request."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def open_page(context: Any, block_network: bool = True) -> tuple[Any, PageLog]:
    """A new page that records errors and requests.

    With ``block_network``, every request to http(s) or websocket addresses is
    aborted (and still recorded), so a test can assert that none was made.
    """
    page = context.new_page()
    log = PageLog()
    page.on("pageerror", lambda exc: log.errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: log.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.on("request", lambda req: log.requests.append(req.url))
    if block_network:

        def route(r: Any) -> None:
            if r.request.url.startswith(("http:", "https:", "ws:", "wss:")):
                r.abort()
            else:
                r.continue_()

        page.route("**/*", route)
    return page, log
