"""Property tests on random spaces (parameters, conditions, forbidden clauses)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hyperhive.space import Space

from .strategies import close, oracle_active, oracle_forbidden, same, spaces

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PLAIN = (float, int, str, bool, type(None))


def draw_samples(space: Space, n: int, seed: int) -> list[dict]:
    try:
        return space.sample(n, seed=seed)
    except RuntimeError:
        assume(False)  # the random forbidden clauses cover the whole space
        raise


@SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32 - 1))
def test_samples_are_valid_and_follow_the_rules(space: Space, seed: int) -> None:
    configs = draw_samples(space, 40, seed)
    assert len(configs) == 40
    for c in configs:
        assert list(c) == [n for n in space.names if n in c]  # parameter order
        assert all(type(v) in PLAIN for v in c.values())
        expected = oracle_active(space, c)
        assert {n: n in c for n in space.names} == expected
        assert not oracle_forbidden(space, c)
        assert not space.is_forbidden(c)
        assert space.validate(c) == c
        for n in space.names:
            assert space.is_active(n, c) == (n in c)
        for n, p in space.params.items():
            if n in c:
                assert p.contains(c[n])
            if p.kind == "constant":
                assert c[n] == p.value


@SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32 - 1))
def test_seeded_sampling_is_deterministic(space: Space, seed: int) -> None:
    a = draw_samples(space, 15, seed)
    assert space.sample(15, seed=seed) == a
    assert space.sample(15, seed=np.random.default_rng(seed)) == a
    restored = Space.from_json(space.to_json())
    assert restored.sample(15, seed=seed) == a


@SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32 - 1))
def test_unit_round_trip(space: Space, seed: int) -> None:
    configs = draw_samples(space, 30, seed)
    u = space.to_unit(configs)
    assert u.shape == (30, len(space))
    present = np.array([[n in c for n in space.names] for c in configs])
    assert np.array_equal(~np.isnan(u), present)
    assert np.all((u[present] >= 0.0) & (u[present] <= 1.0))
    back = space.from_unit(u)
    assert all(close(space, a, b) for a, b in zip(configs, back, strict=True))


@SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32 - 1), onehot=st.booleans())
def test_encode_decode_round_trip(space: Space, seed: int, onehot: bool) -> None:
    configs = draw_samples(space, 30, seed)
    x = space.encode(configs, onehot=onehot)
    assert x.shape == (30, len(space.encoded_names(onehot)))
    assert not np.isnan(x).any()
    assert np.all((x == -1.0) | ((x >= 0.0) & (x <= 1.0)))
    back = space.decode(x, onehot=onehot)
    assert all(close(space, a, b) for a, b in zip(configs, back, strict=True))


@SETTINGS
@given(space=spaces(), data=st.data())
def test_any_unit_point_maps_into_bounds_and_conditions(space: Space, data: st.DataObject) -> None:
    rows = data.draw(st.integers(1, 20))
    elements = st.one_of(st.floats(-0.5, 1.5), st.just(float("nan")))
    u = np.array(
        data.draw(st.lists(elements, min_size=rows * len(space), max_size=rows * len(space)))
    )
    for c in space.from_unit(u.reshape(rows, len(space))):
        assert {n: n in c for n in space.names} == oracle_active(space, c)
        assert space.is_forbidden(c) == oracle_forbidden(space, c)
        if space.is_forbidden(c):
            with pytest.raises(ValueError, match="forbidden"):
                space.validate(c)
        else:
            assert space.validate(c) == c


@SETTINGS
@given(space=spaces())
def test_json_round_trip(space: Space) -> None:
    text = space.to_json()
    restored = Space.from_json(text)
    assert restored == space
    assert restored.to_json() == text
    assert Space.from_dict(json.loads(text)) == space
    assert repr(restored) == repr(space)


@SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32 - 1), k=st.integers(1, 3))
def test_mutate_gives_valid_neighbours(space: Space, seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    for config in draw_samples(space, 5, seed):
        try:
            new = space.mutate(config, rng, k=k)
        except RuntimeError:
            continue  # no allowed neighbour: the forbidden region surrounds it
        assert space.validate(new) == new
        assert not oracle_forbidden(space, new)
        movable = [n for n in config if space[n].kind != "constant" and space[n].size > 1]
        kk = min(k, len(movable))
        differing = {
            n for n in set(config) | set(new) if not same(config.get(n, ...), new.get(n, ...))
        }
        changed_in_both = {n for n in differing if n in config and n in new}
        assert len(differing) >= kk
        assert len(changed_in_both) <= kk
        if not movable:
            assert new == config


@SETTINGS
@given(space=spaces())
def test_default_is_valid_unless_forbidden(space: Space) -> None:
    cfg = {}
    try:
        cfg = space.default()
    except ValueError as err:
        assert "forbidden" in str(err)
        return
    assert space.validate(cfg) == cfg
    for n, p in space.params.items():
        if n in cfg:
            assert cfg[n] == p.default_value
