"""The search space: parameters, conditions, forbidden combinations and encodings.

Example:
    >>> from hyperhive.space import Categorical, Float, Int, Space, gt
    >>> space = Space({
    ...     "lr": Float(1e-5, 1e-1, log=True),
    ...     "units": Int(8, 512, log=True),
    ...     "optimizer": Categorical(["adam", "sgd"]),
    ...     "momentum": Float(0.0, 0.99),
    ... })
    >>> space = space.condition("momentum", on="optimizer", equals="sgd")
    >>> space = space.forbid(optimizer="sgd", units=gt(256))
    >>> configs = space.sample(4, seed=0)
    >>> all(space.is_valid(c) for c in configs)
    True

See :mod:`hyperhive.space.encoding` for the numeric encodings used by models.
"""

from collections.abc import Mapping

from hyperhive.space.conditions import Relation, ge, gt, le, lt
from hyperhive.space.params import Categorical, Constant, Float, Int, Ordinal, Param
from hyperhive.space.space import Space


def as_space(obj: object) -> Space:
    """Turn ``obj`` into a :class:`Space`.

    Args:
        obj: a :class:`Space` (returned as is), a dict of parameters (long or short
            form) or a ``ConfigSpace.ConfigurationSpace``.

    Raises:
        TypeError: naming the type of anything else.
    """
    if isinstance(obj, Space):
        return obj
    if isinstance(obj, dict):
        return Space(obj)
    try:
        from ConfigSpace import ConfigurationSpace
    except ImportError:  # pragma: no cover - ConfigSpace is a dependency
        pass
    else:
        if isinstance(obj, ConfigurationSpace):
            return Space.from_configspace(obj)
    if isinstance(obj, Mapping):
        return Space(obj)
    raise TypeError(
        f"as_space() cannot make a Space from a {type(obj).__module__}.{type(obj).__qualname__}; "
        "give a hyperhive Space, a dict of parameters or a ConfigSpace.ConfigurationSpace"
    )


__all__ = [
    "Categorical",
    "Constant",
    "Float",
    "Int",
    "Ordinal",
    "Param",
    "Relation",
    "Space",
    "as_space",
    "ge",
    "gt",
    "le",
    "lt",
]
