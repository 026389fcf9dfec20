"""Stoppers by name."""

from __future__ import annotations

import pytest

import hyperhive.stoppers as st


def test_every_name_of_the_issue_resolves():
    assert st.available_stoppers() == ["asha", "constant", "hyperband", "lce", "median"]
    for name, cls in [
        ("asha", st.ASHA),
        ("hyperband", st.Hyperband),
        ("median", st.Median),
        ("lce", st.LearningCurve),
        ("constant", st.Constant),
    ]:
        assert isinstance(st.get_stopper(name), cls)
        assert isinstance(st.get_stopper(name.upper()), cls)


def test_none_and_instances_pass_through():
    assert st.get_stopper(None) is None
    asha = st.ASHA()
    assert st.get_stopper(asha) is asha


def test_unknown_names_and_types_are_refused():
    with pytest.raises(ValueError, match="unknown stopper 'ashaa'.*'asha'"):
        st.get_stopper("ashaa")
    with pytest.raises(TypeError, match="stopper must be"):
        st.get_stopper(3)  # type: ignore[arg-type]


def test_register_stopper():
    class Never(st.Stopper):
        def _decide(self, trial_id, step, losses, rungs):
            return False

    st.register_stopper("never-test", Never)
    try:
        assert isinstance(st.get_stopper("never-test"), Never)
        with pytest.raises(ValueError, match="already registered"):
            st.register_stopper("never-test", st.ASHA)
        with pytest.raises(TypeError, match="concrete Stopper"):
            st.register_stopper("x", int)  # type: ignore[arg-type]
    finally:
        st.registry._REGISTRY.pop("never-test", None)
