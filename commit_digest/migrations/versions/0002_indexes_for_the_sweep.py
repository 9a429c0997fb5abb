"""Indexes for the sweep: pending compare walks and comments queued but not posted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 22:08:34.995938
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commit_comments", schema=None) as batch_op:
        batch_op.create_index("ix_commit_comments_state", ["state", "updated_at"], unique=False)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_compare_state", ["compare_state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_compare_state")

    with op.batch_alter_table("commit_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_commit_comments_state")
