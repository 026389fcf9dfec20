"""A throw-away ``redis-server`` for tests: a free local port, no persistence.

Example::

    with RedisServer() as server:
        store = RedisStore(server.url, run="test")

:func:`redis_server_or_skip` skips a test when ``redis-server`` is not installed,
except under ``CI=true``, where a missing server is an error (CI must test Redis).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

__all__ = ["RedisServer", "free_port", "redis_server_or_skip"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """Start ``redis-server`` on a free port (``--save "" --appendonly no``).

    Args:
        password: sets ``requirepass``; the URL then carries it.
        tls_dir: a folder to create a self-signed certificate in (needs ``openssl``);
            the server then listens with TLS only and :attr:`url` is ``rediss://``.
        executable: the server binary.

    Attributes:
        port: the port it listens on.
        url: a URL for it (``redis://`` or ``rediss://``, with the password).
    """

    def __init__(
        self,
        password: str | None = None,
        tls_dir: str | os.PathLike[str] | None = None,
        executable: str = "redis-server",
    ) -> None:
        self.password = password
        self.tls_dir = Path(tls_dir) if tls_dir is not None else None
        self.executable = executable
        self.port = 0
        self.url = ""
        self.ca_file: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        """Start the server and wait until it answers (about 0.1 s)."""
        self.port = free_port()
        args = [self.executable, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        scheme, query = "redis", ""
        if self.tls_dir is not None:
            cert, key = self._make_certificate(self.tls_dir)
            self.ca_file = cert
            args += ["--port", "0", "--tls-port", str(self.port)]
            args += ["--tls-cert-file", str(cert), "--tls-key-file", str(key)]
            args += ["--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"]
            scheme, query = "rediss", f"?ssl_ca_certs={cert}"
        else:
            args += ["--port", str(self.port)]
        if self.password is not None:
            args += ["--requirepass", self.password]
        auth = f":{self.password}@" if self.password is not None else ""
        self.url = f"{scheme}://{auth}127.0.0.1:{self.port}/0{query}"
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20.0
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("redis-server did not start within 20 s") from None
                time.sleep(0.02)

    @staticmethod
    def _make_certificate(folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = folder / "redis.crt", folder / "redis.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
            + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
            + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True,
            capture_output=True,
        )
        return cert, key

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(5.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def redis_server_or_skip(**kwargs: Any) -> RedisServer:
    """A started :class:`RedisServer`; skips the test when redis-py or the server is missing.

    Under ``CI=true`` (any of ``1``, ``true``, ``yes``) a missing server fails instead.
    """
    import pytest

    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    missing = []
    try:
        import redis  # noqa: F401
    except ImportError:
        missing.append("redis-py (pip install 'hyperhive[redis]')")
    if shutil.which(kwargs.get("executable", "redis-server")) is None:
        missing.append("redis-server (apt-get install redis-server)")
    if missing:
        msg = f"the Redis tests need {' and '.join(missing)}"
        if ci:
            pytest.fail(f"{msg}; under CI=true they fail instead of being skipped")
        pytest.skip(msg)
    return RedisServer(**kwargs).start()
