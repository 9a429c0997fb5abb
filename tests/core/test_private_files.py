"""What commit-digest writes to disk is readable by its own user only."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from commit_digest.db import make_engine
from report.send import OutboxSender


def test_the_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    """The embedded database file is 0600 in a 0700 folder, whatever the umask."""
    path = tmp_path / "data" / "commit-digest.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
    engine.dispose()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_the_outbox_keeps_emails_private(tmp_path: Path) -> None:
    """A report written to the outbox (no SMTP) is 0600 in a 0700 folder."""
    message = EmailMessage()
    message["Message-ID"] = "<report-1@example.com>"
    message.set_content("the team's report")
    written = Path(OutboxSender(tmp_path / "outbox").send(message))
    assert written.stat().st_mode & 0o777 == 0o600
    assert written.parent.stat().st_mode & 0o777 == 0o700
