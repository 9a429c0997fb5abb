"""Hand a built email to its destination: an SMTP relay, or files in an outbox directory."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from report.errors import SendFailed


class Sender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Deliver ``message``; return where it went. Raise ``SendFailed`` on failure."""
        ...


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    # a local relay on a trusted network may take credentials in clear, if the operator says so
    insecure_auth: bool = False

    def send(self, message: EmailMessage) -> str:
        if self.username and not (self.implicit_tls or self.starttls or self.insecure_auth):
            raise SendFailed(
                f"refusing to send the SMTP password to {self.host}:{self.port} without TLS; "
                "use smtps://, ?starttls=true, or ?insecure_auth=true in SMTP_URL for a "
                "trusted local relay",
                transient=False,
            )
        try:
            client: smtplib.SMTP
            if self.implicit_tls:
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise SendFailed(
                f"every recipient was refused: {sorted(error.recipients)}", transient=False
            ) from None
        except smtplib.SMTPAuthenticationError as error:
            raise SendFailed(
                f"SMTP login failed ({error.smtp_code}); check the user and password in SMTP_URL",
                transient=False,
            ) from None
        except smtplib.SMTPResponseException as error:
            transient = 400 <= error.smtp_code < 500
            raise SendFailed(
                f"the relay answered {error.smtp_code}: {_text(error.smtp_error)}",
                transient=transient,
            ) from None
        except (
            TimeoutError,
            smtplib.SMTPServerDisconnected,
            smtplib.SMTPConnectError,
            ConnectionError,
            OSError,
        ) as error:
            raise SendFailed(
                f"cannot reach {self.host}:{self.port}: {type(error).__name__}", transient=True
            ) from None
        except smtplib.SMTPException as error:
            raise SendFailed(f"SMTP error: {error}", transient=False) from None
        if refused:
            return f"smtp://{self.host}:{self.port} (refused: {', '.join(sorted(refused))})"
        return f"smtp://{self.host}:{self.port}"


@dataclass(frozen=True)
class OutboxSender:
    """Write each email as an ``.eml`` file (used when ``SMTP_URL`` is not set)."""

    directory: Path

    def send(self, message: EmailMessage) -> str:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        message_id = str(message["Message-ID"]).strip("<>").replace("/", "_")
        path = self.directory / f"{message_id}.eml"
        temporary = path.with_suffix(".eml.tmp")
        temporary.touch(mode=0o600)  # the report is the team's, not every local user's
        temporary.write_bytes(bytes(message))
        temporary.replace(path)  # atomic: a reader never sees half a message
        return str(path)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
