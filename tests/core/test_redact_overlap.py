"""Overlapping secret detections merge: no part of a wrapping or wrapped secret stays in clear."""

from __future__ import annotations

import base64
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from commit_digest.analysis.redact import redact_secrets

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_alnum = st.text(alphabet=_ALNUM, min_size=36, max_size=36)
_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=6, max_size=12)


def test_password_wrapping_a_token_is_redacted_whole() -> None:
    """A URL password that wraps a GitHub token keeps neither its head nor its tail in clear."""
    token = "ghp_" + "nPFz46PDjqipVJIqVLB5LzxoiGFfWd3hjOkY"
    text = f"DATABASE_URL=postgres://u:headpart-{token}-tailpart@db.internal:5432/app"

    redacted = redact_secrets(text).text

    assert ("headpart" in redacted, "tailpart" in redacted, token in redacted) == (
        False,
        False,
        False,
    )


@settings(max_examples=200, deadline=None)
@given(head=_word, tail=_word, body=_alnum)
def test_token_inside_url_password_never_leaks_a_part(head: str, tail: str, body: str) -> None:
    """Any token inside any URL password is redacted together with the password around it."""
    text = f"url = 'https://user:{head}-ghp_{body}-{tail}@example.com/x'"

    # the markers name the kind of secret ("[REDACTED:github-token]"): a part that happens to
    # be a word of a marker ("github") is not a leak
    redacted = re.sub(r"\[REDACTED:[^\]]*\]", "", redact_secrets(text).text)

    assert [p for p in (head, tail, body) if p in redacted] == []


@settings(max_examples=100, deadline=None)
@given(body=_alnum, carrier=st.sampled_from(["json", "yaml", "env", "npmrc", "pypirc", "docker"]))
def test_token_in_config_files_is_redacted(body: str, carrier: str) -> None:
    """A GitHub token in JSON, YAML, .env, .npmrc, .pypirc or Docker auths is never left in clear."""
    token = f"ghp_{body}"
    auth = base64.b64encode(f"user:{token}".encode()).decode()
    texts = {
        "json": json.dumps({"config": {"token": token}}),
        "yaml": f"github:\n  token: {token}\n",
        "env": f"GITHUB_TOKEN={token}\n",
        "npmrc": f"//npm.pkg.github.com/:_authToken={token}\n",
        "pypirc": f"[pypi]\nusername = __token__\npassword = {token}\n",
        "docker": json.dumps({"auths": {"ghcr.io": {"auth": auth, "password": token}}}),
    }

    redacted = redact_secrets(texts[carrier]).text

    assert body not in redacted
