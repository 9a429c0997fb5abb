"""Parsing push payloads into typed values, with GitHub's quirks owned in one place."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from commit_digest.push import PAYLOAD_COMMIT_CAP, PayloadError, parse_push

from conftest import payload_bytes
from support import payloads


def test_new_branch_fixture() -> None:
    """The captured new-branch push parses into branch, shas, times and commit data."""
    push = parse_push(json.loads(payload_bytes("octokit__push__with-new-branch.json")))
    assert (push.branch, push.created, push.is_deletion, push.is_tag) == (
        "master",
        True,
        False,
        False,
    )
    assert push.repository.full_name == "Codertocat/Hello-World"
    assert push.repository.default_branch == "master"
    assert push.installation_id == 1
    assert push.pushed_at == datetime(2019, 5, 15, 15, 20, 57, tzinfo=UTC)
    [commit] = push.commits
    assert commit.sha == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    assert commit.committed_at == datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC)
    assert commit.added == ("README.md",)
    assert push.may_be_incomplete is False


def test_tag_deletion_fixture() -> None:
    """The captured tag deletion is a tag push and a deletion."""
    push = parse_push(json.loads(payload_bytes("octokit__push__payload.json")))
    assert (push.branch, push.is_tag, push.is_deletion, push.commits) == (None, True, True, ())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"repository": None}, "repository is missing"),
        ({"repository": {"full_name": "no-slash"}}, "is not OWNER/NAME"),
        ({"ref": 5}, "ref is missing"),
        ({"before": "xyz"}, "before is not a 40-character hex sha"),
        ({"after": None}, "after is not"),
        ({"commits": {"id": 1}}, "commits is not a list"),
        ({"commits": ["x"]}, "commits[0] is not an object"),
        ({"commits": [{"id": "0" * 40}]}, "commits[0].id is all zeros"),
        ({"commits": [{"id": "nope"}]}, "commits[0].id is not"),
    ],
)
def test_bad_payloads_name_the_field(change: dict[str, object], message: str) -> None:
    """A payload we cannot read raises PayloadError naming the field."""
    payload = payloads.push("acme/app", [payloads.commit("acme/app", "1")])
    payload.update(change)
    with pytest.raises(PayloadError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_push(payload)


def test_timestamps_with_offsets_become_utc() -> None:
    """Commit timestamps keep their instant whatever offset GitHub wrote them with."""
    payload = payloads.push("acme/app", [payloads.commit("acme/app", "1")])
    payload["commits"][0]["timestamp"] = "2026-02-03T15:25:14+08:00"
    [commit] = parse_push(payload).commits
    assert commit.committed_at == datetime(2026, 2, 3, 7, 25, 14, tzinfo=UTC)


def test_pushed_at_as_iso_string_is_read_too() -> None:
    """Some payloads give repository.pushed_at as ISO 8601 rather than epoch seconds."""
    payload = payloads.push("acme/app", [payloads.commit("acme/app", "1")])
    payload["repository"]["pushed_at"] = "2026-02-03T08:00:00Z"
    assert parse_push(payload).pushed_at == datetime(2026, 2, 3, 8, 0, tzinfo=UTC)


def test_old_master_branch_field() -> None:
    """A payload that names the default branch master_branch (older GitHub) still has one."""
    payload = payloads.push("acme/app", [payloads.commit("acme/app", "1")], default_branch="trunk")
    del payload["repository"]["default_branch"]
    assert parse_push(payload).repository.default_branch == "trunk"


@pytest.mark.parametrize(
    ("commits", "before", "after", "created", "deleted", "expected"),
    [
        (1, "a", "b", False, False, False),  # ordinary push
        (0, "a", "b", False, False, True),  # force push / rewind with commits: []
        (0, "a", "a", False, False, False),  # nothing moved
        (0, payloads.ZERO, "b", True, False, False),  # new branch at an existing commit
        (0, "a", payloads.ZERO, False, True, False),  # deletion
        (PAYLOAD_COMMIT_CAP, "a", "b", False, False, True),  # GitHub's cap: maybe truncated
    ],
)
def test_may_be_incomplete(
    commits: int, before: str, after: str, created: bool, deleted: bool, expected: bool
) -> None:
    """A push whose commits list may not hold all of before..after is flagged for a compare walk."""
    listed = [payloads.commit("acme/app", str(i)) for i in range(commits)]
    sha = {"a": payloads.fake_sha("a"), "b": payloads.fake_sha("b"), payloads.ZERO: payloads.ZERO}
    payload = payloads.push(
        "acme/app", listed, before=sha[before], after=sha[after], created=created, deleted=deleted
    )
    assert parse_push(payload).may_be_incomplete is expected
