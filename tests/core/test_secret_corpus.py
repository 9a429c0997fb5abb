"""A corpus of real secret formats (fake values, the real shapes): each is redacted in context.

The formats follow what gitleaks' and detect-secrets' rule sets look for; each line is how such
a secret appears in a diff (an assignment, a config file, a header).
"""

from __future__ import annotations

import base64
import json

import pytest

from commit_digest.analysis.redact import redact_secrets

A = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF"  # 32 mixed characters
HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
GCP_KEY = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n-----END PRIVATE KEY-----\\n"

CORPUS = {
    "aws access key id": ("AKIAIOSFODNN7EXAMPLE", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"),
    "aws secret": (
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    "gcp service account": (
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
        json.dumps({"type": "service_account", "private_key_id": HEX[:40], "private_key": GCP_KEY}),
    ),
    "gcp api key": ("AIzaSyD" + A[:32], f"const key = 'AIzaSyD{A[:32]}';"),
    "azure storage": (
        base64.b64encode(b"x" * 64).decode(),
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey="
        + base64.b64encode(b"x" * 64).decode()
        + ";EndpointSuffix=core.windows.net",
    ),
    "azure client secret": ("Q~8Q" + A[:30], f"AZURE_CLIENT_SECRET=Q~8Q{A[:30]}"),
    "slack bot token": (
        "xoxb-123456789012-1234567890123-" + A[:24],
        f"SLACK=xoxb-123456789012-1234567890123-{A[:24]}",
    ),
    "slack user token": (
        "xoxp-123456789012-1234567890123-1234567890123-" + HEX[:32],
        f"token: xoxp-123456789012-1234567890123-1234567890123-{HEX[:32]}",
    ),
    "slack webhook": (
        "T0123ABCD/B0123ABCD/" + A[:24],
        f"url = 'https://hooks.slack.com/services/T0123ABCD/B0123ABCD/{A[:24]}'",
    ),
    "stripe live": ("sk_live_" + A[:24], f"STRIPE_KEY=sk_live_{A[:24]}"),
    "stripe restricted": ("rk_live_" + A[:24], f"stripe.api_key = 'rk_live_{A[:24]}'"),
    "github pat": ("ghp_" + A + "abcd", f"GH=ghp_{A}abcd"),
    "github fine-grained": (
        "github_pat_11ABCDEFG0" + A + A[:40] + "abcdefghijk",
        f"token=github_pat_11ABCDEFG0{A}{A[:40]}abcdefghijk",
    ),
    "github app token": ("ghs_" + A + "abcd", f"Authorization: token ghs_{A}abcd"),
    "gitlab pat": ("glpat-" + A[:20], f"GITLAB_TOKEN=glpat-{A[:20]}"),
    "openai project": ("sk-proj-" + A + A, f"OPENAI_API_KEY=sk-proj-{A}{A}"),
    "anthropic": (
        "sk-ant-api03-" + A + A + A[:31] + "AA",
        f"key = 'sk-ant-api03-{A}{A}{A[:31]}AA'",
    ),
    "jwt": (JWT, f"Authorization: Bearer {JWT}"),
    "npm token": ("npm_" + A + "abcd", f"//registry.npmjs.org/:_authToken=npm_{A}abcd"),
    "pypi token": ("pypi-AgEIcHlwaS5vcmc" + A + A, f"password = pypi-AgEIcHlwaS5vcmc{A}{A}"),
    "sendgrid": ("SG." + A[:22] + "." + A + A[:11], f"SENDGRID_API_KEY=SG.{A[:22]}.{A}{A[:11]}"),
    "twilio": ("SK" + HEX[:32], f"TWILIO_API_KEY=SK{HEX[:32]}"),
    "mailgun": ("key-" + HEX[:32], f"MAILGUN_KEY=key-{HEX[:32]}"),
    "heroku": (
        "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "HEROKU_API_KEY=a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    ),
    "digitalocean": ("dop_v1_" + HEX, f"DIGITALOCEAN_TOKEN=dop_v1_{HEX}"),
    "vault": (
        "hvs." + A + "abcdefghijklmnopqrstuvwxyz",
        f"VAULT_TOKEN=hvs.{A}abcdefghijklmnopqrstuvwxyz",
    ),
    "shopify": ("shpat_" + HEX[:32], f"SHOPIFY_TOKEN=shpat_{HEX[:32]}"),
    "square": ("EAAA" + A + A[:28], f"square_token: EAAA{A}{A[:28]}"),
    "telegram bot": ("123456789:AA" + A + "x", f"bot = Bot('123456789:AA{A}x')"),
    "discord webhook": (
        "123456789012345678/" + A + A[:36],
        f"WEBHOOK=https://discord.com/api/webhooks/123456789012345678/{A}{A[:36]}",
    ),
    "rsa private key": (
        "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy\n-----END RSA PRIVATE KEY-----",
    ),
    "openssh private key": (
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----",
    ),
    "database url": ("s3cr3t-P4ssw0rd", "DATABASE_URL=postgres://app:s3cr3t-P4ssw0rd@db:5432/app"),
    "basic auth header": (
        base64.b64encode(b"ci:hunter2hunter2").decode(),
        "Authorization: Basic " + base64.b64encode(b"ci:hunter2hunter2").decode(),
    ),
}


@pytest.mark.parametrize("path", ["config/settings.env", "src/app/settings.py", None])
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_format_is_redacted(name: str, path: str | None) -> None:
    """The secret part of each format is gone from what would be sent, in any kind of file."""
    secret, line = CORPUS[name]
    out = redact_secrets(f"+{line}\n", path=path).text
    assert secret not in out, out


def test_the_corpus_is_broad() -> None:
    """At least 30 formats."""
    assert len(CORPUS) >= 30
