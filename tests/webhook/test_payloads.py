"""Decoding a delivery body: the fast JSON reader, and what only the standard library reads."""

from __future__ import annotations

import pytest

from webhook.payloads import BodyError, decode_body


def test_an_ordinary_body_decodes() -> None:
    """A JSON object with text of every kind decodes to the same values."""
    body = '{"ref": "refs/heads/main", "n": 3, "text": "表情 😀 \\"q\\""}'.encode()
    assert decode_body(body, "application/json") == {
        "ref": "refs/heads/main",
        "n": 3,
        "text": '表情 😀 "q"',
    }


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b'{"message": "bad \\ud800 half"}', "bad \ud800 half"),  # a lone surrogate escape
    ],
)
def test_what_the_fast_reader_refuses_is_still_read(body: bytes, value: object) -> None:
    """A lone surrogate escape decodes as the standard library reads it (stored as U+FFFD)."""
    assert next(iter(decode_body(body, "application/json").values())) == value


def test_an_integer_past_64_bits_is_no_id() -> None:
    """orjson reads it as a float; the push parser takes only integers as ids, so it is none."""
    from commit_digest.push import _opt_int

    payload = decode_body(b'{"id": 123456789012345678901234567890}', "application/json")
    assert _opt_int(payload["id"]) is None


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b"[" * 100_000, b'{"a": 1'],
)
def test_invalid_bodies_are_one_clear_error(body: bytes) -> None:
    """Anything that is not a JSON object is a BodyError, never an exception of the reader."""
    with pytest.raises(BodyError):
        decode_body(body, "application/json")
