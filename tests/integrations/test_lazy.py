"""Importing hyperhive (and its integrations package) never imports the frameworks."""

from __future__ import annotations

import subprocess
import sys


def test_integrations_are_imported_only_when_used():
    code = (
        "import sys, hyperhive, hyperhive.integrations, hyperhive.sklearn\n"
        "heavy = [m for m in ('lightning', 'pytorch_lightning', 'keras', 'torch') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
