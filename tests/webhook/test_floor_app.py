"""The ingest benchmark's floor app does the work it stands for, so the comparison is fair."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
import pytest
import redis

from benchmarks import floor_app
from commit_digest.signature import sign

from conftest import SECRET

pytestmark = pytest.mark.postgres


def _call(app: Callable[..., Iterable[bytes]], body: bytes, signature: str, guid: str) -> str:
    answered: list[str] = []
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_X_HUB_SIGNATURE_256": signature,
        "HTTP_X_GITHUB_DELIVERY": guid,
    }
    b"".join(app(environ, lambda status, headers: answered.append(status)))
    return answered[0]


def test_floor_app_commits_the_body_and_queues_one_message(
    postgres_fresh_url: str, redis_url: str, redis_key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed delivery is committed and LPUSHed before its 202; a replay is a 200; a bad
    signature a 401 that writes nothing."""
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", postgres_fresh_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", redis_key_prefix)
    app = floor_app.create_app()
    body = b'{"ref": "refs/heads/main"}'

    assert _call(app, body, sign(body, SECRET), "d-1").startswith("202")
    assert _call(app, body, sign(body, SECRET), "d-1").startswith("200")
    assert _call(app, body, "sha256=" + "0" * 64, "d-2").startswith("401")

    with psycopg.connect(floor_app._libpq_url(postgres_fresh_url)) as connection:
        rows = connection.execute("SELECT guid, body FROM floor_deliveries").fetchall()
        connection.execute("DROP TABLE floor_deliveries")
    assert rows == [("d-1", body)]
    assert redis.Redis.from_url(redis_url).llen(f"{redis_key_prefix}floor") == 1
