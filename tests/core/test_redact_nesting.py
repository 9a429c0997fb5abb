"""Secrets inside secrets and inside the files they live in: nothing of them is sent in clear."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from commit_digest.analysis.redact import redact_secrets

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def body(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=ALNUM, min_size=size, max_size=size)


TOKENS = st.one_of(
    body(36).map(lambda b: "ghp_" + b),
    body(82).map(lambda b: "github_pat_" + b),
    body(20).map(lambda b: "glpat-" + b),
    body(16).map(lambda b: "AKIA" + b.upper()),
    body(24).map(lambda b: "sk_live_" + b),
    body(48).map(lambda b: "sk-proj-" + b),
    body(24).map(lambda b: "xoxb-1234567890-1234567890-" + b),
)
PIECE = st.text(alphabet=ALNUM + "-_", min_size=4, max_size=12).filter(
    lambda s: any(c.isalpha() for c in s)
)


def wrapped(head: str, token: str, tail: str) -> str:
    return f"{head}-{token}-{tail}"


CONTEXTS = [
    lambda secret: f"postgres://app:{secret}@db.internal:5432/shop",
    lambda secret: f"DATABASE_PASSWORD={secret}",
    lambda secret: json.dumps({"auth": {"password": secret}}),
    lambda secret: f"db:\n  password: {secret}\n",
    lambda secret: f"//registry.npmjs.org/:_authToken={secret}",
    lambda secret: f"[pypi]\nusername = __token__\npassword = {secret}\n",
    lambda secret: f"users:\n- name: ci\n  user:\n    token: {secret}\n",
    lambda secret: f"export API_TOKEN='{secret}'",
]


@given(head=PIECE, token=TOKENS, tail=PIECE, context=st.sampled_from(range(len(CONTEXTS))))
def test_a_password_that_wraps_a_token_goes_whole(
    head: str, token: str, tail: str, context: int
) -> None:
    """`head-TOKEN-tail` as a password: neither the token nor its head or tail stays in clear."""
    secret = wrapped(head, token, tail)
    text = CONTEXTS[context](secret)
    out = redact_secrets(text).text
    assert token not in out
    assert secret not in out
    assert f"{head}-" not in out or f"{head}-" in text.replace(secret, "")
    assert f"-{tail}" not in out or f"-{tail}" in text.replace(secret, "")


PEM_TYPES = (
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "PGP PRIVATE KEY BLOCK",
)


@given(
    kind=st.sampled_from(PEM_TYPES),
    lines=st.lists(body(64), min_size=2, max_size=6),
    prefix=st.sampled_from(["", "+", "+    ", "  "]),
)
def test_every_pem_private_key_split_over_diff_lines_goes(
    kind: str, lines: list[str], prefix: str
) -> None:
    """Every PEM private-key type, its body over several (diff) lines: no body line is sent."""
    pem = "\n".join(
        [
            f"{prefix}-----BEGIN {kind}-----",
            *(prefix + line for line in lines),
            f"{prefix}-----END {kind}-----",
        ]
    )
    out = redact_secrets(f"private_key = <<EOF\n{pem}\nEOF\n").text
    for line in lines:
        assert line not in out


@given(token=TOKENS)
def test_a_token_in_a_docker_auths_entry_is_not_sent(token: str) -> None:
    """Docker's config keeps ``user:token`` base64-encoded under ``auths``: it goes too."""
    auth = base64.b64encode(f"ci:{token}".encode()).decode()
    text = json.dumps({"auths": {"registry.example.com": {"auth": auth}}}, indent=2)
    assert auth not in redact_secrets(text, path=".docker/config.json").text
