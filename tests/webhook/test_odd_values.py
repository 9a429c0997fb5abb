"""What git and GitHub can produce is stored, on SQLite and PostgreSQL: no push is lost to it."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from commit_digest.models import Commit, Delivery, Repository
from commit_digest.runtime import Runtime

from conftest import deliver
from support import payloads


def stored(runtime: Runtime, repo: str) -> list[Commit]:
    with runtime.session() as session:
        return list(
            session.execute(
                select(Commit)
                .join(Repository)
                .where(Repository.full_name == repo)
                .order_by(Commit.id)
            ).scalars()
        )


def test_long_names_nul_bytes_and_astral_text_are_stored(
    client: FlaskClient, runtime: Runtime
) -> None:
    """A 2,000-character author, a NUL byte, emoji and a 1,000-character branch: 202, all stored.

    On PostgreSQL this answered 500 and lost the whole push (String(255) columns; text
    cannot hold NUL) before the columns became text and NUL a visible mark.
    """
    repo = "acme/odd-values"
    long_name = "Ünïcødé " * 250
    odd = payloads.commit(repo, "1", "fix: a\x00b 🧪 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", author=long_name, login="l" * 300)
    odd["author"]["email"] = "x" * 400 + "@example.com"
    plain = payloads.commit(repo, "2", "feat: the other commit of the push")
    branch = "refs/heads/" + "feature/" * 125
    body = payloads.push(repo, [odd, plain], ref=branch, default_branch=branch[11:])
    response = deliver(client, payloads.encode(body))
    assert response.status_code == 202, response.json
    commits = stored(runtime, repo)
    assert [c.sha for c in commits] == [odd["id"], plain["id"]]
    first = commits[0]
    assert first.author_name == long_name
    assert first.author_login == "l" * 300
    assert first.author_email == "x" * 400 + "@example.com"
    assert first.message == "fix: a\u2400b 🧪 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"  # NUL shown as ␀
    assert first.branch == branch[11:]


def test_nul_inside_the_file_lists_and_names_is_stored(
    client: FlaskClient, runtime: Runtime
) -> None:
    """A NUL byte in a path of the file lists or in the repository's URL does not fail the push."""
    repo = "acme/odd-paths"
    commit = payloads.commit(repo, "3", "chore: odd path", added=["docs/a\x00b.md"])
    body = payloads.push(repo, [commit])
    body["repository"]["html_url"] = "https://github.com/acme/odd-paths\x00"
    assert deliver(client, payloads.encode(body)).status_code == 202
    [stored_commit] = stored(runtime, repo)
    assert stored_commit.files is not None
    assert json.dumps(stored_commit.files, ensure_ascii=False).count("\u2400") == 1
    with runtime.session() as session:
        assert session.execute(select(Delivery.outcome)).scalars().all() == ["accepted"]


def test_lone_surrogates_and_huge_ids_do_not_fail_the_push(
    client: FlaskClient, runtime: Runtime
) -> None:
    """A message with a lone surrogate and a repository id past 64 bits: stored, not a 500."""
    repo = "acme/odd-ids"
    commit = payloads.commit(repo, "4", "fix: x")
    body = payloads.encode(payloads.push(repo, [commit])).replace(b'"fix: x"', b'"fix: \\ud800x"')
    body = body.replace(b'"id": ', b'"id": 1' + b"0" * 30 + b', "_id": ', 1)
    assert deliver(client, body).status_code == 202
    [stored_commit] = stored(runtime, repo)
    assert stored_commit.message == "fix: \ufffdx"


def test_a_delivery_the_database_refuses_is_quarantined_not_lost(
    client: FlaskClient, runtime: Runtime
) -> None:
    """A value the database refuses (here a CHECK it enforces): the raw body kept, one log line."""
    from sqlalchemy import text

    from commit_digest.models import QuarantinedDelivery

    with runtime.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("ALTER TABLE commits ADD CONSTRAINT refuse CHECK (message <> 'refuse me')")
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON commits WHEN NEW.message = 'refuse me' "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
    repo = "acme/refused"
    body = payloads.encode(payloads.push(repo, [payloads.commit(repo, "5", "refuse me")]))
    response = deliver(client, body, delivery="refused-1")
    assert response.status_code == 202
    assert response.json == {"status": "quarantined", "reason": "kept for inspection"}
    with runtime.session() as session:
        [kept] = session.execute(select(QuarantinedDelivery)).scalars().all()
        assert (kept.guid, kept.event, kept.body) == ("refused-1", "push", body)
        assert kept.reason.startswith("IntegrityError: ")


def test_a_signed_body_replayed_under_fresh_delivery_ids_is_a_duplicate(
    client: FlaskClient, runtime: Runtime
) -> None:
    """The same signed body again, with new X-GitHub-Delivery ids: nothing recorded or queued.

    On main each replay made a new delivery row (and new API calls for its commits).
    """
    repo = "acme/replayed"
    body = payloads.encode(payloads.push(repo, [payloads.commit(repo, "6", "fix: once")]))
    hook = {"X-GitHub-Hook-ID": "42"}
    first = deliver(client, body, delivery="replay-1", headers=hook)
    again = [deliver(client, body, delivery=f"replay-{n}", headers=hook) for n in (2, 3)]
    assert first.status_code == 202
    assert [r.json for r in again] == [{"status": "duplicate"}] * 2
    with runtime.session() as session:
        guids = session.execute(select(Delivery.guid)).scalars().all()
    assert guids == ["replay-1"]
    # another hook (an organisation's beside the repository's) is a delivery of its own
    other = deliver(client, body, delivery="org-hook-1", headers={"X-GitHub-Hook-ID": "43"})
    assert other.status_code == 202


@pytest.mark.parametrize(
    "full_name",
    [
        "../..",
        "acme/..",
        "acme/.",
        "../app",
        "-acme/app",
        "acme-/app",
        "ac--me/app",
        "acme/app/extra",
        "a" * 40 + "/app",
        "acme/" + "x" * 101,
        "acme/app%2F..",
        "acme/app\n",
        "acme/..\n",
        "",
    ],
)
def test_a_repository_name_github_would_not_allow_is_400(
    client: FlaskClient, runtime: Runtime, full_name: str
) -> None:
    """repository.full_name must follow GitHub's rules (``../..`` reached the API's URL path)."""
    body = payloads.push("acme/app", [payloads.commit("acme/app", "7", "fix: x")])
    body["repository"]["full_name"] = full_name
    response = deliver(client, payloads.encode(body))
    assert response.status_code == 400
    with runtime.session() as session:
        assert session.execute(select(Delivery)).first() is None


@pytest.mark.parametrize("full_name", ["acme/app", "a/b", "octo-org/octo.repo_2", "x_y/.github"])
def test_real_repository_names_pass(client: FlaskClient, full_name: str) -> None:
    """Names GitHub allows, including dotfiles repositories, are accepted."""
    body = payloads.push(full_name, [payloads.commit(full_name, "8", "fix: y")])
    assert deliver(client, payloads.encode(body)).status_code == 202
