"""Migrations: the schema Alembic builds is the one the models describe, up and down."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from commit_digest.db import current_revision, downgrade, make_engine, upgrade
from commit_digest.models import Base


def differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def test_head_matches_the_models(database_url: str) -> None:
    """After upgrading to head, autogenerate finds nothing left to migrate."""
    assert differences(database_url) == []


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    """Every revision downgrades cleanly, and the schema comes back whole."""
    downgrade(database_url, "base")
    engine = make_engine(database_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        assert current_revision(engine) is None
    finally:
        engine.dispose()
    upgrade(database_url)
    assert differences(database_url) == []


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from commit_digest.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def test_upgrade_from_the_previous_revision_keeps_the_data(database_url: str) -> None:
    """A database at 0001 with data in it upgrades to head with its rows intact."""
    from datetime import UTC, datetime

    downgrade(database_url, "0001")
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO repositories (full_name, created_at) VALUES ('acme/app', :now)"
                ),
                {"now": now},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO deliveries (guid, event, outcome, commits_in_payload, received_at,"
                    " compare_state) VALUES ('d-1', 'push', 'accepted', 0, :now, 'pending')"
                ),
                {"now": now},
            )
        assert current_revision(engine) == "0001"
        upgrade(database_url)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            assert connection.execute(
                sa.text("SELECT guid, compare_state FROM deliveries")
            ).all() == [("d-1", "pending")]
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("deliveries")}
        assert "ix_deliveries_compare_state" in indexes
    finally:
        engine.dispose()
    assert differences(database_url) == []
