"""The report archive and the JSON API, behind ``ACCESS_TOKEN``.

``Authorization: Bearer TOKEN`` or, for a link opened in a browser, ``?token=TOKEN``. The
report HTML was sanitised when it was built; the pages add a Content-Security-Policy that
allows no script at all, as a second line of defence.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from commit_digest.models import Report, Repository
from commit_digest.queries import (
    PAGE_SIZE,
    CommitFilters,
    analysis_json,
    comment_id_of,
    find_commit,
    search_commits,
)
from commit_digest.reporting.convert import markdown_to_html
from commit_digest.runtime import Runtime
from report.chart import with_svg_chart
from report.comment import render_comment
from report.data import Coverage
from report.html import html_document, inline_styles
from report.markdown_text import inline, truncate
from report.render import LANGUAGES
from report.schema import Analysis, ChangeType
from webhook.access import refused

blueprint = Blueprint("pages", __name__)

# the archive's search is a plain GET form to this site; no script anywhere
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'"
_REPO_PART = re.compile(r"^[A-Za-z0-9_.-]+$")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


def _runtime() -> Runtime:
    value: Runtime = current_app.extensions["commit_digest"]
    return value


@blueprint.before_request
def _require_token() -> ResponseReturnValue | None:
    return refused(_runtime().settings.access_token, request)


@blueprint.after_request
def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _link(path: str, **params: str) -> str:
    """A link that keeps the ``?token=`` the page was opened with (browsers send no header)."""
    if "token" in request.args:
        params["token"] = request.args["token"]
    return path + ("?" + urlencode(params) if params else "")


@blueprint.get("/reports")
def list_reports() -> ResponseReturnValue:
    with _runtime().session() as session:
        stored = session.execute(
            select(Report)
            .order_by(Report.day.desc(), Report.period, Report.scope, Report.language)
            .limit(1000)
        ).scalars()
        reports = [
            {
                "day": r.day.isoformat(),
                "period": r.period,
                "scope": r.scope or None,
                "language": r.language,
                "commits": r.commit_count,
                "pending": r.pending_count,
                "built_at": r.built_at.isoformat(),
                "html": _link(f"/reports/{r.day.isoformat()}", **_variant(r)),
                "markdown": _link(f"/reports/{r.day.isoformat()}.md", **_variant(r)),
            }
            for r in stored
        ]
    if request.accept_mimetypes.best == "application/json":
        return jsonify(reports)
    body = inline_styles(render_template("reports.html", reports=reports, search=_link("/commits")))
    return Response(html_document(body, "commit-digest reports", page=True), mimetype="text/html")


def _variant(report: Report) -> dict[str, str]:
    params = {"lang": report.language}
    if report.scope:
        params["repo"] = report.scope
    if report.period != "day":
        params["period"] = report.period
    return params


def _report_for(day_text: str) -> Report:
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        abort(404)
    scope = request.args.get("repo", "")
    period = request.args.get("period", "day")
    rt = _runtime()
    language = request.args.get("lang", rt.settings.report_language)
    with rt.session() as session:
        found = session.execute(
            select(Report).where(
                Report.day == day,
                Report.period == period,
                Report.scope == scope,
                Report.language == language,
            )
        ).scalar_one_or_none()
    if found is None:
        abort(404, description=f"no {language} report for {day.isoformat()} is stored yet")
    return found


@blueprint.get("/reports/<day_text>.md")
def report_markdown(day_text: str) -> ResponseReturnValue:
    report = _report_for(day_text)
    return Response(
        report.markdown, mimetype="text/markdown", content_type="text/markdown; charset=utf-8"
    )


@blueprint.get("/reports/<day_text>")
def report_html(day_text: str) -> ResponseReturnValue:
    report = _report_for(day_text)
    return Response(
        html_document(
            # the page draws the trends as SVG; the email keeps the table (clients strip SVG)
            with_svg_chart(markdown_to_html(report.markdown), report.language),
            f"commit-digest {report.day.isoformat()}",
            page=True,
        ),
        mimetype="text/html",
    )


@blueprint.get("/api/commits/<owner>/<name>/<sha>")
def commit_analysis(owner: str, name: str, sha: str) -> ResponseReturnValue:
    if not (_REPO_PART.match(owner) and _REPO_PART.match(name) and _SHA.match(sha.lower())):
        return jsonify({"error": "expected /api/commits/OWNER/NAME/SHA"}), 400
    found = find_commit(_runtime(), f"{owner}/{name}", sha.lower())
    if found is None:
        return jsonify({"error": f"no commit {sha} of {owner}/{name} is stored"}), 404
    commit, analysis = found
    return jsonify(analysis_json(commit, analysis))


IMPORTANCES = ("high", "medium", "low", "pending")


def _filters() -> CommitFilters:
    """The search's filters from the query string; a bad value is a 400 naming it."""
    args = request.args

    def day(name: str) -> date | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            abort(400, description=f"{name}: {raw[:40]!r} is not a date like 2026-02-03")

    importance = args.get("importance", "").strip()
    if importance and importance not in IMPORTANCES:
        abort(400, description=f"importance: one of {', '.join(IMPORTANCES)}")
    change_type = args.get("type", "").strip()
    if change_type and change_type not in [t.value for t in ChangeType]:
        abort(400, description="type: one of " + ", ".join(t.value for t in ChangeType))
    return CommitFilters(
        text=args.get("q", "").strip()[:200],
        repository=args.get("repo", "").strip()[:200],
        author=args.get("author", "").strip()[:100],
        importance=importance,
        change_type=change_type,
        since=day("since"),
        until=day("until"),
    )


@blueprint.get("/commits")
def search() -> ResponseReturnValue:
    """The archive's search: every stored commit, filtered, newest first, a page at a time."""
    filters = _filters()
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        abort(400, description="page: a whole number")
    rt = _runtime()
    rows, total = search_commits(rt, filters, page)
    for row in rows:
        row["page"] = _link(f"/commits/{row['repository']}/{row['sha']}")
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"total": total, "page": page, "commits": rows})
    with rt.session() as session:
        repositories = list(
            session.execute(select(Repository.full_name).order_by(Repository.full_name)).scalars()
        )
    kept = {k: v for k, v in request.args.items() if k not in ("page", "token") and v}
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    body = inline_styles(
        render_template(
            "commits.html",
            f=filters,
            rows=rows,
            total=total,
            page=page,
            pages=pages,
            previous=_link("/commits", **kept, page=str(page - 1)) if page > 1 else None,
            next=_link("/commits", **kept, page=str(page + 1)) if page < pages else None,
            repositories=repositories,
            importances=IMPORTANCES,
            change_types=[t.value for t in ChangeType],
            token=request.args.get("token", ""),
            reports=_link("/reports"),
        )
    )
    return Response(html_document(body, "commit-digest commits", page=True), mimetype="text/html")


@blueprint.get("/commits/<owner>/<name>/<sha>")
def commit_page(owner: str, name: str, sha: str) -> ResponseReturnValue:
    """One commit: its analysis as the comment shows it, with its coverage and links."""
    if not (_REPO_PART.match(owner) and _REPO_PART.match(name) and _SHA.match(sha.lower())):
        abort(400, description="expected /commits/OWNER/NAME/SHA")
    rt = _runtime()
    found = find_commit(rt, f"{owner}/{name}", sha.lower())
    if found is None:
        abort(404, description=f"no commit {sha} of {owner}/{name} is stored")
    commit, row = found
    web = f"{rt.settings.github_web_url}/{owner}/{name}/commit/{commit.sha}"
    subject = (commit.message.strip().splitlines() or [commit.sha[:7]])[0]
    lines = [
        f"# {inline(truncate(subject, 300))}",
        "",
        f"**{inline(owner)}/{inline(name)}** · [`{commit.sha[:7]}`]({web})"
        f" · {inline(commit.author_name or commit.author_login or '—')}"
        f" · {commit.landed_at.strftime('%Y-%m-%d %H:%M')} UTC",
    ]
    comment_id = comment_id_of(rt, commit.id)
    if comment_id:
        lines.append(f"· [the comment on GitHub]({web}#commitcomment-{comment_id})")
    lines.append("")
    if row is None:
        lines.append("Not analysed yet.")
    else:
        lines.append(
            render_comment(
                sha=commit.sha,
                analysis=Analysis.model_validate(row.body),
                language=row.language if row.language in LANGUAGES else "en",
                coverage=Coverage(
                    row.files_analysed,
                    row.files_total,
                    row.lines_analysed,
                    row.lines_total,
                    tuple(str(p) for p in row.omitted or ()),
                ),
                analyzer=row.analyzer,
                model=row.model,
            )
        )
    lines += [
        "",
        f"[← {inline(owner)}/{inline(name)} in the archive]"
        f"({_link('/commits', repo=f'{owner}/{name}')})",
    ]
    body = markdown_to_html("\n".join(lines))
    return Response(
        html_document(body, f"commit-digest {owner}/{name} {commit.sha[:7]}", page=True),
        mimetype="text/html",
    )
