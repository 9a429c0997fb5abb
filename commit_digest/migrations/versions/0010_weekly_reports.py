"""Reports and sends per period: a weekly digest (REPORT_PERIOD=weekly) beside the daily ones.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(
            sa.Column("period", sa.String(length=8), nullable=False, server_default="day")
        )
        batch.drop_constraint("uq_reports_day_scope", type_="unique")
        batch.create_unique_constraint(
            "uq_reports_day_scope", ["day", "period", "scope", "language"]
        )
    with op.batch_alter_table("report_sends") as batch:
        batch.add_column(
            sa.Column("period", sa.String(length=8), nullable=False, server_default="day")
        )
        batch.drop_constraint("uq_report_sends_once", type_="unique")
        batch.create_unique_constraint(
            "uq_report_sends_once", ["day", "period", "scope", "recipients_key"]
        )


def downgrade() -> None:
    # weekly rows would collide with the daily ones of their last day
    op.execute("DELETE FROM reports WHERE period <> 'day'")
    op.execute("DELETE FROM report_sends WHERE period <> 'day'")
    with op.batch_alter_table("report_sends") as batch:
        batch.drop_constraint("uq_report_sends_once", type_="unique")
        batch.create_unique_constraint("uq_report_sends_once", ["day", "scope", "recipients_key"])
        batch.drop_column("period")
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint("uq_reports_day_scope", type_="unique")
        batch.create_unique_constraint("uq_reports_day_scope", ["day", "scope", "language"])
        batch.drop_column("period")
