"""Commands from comments on commits, and the overrides people with write access set.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "command_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("github_comment_id", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("repository", sa.Text(), nullable=False),
        sa.Column("sha", sa.String(length=40), nullable=False),
        sa.Column("login", sa.Text(), nullable=False),
        sa.Column("command", sa.String(length=32), nullable=False),
        sa.Column("argument", sa.String(length=32), nullable=True),
        sa.Column("installation_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "commit_overrides",
        sa.Column("commit_id", sa.Integer(), sa.ForeignKey("commits.id"), primary_key=True),
        sa.Column("importance", sa.String(length=16), nullable=True),
        sa.Column("ignored", sa.Boolean(), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("commit_overrides")
    op.drop_table("command_runs")
