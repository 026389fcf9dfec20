"""Mirror nodes (same choice, or the very layer) and skip-connection shapes."""

from __future__ import annotations

import pytest
import torch

from hyperhive import nas

D = nas.Dense


def mirrored(share: bool) -> nas.Graph:
    return nas.Graph(
        {"x": (8,)},
        [
            nas.Variable("h1", [D(8, "tanh"), D(8, "relu")], "x"),
            nas.Mirror("h2", of="h1", inputs="h1", share_weights=share),
            nas.Constant("out", D(1), "h2"),
        ],
        "out",
    )


def test_mirror_shares_weights_when_asked() -> None:
    shared = mirrored(True)
    assert shared.params == ["h1"]  # a mirror has no parameter of its own
    model = shared.build({"h1": "dense(8, relu)"})
    assert "h2" not in model.layers and [s.module for s in model.steps] == ["h1", "h1", "out"]
    fresh = mirrored(False).build({"h1": "dense(8, relu)"})
    assert "h2" in fresh.layers
    assert nas.count_parameters(fresh) - nas.count_parameters(model) == 8 * 8 + 8
    # the same weights run twice: out = W_out relu(W relu(W x))
    x = torch.randn(3, 8)
    lin = model.layers["h1"][0]
    expected = model.layers["out"](torch.relu(lin(torch.relu(lin(x)))))
    assert torch.allclose(model(x), expected)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.fill_(1.0)
    ones = model.layers["out"](torch.ones(3, 8))
    assert torch.allclose(model(x), ones)  # both uses see the change


def test_mirror_reuses_the_choice() -> None:
    g = mirrored(False)
    for label in ("dense(8, tanh)", "dense(8, relu)"):
        model = g.build({"h1": label})
        assert model.steps[1].op.label == label and model.steps[1].name == "h2"
        assert model.layers["h1"] is not model.layers["h2"]


def test_shared_layer_with_other_input_shapes_is_forbidden() -> None:
    g = nas.Graph(
        {"x": (8,)},
        [
            nas.Variable("h1", [D(4), D(8)], "x"),
            nas.Mirror("h2", of="h1", inputs="h1", share_weights=True),
            nas.Constant("out", D(1), "h2"),
        ],
        "out",
    )
    space = g.to_space()
    assert space.forbidden == [[{"name": "h1", "op": "eq", "value": "dense(4)"}]]
    assert all(c["h1"] == "dense(8)" for c in space.sample(10, seed=0))
    with pytest.raises(nas.GraphError, match="cannot be built"):
        g.build({"h1": "dense(4)"})


def skip_graph(merge: nas.Merge) -> nas.Graph:
    return nas.Graph(
        {"x": (6,)},
        [
            nas.Variable("h1", [D(4), D(10)], "x"),
            nas.Constant("h2", D(3), "h1", skip=["x"], merge=merge),
            nas.Constant("out", D(1), "h2"),
        ],
        "out",
    )


@pytest.mark.parametrize(
    "merge, h1, skip, in_shape",
    [
        (nas.Add("project"), "dense(4)", "x", (4,)),
        (nas.Add("pad"), "dense(4)", "x", (6,)),
        (nas.Add("pad"), "dense(10)", "x", (10,)),
        (nas.Concat(), "dense(10)", "x", (16,)),
        (nas.Concat(), "dense(4)", "none", (4,)),
    ],
)
def test_skip_shapes(merge: nas.Merge, h1: str, skip: str, in_shape: tuple) -> None:
    g = skip_graph(merge)
    model = g.build({"h1": h1, "h2.skip": skip})
    step = next(s for s in model.steps if s.name == "h2")
    assert step.in_shape == in_shape
    assert step.sources == (("h1",) if skip == "none" else ("h1", skip))
    assert model(torch.randn(2, 6)).shape == (2, 1)


def test_skip_projection_layer() -> None:
    model = skip_graph(nas.Add("project")).build({"h1": "dense(4)", "h2.skip": "x"})
    proj = model.merges["h2"].proj
    assert isinstance(proj[0], torch.nn.Identity) and tuple(proj[1].weight.shape) == (4, 6)


def test_skip_without_alignment_forbids_mismatches() -> None:
    g = nas.Graph(
        {"x": (6,)},
        [
            nas.Variable("h1", [D(4), D(6)], "x"),
            nas.Constant("h2", D(3), "h1", skip=["x"], merge=nas.Add(None)),
            nas.Constant("out", D(1), "h2"),
        ],
        "out",
    )
    space = g.to_space()
    assert space.forbidden == [
        [
            {"name": "h1", "op": "eq", "value": "dense(4)"},
            {"name": "h2.skip", "op": "eq", "value": "x"},
        ]
    ]
    assert g.build({"h1": "dense(6)", "h2.skip": "x"})(torch.randn(2, 6)).shape == (2, 1)
    assert g.build({"h1": "dense(4)", "h2.skip": "none"})(torch.randn(2, 6)).shape == (2, 1)


def test_unused_skip_source_is_not_built() -> None:
    g = nas.Graph(
        {"x": (6,)},
        [
            nas.Constant("side", D(5), "x"),
            nas.Constant("out", D(1), "x", skip=["side"]),
        ],
        "out",
    )
    assert "side" not in g.build({"out.skip": "none"}).layers
    assert "side" in g.build({"out.skip": "side"}).layers
