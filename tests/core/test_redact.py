"""Secret redaction: real-format secrets replaced by a marker, ordinary code left alone."""

from __future__ import annotations

import pytest

from commit_digest.analysis.redact import Redacted, redact_secrets, shannon_entropy

# Synthetic secrets in their real formats (none of them was ever issued).
AWS_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GCP_API_KEY = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
AZURE_KEY = (
    "qMKi+RIjeJN0Lt4yM+NVmQ4XphyWt7/cSn3SXFdZKMN7/kl27ILrggTuk1Al4rCZ2YDpmmXE9zZ5w7eXlwvKjA=="
)
GITHUB_PAT = "ghp_nPFz46PDjqipVJIqVLB5LzxoiGFfWd3hjOkY"
GITHUB_FINE_GRAINED = (
    "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"
)
GITLAB_PAT = "glpat-9iqq8vH2BzNZV45pFCiR"
SLACK_BOT = "xoxb-2345678901-3456789012345-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_USER = "xoxp-2345678901-2345678901-3456789012345-de5fe878f78e2978aa2447c462ddaed1"
SLACK_WEBHOOK = "https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/aBcDeFgHiJkLmNoPqRsTuVwX"
OPENAI_LEGACY = "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"
OPENAI_PROJECT = (
    "sk-proj-3T207gmhZRnFyy5r2xJ7Fj4mgblEv0-9BZhvWaXH6K2-tyLBhhOhg9uhkxiiEZpFfk1OHAOEHY"
    "T3BlbkFJqM6Ojb6mjBHqSiFVKu4MbMnrHontIKARAH-Ggl2JfaQqHu42bojteVs3qfNUfTAFnT0tEuw0dw"
)
ANTHROPIC = (
    "sk-ant-api03-Q0FIunWe8Cz6SNDCdyZQJiJSZQdoHwHen3SO3oXyGf3azU3iQOpMN0PZLqy1WwMZaMKA3P744B8v"
    "kKQlENCzsdfF8j61yAA"
)
STRIPE_LIVE = "sk_live_TSyFzpjPSa5W3X4gXBolZ9SH"
STRIPE_RESTRICTED = "rk_live_DdJp62hDiZDQHJMu8W5CN0U5"
TWILIO_API_KEY = "SKde5fe878f78e2978aa2447c462ddaed1"
SENDGRID = "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"
NPM = "npm_kMM9VThX0k9tgLb7tKR69yz8TmeLS1OpgSXt"
PYPI = (
    "pypi-AgEIcHlwaS5vcmcCJGZmS2ViRb1-n3U6t3wI973IPFlJ5F7WRd_Px-BTHRJJbykE0-E8-5clLCZFNV8S2QT6INGD"
)
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
KEY_MATERIAL = [
    "MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB",
    "aFDrBz9vFqU4yV9Vx7wGnS2ZYSjlUjCqP6oW4eWQ9pz3n1JqK2M7vR5bNfLhXtAE",
    "PWKhPV5ibveNkDNjl3S4W5oHQIwXG5VA+zQGkfD14a5eGoH0OiHN+yUbTUybK388==",
]


def pem(label: str, prefix: str = "+") -> str:
    """Return a private key block as it shows in a diff, each line with ``prefix``."""
    lines = [f"-----BEGIN {label}-----", *KEY_MATERIAL, f"-----END {label}-----"]
    return "".join(f"{prefix}{line}\n" for line in lines)


SECRETS = [
    # (id, text, expected text, expected kinds)
    (
        "aws access key id",
        f"aws_access_key_id = {AWS_ACCESS_KEY}",
        "aws_access_key_id = [REDACTED:aws-access-key]",
        {"aws-access-key": 1},
    ),
    (
        "aws secret key",
        f"aws_secret_access_key = {AWS_SECRET_KEY}",
        "aws_secret_access_key = [REDACTED:aws-secret-key]",
        {"aws-secret-key": 1},
    ),
    (
        "aws secret key in JSON",
        f'{{"AccessKeyId": "{AWS_ACCESS_KEY}", "SecretAccessKey": "{AWS_SECRET_KEY}"}}',
        '{"AccessKeyId": "[REDACTED:aws-access-key]", "SecretAccessKey": "[REDACTED:aws-secret-key]"}',
        {"aws-access-key": 1, "aws-secret-key": 1},
    ),
    (
        "aws session key id",
        "ASIAY34FZKBOKMUTVV7A",
        "[REDACTED:aws-access-key]",
        {"aws-access-key": 1},
    ),
    (
        "gcp api key",
        f'maps = Client(key="{GCP_API_KEY}")',
        'maps = Client(key="[REDACTED:gcp-api-key]")',
        {"gcp-api-key": 1},
    ),
    (
        "gcp service account",
        '+  "private_key": "-----BEGIN PRIVATE KEY-----\\n'
        + "\\n".join(KEY_MATERIAL)
        + '\\n-----END PRIVATE KEY-----\\n",',
        '+  "private_key": "[REDACTED:gcp-service-account-key]",',
        {"gcp-service-account-key": 1},
    ),
    (
        "azure connection string",
        "AZURE_STORAGE=DefaultEndpointsProtocol=https;AccountName=acme;"
        f"AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net",
        "AZURE_STORAGE=DefaultEndpointsProtocol=https;AccountName=acme;"
        "AccountKey=[REDACTED:azure-storage-key];EndpointSuffix=core.windows.net",
        {"azure-storage-key": 1},
    ),
    (
        "azure service bus",
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;"
        "SharedAccessKey=7qdYdk2r7xgHWPB6PRWJ1Gk8cgSCifdFzctEq8oB7GV=",
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;"
        "SharedAccessKey=[REDACTED:azure-storage-key]",
        {"azure-storage-key": 1},
    ),
    (
        "azure sas url",
        "https://acme.blob.core.windows.net/c/b.txt?sv=2022-11-02&sp=r&sig=7qdYdk2r7xgHWPB6PRWJ1Gk8cgS%3D",
        "https://acme.blob.core.windows.net/c/b.txt?sv=2022-11-02&sp=r&sig=[REDACTED:azure-sas-signature]",
        {"azure-sas-signature": 1},
    ),
    (
        "github classic token",
        f"GITHUB_TOKEN={GITHUB_PAT}",
        "GITHUB_TOKEN=[REDACTED:github-token]",
        {"github-token": 1},
    ),
    (
        "github oauth, user, server and refresh tokens",
        "gho_OhbVrpoiVgRV5IfLBcbfnoGMbJmTPSIAoCLr ghu_Z3aWZkSBvrjn9Wvgfygw2wMqZcUDIh7yfJs1 "
        "ghs_ON43xKmTecQoXsf2o3gyrDO1xkxwnQrS7RPe ghr_MOkIUpkDyr7OSJoRu1XXdo0cZuzren68K4Tu",
        " ".join(["[REDACTED:github-token]"] * 4),
        {"github-token": 4},
    ),
    (
        "github fine-grained token",
        f"token: {GITHUB_FINE_GRAINED}",
        "token: [REDACTED:github-token]",
        {"github-token": 1},
    ),
    (
        "gitlab token",
        f'headers = {{"PRIVATE-TOKEN": "{GITLAB_PAT}"}}',
        'headers = {"PRIVATE-TOKEN": "[REDACTED:gitlab-token]"}',
        {"gitlab-token": 1},
    ),
    (
        "slack bot and user tokens",
        f"bot={SLACK_BOT} user={SLACK_USER}",
        "bot=[REDACTED:slack-token] user=[REDACTED:slack-token]",
        {"slack-token": 2},
    ),
    (
        "slack webhook",
        f'requests.post("{SLACK_WEBHOOK}", json=message)',
        'requests.post("[REDACTED:slack-webhook]", json=message)',
        {"slack-webhook": 1},
    ),
    (
        "openai legacy key",
        f"openai.api_key = '{OPENAI_LEGACY}'",
        "openai.api_key = '[REDACTED:openai-api-key]'",
        {"openai-api-key": 1},
    ),
    (
        "openai project key",
        f'client = OpenAI(api_key="{OPENAI_PROJECT}")',
        'client = OpenAI(api_key="[REDACTED:openai-api-key]")',
        {"openai-api-key": 1},
    ),
    (
        "anthropic key",
        f"ANTHROPIC_API_KEY={ANTHROPIC}",
        "ANTHROPIC_API_KEY=[REDACTED:anthropic-api-key]",
        {"anthropic-api-key": 1},
    ),
    (
        "stripe live and restricted keys",
        f"Stripe.api_key = '{STRIPE_LIVE}'; backup = '{STRIPE_RESTRICTED}'",
        "Stripe.api_key = '[REDACTED:stripe-key]'; backup = '[REDACTED:stripe-key]'",
        {"stripe-key": 2},
    ),
    (
        "twilio api key",
        f"client = Client('{TWILIO_API_KEY}', secret, account_sid)",
        "client = Client('[REDACTED:twilio-api-key]', secret, account_sid)",
        {"twilio-api-key": 1},
    ),
    (
        "sendgrid key",
        f"sg = SendGridAPIClient('{SENDGRID}')",
        "sg = SendGridAPIClient('[REDACTED:sendgrid-api-key]')",
        {"sendgrid-api-key": 1},
    ),
    (
        "npm token in .npmrc",
        f"//registry.npmjs.org/:_authToken={NPM}",
        "//registry.npmjs.org/:_authToken=[REDACTED:npm-token]",
        {"npm-token": 1},
    ),
    (
        "pypi token in .pypirc",
        f"password = {PYPI}",
        "password = [REDACTED:pypi-token]",
        {"pypi-token": 1},
    ),
    (
        "rsa private key in a diff",
        "+# deploy key\n" + pem("RSA PRIVATE KEY") + "+# end\n",
        "+# deploy key\n+[REDACTED:private-key]\n+# end\n",
        {"private-key": 1},
    ),
    (
        "openssh private key",
        pem("OPENSSH PRIVATE KEY", prefix=""),
        "[REDACTED:private-key]\n",
        {"private-key": 1},
    ),
    (
        "ec private key removed",
        pem("EC PRIVATE KEY", prefix="-"),
        "-[REDACTED:private-key]\n",
        {"private-key": 1},
    ),
    (
        "pkcs8 encrypted private key",
        pem("ENCRYPTED PRIVATE KEY", prefix=" "),
        " [REDACTED:private-key]\n",
        {"private-key": 1},
    ),
    (
        "pgp private key block",
        pem("PGP PRIVATE KEY BLOCK"),
        "+[REDACTED:private-key]\n",
        {"private-key": 1},
    ),
    (
        "private key cut off by the end of a hunk",
        "+-----BEGIN RSA PRIVATE KEY-----\n+Proc-Type: 4,ENCRYPTED\n"
        + "".join(f"+{line}\n" for line in KEY_MATERIAL),
        "+[REDACTED:private-key]\n",
        {"private-key": 1},
    ),
    (
        "jwt",
        f"Authorization: Bearer {JWT}",
        "Authorization: Bearer [REDACTED:jwt]",
        {"jwt": 1},
    ),
    (
        "basic auth header",
        "curl -H 'Authorization: Basic dXNlcjpodW50ZXIyaHVudGVyMg=='",
        "curl -H 'Authorization: Basic [REDACTED:auth-header]'",
        {"auth-header": 1},
    ),
    (
        "password in a database url",
        "DATABASE_URL=postgres://app:s3cr3t-Pa55@db.internal:5432/app",
        "DATABASE_URL=postgres://app:[REDACTED:url-password]@db.internal:5432/app",
        {"url-password": 1},
    ),
    (
        "token as a url password",
        f"git clone https://x-access-token:{GITHUB_PAT}@github.com/acme/app.git",
        "git clone https://x-access-token:[REDACTED:github-token]@github.com/acme/app.git",
        {"github-token": 1},
    ),
    (
        "password constant",
        'PASSWORD = "hunter2!"',
        'PASSWORD = "[REDACTED:password]"',
        {"password": 1},
    ),
    (
        "password in yaml",
        "+  password: hunter2\n",
        "+  password: [REDACTED:password]\n",
        {"password": 1},
    ),
    (
        "api key in json",
        '"apiKey": "b1946ac92492d2347c6235b4d2611184"',
        '"apiKey": "[REDACTED:api-key]"',
        {"api-key": 1},
    ),
    (
        "exported token",
        "export TOKEN=abc123def456",
        "export TOKEN=[REDACTED:token]",
        {"token": 1},
    ),
    (
        "compose environment",
        "      - POSTGRES_PASSWORD=s3cr3t\n",
        "      - POSTGRES_PASSWORD=[REDACTED:password]\n",
        {"password": 1},
    ),
    (
        "go client secret",
        'clientSecret := "Zx9Qw3Er7Ty1Ui5Op2As8"',
        'clientSecret := "[REDACTED:secret]"',
        {"secret": 1},
    ),
    (
        "php array",
        "'db_password' => 'correct horse battery staple',",
        "'db_password' => '[REDACTED:password]',",
        {"password": 1},
    ),
    (
        "command-line flag",
        "mysql --user=root --password=hunter2!",
        "mysql --user=root --password=[REDACTED:password]",
        {"password": 1},
    ),
    (
        "query parameter",
        "GET /v1/items?access_token=b1946ac92492d2347c62&page=2",
        "GET /v1/items?access_token=[REDACTED:token]&page=2",
        {"token": 1},
    ),
    (
        "several kinds in one hunk",
        "@@ -1,3 +1,5 @@\n"
        " [default]\n"
        f"+aws_access_key_id = {AWS_ACCESS_KEY}\n"
        f"+aws_secret_access_key = {AWS_SECRET_KEY}\n"
        f"+github = {GITHUB_PAT}\n"
        " region = eu-west-1\n",
        "@@ -1,3 +1,5 @@\n"
        " [default]\n"
        "+aws_access_key_id = [REDACTED:aws-access-key]\n"
        "+aws_secret_access_key = [REDACTED:aws-secret-key]\n"
        "+github = [REDACTED:github-token]\n"
        " region = eu-west-1\n",
        {"aws-access-key": 1, "aws-secret-key": 1, "github-token": 1},
    ),
]


@pytest.mark.parametrize(
    ("text", "expected_text", "kinds"),
    [case[1:] for case in SECRETS],
    ids=[case[0] for case in SECRETS],
)
def test_secret_is_redacted(text: str, expected_text: str, kinds: dict[str, int]) -> None:
    """Each real-format secret is replaced by a marker of its kind, and counted."""
    assert Redacted(expected_text, sum(kinds.values()), kinds) == redact_secrets(text)


@pytest.mark.parametrize("text", [case[1] for case in SECRETS], ids=[case[0] for case in SECRETS])
def test_redacting_twice_finds_nothing_more(text: str) -> None:
    """Markers are no secrets: redacting redacted text changes nothing."""
    once = redact_secrets(text).text
    assert Redacted(once, 0, {}) == redact_secrets(once)


NOT_SECRETS = [
    # git shas, alone and in places a secret could be
    "Merge commit e83c5163316f89bfbde7d9ab23ca2e25604af290 into main",
    "+    git checkout 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
    "COMMIT_SHA=e83c5163316f89bfbde7d9ab23ca2e25604af290",
    # code that reads, computes or compares secrets
    "password = getpass.getpass()",
    'token = request.headers.get("X-Token")',
    "password_hash = bcrypt.hashpw(password, salt)",
    "self.password = password",
    'secret = os.environ["SECRET"]',
    'SECRET_KEY = env("DJANGO_SECRET_KEY")',
    "api_key=settings.OPENAI_API_KEY",
    "    api_key=api_key\n)",
    '"apiKey": process.env.API_KEY',
    "apiKey: API_KEY",
    "const { password } = req.body;",
    'if password == "":',
    "if (token !== undefined) {",
    "token = None",
    "tokenizer = AutoTokenizer.from_pretrained(name)",
    '+    csrf_token = request.form["csrf_token"]',
    'log.info("token=%s", token)',
    'url = base + "?access_token=" + token + "&page=" + page',
    "headers={'Authorization': f'Bearer {token}'}",
    "Authorization: Bearer <token>",
    # annotations and declarations
    "password: str",
    "token: Optional[str] = None",
    "def login(username: str, password: str) -> Session:",
    "apiKey: string;",
    "secret: bool = False",
    # names that only contain a secret word
    "max_tokens = 4096",
    "tokens_in=row.tokens_in",
    'PASSWORD_FIELD = "password"',
    'token_url = "https://oauth2.googleapis.com/token"',
    'secret_name = "prod/db"',
    'cache_key = f"user:{user_id}"',
    'key = "user:42"',
    'monkey = "banana-split-v2"',
    # placeholders and templates
    "postgres://user:${DB_PASSWORD}@db/app",
    "postgresql://user:pass@host/dbname",
    "token: ${{ secrets.GITHUB_TOKEN }}",
    'password = "changeme"',
    'api_key = "your-api-key"',
    'password = "********"',
    # words and identifiers shaped a little like tokens
    "xoxo-hugs-and-kisses-forever",
    "# works with sk-learn-compatible-estimator-wrappers",
    "TASKS = ['ASK0123456789abcdef0123456789abcdef']",
    'uuid = "123e4567-e89b-12d3-a456-426614174000"',
    '"integrity": "sha512-' + "Ab1+" * 21 + 'Ab=="',
    "ssh://git@github.com:22/acme/app.git",
    "-----BEGIN RSA PRIVATE KEY-----",
    'START, END = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"',
    "export PATH=/usr/local/bin:$PATH",
    "LOG_LEVEL=debug",
    "BUCKET=my-app-production-bucket-2024",
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_ordinary_text_is_left_alone(text: str) -> None:
    """Code, identifiers, hashes and placeholders are not taken for secrets."""
    assert Redacted(text, 0, {}) == redact_secrets(text)


@pytest.mark.parametrize(
    ("path", "text", "expected_text"),
    [
        (
            ".env",
            "SESSION_SIGNING=HxNWFOCWdnrJi7sC4SFhbOMZpTktJaJA\n",
            "SESSION_SIGNING=[REDACTED:high-entropy]\n",
        ),
        (
            "deploy/.env.production",
            'export WEBHOOK_SIGNING = "273e34f98dff7e4c6428da8099f4efbacea67c7d1afcc4f14a3e3e04d42f8ac2"',
            'export WEBHOOK_SIGNING = "[REDACTED:high-entropy]"',
        ),
        (
            "config/app.env",
            "+webhook_signing=HxNWFOCWdnrJi7sC4SFhbOMZpTktJaJA  # rotated monthly\n",
            "+webhook_signing=[REDACTED:high-entropy]  # rotated monthly\n",
        ),
        (
            None,
            "+SESSION_SIGNING=HxNWFOCWdnrJi7sC4SFhbOMZpTktJaJA\n+DEBUG=0\n",
            "+SESSION_SIGNING=[REDACTED:high-entropy]\n+DEBUG=0\n",
        ),
        # a lower-case password in a .env file is a password even without digits
        (".env", "db_password=correcthorse\n", "db_password=[REDACTED:password]\n"),
    ],
)
def test_high_entropy_values_in_env_files(path: str | None, text: str, expected_text: str) -> None:
    """Random-looking values in .env-like files, or on KEY=VALUE lines of unknown files, go."""
    assert expected_text == redact_secrets(text, path=path).text


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("src/settings.py", "SESSION_SIGNING=HxNWFOCWdnrJi7sC4SFhbOMZpTktJaJA"),
        (None, "session_signing = HxNWFOCWdnrJi7sC4SFhbOMZpTktJaJA"),
        (".env", "COMMIT_SHA=e83c5163316f89bfbde7d9ab23ca2e25604af290"),
        (".env", "BUCKET=my-app-production-bucket-2024"),
        (".env", "DATABASE_URL=postgres://localhost:5432/app_development"),
        (".env", "CREDENTIALS_PROVIDER=ApplicationDefaultCredentials"),
        (".env", "STORAGE_HOST=acme-uploads.s3.eu-west-1.amazonaws.com"),
        (".env", "RELEASE=v2.31.0-rc.1+build.20240611"),
        (".env.example", "SESSION_SIGNING=${SESSION_SIGNING}"),
    ],
)
def test_env_values_that_stay(path: str | None, text: str) -> None:
    """Hashes, hosts, names and versions in .env files, and code elsewhere, stay."""
    assert Redacted(text, 0, {}) == redact_secrets(text, path=path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", 0.0), ("aaaa", 0.0), ("abab", 1.0), ("abcd", 2.0), ("0123456789abcdef", 4.0)],
)
def test_shannon_entropy(value: str, expected: float) -> None:
    """Entropy is measured in bits per character."""
    assert expected == shannon_entropy(value)


def test_offsets_survive_characters_that_lower_case_longer() -> None:
    """A dotted capital I before a secret does not shift where the marker goes."""
    text = 'İstanbul_password = "hunter2!" İ'
    assert Redacted('İstanbul_password = "[REDACTED:password]" İ', 1, {"password": 1}) == (
        redact_secrets(text)
    )


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "text",
    [
        "-----BEGIN RSA PRIVATE KEY-----\n" * 6_000,
        "eyJ" * 60_000,
        "ghp_" * 50_000,
        "xoxb-" * 40_000,
        "://a:" * 40_000,
        "K=" + "aB3" * 60_000,
    ],
    ids=["begin lines", "jwt leads", "github leads", "slack leads", "url colons", "long value"],
)
def test_crafted_lines_cost_their_length(text: str) -> None:
    """Runs of a secret's lead, without the secret, are scanned once, not once per lead."""
    assert Redacted(text, 0, {}) == redact_secrets(text, path=".env")
