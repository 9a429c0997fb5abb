"""Fuzzing the webhook: random and mutated real payloads and headers never produce a 500."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from commit_digest.models import Delivery
from commit_digest.runtime import Runtime
from commit_digest.signature import sign

from conftest import FIXTURES, SECRET

REAL_PAYLOADS = [
    json.loads(p.read_bytes())
    for p in sorted((FIXTURES / "github" / "payloads").glob("*push*.json"))
]
ANSWERS = {200, 202, 400, 401, 413}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
push_keys = st.sampled_from(
    [
        "ref",
        "before",
        "after",
        "commits",
        "repository",
        "created",
        "deleted",
        "forced",
        "installation",
        "head_commit",
        "pushed_at",
        "id",
        "timestamp",
        "author",
        "added",
    ]
)


@st.composite
def mutated_payload(draw: st.DrawFn) -> Any:
    """A real push payload with some fields deleted or replaced by random JSON."""
    payload: Any = json.loads(json.dumps(draw(st.sampled_from(REAL_PAYLOADS))))
    for _ in range(draw(st.integers(1, 6))):
        node = payload
        # walk down a random path of dicts and lists
        for _ in range(draw(st.integers(0, 3))):
            if isinstance(node, dict) and node:
                child = node[draw(st.sampled_from(sorted(node)))]
            elif isinstance(node, list) and node:
                child = node[draw(st.integers(0, len(node) - 1))]
            else:
                break
            if not isinstance(child, dict | list):
                break
            node = child
        if isinstance(node, dict):
            key = draw(push_keys | st.sampled_from(sorted(node) or ["x"]))
            if draw(st.booleans()) and key in node:
                del node[key]
            else:
                node[key] = draw(json_values)
        elif isinstance(node, list):
            node.append(draw(json_values))
    return payload


bodies = (
    mutated_payload().map(lambda p: json.dumps(p).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
)
headers = st.fixed_dictionaries(
    {
        "X-GitHub-Event": st.sampled_from(["push", "ping", "issues", "", "push\n", "x" * 200])
        | st.text(max_size=20),
        "Content-Type": st.sampled_from(
            ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
        ),
        "sign": st.sampled_from(["valid", "valid", "valid", "wrong", "missing", "garbage"]),
        "X-GitHub-Delivery": st.sampled_from(["fresh", "fresh", "", "same", "../../etc"]),
    }
)


# 300 inputs per backend in `make test`; HYPOTHESIS_PROFILE=fuzz runs 10,000 and fuzz50k
# 50,000 per backend (tests/conftest.py; benchmarks/RESULTS.md has the long run's figures)
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, head=headers)
def test_webhook_never_answers_500(
    client: FlaskClient, runtime: Runtime, body: bytes, head: dict[str, str]
) -> None:
    """Whatever arrives, the answer is one of 200, 202, 400, 401, 413; unsigned input records nothing."""
    sent = {"X-GitHub-Event": head["X-GitHub-Event"], "Content-Type": head["Content-Type"]}
    delivery = head["X-GitHub-Delivery"]
    sent["X-GitHub-Delivery"] = str(uuid.uuid4()) if delivery == "fresh" else delivery
    signature = {
        "valid": sign(body, SECRET),
        "wrong": sign(body, "nope"),
        "garbage": "sha256=zz",
    }.get(head["sign"])
    if signature:
        sent["X-Hub-Signature-256"] = signature
    with runtime.session() as session:
        before = session.execute(select(func.count()).select_from(Delivery)).scalar_one()
    try:
        response = client.post("/webhooks/github", data=body, headers=sent)
    except ValueError:
        return  # werkzeug refuses to send a header with a newline: nothing reaches us
    assert response.status_code in ANSWERS, (response.status_code, response.get_data()[:200])
    if response.status_code == 202 and response.json and response.json.get("status") == "accepted":
        # accepted means stored: the delivery's row is there, with the commits it counted
        with runtime.session() as session:
            row = session.execute(
                select(Delivery).where(Delivery.guid == sent["X-GitHub-Delivery"])
            ).scalar_one_or_none()
            assert row is not None, "a 202 whose delivery was not stored"
    if head["sign"] != "valid":
        assert response.status_code == 401
        with runtime.session() as session:
            assert (
                session.execute(select(func.count()).select_from(Delivery)).scalar_one() == before
            )


def test_fuzz_corpus_holds_every_real_push() -> None:
    """The mutation corpus is the captured push payloads."""
    assert (
        len(REAL_PAYLOADS)
        == len(list(Path(FIXTURES / "github" / "payloads").glob("*push*.json")))
        >= 10
    )
