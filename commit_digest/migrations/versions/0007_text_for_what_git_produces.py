"""Text for every value git or GitHub produces; a quarantine for deliveries that cannot be stored.

Git allows an author name, an email or a branch of any length; on PostgreSQL a value longer
than a String(n) column failed the insert and lost the whole push. Report scopes (a team's
repositories) can be long too.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = {
    "repositories": {"default_branch": 255, "html_url": 500},
    "deliveries": {"ref": 500},
    "commits": {
        "branch": 255,
        "author_name": 255,
        "author_email": 255,
        "author_login": 255,
        "url": 500,
    },
    "reports": {"scope": 500},
    "report_sends": {"scope": 500},
}


def upgrade() -> None:
    op.create_table(
        "quarantined_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("guid", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column, length in columns.items():
                batch.alter_column(column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    op.drop_table("quarantined_deliveries")
    # values longer than the old limits are cut to fit
    bind = op.get_bind()
    for table, columns in COLUMNS.items():
        for column, length in columns.items():
            bind.execute(
                sa.text(f"UPDATE {table} SET {column} = substr({column}, 1, {length})")  # noqa: S608 - our names
            )
        with op.batch_alter_table(table) as batch:
            for column, length in columns.items():
                batch.alter_column(column, type_=sa.String(length), existing_type=sa.Text())
