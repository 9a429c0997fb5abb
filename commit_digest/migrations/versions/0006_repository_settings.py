"""Each repository's .commit-digest.toml as last read (cached by blob sha).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repository_settings",
        sa.Column(
            "repository_id", sa.Integer(), sa.ForeignKey("repositories.id"), primary_key=True
        ),
        sa.Column("blob_sha", sa.String(length=40), nullable=True),
        sa.Column("good_settings", sa.JSON(), nullable=True),
        sa.Column("good_sha", sa.String(length=40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("reported_sha", sa.String(length=40), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("repository_settings")
