"""Operations, the registry and merges: declared shapes match what the modules do."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hyperhive import nas

CASES = [
    (nas.Identity(), (5,), (5,)),
    (nas.Zero(), (2, 3), (2, 3)),
    (nas.Dense(7), (5,), (7,)),
    (nas.Dense(7, "relu"), (4, 5), (4, 7)),
    (nas.Activation("gelu"), (5,), (5,)),
    (nas.Dropout(0.3), (5,), (5,)),
    (nas.BatchNorm(), (5,), (5,)),
    (nas.BatchNorm(), (6, 5), (6, 5)),
    (nas.LayerNorm(), (6, 5), (6, 5)),
    (nas.Conv1D(4, 3), (10, 2), (10, 4)),
    (nas.Conv1D(4, 3, stride=2, padding="valid", activation="tanh"), (10, 2), (4, 4)),
    (nas.LSTM(6), (10, 2), (10, 6)),
    (nas.LSTM(6, return_sequences=False, layers=2), (10, 2), (6,)),
    (nas.GRU(3), (10, 2), (10, 3)),
    (nas.LastStep(), (10, 2), (2,)),
    (nas.Flatten(), (10, 2), (20,)),
]


@pytest.mark.parametrize("op, shape, out", CASES, ids=[c[0].label for c in CASES])
def test_declared_shape_matches_module(op: nas.Op, shape: tuple, out: tuple) -> None:
    assert op.output_shape(shape) == out
    module = op.build(shape)
    y = module(torch.randn(3, *shape))
    assert tuple(y.shape) == (3, *out)
    if isinstance(op, nas.Zero):
        assert not y.any()


def test_labels() -> None:
    assert nas.Dense(32, "relu").label == "dense(32, relu)"
    assert nas.Dense(32, "linear").label == "dense(32)"
    assert nas.LSTM(8, return_sequences=False).label == "lstm(8, last)"
    assert nas.GRU(8, layers=2).label == "gru(8, layers=2)"
    assert nas.Conv1D(4, 5, padding="valid").label == "conv1d(4, 5, valid)"
    assert nas.Dropout(0.25).label == "dropout(0.25)"
    assert nas.op("dense", units=4).label == "dense(4)"
    assert "lstm" in nas.available_ops()


@pytest.mark.parametrize(
    "op, shape, match",
    [
        (nas.LSTM(4), (5,), r"lstm\(4\) cannot take input shape \(5,\)"),
        (nas.Conv1D(4, 5, padding="valid"), (3, 2), "fewer than the kernel size"),
        (nas.Conv1D(4), (3, 2, 2), r"needs a \(steps, channels\) input"),
        (nas.BatchNorm(), (2, 3, 4), "rank 1 or 2"),
        (nas.LastStep(), (4,), "needs a"),
    ],
)
def test_shape_errors(op: nas.Op, shape: tuple, match: str) -> None:
    with pytest.raises(nas.ShapeError, match=match):
        op.output_shape(shape)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nas.Dense(0),
        lambda: nas.Dense(4, "wiggle"),
        lambda: nas.Dropout(1.0),
        lambda: nas.Conv1D(4, stride=2),
        lambda: nas.Conv1D(4, padding="full"),
        lambda: nas.LSTM(True),
        lambda: nas.Activation("none"),
        lambda: nas.op("warp_drive"),
    ],
)
def test_invalid_arguments(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_register_custom_ops() -> None:
    nas.register_op(
        "swish_dense",
        lambda in_shape, units: nn.Sequential(nn.Linear(in_shape[-1], units), nn.SiLU()),
        replace=True,
    )
    op = nas.op("swish_dense", units=6)
    assert op.label == "swish_dense(units=6)"
    assert op.output_shape((4,)) == (6,)  # inferred by a forward pass
    assert op.output_shape((3, 4)) == (3, 6)
    assert op.build((4,))(torch.randn(2, 4)).shape == (2, 6)
    nas.register_op("square", lambda: _Square(), replace=True)  # no in_shape argument
    assert nas.op("square").output_shape((2, 3)) == (2, 3)
    nas.register_op("sums", lambda: _Sum(), replace=True)
    with pytest.raises(nas.ShapeError, match="must return one tensor with the batch"):
        nas.op("sums").output_shape((3,))
    nas.register_op("needs_seq", lambda in_shape: nn.Conv1d(in_shape[-1], 2, 3), replace=True)
    with pytest.raises(nas.ShapeError, match=r"needs_seq cannot take input shape \(3,\)"):
        nas.op("needs_seq").output_shape((3,))


def test_registry_errors() -> None:
    with pytest.raises(ValueError, match="built-in"):
        nas.register_op("dense", lambda: nn.Identity())
    with pytest.raises(ValueError, match="identifier"):
        nas.register_op("my op", lambda: nn.Identity())
    with pytest.raises(TypeError, match="needs a callable"):
        nas.register_op("thing", 42)  # type: ignore[arg-type]
    nas.register_op("once", lambda: nn.Identity(), replace=True)
    with pytest.raises(ValueError, match="already registered"):
        nas.register_op("once", lambda: nn.Identity())
    nas.register_op("not_module", lambda: 3, replace=True)
    with pytest.raises(TypeError, match="not a torch.nn.Module"):
        nas.op("not_module").output_shape((2,))


@pytest.mark.parametrize(
    "merge, shapes, out",
    [
        (nas.Add("project"), [(4,), (6,)], (4,)),
        (nas.Add("pad"), [(4,), (6,)], (6,)),
        (nas.Add(None), [(3, 4), (3, 4)], (3, 4)),
        (nas.Concat(), [(3, 4), (3, 2)], (3, 6)),
    ],
)
def test_merges(merge: nas.Merge, shapes: list, out: tuple) -> None:
    assert merge.output_shape(shapes) == out
    xs = [torch.randn(2, *s) for s in shapes]
    assert tuple(merge.build(shapes)(*xs).shape) == (2, *out)


def test_pad_merge_adds_zero_padded() -> None:
    a, b = torch.randn(2, 2), torch.randn(2, 3)
    out = nas.Add("pad").build([(2,), (3,)])(a, b)
    assert torch.allclose(out[:, :2], a + b[:, :2]) and torch.allclose(out[:, 2], b[:, 2])


@pytest.mark.parametrize(
    "merge, shapes, match",
    [
        (nas.Add("project"), [(4,), (2, 4)], "ranks differ"),
        (nas.Concat(), [(3, 4), (5, 4)], "differ before the last dimension"),
        (nas.Add(None), [(4,), (5,)], r"they differ \(use Add"),
    ],
)
def test_merge_errors(merge: nas.Merge, shapes: list, match: str) -> None:
    with pytest.raises(nas.ShapeError, match=match):
        merge.output_shape(shapes)


class _Square(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


class _Sum(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum()
