"""A delivery's body key (sha256 of hook id and raw body), unique: a replayed body is a duplicate.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("body_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_deliveries_body_key", ["body_key"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_body_key", type_="unique")
        batch.drop_column("body_key")
