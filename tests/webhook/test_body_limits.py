"""A body over GitHub's 25 MB cap is 413 however it is sent, read without buffering it whole."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from commit_digest.db import upgrade
from commit_digest.embedded_redis import free_port
from webhook import MAX_BODY_BYTES

from conftest import base_env
from support.processes import Service, gunicorn_web, wait_for


@pytest.fixture
def web(env: dict[str, str], tmp_path: Path) -> Iterator[int]:
    """The web process under gunicorn (which decodes chunked bodies), on a free port."""
    upgrade(env["DATABASE_URL"])
    port = free_port()
    import os

    service: Service = gunicorn_web({**os.environ, **base_env(**env)}, tmp_path, port, workers=1)
    service.start()
    wait_for(lambda: _status(port, "GET", "/healthz") == 200, timeout=30, what="gunicorn")
    yield port
    service.stop(timeout=10)


def _status(port: int, method: str, path: str) -> int | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request(method, path)
        return connection.getresponse().status
    except OSError:
        return None


def _chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"x" * piece


@pytest.mark.parametrize("chunked", [True, False])
def test_an_oversized_body_is_413(web: int, chunked: bool) -> None:
    """26 MB, chunked or with a Content-Length: 413, not 401 (chunked was read to the cap, cut,
    and then failed the signature check)."""
    connection = http.client.HTTPConnection("127.0.0.1", web, timeout=60)
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "big-1",
        "X-Hub-Signature-256": "sha256=" + "0" * 64,
        "Content-Type": "application/json",
    }
    size = MAX_BODY_BYTES + (1 << 20)
    try:
        if chunked:
            connection.request(
                "POST", "/webhooks/github", body=_chunks(size), headers=headers, encode_chunked=True
            )
        else:  # the size is announced: the answer comes before the body is read
            connection.putrequest("POST", "/webhooks/github")
            for name, value in {**headers, "Content-Length": str(size)}.items():
                connection.putheader(name, value)
            connection.endheaders()
        status = connection.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("the connection was dropped instead of answered")
    assert status == 413
