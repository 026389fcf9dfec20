"""Graph construction, validation at definition time, and the search space it gives."""

from __future__ import annotations

import itertools

import cloudpickle
import pytest
import torch
from torch import nn

import hyperhive as hh
from hyperhive import nas
from hyperhive.nas import shapes
from hyperhive.nas.module import plan


def small_graph(**kw) -> nas.Graph:
    return nas.Graph(
        inputs={"x": (8,)},
        nodes=[
            nas.Variable("h1", [nas.Dense(16, "relu"), nas.Dense(32, "relu")], "x"),
            nas.Variable("h2", [nas.Dense(16, "tanh"), nas.Identity()], "h1", skip=["x"]),
            nas.Constant("out", nas.Dense(1), "h2"),
        ],
        output="out",
        **kw,
    )


def test_space_parameters_and_build() -> None:
    g = small_graph()
    assert g.params == ["h1", "h2", "h2.skip"]
    space = g.to_space()
    assert space["h1"].domain == ("dense(16, relu)", "dense(32, relu)")
    assert space["h2.skip"].domain == ("none", "x")
    assert not space.has_forbidden
    assert g.shapes("h2") == [(16,), (32,)]
    assert g.output_shapes == [(1,)]
    for config in space.sample(8, seed=0):
        model = g.build(config)
        assert model(torch.randn(3, 8)).shape == (3, 1)
    model = g.build({"h1": "dense(32, relu)", "h2": "identity", "h2.skip": "x"})
    assert "h2" in model.merges  # the skip connection is merged
    text = g.describe({"h1": "dense(32, relu)", "h2": "identity", "h2.skip": "x"})
    assert "h2: identity <- h1 add(project) x -> (32,)" in text


def test_joint_space_with_hyperparameters() -> None:
    g = small_graph()
    space = g.to_space() | hh.Space({"lr": hh.Float(1e-4, 1e-1, log=True)})
    (config,) = space.sample(1, seed=1)
    model = g.build(config)
    assert model.config["lr"] == config["lr"]
    assert set(model.architecture) == {"h1", "h2", "h2.skip"}
    assert isinstance(g.build(), nas.GraphModule)  # the default configuration


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"h1": "dense(16, relu)", "h2": "identity"}, "lacks the graph parameters"),
        ({"h1": "dense(64)", "h2": "identity", "h2.skip": "none"}, "cannot be built"),
    ],
)
def test_build_refuses_bad_configs(bad: dict, match: str) -> None:
    with pytest.raises(nas.GraphError, match=match):
        small_graph().build(bad)


def _graph(nodes, output="out", inputs=None):
    return nas.Graph(inputs or {"x": (8,)}, nodes, output)


D = nas.Dense


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: _graph([nas.Constant("x", D(2), "x")]), "two nodes are named 'x'"),
        (lambda: _graph([nas.Constant("out", D(2), "nope")]), "input 'nope' is not a node"),
        (lambda: _graph([nas.Constant("out", D(2), "x", skip=["zz"])]), "skip candidate 'zz'"),
        (lambda: _graph([nas.Constant("out", D(2), "x")], output="y"), "output 'y' is not"),
        (lambda: _graph([nas.Constant("out", D(2), "x")], output="x"), "is an input"),
        (
            lambda: _graph(
                [
                    nas.Constant("a", D(4), ["x", "b"]),
                    nas.Constant("b", D(4), "a"),
                    nas.Constant("out", D(1), "b"),
                ]
            ),
            r"cycle: .*'a'.*'b'",
        ),
        (lambda: _graph([nas.Constant("out", D(1), ["x", "out"])]), "cycle"),
        (
            lambda: _graph([nas.Constant("lost", D(4), "x"), nas.Constant("out", D(1), "x")]),
            r"\['lost'\] are dangling",
        ),
        (
            lambda: _graph([nas.Constant("out", D(1), "x")], inputs={"x": (8,), "y": (3,)}),
            r"\['y'\] are dangling",
        ),
        (
            lambda: _graph(
                [nas.Constant("out", D(1), ["x", "s"], merge=nas.Concat())],
                inputs={"x": (8,), "s": (4, 3)},
            ),
            r"can never be merged: concat cannot merge shapes \(8,\), \(4, 3\): their ranks",
        ),
        (
            lambda: _graph(
                [nas.Constant("out", D(1), ["x", "s"], merge=nas.Add(None))],
                inputs={"x": (8,), "s": (4,)},
            ),
            r"add cannot merge shapes \(8,\), \(4,\).*Add\('project'\)",
        ),
        (
            lambda: _graph(
                [nas.Constant("out", D(1), "x", skip=["s"])],
                inputs={"x": (8,), "s": (4, 3)},
            ),
            r"node 'out': skip candidate 's' can never be merged: .*ranks differ",
        ),
        (
            lambda: _graph([nas.Variable("out", [nas.LSTM(8), D(1)], "x")]),
            r"operation 'lstm\(8\)' can never be applied: lstm\(8\) cannot take input shape \(8,\)",
        ),
        (
            lambda: _graph([nas.Constant("out", nas.Conv1D(4), "x")]),
            r"node 'out': no operation accepts its input",
        ),
        (
            lambda: _graph([nas.Mirror("out", "x", "x")]),
            "mirror node 'out' mirrors input 'x'",
        ),
        (
            lambda: _graph([nas.Mirror("a", "out", "x"), nas.Mirror("out", "a", "a")]),
            "mirror nodes refer to each other in a cycle",
        ),
        (lambda: _graph([nas.Constant("a.b", D(1), "x")], output="a.b"), "without '.'"),
        (lambda: _graph([nas.Constant("out", D(1), [])]), "has no inputs"),
        (lambda: _graph([nas.Variable("out", [D(1), D(1)], "x")]), "appear twice"),
        (lambda: _graph([nas.Variable("out", [], "x")]), "at least one operation"),
        (lambda: _graph([nas.Constant("out", D(1), "x", skip=["x"])]), "both inputs and skip"),
        (lambda: nas.Graph({}, [nas.Constant("out", D(1), "x")], "out"), "at least one input"),
        (lambda: _graph([], inputs={"x": (0,)}), "positive ints"),
    ],
)
def test_definition_errors(make, match: str) -> None:
    with pytest.raises(nas.GraphError, match=match):
        make()


def test_unknown_merge_and_op_types() -> None:
    with pytest.raises(ValueError, match="merge must be"):
        nas.Constant("out", D(1), "x", merge="multiply")
    with pytest.raises(TypeError, match="operations are hyperhive.nas operations"):
        nas.Constant("out", nn.Linear(2, 2), "x")


def _only_width(width: int):
    def shape(in_shape, **kw):
        if in_shape[-1] != width:
            raise nas.ShapeError(f"only{width} takes width {width}, not {in_shape[-1]}")
        return in_shape

    return shape


def test_every_configuration_forbidden() -> None:
    """Each choice works somewhere, but no combination satisfies two merge nodes."""
    nas.register_op("only12", lambda: nn.Identity(), output_shape=_only_width(12), replace=True)
    nodes = [
        nas.Variable("a", [D(4), D(8)], "x"),
        nas.Variable("b", [D(4), D(8)], "x"),
        nas.Constant("same", nas.Identity(), ["a", "b"], merge=nas.Add(None)),  # a == b
        nas.Constant("diff", nas.op("only12"), ["a", "b"], merge=nas.Concat()),  # a != b
        nas.Constant("out", D(1), ["same", "diff"], merge=nas.Add("pad")),
    ]
    with pytest.raises(nas.GraphError, match="every configuration of the graph is forbidden"):
        _graph(nodes)


def forbidden_graph() -> nas.Graph:
    return nas.Graph(
        {"x": (8,)},
        [
            nas.Variable("h1", [D(8, "relu"), D(16, "relu")], "x"),
            nas.Variable("h2", [D(8), nas.Identity(), D(16)], "h1"),
            nas.Variable("h3", [D(8), nas.Identity()], "h2", skip=["x", "h1"], merge=nas.Add(None)),
            nas.Constant("out", D(1), "h3"),
        ],
        "out",
    )


def test_forbidden_clauses_are_exact() -> None:
    """Allowed configurations are exactly those whose shapes fit (checked exhaustively)."""
    g = forbidden_graph()
    space = g.to_space()
    assert space.has_forbidden
    domains = {k: p.domain for k, p in space.params.items()}
    allowed = 0
    for values in itertools.product(*domains.values()):
        config = dict(zip(domains, values, strict=True))
        try:
            plan(g, config)
            buildable = True
        except nas.GraphError:
            buildable = False
        assert buildable == (not space.is_forbidden(config)), config
        allowed += buildable
    assert 0 < allowed < len(list(itertools.product(*domains.values())))
    for config in space.sample(30, seed=2):
        assert g.build(config)(torch.randn(2, 8)).shape == (2, 1)
    assert space.is_valid(space.default())


def test_multiple_inputs_positional_and_named() -> None:
    g = nas.Graph(
        {"a": (3,), "b": (5,)},
        [
            nas.Constant("cat", nas.Identity(), ["a", "b"], merge="concat"),
            nas.Constant("out", D(2), "cat"),
        ],
        "out",
    )
    model = g.build({})
    a, b = torch.randn(4, 3), torch.randn(4, 5)
    assert torch.equal(model(a, b), model(b=b, a=a))
    with pytest.raises(TypeError, match="takes 2 input"):
        model(a)


def test_graph_pickles_with_custom_ops() -> None:
    nas.register_op("scaled", lambda in_shape, k: _Scale(k), replace=True)
    g = nas.Graph({"x": (4,)}, [nas.Variable("out", [nas.op("scaled", k=2.0), D(4)], "x")], "out")
    g2 = cloudpickle.loads(cloudpickle.dumps(g))
    model = g2.build({"out": "scaled(k=2.0)"})
    x = torch.randn(2, 4)
    assert torch.allclose(model(x), 2 * x)


class _Scale(nn.Module):
    def __init__(self, k: float) -> None:
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.k * x


def dense_concat(layers: int, final: nas.Variable | None = None) -> list:
    nodes, prev, anchors = [], "x", ["x"]
    for i in range(1, layers + 1):
        nodes.append(nas.Variable(f"d{i}", [D(4), D(8), D(16), nas.Identity()], prev))
        nodes.append(
            nas.Constant(f"m{i}", nas.Identity(), f"d{i}", skip=list(anchors), merge="concat")
        )
        prev = f"m{i}"
        anchors.append(prev)
    nodes.append(final or nas.Constant("out", D(1), prev))
    return nodes


def test_deep_concatenations_are_summarized() -> None:
    g = nas.Graph({"x": (5,)}, dense_concat(10), "out")
    assert g.shapes("m10") == [(nas.errors.ANY,)]  # too many widths to list, none can fail
    assert g.shapes("m1") == sorted({(w + s,) for w in (4, 8, 16, 5) for s in (0, 5)})
    assert not g.to_space().has_forbidden
    for config in g.to_space().sample(3, seed=0):
        assert g.build(config)(torch.randn(2, 5)).shape == (2, 1)


def test_too_many_failing_combinations_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(shapes, "MAX_TERMS", 2000)  # the default is 100_000: slow to reach
    final = nas.Variable("out", [D(1), nas.Identity()], "m4", skip=["d1"], merge=nas.Add(None))
    with pytest.raises(nas.GraphError, match="too many to list as forbidden clauses"):
        nas.Graph({"x": (5,)}, dense_concat(4, final), "out")
