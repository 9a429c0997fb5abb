"""The archive: search every stored commit with filters, a page per commit, no JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert

from commit_digest.models import Analysis, Commit, CommitComment, CommitOverride, Repository
from commit_digest.queries import PAGE_SIZE
from commit_digest.runtime import Runtime

TOKEN = "a-long-enough-access-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
START = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def analysis_body(change_type: str, importance: str, summary: str) -> dict[str, object]:
    return {
        "change_type": change_type,
        "importance": importance,
        "summary": summary,
        "impact_scope": [{"area": "src/auth/", "note": "Token refresh."}],
        "insights": {"architecture": "", "performance": "", "security": "", "compatibility": ""},
        "risks": ["Clients holding old tokens are logged out."],
        "recommendations": [],
        "breaking_change": False,
    }


@pytest.fixture
def archive(runtime: Runtime) -> dict[str, int]:
    """Two repositories: 60 low-importance docs commits and four others of every kind."""
    ids: dict[str, int] = {}
    with runtime.session() as session:
        repos = {
            name: session.execute(
                insert(Repository).values(full_name=name, created_at=START).returning(Repository.id)
            ).scalar_one()
            for name in ("acme/api", "acme/web")
        }

        def commit(repo: str, sha: str, message: str, author: str, when: datetime) -> int:
            commit_id: int = session.execute(
                insert(Commit)
                .values(
                    repository_id=repos[repo],
                    sha=sha,
                    message=message,
                    author_name=author,
                    landed_at=when,
                    committed_at=when,
                    source="webhook",
                    created_at=when,
                    attempts=0,
                )
                .returning(Commit.id)
            ).scalar_one()
            return commit_id

        def analyse(commit_id: int, change_type: str, importance: str, summary: str) -> None:
            session.execute(
                insert(Analysis).values(
                    commit_id=commit_id,
                    analyzer="llm",
                    model="gpt-4o-mini",
                    language="en",
                    change_type=change_type,
                    importance=importance,
                    body=analysis_body(change_type, importance, summary),
                    source="github",
                    files_analysed=2,
                    files_total=3,
                    lines_analysed=40,
                    lines_total=90,
                    omitted=["package-lock.json"],
                    created_at=START,
                    updated_at=START,
                )
            )

        for n in range(60):
            cid = commit(
                "acme/web", f"{n:040x}", f"docs: page {n}", "Dana", START + timedelta(minutes=n)
            )
            analyse(cid, "docs", "low", f"Page {n} explained.")
        ids["fix"] = commit(
            "acme/api",
            "f" * 40,
            "fix(auth): refuse expired tokens",
            "Ada Lovelace",
            START + timedelta(days=2),
        )
        analyse(ids["fix"], "bugfix", "high", "Expired refresh tokens are refused.")
        ids["feat"] = commit(
            "acme/api", "e" * 40, "feat: 100% more _wildcards_", "bob", START + timedelta(days=3)
        )
        analyse(ids["feat"], "feature", "medium", "Adds wildcards.")
        ids["pending"] = commit(
            "acme/api", "d" * 40, "chore: bump", "Ada Lovelace", START + timedelta(days=4)
        )
        ids["overridden"] = commit(
            "acme/api", "c" * 40, "refactor: tidy", "Ada Lovelace", START + timedelta(days=5)
        )
        analyse(ids["overridden"], "refactor", "low", "Tidied.")
        session.execute(
            insert(CommitOverride).values(
                commit_id=ids["overridden"],
                importance="high",
                ignored=False,
                set_by="ada",
                set_at=START,
            )
        )
        session.execute(
            insert(CommitComment).values(
                commit_id=ids["fix"], github_comment_id=424242, state="posted", updated_at=START
            )
        )
    return ids


@pytest.fixture
def client(client_with: Callable[..., FlaskClient]) -> FlaskClient:
    return client_with(ACCESS_TOKEN=TOKEN)


def search(client: FlaskClient, **params: str) -> dict[str, object]:
    response = client.get(
        "/commits", query_string=params, headers={**AUTH, "Accept": "application/json"}
    )
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def shas(found: dict[str, object]) -> list[str]:
    return [str(c["sha"])[:1] for c in found["commits"]]  # type: ignore[attr-defined]


def test_each_filter_narrows_the_commits(client: FlaskClient, archive: dict[str, int]) -> None:
    """Repository, author, importance (a person's override counts), type, dates and text."""
    assert search(client)["total"] == 64
    assert search(client, repo="acme/api")["total"] == 4
    assert shas(search(client, author="ada")) == ["c", "d", "f"]
    assert shas(search(client, importance="high")) == ["c", "f"]
    assert shas(search(client, importance="pending")) == ["d"]
    assert shas(search(client, type="feature")) == ["e"]
    assert shas(search(client, since="2026-02-04", until="2026-02-05")) == ["d", "e"]
    # % and _ are text, not wildcards
    assert shas(search(client, q="100% more _wild")) == ["e"]
    assert search(client, q="100% more _wild", repo="acme/web")["total"] == 0


def test_pages_of_fifty_newest_first(client: FlaskClient, archive: dict[str, int]) -> None:
    """64 commits: a full first page, the rest on the second, none beyond."""
    first, second = search(client, page="1"), search(client, page="2")
    assert len(first["commits"]) == PAGE_SIZE  # type: ignore[arg-type]
    assert len(second["commits"]) == 64 - PAGE_SIZE  # type: ignore[arg-type]
    assert search(client, page="3")["commits"] == []
    assert shas(first)[:4] == ["c", "d", "e", "f"]


def test_the_html_page_is_a_plain_form_that_keeps_the_token(
    client: FlaskClient, archive: dict[str, int]
) -> None:
    """Without JavaScript: a GET form, the token carried along, links to the next page and to
    each commit's page; the CSP lets the form submit to this site only."""
    response = client.get("/commits", query_string={"token": TOKEN, "repo": "acme/web"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in html
    assert '<form method="get" action="/commits">' in html
    assert f'name="token" value="{TOKEN}"' in html
    assert "page=2" in html
    assert f"/commits/acme/web/{59:040x}?token={TOKEN}" in html


def test_bad_filters_are_one_clear_line(client: FlaskClient, archive: dict[str, int]) -> None:
    """A date that is not one, an unknown importance: 400 naming the field."""
    for params, field in (
        ({"since": "yesterday"}, "since"),
        ({"importance": "urgent"}, "importance"),
        ({"type": "magic"}, "type"),
        ({"page": "two"}, "page"),
    ):
        response = client.get("/commits", query_string=params, headers=AUTH)
        assert response.status_code == 400
        assert response.json["error"].startswith(field)


def test_a_page_per_commit_with_analysis_coverage_and_comment(
    client: FlaskClient, archive: dict[str, int]
) -> None:
    """The analysis as the comment shows it, the coverage, GitHub links; pending says so."""
    html = client.get(f"/commits/acme/api/{'f' * 7}", headers=AUTH).get_data(as_text=True)
    assert "Expired refresh tokens are refused." in html
    assert "2/3" in html and "package-lock.json" in html  # noqa: PT018 - the coverage line
    assert f"https://github.com/acme/api/commit/{'f' * 40}#commitcomment-424242" in html
    assert "prefers-color-scheme: dark" in html
    pending = client.get(f"/commits/acme/api/{'d' * 40}", headers=AUTH)
    assert "Not analysed yet." in pending.get_data(as_text=True)
    assert client.get("/commits/acme/api/" + "9" * 40, headers=AUTH).status_code == 404
    assert client.get("/commits/acme/api/not-a-sha", headers=AUTH).status_code == 400
