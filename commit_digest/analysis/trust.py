"""Whether a model's own labels may decide the commits that the evidence leaves open.

Most commits carry their kind in them: their paths, a conventional prefix, the shape of the
diff or a changelog entry settle the change type whatever the model answered. Each of those
commits is a free check of the model: did it name the type the evidence names? Where nothing
settles the type, the model's label stands only once the model has passed enough of these
checks; until then the heuristics decide there too, and the model writes the rest.

Measured (``benchmarks/EVAL.md``): Qwen2.5-Coder 1.5B named the evidence's type for 34-48 % of
such commits, and where nothing settled the type its label was right for 2 of 8 commits, the
heuristics' for 5. A model that names the type the evidence names three times in four earns
the open commits.

The counts are kept per server (scheme, host and port: no credentials) and model in Redis,
shared by every worker, and recent answers weigh more: past ``WINDOW`` checks both counts are
halved.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import redis
import structlog

from commit_digest.analysis.evidence import STRONG_SIGNALS
from report.schema import Analysis, ChangeType

log = structlog.get_logger(__name__)

KEY = "commit-digest:llm:labels"
MIN_CHECKS = 20
TRUST_AGREEMENT = 0.75
WINDOW = 200
REMEMBER_SECONDS = 90 * 24 * 3600

# Both counts move together, and are halved together past the window.
_RECORD = """
local checked = redis.call('HINCRBY', KEYS[1], ARGV[1] .. '|checked', 1)
local agreed = redis.call('HINCRBY', KEYS[1], ARGV[1] .. '|agreed', tonumber(ARGV[2]))
if checked > tonumber(ARGV[3]) then
  checked = math.floor(checked / 2)
  agreed = math.floor(agreed / 2)
  redis.call('HSET', KEYS[1], ARGV[1] .. '|checked', checked, ARGV[1] .. '|agreed', agreed)
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {checked, agreed}
"""


@dataclass(frozen=True)
class Agreement:
    """How often a model named the type that the commit's own evidence settled."""

    checked: int = 0
    agreed: int = 0

    @property
    def trusted(self) -> bool:
        """Whether the model's label may decide a commit nothing else settles."""
        return self.checked >= MIN_CHECKS and self.agreed >= TRUST_AGREEMENT * self.checked

    def after(self, agreed: bool) -> Agreement:
        """The agreement after one more check (halved past the window, as in Redis)."""
        checked, hits = self.checked + 1, self.agreed + int(agreed)
        if checked > WINDOW:
            checked, hits = checked // 2, hits // 2
        return Agreement(checked, hits)


def checked_by_evidence(said: ChangeType, settled: Analysis) -> bool | None:
    """Whether the model's type ``said`` matches a type strong evidence settled (None: no check)."""
    decided = settled.decided_by
    if decided is None or decided.change_type not in STRONG_SIGNALS:
        return None
    return said is settled.change_type


class LabelTrust:
    """The agreement of each (server, model), in Redis for every worker (else in this process)."""

    def __init__(self, client: redis.Redis | None, prefix: str) -> None:
        self._redis = client
        self._key = prefix + KEY
        self._local: dict[str, Agreement] = {}
        self._lock = threading.Lock()
        self._record = client.register_script(_RECORD) if client is not None else None

    @staticmethod
    def _field(server: str, model: str) -> str:
        return f"{server.rstrip('/')}|{model}"

    def agreement(self, server: str, model: str) -> Agreement:
        """The agreement so far (this process's own count when Redis cannot be read)."""
        field = self._field(server, model)
        if self._redis is not None:
            try:
                checked, agreed = self._redis.hmget(
                    self._key, f"{field}|checked", f"{field}|agreed"
                )
                return Agreement(int(checked or 0), int(agreed or 0))
            except redis.RedisError:
                pass
        with self._lock:
            return self._local.get(field, Agreement())

    def record(self, server: str, model: str, agreed: bool) -> Agreement:
        """Count one check and return the agreement after it."""
        field = self._field(server, model)
        with self._lock:
            local = self._local[field] = self._local.get(field, Agreement()).after(agreed)
        if self._record is None:
            return local
        try:
            checked, hits = self._record(
                keys=[self._key], args=[field, int(agreed), WINDOW, REMEMBER_SECONDS]
            )
        except redis.RedisError:
            return local
        now = Agreement(int(checked), int(hits))
        before = Agreement(now.checked - 1, now.agreed - int(agreed))
        if now.trusted != before.trusted:
            log.info(
                "llm.labels.trusted" if now.trusted else "llm.labels.untrusted",
                model=model,
                checked=now.checked,
                agreed=now.agreed,
            )
        return now
