"""The Chromium helper: a missing browser skips, except under CI=true where it fails."""

from __future__ import annotations

import pytest

from hyperhive.testing import browser


def test_missing_chromium_skips_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "find_chromium", lambda: None)
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        with browser.chromium_or_skip():
            pass
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="under CI=true"):
        with browser.chromium_or_skip():
            pass
