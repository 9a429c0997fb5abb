"""Signature verification: GitHub's documented test vector, rotation, and every way to fail."""

from __future__ import annotations

import pytest

from commit_digest.signature import sign, verify_signature

# GitHub's documentation: validating webhook deliveries.
VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_BODY = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_documented_test_vector() -> None:
    """The signature GitHub documents for its test vector is what we compute and accept."""
    assert sign(VECTOR_BODY, VECTOR_SECRET) == VECTOR_SIGNATURE
    assert verify_signature(VECTOR_BODY, VECTOR_SIGNATURE, [VECTOR_SECRET])


@pytest.mark.parametrize(
    ("header", "secrets", "expected"),
    [
        (VECTOR_SIGNATURE, [VECTOR_SECRET], True),
        (VECTOR_SIGNATURE, ["new-secret", VECTOR_SECRET], True),  # rotation: old still accepted
        (VECTOR_SIGNATURE, [VECTOR_SECRET, "new-secret"], True),
        (VECTOR_SIGNATURE, ["wrong"], False),
        (VECTOR_SIGNATURE, [], False),
        (None, [VECTOR_SECRET], False),
        ("", [VECTOR_SECRET], False),
        (VECTOR_SIGNATURE.replace("sha256=", "sha1="), [VECTOR_SECRET], False),
        (VECTOR_SIGNATURE.upper(), [VECTOR_SECRET], False),
        (VECTOR_SIGNATURE[:-1], [VECTOR_SECRET], False),
        (VECTOR_SIGNATURE + "0", [VECTOR_SECRET], False),
        ("sha256=" + "é" * 64, [VECTOR_SECRET], False),
        ("sha256=" + "0" * 64, [VECTOR_SECRET], False),
    ],
)
def test_verify_signature(header: str | None, secrets: list[str], expected: bool) -> None:
    """Only an exact sha256 HMAC under a configured secret verifies."""
    assert verify_signature(VECTOR_BODY, header, secrets) is expected


def test_signature_covers_every_byte() -> None:
    """A body changed by one byte no longer verifies."""
    assert not verify_signature(VECTOR_BODY + b" ", VECTOR_SIGNATURE, [VECTOR_SECRET])
