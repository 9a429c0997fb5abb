"""The database schema: deliveries, repositories, commits, analyses, comments and reports.

The schema itself is created and upgraded by Alembic (``commit_digest/migrations``); these classes
must stay in step with the newest revision (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), unique=True)
    github_id: Mapped[int | None] = mapped_column(BigInteger)
    default_branch: Mapped[str | None] = mapped_column(Text)
    html_url: Mapped[str | None] = mapped_column(Text)
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_compare_state", "compare_state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guid: Mapped[str] = mapped_column(String(100), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    repository_id: Mapped[int | None] = mapped_column(ForeignKey("repositories.id"))
    ref: Mapped[str | None] = mapped_column(Text)
    before_sha: Mapped[str | None] = mapped_column(String(40))
    after_sha: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(64))
    commits_in_payload: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    pushed_at: Mapped[datetime | None]
    # zlib-compressed raw body, kept so `commit-digest replay` can process it again
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # sha256 of the hook id and the raw body: the same signed body again is a duplicate
    body_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    compare_state: Mapped[str | None] = mapped_column(String(16))  # pending, done
    compare_queued_at: Mapped[datetime | None]


class Commit(Base):
    __tablename__ = "commits"
    __table_args__ = (
        UniqueConstraint("repository_id", "sha", name="uq_commits_repository_sha"),
        Index("ix_commits_landed_at", "landed_at"),
        Index("ix_commits_pending", "analysed_at", "queued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id"))
    sha: Mapped[str] = mapped_column(String(40))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    branch: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str | None] = mapped_column(Text)
    author_email: Mapped[str | None] = mapped_column(Text)
    author_login: Mapped[str | None] = mapped_column(Text)
    committed_at: Mapped[datetime | None]
    landed_at: Mapped[datetime]
    url: Mapped[str | None] = mapped_column(Text)
    # file lists as the delivery carried them; the analysis prefers the GitHub API's
    files: Mapped[dict[str, Any] | None]
    source: Mapped[str] = mapped_column(String(16))  # webhook, compare, reconcile, backfill
    created_at: Mapped[datetime]
    queued_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # Celery task id of the claim
    retry_at: Mapped[datetime | None]
    analysed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # the pull request it came in through, as GitHub's commit → pulls lookup named it
    pull_number: Mapped[int | None] = mapped_column(Integer)
    pull_title: Mapped[str | None] = mapped_column(Text)
    pull_url: Mapped[str | None] = mapped_column(Text)

    repository: Mapped[Repository] = relationship(lazy="joined")
    analysis: Mapped[Analysis | None] = relationship(back_populates="commit", uselist=False)


class Analysis(Base):
    __tablename__ = "analyses"
    __table_args__ = (Index("ix_analyses_reanalysis", "needs_reanalysis"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id"), unique=True)
    analyzer: Mapped[str] = mapped_column(String(16))  # llm, heuristic
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(10))
    change_type: Mapped[str] = mapped_column(String(20))
    importance: Mapped[str] = mapped_column(String(10))
    breaking_change: Mapped[bool] = mapped_column(Boolean, default=False)
    # the whole validated report.schema.Analysis, as JSON
    body: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(String(16))  # github, delivery
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    files_analysed: Mapped[int] = mapped_column(Integer, default=0)
    files_total: Mapped[int] = mapped_column(Integer, default=0)
    lines_analysed: Mapped[int] = mapped_column(Integer, default=0)
    lines_total: Mapped[int] = mapped_column(Integer, default=0)
    omitted: Mapped[list[Any]] = mapped_column(JSON, default=list)
    redactions: Mapped[int] = mapped_column(Integer, default=0)
    fallback_reason: Mapped[str | None] = mapped_column(String(300))
    needs_reanalysis: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    commit: Mapped[Commit] = relationship(back_populates="analysis")


class CommitComment(Base):
    __tablename__ = "commit_comments"
    __table_args__ = (Index("ix_commit_comments_state", "state", "updated_at"),)

    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id"), primary_key=True)
    github_comment_id: Mapped[int | None] = mapped_column(BigInteger)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # posted, edited, unchanged
    updated_at: Mapped[datetime]


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("day", "period", "scope", "language", name="uq_reports_day_scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # the period's last day
    period: Mapped[str] = mapped_column(String(8), default="day", server_default="day")  # week
    scope: Mapped[str] = mapped_column(Text)  # "" = every repository
    language: Mapped[str] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64))
    # the HTML is derived from the Markdown when a page asks for it (storing it too cost a
    # tenth of a second and twice the space for a 10,000-commit day)
    markdown: Mapped[str] = mapped_column(Text)
    commit_count: Mapped[int] = mapped_column(Integer)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    built_at: Mapped[datetime]


class ReportSend(Base):
    __tablename__ = "report_sends"
    __table_args__ = (
        UniqueConstraint("day", "period", "scope", "recipients_key", name="uq_report_sends_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(8), default="day", server_default="day")
    scope: Mapped[str] = mapped_column(Text)
    recipients_key: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16))  # sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class OutboxItem(Base):
    """A side effect a person sees (a chat message), delivered once per (kind, subject, target).

    The row is written before anything is sent; whoever delivers it claims it first, so a
    double beat or a retried task finds the row and sends nothing twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("kind", "subject", "target", name="uq_outbox_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # chat-report, chat-alert
    subject: Mapped[str] = mapped_column(Text)  # report:DAY:SCOPE or commit:ID
    target: Mapped[str] = mapped_column(Text)  # the channel's name
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class CommandRun(Base):
    """A ``/digest`` command from a comment on a commit, run once per GitHub comment."""

    __tablename__ = "command_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    github_comment_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    repository: Mapped[str] = mapped_column(Text)
    sha: Mapped[str] = mapped_column(String(40))
    login: Mapped[str] = mapped_column(Text)
    command: Mapped[str] = mapped_column(String(32))  # reanalyze, importance, ignore, help, ?
    argument: Mapped[str | None] = mapped_column(String(32))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(32))  # queued, done, refused, unknown-commit
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class CommitOverride(Base):
    """What a person with write access said about a commit: its importance, or leave it out."""

    __tablename__ = "commit_overrides"

    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id"), primary_key=True)
    importance: Mapped[str | None] = mapped_column(String(16))
    ignored: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime]


class RepositorySettings(Base):
    """A repository's ``.commit-digest.toml`` as last read: the good settings and any problem."""

    __tablename__ = "repository_settings"

    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id"), primary_key=True)
    blob_sha: Mapped[str | None] = mapped_column(String(40))  # None: the file does not exist
    good_settings: Mapped[dict[str, Any] | None]  # the last file that validated
    good_sha: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)  # why blob_sha did not validate
    reported_sha: Mapped[str | None] = mapped_column(String(40))  # the bad blob we reported
    checked_at: Mapped[datetime]


class QuarantinedDelivery(Base):
    """A signed delivery that could not be stored: its raw body and why, kept for a person."""

    __tablename__ = "quarantined_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guid: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]


# The tables themselves, for Core statements on the request path.
REPOSITORIES = cast(Table, Repository.__table__)
DELIVERIES = cast(Table, Delivery.__table__)
COMMITS = cast(Table, Commit.__table__)
