"""The pull request each commit came in through (number, title, link), for the report.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commits") as batch:
        batch.add_column(sa.Column("pull_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pull_title", sa.Text(), nullable=True))
        batch.add_column(sa.Column("pull_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("commits") as batch:
        batch.drop_column("pull_url")
        batch.drop_column("pull_title")
        batch.drop_column("pull_number")
