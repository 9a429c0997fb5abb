"""A schema on the machine's PostgreSQL whose clients can be put through a server restart.

The service connects as a role of its own. ``restart`` makes that role unable to log in and
terminates its backends for a while, then lets it in again: to the service's processes that is
exactly a restart (connections die mid-transaction, new ones are refused), while every other
client of the server (other test runs included) is left alone.
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from commit_digest.db import upgrade

from support.isolation import drop_postgres_schema, postgres_schema_url


class RestartablePostgres:
    def __init__(self, admin_url: str) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.admin_url = admin_url
        self.role = f"cdfault_{suffix}"
        self.schema = f"cdfault_{suffix}"
        self._admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            connection.execute(sa.text(f'CREATE ROLE "{self.role}" LOGIN'))
            database = make_url(admin_url).database
            connection.execute(sa.text(f'GRANT CREATE ON DATABASE "{database}" TO "{self.role}"'))
        role_url = make_url(admin_url).set(username=self.role).render_as_string(False)
        # the service's URL (as the role, which owns the schema) and the test's (as the admin,
        # which a restart of the role's connections does not touch)
        self.url = postgres_schema_url(role_url, self.schema)
        self.observer_url = postgres_schema_url(admin_url, self.schema)
        upgrade(self.url)

    def backends(self) -> int:
        with self._admin.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE usename = :role"),
                    {"role": self.role},
                ).scalar_one()
            )

    def restart(self, seconds: float) -> int:
        """Be down for ``seconds`` to the service; return how many backends were terminated."""
        terminated = 0
        with self._admin.connect() as connection:
            connection.execute(sa.text(f'ALTER ROLE "{self.role}" NOLOGIN'))
            try:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    terminated += sum(
                        1
                        for (done,) in connection.execute(
                            sa.text(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE usename = :role"
                            ),
                            {"role": self.role},
                        )
                        if done
                    )
                    time.sleep(0.05)
            finally:
                connection.execute(sa.text(f'ALTER ROLE "{self.role}" LOGIN'))
        return terminated

    def drop(self) -> None:
        with self._admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"
                ),
                {"role": self.role},
            )
        drop_postgres_schema(self.admin_url, self.schema)
        with self._admin.connect() as connection:
            connection.execute(sa.text(f'DROP OWNED BY "{self.role}"'))
            connection.execute(sa.text(f'DROP ROLE "{self.role}"'))
        self._admin.dispose()
