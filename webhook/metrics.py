"""``GET /metrics``: the whole installation's metrics in the Prometheus text format."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import redis
from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from commit_digest.analysis.gate import Gate
from commit_digest.analysis.trust import KEY as LABELS_KEY
from commit_digest.metrics import families
from commit_digest.models import Analysis, Commit
from commit_digest.queueing import QUEUES
from commit_digest.runtime import Runtime
from webhook.access import refused

blueprint = Blueprint("metrics", __name__)


class _Installation:
    """A collector reading shared counters from Redis and gauges from Redis and the database."""

    def __init__(self, rt: Runtime, broker: redis.Redis) -> None:
        self.rt = rt
        self.broker = broker

    def collect(self) -> Iterator[Any]:
        counters, gauges = self.rt.metrics.read()
        yield from families(counters, gauges, self._scrape_time_gauges())

    def _scrape_time_gauges(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        extra: dict[str, list[tuple[dict[str, str], float]]] = {}
        prefix = self.rt.settings.redis_key_prefix or ""
        try:
            pipe = self.broker.pipeline(transaction=False)
            for queue in QUEUES:
                pipe.llen(f"{prefix}{queue}")
            extra["queue_depth"] = [
                ({"queue": q}, float(n)) for q, n in zip(QUEUES, pipe.execute(), strict=True)
            ]
        except redis.RedisError:
            pass
        try:
            gate = Gate(self.broker, prefix, cap=self.rt.settings.llm_concurrency)
            in_flight, waiting, limit = gate.state()
            extra["llm_in_flight"] = [({}, float(in_flight))]
            extra["llm_waiting"] = [({}, float(waiting))]
            extra["llm_limit"] = [({}, limit)]
        except redis.RedisError:
            pass
        with contextlib.suppress(redis.RedisError):
            extra.update(_label_agreement(self.broker.hgetall(f"{prefix}{LABELS_KEY}")))
        try:
            with self.rt.session() as session:
                pending = session.execute(
                    select(func.count()).select_from(Commit).where(Commit.analysed_at.is_(None))
                ).scalar_one()
                again = session.execute(
                    select(func.count())
                    .select_from(Analysis)
                    .where(Analysis.needs_reanalysis.is_(True))
                ).scalar_one()
            extra["commits_pending"] = [({}, float(pending))]
            extra["commits_awaiting_reanalysis"] = [({}, float(again))]
        except SQLAlchemyError:
            pass
        return extra


def _label_agreement(
    fields: Mapping[bytes | str, bytes | str],
) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Per server and model: commits the evidence settled, and how many the model named."""
    checked, agreed = [], []
    for raw, value in fields.items():
        name = raw.decode() if isinstance(raw, bytes) else raw
        where, _, count = name.rpartition("|")
        server, _, model = where.partition("|")
        labels = {"server": server, "model": model}
        if count == "checked":
            checked.append((labels, float(value)))
        elif count == "agreed":
            agreed.append((labels, float(value)))
    return {"llm_label_checks": checked, "llm_label_agreed": agreed} if checked else {}


@blueprint.get("/metrics")
def metrics() -> ResponseReturnValue:
    rt: Runtime = current_app.extensions["commit_digest"]
    denied = refused(rt.settings.access_token, request)
    if denied is not None:
        return denied
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Installation(rt, current_app.extensions["commit_digest_broker"]))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
