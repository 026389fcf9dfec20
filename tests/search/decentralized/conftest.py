from __future__ import annotations

import pytest

from hyperhive.testing.redis_server import redis_server_or_skip


@pytest.fixture(scope="module")
def redis_server():
    server = redis_server_or_skip()
    yield server
    server.stop()
