"""Reports keep only their Markdown; the HTML is derived when a page asks for it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 00:20:43.090612
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("html")


def downgrade() -> None:
    # the HTML of reports built meanwhile is not stored; an empty one marks them
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=False, server_default=""))
