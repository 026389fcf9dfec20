"""The nodes of an architecture graph.

Every non-input node takes one or more ``inputs`` (names of other nodes, or the
nodes themselves), merges them when there are several (see
:mod:`hyperhive.nas.merge`), and applies one operation. A node may also have
``skip`` candidates: an extra input chosen among earlier nodes, or none; the
choice is a categorical parameter ``"<node>.skip"`` with values ``"none"`` and
the candidates' names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

from hyperhive.nas.errors import GraphError, Shape, check_shape
from hyperhive.nas.merge import Merge, as_merge
from hyperhive.nas.ops import Op

__all__ = ["Constant", "Input", "Mirror", "Node", "Variable"]

NO_SKIP = "none"


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name or "." in name or name == NO_SKIP:
        raise GraphError(
            f"a node name is a non-empty string without '.', other than {NO_SKIP!r}; got {name!r}"
        )
    return name


def _names(refs: Any, node: str, what: str) -> tuple[str, ...]:
    if refs is None:
        return ()
    if isinstance(refs, str | Input | _Inner):
        refs = [refs]
    out = []
    for r in refs:
        if isinstance(r, Input | _Inner):
            r = r.name
        if not isinstance(r, str):
            raise GraphError(f"node {node!r}: {what} are node names or nodes, got {r!r}")
        out.append(r)
    if len(set(out)) != len(out):
        raise GraphError(f"node {node!r}: {what} name a node twice: {out}")
    return tuple(out)


def _check_op(op: Any, node: str) -> Op:
    if not isinstance(op, Op):
        raise TypeError(
            f"node {node!r}: operations are hyperhive.nas operations (Dense(...), "
            f"nas.op(name, ...)), got {op!r}"
        )
    return op


@dataclass(frozen=True)
class Input:
    """A graph input.

    Args:
        name: the input's name (positional order of the built model's ``forward``).
        shape: its shape without the batch dimension, e.g. ``(8,)`` or ``(24, 3)``.
    """

    name: str
    shape: Shape

    def __post_init__(self) -> None:
        _check_name(self.name)
        object.__setattr__(self, "shape", check_shape(self.shape, f"input {self.name!r}"))


@dataclass(frozen=True)
class _Inner:
    """Common fields of non-input nodes."""

    name: str
    inputs: tuple[str, ...]
    skip: tuple[str, ...]
    merge: Merge

    def _setup(self) -> None:
        _check_name(self.name)
        object.__setattr__(self, "inputs", _names(self.inputs, self.name, "inputs"))
        object.__setattr__(self, "skip", _names(self.skip, self.name, "skip candidates"))
        object.__setattr__(self, "merge", as_merge(self.merge, f"node {self.name!r}"))
        if not self.inputs:
            raise GraphError(f"node {self.name!r} has no inputs")
        both = set(self.inputs) & set(self.skip)
        if both:
            raise GraphError(
                f"node {self.name!r}: {sorted(both)} are both inputs and skip candidates"
            )

    @property
    def skip_param(self) -> str | None:
        """The name of the skip-connection parameter, or None without candidates."""
        return f"{self.name}.skip" if self.skip else None


@dataclass(frozen=True)
class Constant(_Inner):
    """A node with one fixed operation.

    Args:
        name: the node's name.
        op: its operation.
        inputs: one or more node names (or nodes).
        skip: optional skip-connection candidates (earlier nodes).
        merge: how several incoming tensors are merged (``Add(...)``, ``Concat()``).
    """

    def __init__(
        self,
        name: str,
        op: Op,
        inputs: str | Any | Sequence[Any],
        *,
        skip: Sequence[Any] = (),
        merge: Merge | str = "add",
    ) -> None:
        object.__setattr__(self, "op", _check_op(op, name))
        _Inner.__init__(self, name, inputs, skip, merge)  # type: ignore[arg-type]
        self._setup()

    op: Op = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Variable(_Inner):
    """A node whose operation is searched: a categorical parameter named like the node.

    Args:
        name: the node's name (and its parameter's).
        ops: the candidate operations; their labels are the parameter's values.
        inputs, skip, merge: as for :class:`Constant`.
    """

    def __init__(
        self,
        name: str,
        ops: Sequence[Op],
        inputs: str | Any | Sequence[Any],
        *,
        skip: Sequence[Any] = (),
        merge: Merge | str = "add",
    ) -> None:
        if isinstance(ops, Op):
            ops = [ops]
        ops = tuple(_check_op(o, name) for o in ops)
        if not ops:
            raise GraphError(f"variable node {name!r} needs at least one operation")
        labels = [o.label for o in ops]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise GraphError(f"variable node {name!r}: operation labels {dup} appear twice")
        object.__setattr__(self, "ops", ops)
        _Inner.__init__(self, name, inputs, skip, merge)  # type: ignore[arg-type]
        self._setup()

    ops: tuple[Op, ...] = ()

    @property
    def labels(self) -> list[str]:
        """The operation labels, the values of the node's parameter."""
        return [o.label for o in self.ops]


@dataclass(frozen=True)
class Mirror(_Inner):
    """A node that reuses another node's choice, or its very layer.

    Args:
        name: the node's name.
        of: the mirrored node (a :class:`Variable`, :class:`Constant` or Mirror).
        inputs, skip, merge: as for :class:`Constant`.
        share_weights: reuse the mirrored node's module itself (its weights are
            shared; the merged input shapes must then be equal, configurations where
            they differ are forbidden). False builds a fresh layer of the same choice.
    """

    def __init__(
        self,
        name: str,
        of: str | Any,
        inputs: str | Any | Sequence[Any],
        *,
        share_weights: bool = False,
        skip: Sequence[Any] = (),
        merge: Merge | str = "add",
    ) -> None:
        src = _names(of, name, "'of'")
        if len(src) != 1:
            raise GraphError(f"mirror node {name!r} needs one node to mirror (of=...), got {of!r}")
        object.__setattr__(self, "of", src[0])
        object.__setattr__(self, "share_weights", bool(share_weights))
        _Inner.__init__(self, name, inputs, skip, merge)  # type: ignore[arg-type]
        self._setup()

    of: str = ""
    share_weights: bool = False


Node = Union[Input, Constant, Variable, Mirror]  # noqa: UP007 - a runtime alias
