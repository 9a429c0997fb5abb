"""Redact secrets from text bound for the LLM: keys, tokens, private keys, passwords.

Each secret is replaced by a marker naming its kind, ``[REDACTED:github-token]``, keeping what
a reader needs around it (the variable name, the user and host of a URL). Three families of
rules, in this order when their matches overlap:

1. Formats with a recognisable shape (``AKIA…``, ``ghp_…``, PEM blocks, JWTs, …).
2. Values assigned to a name that says secret (``PASSWORD = "…"``, ``apiKey: …``,
   ``export TOKEN=…``), leaving code alone: ``token = make_token()`` is no secret.
3. High-entropy values in ``.env``-like files (and on ``KEY=VALUE`` lines when the path is
   unknown).

Every regex starts with a literal, which ``re`` finds with a fast substring search; a regex
starting with a look-behind, a character class or a case-insensitive word is tried at every
position and runs ten to twenty times slower on a large diff. So boundaries are looked behind
after a token's lead, and names are searched in a lower-cased copy of the text. Quantifiers
are bounded, so that no crafted line costs more than a small multiple of its length.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

MARKER = "[REDACTED:{kind}]"
_MARKER_START = MARKER.split("{", 1)[0]
# High-entropy rule: values at least this long with at least this many bits per character
# (hexadecimal carries 4 bits at most, so it has a lower bar).
ENTROPY_MIN_LENGTH = 20
ENTROPY_THRESHOLD = 3.5
ENTROPY_THRESHOLD_HEX = 3.0


@dataclass(frozen=True)
class Redacted:
    """Text with its secrets replaced, and how many of each kind were."""

    text: str
    count: int
    kinds: dict[str, int]


@dataclass(frozen=True)
class _Shape:
    kind: str
    regex: re.Pattern[str]
    # the group that is the secret (0: the whole match)
    group: int | str = 0
    # a stand-in such as ${DB_PASSWORD} is left alone
    skip_placeholders: bool = False
    # the secret must hold a match of this, or it is only the shape of one
    requires: re.Pattern[str] | None = None


# Character classes of the token alphabets. A token's lead is followed by a look-behind that
# rejects it inside a longer word, there rather than first so that the lead stays a literal;
# it also keeps a run of leads (eyJeyJeyJ…) from being scanned once per lead.
_ALNUM = "A-Za-z0-9"
_WORD = "A-Za-z0-9_"
_URLSAFE = "A-Za-z0-9_\\-"


def _token(lead: str, not_after: str, rest: str) -> re.Pattern[str]:
    """Compile ``lead`` + ``rest``, not matching where a ``not_after`` character precedes it."""
    return re.compile(f"{lead}(?<![{not_after}]{lead}){rest}")


_PEM_LABEL = r"[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"

_SHAPES: tuple[_Shape, ...] = (
    # before the PEM rule, so that a service-account key file is named for what it is
    _Shape(
        "gcp-service-account-key",
        re.compile(r'"private_key"\s*:\s*"(?P<value>(?:[^"\\\n]|\\.)+)"'),
        "value",
        skip_placeholders=True,
    ),
    _Shape(
        "private-key",
        re.compile(
            # the body stops at another BEGIN, so that a run of them is scanned once
            rf"-----BEGIN{_PEM_LABEL}(?:(?:(?!-----BEGIN).){{0,10000}}?-----END{_PEM_LABEL}"
            # no END line (a hunk cut short): the key material that follows, line by line
            r"|(?:(?:\\[rn]|[\r\n])+[+\- ]?[ \t]*"
            r"(?:[A-Za-z0-9+/=]{1,1000}|[A-Za-z\-]{1,40}:[ \t][^\r\n\\]{0,200})"
            r"(?=\\[rn]|[\r\n]|\Z)){1,200})",
            re.DOTALL,
        ),
        requires=re.compile(r"[A-Za-z0-9+/]{16}"),
    ),
    _Shape(
        "aws-access-key",
        _token("A", _ALNUM, r"(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])"),
    ),
    _Shape("gcp-api-key", _token("AIza", _URLSAFE, r"[A-Za-z0-9_\-]{35}(?![A-Za-z0-9_\-])")),
    _Shape(
        "azure-storage-key",
        re.compile(r"AccountKey\s*=\s*(?P<value>[A-Za-z0-9+/]{20,1000}={0,2})"),
        "value",
    ),
    _Shape(
        "azure-storage-key",
        re.compile(r"SharedAccessKey\s*=\s*(?P<value>[A-Za-z0-9+/]{20,1000}={0,2})"),
        "value",
    ),
    _Shape(
        "azure-sas-signature",
        re.compile(r"sig=(?<=[?&]sig=)(?P<value>[A-Za-z0-9%+/=]{20,1000})"),
        "value",
    ),
    _Shape("github-token", _token("gh[pousr]_", _WORD, r"[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])")),
    _Shape("github-token", _token("github_pat_", _WORD, r"[A-Za-z0-9_]{22,255}")),
    # from the comparison with gitleaks' rules (tests/core/test_secret_corpus.py): the formats
    # it catches that no rule here did
    _Shape(
        "discord-webhook",
        re.compile(
            r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{5,30}/"
            r"(?P<value>[A-Za-z0-9_\-]{60,100})"
        ),
        "value",
    ),
    _Shape("telegram-bot-token", _token("", _WORD, r"[0-9]{5,16}:A[A-Za-z0-9_\-]{34}(?![\w\-])")),
    _Shape("mailgun-key", _token("key-", _WORD, r"[0-9a-f]{32}(?![0-9a-zA-Z])")),
    _Shape("vault-token", _token("hv[sbr]\\.", _WORD, r"[A-Za-z0-9_\-]{24,200}")),
    _Shape(
        "gitlab-token",
        _token("gl", _URLSAFE, r"(?:pat|dt|rt|ptt|ft|cbt|oas|soat)-[A-Za-z0-9_\-]{20,1000}"),
    ),
    _Shape(
        "slack-webhook",
        re.compile(
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{1,1000}"
        ),
    ),
    _Shape(
        "slack-token",
        _token(
            "x",
            _URLSAFE,
            r"(?:ox[abposre]-(?:[0-9]++-)++[A-Za-z0-9\-]{8,1000}|app-[0-9]+-[A-Za-z0-9\-]{20,1000})",
        ),
    ),
    # before OpenAI's, whose sk- it shares
    _Shape("anthropic-api-key", _token("sk-ant-", _URLSAFE, r"[A-Za-z0-9_\-]{20,1000}")),
    _Shape(
        "openai-api-key",
        _token(
            "sk-",
            _URLSAFE,
            r"(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,1000}|[A-Za-z0-9]{32,1000})"
            r"(?![A-Za-z0-9_\-])",
        ),
    ),
    _Shape("stripe-key", _token("sk_", _ALNUM, r"(?:live|test)_[A-Za-z0-9]{16,1000}")),
    _Shape("stripe-key", _token("rk_", _ALNUM, r"(?:live|test)_[A-Za-z0-9]{16,1000}")),
    _Shape("stripe-key", _token("whsec_", _ALNUM, r"[A-Za-z0-9]{24,1000}")),
    _Shape("twilio-api-key", _token("SK", _ALNUM, r"[0-9a-fA-F]{32}(?![A-Za-z0-9])")),
    _Shape(
        "sendgrid-api-key",
        _token("SG\\.", _ALNUM, r"[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    ),
    _Shape("npm-token", _token("npm_", _WORD, r"[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    _Shape("pypi-token", _token("pypi-Ag", _URLSAFE, r"[A-Za-z0-9_\-]{50,1000}")),
    _Shape(
        "jwt",
        _token(
            "eyJ",
            _URLSAFE,
            r"[A-Za-z0-9_\-]{8,4000}\.eyJ[A-Za-z0-9_\-]{8,4000}\.[A-Za-z0-9_\-]{0,4000}",
        ),
    ),
    # Docker's config.json keeps "user:password" base64-encoded under auths.<registry>.auth
    _Shape(
        "docker-auth",
        re.compile(r'"auth"\s*:\s*"(?P<value>[A-Za-z0-9+/]{16,}={0,2})"'),
        "value",
    ),
    _Shape(
        "url-password",
        re.compile(r"://[^\s:/?#@'\"<>]{0,200}:(?P<value>[^\s/?#@'\"<>]{1,200})@"),
        "value",
        skip_placeholders=True,
    ),
)
_LOWERCASE_SHAPES: tuple[_Shape, ...] = (
    _Shape(
        "auth-header",
        re.compile(
            r"authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token)[ \t]+"
            r"(?P<value>[a-z0-9._~+/\-]{8,}=*)"
        ),
        "value",
    ),
)

# Names that say their value is a secret, one regex per ending, run on the lower-cased text;
# the name must end there (``password_hash``, ``tokenizer`` and ``keys`` say nothing).
_NAME_END = r"(?![a-z0-9_\-])"
_SECRET_NAMES = tuple(
    re.compile(ending + _NAME_END)
    for ending in (r"pass(?:word|wd|phrase)", "pwd", "secret", "token", "key")
)
# The longest name looked at, and the farthest a configuration line's start is looked for.
_NAME_MAX = 200
# ``key`` alone is any map's key: only these say secret.
_SECRET_KEY_NAME = re.compile(
    r"(?:api|access|secret|private|auth|client|signing|encryption|master|account|storage)"
    r"[_\-]?key$"
)
# Values are bounded (and a bare one stops at "=", but for base64 padding) so that a line of
# ``token=token=…`` costs no more than its length.
_ASSIGNED = re.compile(
    r"[\"']?(?P<before>[ \t]*)(?P<op>:=|=>|=(?!=)|:(?![:/]))(?P<after>[ \t]*)"
    r"(?:\"(?P<double>(?:[^\"\\\n]|\\.){0,512})\"|'(?P<single>(?:[^'\\\n]|\\.){0,512})'"
    r"|(?P<bare>[^\s\"'`,;&)}\]=]{1,512}={0,2}))"
)
# What may stand before a name on a configuration line: the diff's +/-/space, indentation,
# a shell or Dockerfile keyword, a YAML list dash, a quote.
_CONFIG_LINE_START = re.compile(
    r"[+\- ]?[ \t]*(?:(?P<keyword>export|ENV|set|SET|declare|readonly)[ \t]+|-[ \t]+)?[\"']?"
)
_LINE_REST = re.compile(r"[ \t]*(?:#[^\n]*)?(?:\r?\n|\r|$)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"[+\-]?[0-9]+(?:\.[0-9]+)?")
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
_PLACEHOLDERS = frozenset(
    {
        "none", "null", "nil", "true", "false", "undefined", "empty", "changeme", "change_me",
        "changeit", "example", "redacted", "required", "optional", "string", "str", "bytes",
        "secret", "pass", "password", "passwd", "token", "apikey", "api_key", "xxx",
        "your_password", "your-password", "yourpassword", "your_token", "your-token",
        "your_api_key", "your-api-key", "your_secret",
    }
)  # fmt: skip

# High-entropy rule: a value after ``=`` that ends its line.
_ENV_VALUE = re.compile(
    r"=(?P<after>[ \t]*)(?P<quote>[\"']?)"
    rf"(?P<value>[^\s\"'#=]{{{ENTROPY_MIN_LENGTH},1000}}={{0,2}})"
    r"(?P=quote)[ \t]*(?:#[^\n]*)?\r?$",
    re.MULTILINE,
)
_ENV_KEY_IN_ENV_FILE = re.compile(r"[+\- ]?[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.\-]*[ \t]*")
_ENV_KEY_ELSEWHERE = re.compile(r"[+\- ]?(?:export[ \t]+)?[A-Z_][A-Z0-9_]*")
_HEX = re.compile(r"[0-9a-fA-F]+")
# A value made of words and numbers (a bucket, a host, a version) is not random.
_WORD_SEGMENT = re.compile(
    r"[a-z]+[0-9]*|[A-Z]+[0-9]*|[A-Z][a-z]+[0-9]*|[0-9]+[a-z]*|(?:[A-Z][a-z]{2,})+[0-9]*"
)
_SEPARATORS = re.compile(r"[\-_.:/@+,]+")

# (start, end, rank, kind); of two overlapping spans the lower rank wins
_Span = tuple[int, int, int, str]
_ASSIGNMENT_RANK = len(_SHAPES) + len(_LOWERCASE_SHAPES)
_ENTROPY_RANK = _ASSIGNMENT_RANK + 1


def redact_secrets(text: str, *, path: str | None = None) -> Redacted:
    """Replace every secret in ``text`` (the file at ``path``, if known) by a marker."""
    env_file = path is not None and _is_env_file(path)
    # Lower-casing keeps offsets except for İ, which becomes two characters.
    lowered = text.replace("\u0130", "i").lower()

    spans: list[_Span] = []
    for rank, shape in enumerate(_SHAPES):
        spans.extend(_shape_spans(text, text, shape, rank))
    for rank, shape in enumerate(_LOWERCASE_SHAPES, start=len(_SHAPES)):
        spans.extend(_shape_spans(text, lowered, shape, rank))
    spans.extend(_assignment_spans(text, lowered, env_file=env_file))
    if env_file or path is None:
        spans.extend(_entropy_spans(text, env_file=env_file))
    if not spans:
        return Redacted(text, 0, {})

    spans = _clipped_at_url_hosts(spans)
    precise = _merged([span for span in spans if span[2] < _ENTROPY_RANK])
    # the entropy guess is the weakest: it only fills what no other detection covers
    guesses = [
        span
        for span in _merged([span for span in spans if span[2] >= _ENTROPY_RANK])
        if not any(span[0] < end and start < span[1] for start, end, *_ in precise)
    ]
    chosen = sorted(precise + guesses)
    pieces: list[str] = []
    at = 0
    for start, end, _, kind in chosen:
        pieces.append(text[at:start])
        pieces.append(MARKER.format(kind=kind))
        at = end
    pieces.append(text[at:])
    return Redacted("".join(pieces), len(chosen), dict(Counter(kind for *_, kind in chosen)))


def shannon_entropy(value: str) -> float:
    """Return the Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    length = len(value)
    return -sum(n / length * math.log2(n / length) for n in Counter(value).values())


def _is_env_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def _shape_spans(text: str, searched: str, shape: _Shape, rank: int) -> Iterator[_Span]:
    """Yield the spans of ``shape`` in ``searched``, ``text`` or its lower-cased copy."""
    for match in shape.regex.finditer(searched):
        if shape.skip_placeholders and _placeholder(match[shape.group]):
            continue
        if shape.requires and not shape.requires.search(match[shape.group]):
            continue
        yield (*match.span(shape.group), rank, shape.kind)


def _assignment_spans(text: str, lowered: str, *, env_file: bool) -> Iterator[_Span]:
    """Yield values assigned to names that say secret, leaving code that computes them alone."""
    for regex in _SECRET_NAMES:
        for name in regex.finditer(lowered):
            assigned = _ASSIGNED.match(text, name.end())
            if assigned is None:
                continue
            key_start = _key_start(text, name.start())
            key = lowered[key_start : name.end()]
            if key.endswith("key") and not _SECRET_KEY_NAME.search(key):
                continue
            value_group = next(g for g in ("double", "single", "bare") if assigned[g] is not None)
            if _assigned_secret(text, key_start, assigned, value_group, env_file=env_file):
                kind = _name_kind(key, assigned[value_group])
                yield (*assigned.span(value_group), _ASSIGNMENT_RANK, kind)


def _key_start(text: str, at: int) -> int:
    """Return where the name whose secret-sounding ending starts at ``at`` starts."""
    longest = max(at - _NAME_MAX, 0)
    while at > longest and (text[at - 1].isalnum() or text[at - 1] in "_.-"):
        at -= 1
    # leading dashes belong to a command-line flag or the diff, dots to an attribute access
    while text[at] in "-.":
        at += 1
    return at


def _assigned_secret(
    text: str, key_start: int, assigned: re.Match[str], value_group: str, *, env_file: bool
) -> bool:
    """Tell whether the value assigned to a secret-sounding name is a secret."""
    value = assigned[value_group]
    if not _literal(value):
        return False
    if value_group != "bare" or env_file:
        return True
    # a configuration line starts close to its name; looking further would cost a long line's
    # length for every name on it
    line_start = text.rfind("\n", max(key_start - _NAME_MAX, 0), key_start) + 1
    start = _CONFIG_LINE_START.fullmatch(text, line_start, key_start)
    config_line = start is not None and _LINE_REST.match(text, assigned.end()) is not None
    op, spaced = assigned["op"], bool(assigned["before"] or assigned["after"])
    identifier = bool(_IDENTIFIER.fullmatch(value))
    if start is not None and config_line and op == "=" and not spaced:
        # KEY=value on a shell, .env or Dockerfile line; key=value alone is a Python argument
        name = text[key_start : assigned.start()]
        return (name.isupper() or bool(start["keyword"])) and not (identifier and "." in value)
    if config_line and op == ":" and assigned["after"]:
        # key: value in YAML; "password: str" and "apiKey: API_KEY" are code
        return not identifier or any(c.isdigit() for c in value)
    if key_start > 0 and text[key_start - 1] in "?&":
        return len(value) >= 8  # a URL's query parameter
    # Elsewhere a bare value is code unless it could not be an expression.
    return not identifier and not any(c in value for c in "([{<>")


def _literal(value: str) -> bool:
    """Tell whether ``value`` could be a secret rather than a placeholder, a number or a path."""
    if len(value) < 4 or value[0].isspace() or _placeholder(value):
        return False
    return not _NUMBER.fullmatch(value) and not value.startswith(("/", "./", "../", "~/"))


def _placeholder(value: str) -> bool:
    """Tell whether ``value`` stands for a secret kept elsewhere, or for none at all."""
    if value[0] in "$<{%[" or "{{" in value or "${" in value or _MARKER_START in value:
        return True  # a template, a variable, or redacted already
    return value.lower() in _PLACEHOLDERS or len(set(value)) == 1 or value.endswith("...")


def _name_kind(name: str, value: str) -> str:
    """Return the kind of secret a value assigned to ``name`` (lower-cased) is."""
    if "secret" in name and ("aws" in name or "access" in name) and _AWS_SECRET.fullmatch(value):
        return "aws-secret-key"
    if "pass" in name or "pwd" in name:
        return "password"
    if name.endswith("token"):
        return "token"
    if "secret" in name:
        return "secret"
    if "private" in name:
        return "private-key"
    return "api-key"


def _entropy_spans(text: str, *, env_file: bool) -> Iterator[_Span]:
    """Yield random-looking values of KEY=VALUE lines."""
    key_line = _ENV_KEY_IN_ENV_FILE if env_file else _ENV_KEY_ELSEWHERE
    for match in _ENV_VALUE.finditer(text):
        if match["after"] and not env_file:
            continue  # KEY = VALUE is code unless the file is a .env file
        line_start = text.rfind("\n", 0, match.start()) + 1
        if key_line.fullmatch(text, line_start, match.start()) and _random(match["value"]):
            yield (*match.span("value"), _ENTROPY_RANK, "high-entropy")


def _random(value: str) -> bool:
    """Tell whether ``value`` looks like key material rather than a name, address or hash."""
    if "://" in value or ";" in value or "=" in value.rstrip("=") or not _literal(value):
        return False  # an address, a connection string, or no literal at all
    hexadecimal = bool(_HEX.fullmatch(value))
    if hexadecimal and len(value) == 40:
        return False  # a git commit sha
    if all(_WORD_SEGMENT.fullmatch(part) for part in _SEPARATORS.split(value) if part):
        return False
    threshold = ENTROPY_THRESHOLD_HEX if hexadecimal else ENTROPY_THRESHOLD
    return shannon_entropy(value) >= threshold


def _clipped_at_url_hosts(spans: list[_Span]) -> list[_Span]:
    """Name-based and entropy guesses that run through a URL's password end at its ``@``.

    ``https://x-access-token:TOKEN@github.com/…`` reads as ``token: TOKEN@github.com/…`` to
    the assignment detector; what follows the ``@`` is the host and path, not the secret.
    """
    passwords = [(start, end) for start, end, _, kind in spans if kind == "url-password"]
    if not passwords:
        return spans
    clipped = []
    for start, end, rank, kind in spans:
        if rank >= _ASSIGNMENT_RANK:
            for first, last in passwords:
                if first <= start < last < end:
                    end = last
        clipped.append((start, end, rank, kind))
    return clipped


def _merged(spans: list[_Span]) -> list[_Span]:
    """The union of overlapping spans, in text order, each named by its most specific match.

    Keeping only one of two overlapping detections would leave the rest of the other in clear:
    a password that wraps a token (``head-ghp_…-tail``) must go whole, not as ``head-…-tail``.
    """
    merged: list[_Span] = []
    for start, end, rank, kind in sorted(spans, key=lambda s: (s[0], -s[1], s[2])):
        if merged and start < merged[-1][1]:
            first, last, best_rank, best_kind = merged[-1]
            if rank < best_rank:
                best_rank, best_kind = rank, kind
            merged[-1] = (first, max(last, end), best_rank, best_kind)
        else:
            merged.append((start, end, rank, kind))
    return merged
