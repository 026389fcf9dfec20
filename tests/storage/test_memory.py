from __future__ import annotations

import pickle

import pytest

from hyperhive.storage import MemoryStore
from hyperhive.testing.store_contract import StoreContract
from hyperhive.trial import submit_event


class TestMemoryStore(StoreContract):
    def make_store(self, tmp_path):
        return MemoryStore()


def test_memory_store_has_no_capabilities():
    assert MemoryStore.capabilities == frozenset()


def test_memory_store_returns_copies():
    store = MemoryStore()
    config = {"layers": [1, 2]}
    store.append([submit_event(None, config)])
    config["layers"].append(3)
    ((_, event),) = store.events()
    assert event["config"] == {"layers": [1, 2]}
    event["config"]["layers"].append(4)
    assert next(store.events())[1]["config"] == {"layers": [1, 2]}
    assert len(store) == 1


def test_memory_store_cannot_be_pickled():
    with pytest.raises(TypeError):
        pickle.dumps(MemoryStore())


def test_memory_store_meta_is_a_copy():
    store = MemoryStore()
    value = {"a": [1]}
    store.set_meta("k", value)
    value["a"].append(2)
    assert store.get_meta("k") == {"a": [1]}


def test_memory_store_append_while_iterating():
    store = MemoryStore()
    store.append([submit_event(None, {"i": 0})])
    seen = []
    for seq, _ in store.events():
        seen.append(seq)
        store.append([submit_event(None, {"i": seq})])  # no deadlock
    assert seen == [1]
    assert len(store) == 2
