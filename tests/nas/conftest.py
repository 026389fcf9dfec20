"""Shared settings of the NAS tests: skipped without torch; one torch thread."""

from __future__ import annotations

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional extra
    torch = None
    collect_ignore_glob = ["test_*.py"]
else:
    torch.set_num_threads(1)
