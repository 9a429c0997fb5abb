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

from commit_digest.models import Report
from commit_digest.queries import analysis_json, find_commit
from commit_digest.reporting.convert import markdown_to_html
from commit_digest.runtime import Runtime
from report.html import html_document, inline_styles
from webhook.access import refused

blueprint = Blueprint("pages", __name__)

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
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
            select(Report).order_by(Report.day.desc(), Report.scope, Report.language).limit(1000)
        ).scalars()
        reports = [
            {
                "day": r.day.isoformat(),
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
    body = inline_styles(render_template("reports.html", reports=reports))
    return Response(html_document(body, "commit-digest reports", page=True), mimetype="text/html")


def _variant(report: Report) -> dict[str, str]:
    params = {"lang": report.language}
    if report.scope:
        params["repo"] = report.scope
    return params


def _report_for(day_text: str) -> Report:
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        abort(404)
    scope = request.args.get("repo", "")
    rt = _runtime()
    language = request.args.get("lang", rt.settings.report_language)
    with rt.session() as session:
        found = session.execute(
            select(Report).where(
                Report.day == day, Report.scope == scope, Report.language == language
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
            markdown_to_html(report.markdown), f"commit-digest {report.day.isoformat()}", page=True
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
