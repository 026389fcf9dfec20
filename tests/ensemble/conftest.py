"""Shared settings of the ensemble tests: one torch thread where torch is used."""

from __future__ import annotations

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional extra
    torch = None
else:
    torch.set_num_threads(1)
