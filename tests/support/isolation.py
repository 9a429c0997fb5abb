"""A PostgreSQL schema and a Redis key prefix of one's own, for tests and benchmarks alike.

Plain functions (no pytest), so the benchmarks use the same ones as the test fixtures.
"""

from __future__ import annotations

import redis
import sqlalchemy as sa


def postgres_schema_url(admin_url: str, schema: str) -> str:
    """A URL whose connections use ``schema`` (created here) as their search path."""
    engine = sa.create_engine(admin_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in admin_url else "?"
    return f"{admin_url}{separator}options=-csearch_path%3D{schema}"


def drop_postgres_schema(admin_url: str, schema: str) -> None:
    engine = sa.create_engine(admin_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def forget_redis_prefix(redis_url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` (queues, bindings, metrics) from a shared Redis."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    except redis.RedisError:
        pass  # a test that stopped the server leaves nothing worth a failure here
    finally:
        client.close()
