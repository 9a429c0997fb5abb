"""URLs as they may be shown: the password of ``user:password@`` and secret query values hidden.

Every URL we print or log goes through ``mask_url`` (configuration errors, the ``run``
banner, the commands' messages): DATABASE_URL, REDIS_URL and SMTP_URL carry passwords.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
_SECRET_PARAM = re.compile(
    r"(?i)([?&](?:password|passwd|pwd|secret|token|key|api[_-]?key|access[_-]?token|sig)=)[^&#]*"
)
# scheme://user:password@host, found even in text that is not a whole, valid URL
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s:/?#@]*:)[^\s/?#@]*(@)")


def mask_url(url: str) -> str:
    """``url`` with its password and secret query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_text(url)
    masked = url
    userinfo, at, host = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if at and has_password:  # rebuilt only then: urlunsplit drops the // of sqlite:///path
        masked = urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))
    return _SECRET_PARAM.sub(lambda m: m[1] + MASK, masked)


def mask_text(text: str) -> str:
    """Every URL password and secret query value in free text replaced by ``***``."""
    return _SECRET_PARAM.sub(
        lambda m: m[1] + MASK, _USERINFO.sub(lambda m: m[1] + MASK + m[2], text)
    )
