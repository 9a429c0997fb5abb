"""Sending over SMTP to a real server: STARTTLS and implicit TLS with auth, transient and permanent errors."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from commit_digest.config import load_settings
from commit_digest.embedded_redis import free_port
from commit_digest.reporting.deliver import sender_for
from report.errors import SendFailed
from report.send import SmtpSender

from support.smtp import MailSink


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = "Daily report"
    mail["From"] = "digest@example.com"
    mail["To"] = "team@example.com"
    mail["Message-ID"] = "<smtp-test@example.com>"
    mail.set_content("hello")
    return mail


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"bot@example.com",
        b"s3cr3t:pw",
    )
    return AuthResult(success=ok, handled=False)  # let aiosmtpd answer 535 on a refusal


@pytest.fixture
def trusted(tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make our self-signed certificate the CA the client trusts (as a relay's real CA would be)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))


def server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture
def starttls_server(tls_files: tuple[Path, Path]) -> Iterator[tuple[MailSink, int]]:
    sink, port = MailSink(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(tls_files),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def implicit_tls_server(tls_files: tuple[Path, Path]) -> Iterator[tuple[MailSink, int]]:
    sink, port = MailSink(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        ssl_context=server_context(tls_files),
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield sink, port
    controller.stop()


@pytest.mark.usefixtures("trusted")
def test_starttls_with_auth_from_smtp_url(starttls_server: tuple[MailSink, int]) -> None:
    """smtp://user:pass@host:port?starttls=true upgrades, logs in (URL-decoded) and delivers."""
    sink, port = starttls_server
    settings = load_settings(
        {
            "SMTP_URL": f"smtp://bot%40example.com:s3cr3t%3Apw@localhost:{port}?starttls=true",
            "REPORT_RECIPIENTS": "team@example.com",
        }
    )
    assert sender_for(settings).send(message()) == f"smtp://localhost:{port}"
    [received] = sink.received
    assert received.message["Subject"] == "Daily report"


@pytest.mark.usefixtures("trusted")
# aiosmtpd cannot tell that its socket is already TLS and warns about AUTH without STARTTLS
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_auth(implicit_tls_server: tuple[MailSink, int]) -> None:
    """smtps:// speaks TLS from the first byte."""
    sink, port = implicit_tls_server
    settings = load_settings(
        {
            "SMTP_URL": f"smtps://bot%40example.com:s3cr3t%3Apw@localhost:{port}",
            "REPORT_RECIPIENTS": "team@example.com",
        }
    )
    sender_for(settings).send(message())
    assert len(sink.received) == 1


@pytest.mark.usefixtures("trusted")
def test_wrong_password_is_a_permanent_failure(starttls_server: tuple[MailSink, int]) -> None:
    """A refused login is not retried and says what to fix."""
    _, port = starttls_server
    sender = SmtpSender(
        "localhost", port, starttls=True, username="bot@example.com", password="wrong"
    )
    with pytest.raises(SendFailed, match="check the user and password in SMTP_URL") as caught:
        sender.send(message())
    assert caught.value.transient is False


def test_untrusted_certificate_is_refused(starttls_server: tuple[MailSink, int]) -> None:
    """Without a certificate the client trusts, nothing is sent (no silent downgrade)."""
    sink, port = starttls_server
    sender = SmtpSender(
        "localhost", port, starttls=True, username="bot@example.com", password="s3cr3t:pw"
    )
    with pytest.raises(SendFailed):
        sender.send(message())
    assert sink.received == []


@pytest.mark.parametrize(
    ("code", "transient"), [("451 4.3.0 try again later", True), ("550 5.1.1 no such user", False)]
)
def test_relay_errors_are_classified(smtp_server: Any, code: str, transient: bool) -> None:
    """4xx answers are transient (retried), 5xx permanent (recorded)."""
    smtp_server.sink.fail_codes.append(code)
    sender = SmtpSender("127.0.0.1", smtp_server.port)
    with pytest.raises(SendFailed) as caught:
        sender.send(message())
    assert caught.value.transient is transient
    assert code.split()[0] in str(caught.value)


def test_unreachable_relay_is_transient() -> None:
    """A relay that refuses connections is worth retrying."""
    with pytest.raises(SendFailed) as caught:
        SmtpSender("127.0.0.1", free_port(), timeout=2).send(message())
    assert caught.value.transient is True


@pytest.fixture
def plain_auth_server() -> Iterator[tuple[MailSink, int]]:
    """A relay without TLS that takes AUTH in clear (as a misconfigured relay on port 25 does)."""
    sink, port = MailSink(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield sink, port
    controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_password_is_not_sent_without_tls(plain_auth_server: tuple[MailSink, int]) -> None:
    """The sender itself refuses a user and password without TLS, before anything is sent."""
    sink, port = plain_auth_server
    sender = SmtpSender("127.0.0.1", port, username="bot@example.com", password="s3cr3t:pw")
    with pytest.raises(SendFailed, match="without TLS") as refused:
        sender.send(message())
    assert (refused.value.transient, sink.received) == (False, [])


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_insecure_auth_opt_in_sends_to_a_local_relay(
    plain_auth_server: tuple[MailSink, int],
) -> None:
    """?insecure_auth=true lets the operator log in to a trusted relay without TLS."""
    sink, port = plain_auth_server
    settings = load_settings(
        {
            "SMTP_URL": f"smtp://bot%40example.com:s3cr3t%3Apw@127.0.0.1:{port}?insecure_auth=true",
            "REPORT_RECIPIENTS": "team@example.com",
        }
    )
    sender_for(settings).send(message())
    assert len(sink.received) == 1
