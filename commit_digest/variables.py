"""Every environment variable commit-digest reads, defined once, with its default and its doc.

``load_settings`` (``config.py``) takes each default from here (reading a name that is not
here is an error), and the README's configuration table (``commit-digest config table``) and
``commit-digest config show`` are made from this table. Adding a variable means adding a line
here; a test fails until the README's table is the generated one.
"""

from __future__ import annotations

from dataclasses import dataclass

# Prompt template versions (commit_digest/analysis/prompt_templates/); the last is the default.
PROMPT_VERSIONS = ("v1", "v2", "v3")
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class Variable:
    """One environment variable: its default (as it would be written in the environment; None
    when unset means something the code derives, said in ``default_doc``) and what it does."""

    name: str
    group: str
    doc: str
    default: str | None = None
    default_doc: str | None = None  # for the README when the default is not a plain value
    secret: bool = False
    advanced: bool = False  # for tests and unusual deployments; the default fits everyone else

    @property
    def shown_default(self) -> str:
        if self.default_doc is not None:
            return self.default_doc
        return f"`{self.default}`" if self.default is not None else "none"


# Every variable commit-digest reads, defined once: load_settings takes each default from here,
# and the README's configuration table, .env.example's index and `config show` come from it.
VARIABLES: tuple[Variable, ...] = (
    Variable(
        "GITHUB_WEBHOOK_SECRET",
        "GitHub",
        "webhook secret; several, comma-separated, are all accepted (rotation)",
        default_doc="`run` generates one and prints it; web processes refuse to start without one",
        secret=True,
    ),
    Variable(
        "GITHUB_TOKEN",
        "GitHub",
        "token for the REST API (read commits, write commit comments)",
        default_doc="none: public repositories are read unauthenticated, no comments",
        secret=True,
    ),
    Variable(
        "GITHUB_APP_ID",
        "GitHub",
        "GitHub App auth instead of a token: the App's id (with `GITHUB_APP_PRIVATE_KEY`)",
    ),
    Variable(
        "GITHUB_APP_PRIVATE_KEY",
        "GitHub",
        "the App's private key, as PEM text or a file path",
        secret=True,
    ),
    Variable(
        "GITHUB_API_URL",
        "GitHub",
        "REST base URL (GitHub Enterprise Server: `https://HOST/api/v3`)",
        default=DEFAULT_GITHUB_API_URL,
    ),
    Variable(
        "OPENAI_API_KEY",
        "LLM",
        "key for the OpenAI(-compatible) API",
        default_doc="none: heuristics unless `OPENAI_BASE_URL` is set",
        secret=True,
    ),
    Variable(
        "OPENAI_BASE_URL",
        "LLM",
        "any OpenAI-compatible server (llama.cpp, Ollama, vLLM …)",
        default_doc="OpenAI's, when a key is set",
    ),
    Variable("OPENAI_MODEL", "LLM", "the model", default=DEFAULT_MODEL),
    Variable(
        "ANALYZER",
        "LLM",
        "`auto` (the LLM when one is configured), `llm` or `heuristic`",
        default="auto",
    ),
    Variable(
        "LLM_INPUT_TOKEN_BUDGET",
        "LLM",
        "most prompt tokens one commit may use, everything counted (fits a 4,096-token server with the answer)",
        default="3000",
    ),
    Variable("LLM_MAX_OUTPUT_TOKENS", "LLM", "most tokens of one answer", default="1000"),
    Variable(
        "LLM_TIMEOUT",
        "LLM",
        "the longest silence, in seconds, before the first token or between two (answers are streamed: a slow but steady one is never cut)",
        default="120",
    ),
    Variable(
        "LLM_PROMPT_VERSION",
        "LLM",
        "the prompt templates (`v1`, `v2`, `v3`)",
        default=PROMPT_VERSIONS[-1],
    ),
    Variable(
        "LLM_CONCURRENCY",
        "LLM",
        "most LLM requests in flight for the whole installation (every worker on every host); the limit adapts below it — from 1, up while answers keep their pace, halved on timeouts, 429 and 5xx",
        default="4",
    ),
    Variable(
        "LLM_RETRIES",
        "LLM",
        "retries before an unavailable LLM falls back to the heuristics",
        default="5",
    ),
    Variable(
        "RETRY_BACKOFF",
        "LLM",
        "seconds of the first wait before a retry; each next one doubles (at most 600)",
        default="15",
    ),
    Variable(
        "LLM_PRICES",
        "LLM",
        "`MODEL=IN/OUT,…` USD per million tokens, for cost estimates",
        default_doc="a table of OpenAI models",
    ),
    Variable(
        "REDIS_URL",
        "Services",
        "Celery broker (and the shared metrics)",
        default_doc="`run` starts an embedded Redis",
    ),
    Variable("REDIS_KEY_PREFIX", "Services", "prefix for every key in Redis (to share one Redis)"),
    Variable(
        "DATABASE_URL",
        "Services",
        "SQLAlchemy URL: `sqlite:///…` or `postgresql+psycopg://…`",
        default_doc="SQLite file under `DATA_DIR`",
    ),
    Variable("DATA_DIR", "Services", "where the embedded defaults keep their files", default="var"),
    Variable(
        "TRACKED_BRANCHES",
        "Analysis",
        "comma-separated branch globs to analyse (`main,release/*`)",
        default_doc="the repository's default branch",
    ),
    Variable(
        "COMMIT_COMMENTS",
        "Analysis",
        "`on`/`off`: the analysis as a comment on each commit",
        default_doc="`on` when GitHub credentials are set",
    ),
    Variable(
        "CONFIG_FILE",
        "Analysis",
        "the operator's TOML file: defaults for every repository, teams, chat channels, people ([reference](docs/settings-file.md)); a repository's own `.commit-digest.toml` can change how it is analysed, never where anything is sent",
        default_doc="none: every repository gets the environment's settings",
    ),
    Variable("REPORT_TIMEZONE", "Report", 'IANA zone that defines "a day"', default="UTC"),
    Variable(
        "REPORT_TIME",
        "Report",
        "local time at which the previous day's report is built and sent",
        default="00:10",
    ),
    Variable(
        "REPORT_LANGUAGE",
        "Report",
        "`zh-CN` or `en`, for analyses, comments and the report",
        default="zh-CN",
    ),
    Variable(
        "REPORT_MAX_WAIT",
        "Report",
        "seconds the nightly report waits for commits found by reconciliation to be analysed (the rest are listed as pending)",
        default="600",
    ),
    Variable(
        "REPORT_PERIOD",
        "Report",
        "`daily`, or `weekly`: one digest each Monday at `REPORT_TIME` of the seven days before (Monday to Sunday), with the same parts over the week",
        default="daily",
    ),
    Variable(
        "REPORT_PEOPLE",
        "Report",
        "`on`/`off`: the report's section per author (commits, importance mix, lines changed, areas); off leaves no trace of it",
        default="on",
    ),
    Variable(
        "SMTP_URL",
        "Report",
        "`smtp://user:pass@host:587?starttls=true` or `smtps://…:465`",
        default_doc="none: the email is written to `DATA_DIR/outbox/`",
        secret=True,
    ),
    Variable("MAIL_FROM", "Report", "the report's sender", default="commit-digest@localhost"),
    Variable(
        "REPORT_RECIPIENTS", "Report", "comma-separated recipients (required with `SMTP_URL`)"
    ),
    Variable(
        "ALLOWED_RECIPIENT_DOMAINS",
        "Report",
        "comma-separated email domains a repository file may add report recipients in",
        default_doc="none: repository files add no recipients",
    ),
    Variable(
        "PUBLIC_URL",
        "Web",
        "where people reach the web pages, for links in chat messages",
        default_doc="none: messages carry no link",
    ),
    Variable("HOST", "Web", "where `run` and the web process listen", default="127.0.0.1"),
    Variable("PORT", "Web", "the port `run` and the web process listen on", default="8000"),
    Variable(
        "ACCESS_TOKEN",
        "Web",
        "token (16 characters or more) for the web pages, the JSON API and `/metrics` (not for the webhook); unset, all of them answer 403",
        default_doc="`run` generates one and prints a URL with it",
        secret=True,
    ),
    Variable(
        "WORKER_CONCURRENCY", "Processes", "tasks a `run` worker handles at once", default="4"
    ),
    Variable(
        "DELIVERY_RETENTION_DAYS",
        "Processes",
        "days a delivery's raw body is kept (for `replay`); a nightly task empties older ones — commits and analyses are kept",
        default="30",
    ),
    Variable("LOG_LEVEL", "Processes", "`debug`, `info`, `warning` or `error`", default="info"),
    Variable(
        "LOG_FORMAT",
        "Processes",
        "`auto` (JSON when not on a terminal), `json` or `console`",
        default="auto",
    ),
    Variable(
        "SWEEP_INTERVAL",
        "Recovery",
        "seconds between sweeps that queue recorded-but-unqueued work",
        default="30",
        advanced=True,
    ),
    Variable(
        "REQUEUE_AFTER",
        "Recovery",
        "seconds after which queued work nobody started (its message lost) is queued again (at least two sweeps)",
        default="900",
        advanced=True,
    ),
    Variable(
        "ANALYSIS_LEASE",
        "Recovery",
        "seconds after which an analysis claimed by a worker that died is taken over (above the analysis time limit, 660)",
        default="720",
        advanced=True,
    ),
    Variable(
        "REPORT_SEND_LEASE",
        "Recovery",
        "seconds after which a report send claimed by a process that died is taken over (above the SMTP timeout)",
        default="600",
        advanced=True,
    ),
)
VARIABLE = {variable.name: variable for variable in VARIABLES}


GROUPS = tuple(dict.fromkeys(variable.group for variable in VARIABLES))


def markdown_table() -> str:
    """The README's configuration tables: the everyday variables, then the advanced ones."""
    lines = []
    for advanced, title in (
        (False, None),
        (True, "Recovery timings (tests and unusual deployments; the defaults fit everyone else):"),
    ):
        if title:
            lines += ["", title, ""]
        lines += ["| variable | meaning | default |", "|---|---|---|"]
        lines += [
            f"| `{v.name}` | {v.doc} | {v.shown_default} |"
            for v in VARIABLES
            if v.advanced == advanced
        ]
    return "\n".join(lines) + "\n"
