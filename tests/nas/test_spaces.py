"""Every sampled configuration of the ready-made spaces builds and trains (a step)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperhive import nas

FC_REG = nas.fully_connected_space(6, 2, layers=3, units=(4, 8), dropout=(0.0, 0.2))
FC_CLS = nas.fully_connected_space((6,), 3, layers=2, task="classification")
LSTM = nas.stacked_lstm_space((5, 2), 3, layers=3, units=(4, 6), cells=("lstm", "gru"))

SPACES = {
    "fc-regression": (FC_REG, (6,), (2,)),
    "fc-classification": (FC_CLS, (6,), (3,)),
    "stacked-lstm": (LSTM, (5, 2), (3,)),
}


@pytest.mark.parametrize("name", list(SPACES))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_sampled_configs_build_forward_backward(name: str, seed: int) -> None:
    graph, in_shape, out_shape = SPACES[name]
    space = graph.to_space()
    for config in space.sample(2, seed=seed):
        model = graph.build(config)
        x = torch.randn(4, *in_shape)
        y = model(x)
        assert tuple(y.shape) == (4, *out_shape)
        y.square().mean().backward()
        assert all(p.grad is not None for p in model.parameters())


def test_space_structure() -> None:
    assert FC_REG.metadata["loss"] == "mse" and FC_CLS.metadata["loss"] == "cross_entropy"
    space = FC_REG.to_space()
    assert "dense_1" in space and "dropout_1" in space and "merge_1.skip" in space
    assert space["merge_3.skip"].domain == ("none", "x", "merge_1", "merge_2")
    assert "identity" in space["dense_1"].domain
    lstm = LSTM.to_space()
    assert "identity" not in lstm["rnn_1"].domain and "identity" in lstm["rnn_2"].domain
    assert "gru(6)" in lstm["rnn_1"].domain
    assert LSTM.output_shapes == [(3,)]
    no_skip = nas.fully_connected_space(4, 1, layers=2, skip=False)
    assert not any(p.endswith(".skip") for p in no_skip.params)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nas.fully_connected_space(4, 1, layers=0),
        lambda: nas.fully_connected_space(4, 1, units=()),
        lambda: nas.fully_connected_space(4, 1, task="ranking"),
        lambda: nas.stacked_lstm_space((5,), 1),
        lambda: nas.stacked_lstm_space((5, 2), 1, cells=("rnn",)),
    ],
)
def test_invalid_arguments(make) -> None:
    with pytest.raises(ValueError):
        make()
