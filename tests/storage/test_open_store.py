from __future__ import annotations

import math

import numpy as np
import pytest

from hyperhive.storage import MemoryStore, SQLiteStore, open_store
from hyperhive.storage.codec import dumps, jsonable


def test_memory():
    assert isinstance(open_store(), MemoryStore)
    assert isinstance(open_store(None), MemoryStore)
    assert isinstance(open_store("memory"), MemoryStore)
    store = MemoryStore()
    assert open_store(store) is store


def test_sqlite_paths_and_urls(tmp_path, monkeypatch):
    with open_store(tmp_path / "a.sqlite") as s:
        assert isinstance(s, SQLiteStore) and s.path == tmp_path / "a.sqlite"
    with open_store(str(tmp_path / "run")) as s:
        assert s.path == tmp_path / "run" / "journal.sqlite"
    with open_store(f"sqlite:///{tmp_path}/b.sqlite", durability="full") as s:
        assert s.path == tmp_path / "b.sqlite" and s.durability == "full"
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///rel.sqlite") as s:
        assert s.path.resolve() == (tmp_path / "rel.sqlite").resolve()


@pytest.mark.parametrize(
    "url, match",
    [
        ("postgresql://x/y", "unsupported store URL scheme"),
        ("sqlite://", "SQLite URLs"),
        ("", "empty path"),
    ],
)
def test_errors(url, match):
    with pytest.raises(ValueError, match=match):
        open_store(url)


def test_codec():
    value = {
        "nan": float("nan"),
        "list": (1, float("-inf"), np.float32(2.5)),
        "arr": np.arange(2),
        "set": {3},
        "np": np.int64(4),
        "s": "NaN",
    }
    assert dumps(value) == (
        '{"nan":null,"list":[1,null,2.5],"arr":[0,1],"set":[3],"np":4,"s":"NaN"}'
    )
    assert dumps({"a": 1.0}) == '{"a":1.0}'
    assert jsonable([math.inf]) == [None]
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError):
        dumps(loop)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"f": object()})
