"""A beat scheduler that only sends while it holds a Redis lock: a second beat is harmless.

Run exactly one ``celery -A workers beat``; if two run by mistake (or during a rolling
deploy), the one without the lock idles until the holder stops refreshing it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from typing import Any

import redis
import structlog
from celery.beat import PersistentScheduler

log = structlog.get_logger(__name__)

LOCK_KEY = "commit-digest:beat-lock"
LOCK_TTL_SECONDS = 30


class LockedScheduler(PersistentScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        prefix = self.app.conf.broker_transport_options.get("global_keyprefix", "")
        self._key = f"{prefix}{LOCK_KEY}"
        self._redis = redis.Redis.from_url(
            self.app.conf.broker_url, socket_timeout=5, socket_connect_timeout=5
        )
        self._holding = False

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._hold_lock():
            return 5.0
        result: float = super().tick(*args, **kwargs)
        # wake often enough to refresh the lock before it expires
        return min(result, LOCK_TTL_SECONDS / 3)

    def _hold_lock(self) -> bool:
        try:
            if self._redis.set(self._key, self._token, nx=True, ex=LOCK_TTL_SECONDS):
                holding = True
            else:
                # refresh only our own lock (compare-and-set in one round trip)
                holding = bool(
                    self._redis.eval(_REFRESH, 1, self._key, self._token, LOCK_TTL_SECONDS)
                )
        except redis.RedisError as error:
            log.warning("beat.lock.unreachable", error=type(error).__name__)
            holding = False
        if holding != self._holding:
            log.info("beat.lock.acquired" if holding else "beat.lock.standby", holder=self._token)
            self._holding = holding
        return holding

    def close(self) -> None:
        with contextlib.suppress(redis.RedisError):
            self._redis.eval(_RELEASE, 1, self._key, self._token)
        super().close()


_REFRESH = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('expire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
