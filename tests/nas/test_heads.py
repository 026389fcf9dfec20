"""The Gaussian head, the gaussian_nll loss and graphs saved as data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from hyperhive import nas
from hyperhive.nas.serialize import graph_from_data, graph_to_data


def test_gaussian_head_gives_means_and_positive_variances() -> None:
    op = nas.Gaussian(2)
    assert op.label == "gaussian(2)" and op.output_shape((5,)) == (4,)
    assert nas.op("gaussian", units=3) == nas.Gaussian(3)
    out = op.build((5,))(torch.randn(7, 5) * 100)
    assert out.shape == (7, 4) and torch.all(out[:, 2:] > 0)
    with pytest.raises(ValueError, match="Gaussian\\(units=...\\)"):
        nas.Gaussian(0)


def test_gaussian_nll_matches_torch() -> None:
    mean, var = torch.randn(20, 1), torch.rand(20, 1) + 0.1
    y = torch.randn(20)
    ours = nas.gaussian_nll(torch.cat([mean, var], dim=1), y)
    ref = nn.GaussianNLLLoss(full=True)(mean, y[:, None], var)
    assert float(ours) == pytest.approx(float(ref), rel=1e-5)
    with pytest.raises(ValueError, match="even last dimension"):
        nas.gaussian_nll(torch.zeros(3, 3), torch.zeros(3))


def test_fully_connected_space_with_a_gaussian_head_trains_on_nll() -> None:
    arch = nas.fully_connected_space(input_shape=(2,), output_units=1, layers=2, head="gaussian")
    assert arch.metadata["loss"] == "gaussian_nll" and arch.metadata["head"] == "gaussian"
    assert arch.output_shapes == [(2,)]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype("float32")
    y = (x[:, 0] + 0.5 * rng.standard_normal(200)).astype("float32")
    torch.manual_seed(0)
    fit = nas.train(arch.build(), (x, y), (x, y), lr=1e-2, epochs=30, batch_size=50)
    assert fit.history[-1]["value"] < fit.history[0]["value"]
    rmse = nas.train(arch.build(), (x, y), (x, y), epochs=2, monitor="rmse").best_value
    assert math.isfinite(rmse)
    with pytest.raises(ValueError, match="head is 'linear' or 'gaussian'"):
        nas.fully_connected_space(input_shape=(2,), output_units=1, head="laplace")
    with pytest.raises(ValueError, match="for regression"):
        nas.fully_connected_space(2, 3, task="classification", head="gaussian")
    lstm = nas.stacked_lstm_space((4, 2), 1, layers=1, head="gaussian")
    assert lstm.output_shapes == [(2,)] and lstm.metadata["loss"] == "gaussian_nll"


def test_graph_round_trips_as_data() -> None:
    arch = nas.Graph(
        {"a": (3,), "b": (4,)},
        [
            nas.Variable("h1", [nas.Dense(8, "relu"), nas.Dropout(0.1), nas.Identity()], "a"),
            nas.Mirror("h2", "h1", "b", skip=["a"], merge=nas.Concat()),
            nas.Constant("join", nas.LayerNorm(), ["h1", "h2"], merge=nas.Add("pad")),
            nas.Constant("out", nas.Gaussian(1), "join"),
        ],
        "out",
        metadata={"note": "x"},
    )
    data = graph_to_data(arch)
    again = graph_from_data(json.loads(json.dumps(data)))
    assert again.params == arch.params and again.metadata == {"note": "x"}
    assert again.to_space() == arch.to_space()
    config = {"h1": "dense(8, relu)", "h2.skip": "a"}
    assert again.describe(config) == arch.describe(config)


def test_saved_models_hold_no_pickle_unless_they_must(tmp_path: Path) -> None:
    arch = nas.fully_connected_space(input_shape=(2,), output_units=1, layers=1, head="gaussian")
    model = arch.build()
    nas.save_model(model, tmp_path / "plain")
    assert (tmp_path / "plain" / "graph.json").is_file()
    assert not (tmp_path / "plain" / "graph.pkl").exists()
    meta = json.loads((tmp_path / "plain" / "model.json").read_text())
    assert meta["head"] == "gaussian" and meta["task"] == "regression"
    loaded = nas.load_model(tmp_path / "plain", allow_pickle=False)
    x = torch.randn(4, 2)
    assert torch.allclose(loaded(x), model.eval()(x))

    nas.register_op("twice", lambda in_shape: nn.Linear(in_shape[-1], 2), replace=True)
    custom = nas.Graph({"x": (2,)}, [nas.Constant("o", nas.op("twice"), "x")], "o")
    nas.save_model(custom.build(), tmp_path / "custom")
    assert (tmp_path / "custom" / "graph.pkl").is_file()
    with pytest.raises(ValueError, match="is a pickle"):
        nas.load_model(tmp_path / "custom", allow_pickle=False)
    assert isinstance(nas.load_model(tmp_path / "custom"), nas.GraphModule)
