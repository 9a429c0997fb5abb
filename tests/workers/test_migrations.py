"""Migrations: the schema Alembic builds is the one the models describe, up and down."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from workers.db import current_revision, downgrade, make_engine, upgrade
from workers.models import Base


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
