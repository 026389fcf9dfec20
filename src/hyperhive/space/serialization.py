"""JSON round trip of a :class:`~hyperhive.space.Space`.

The dict form is::

    {
        "format": "hyperhive.space",
        "version": 1,
        "params": {"lr": {"type": "float", "low": 1e-05, "high": 0.1, "log": true,
                          "default": null}, ...},
        "conditions": {"momentum": [{"on": "optimizer", "equals": "sgd"}], ...},
        "forbidden": [[{"name": "depth", "op": "eq", "value": 8},
                       {"name": "units", "op": "gt", "value": 256}], ...]
    }

Conditions use the dict form of :meth:`Space.condition` (``on``/``equals``,
``on``/``isin``, ``any_of``, ``all_of``); each forbidden combination is a list of
clauses ANDed together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hyperhive.space.conditions import forbidden_from_dicts
from hyperhive.space.params import param_from_dict

if TYPE_CHECKING:
    from hyperhive.space.space import Space

FORMAT = "hyperhive.space"
VERSION = 1


def space_to_dict(space: Space) -> dict[str, Any]:
    """See :meth:`Space.to_dict`."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "params": {name: p.to_dict() for name, p in space._params.items()},
        "conditions": {
            child: [c.to_dict() for c in conds] for child, conds in space._conditions.items()
        },
        "forbidden": [f.to_dict() for f in space._forbidden],
    }


def space_from_dict(data: Mapping[str, Any]) -> Space:
    """See :meth:`Space.from_dict`."""
    from hyperhive.space.space import Space

    if not isinstance(data, Mapping) or not isinstance(data.get("params"), Mapping):
        raise ValueError("a space description needs a 'params' mapping (see Space.to_dict())")
    if data.get("format", FORMAT) != FORMAT:
        raise ValueError(f"not a hyperhive space description: format={data.get('format')!r}")
    version = data.get("version", VERSION)
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(
            f"space description version {version!r} is newer than this hyperhive "
            f"understands ({VERSION})"
        )
    params = {}
    for name, desc in data["params"].items():
        try:
            params[name] = param_from_dict(desc)
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"parameter {name!r}: bad description {desc!r} ({err})") from None
    space = Space(params)
    conditions = data.get("conditions") or {}
    if not isinstance(conditions, Mapping):
        raise ValueError(f"'conditions' must map child names to lists, got {conditions!r}")
    for child, conds in conditions.items():
        if not isinstance(conds, list):
            raise ValueError(f"conditions of {child!r} must be a list, got {conds!r}")
        for cond in conds:
            if not isinstance(cond, Mapping):
                raise ValueError(f"a condition of {child!r} must be a dict, got {cond!r}")
            space.condition(child, **cond)
    forbidden = data.get("forbidden") or []
    if not isinstance(forbidden, list):
        raise ValueError(f"'forbidden' must be a list, got {forbidden!r}")
    for items in forbidden:
        space._forbidden.append(forbidden_from_dicts(space._params, items))
    return space


def canonical(space: Space) -> tuple[str, dict[str, list[str]], list[str]]:
    """A form equal for structurally equal spaces.

    Parameters compare by their effective defaults. Parameter order matters (it
    fixes the encoding columns); the order of the
    conditions on one child (ANDed), of the forbidden combinations (ORed) and of the
    clauses inside one combination (ANDed) does not. JSON text tells ``True`` from
    ``1`` and ``1`` from ``1.0``.
    """
    d = space_to_dict(space)
    for name, desc in d["params"].items():
        if "default" in desc:  # a default given equal to the natural one is the same space
            desc["default"] = space._params[name].default_value

    def dump(x: Any) -> str:
        return json.dumps(x, sort_keys=True)

    conditions = {c: sorted(dump(x) for x in items) for c, items in d["conditions"].items()}
    forbidden = sorted(dump(sorted(dump(c) for c in f)) for f in d["forbidden"])
    return json.dumps(d["params"]), conditions, forbidden


def to_json(space: Space, indent: int | None = None) -> str:
    """See :meth:`Space.to_json`."""
    return json.dumps(space_to_dict(space), indent=indent)


def from_json(text: str) -> Space:
    """See :meth:`Space.from_json`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON: {err}") from None
    return space_from_dict(data)
