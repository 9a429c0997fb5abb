"""The HTML side of the report as pure functions: sanitise, style, wrap in a document.

The Markdown already carries untrusted text escaped (``report.markdown_text``); sanitising
the HTML converted from it (``commit_digest.reporting.convert``) is the second, independent
line of defence. Styles are added after sanitising, as attributes on our own tags, because
mail clients ignore ``<style>`` blocks. The explicit ``<a id>`` anchors of the template stand
in for a table-of-contents extension.
"""

from __future__ import annotations

import re

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
        "del",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "id", "title"},
    "h1": {"id"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

STYLES = {
    "h1": "font-size:22px;margin:0 0 12px;color:#1f2328;",
    "h2": (
        "font-size:19px;margin:28px 0 10px;padding-bottom:6px;"
        "border-bottom:1px solid #d1d9e0;color:#1f2328;"
    ),
    "h3": "font-size:16px;margin:22px 0 8px;color:#1f2328;",
    "h4": "font-size:15px;margin:18px 0 6px;color:#1f2328;",
    "p": "margin:0 0 10px;line-height:1.6;",
    # a table wider than a phone scrolls inside itself, not the page
    "table": (
        "border-collapse:collapse;margin:0 0 14px;font-size:13px;"
        "display:block;max-width:100%;overflow-x:auto;"
    ),
    "th": "border:1px solid #d1d9e0;padding:6px 10px;background:#f6f8fa;text-align:left;",
    "td": "border:1px solid #d1d9e0;padding:6px 10px;vertical-align:top;",
    "blockquote": ("margin:0 0 12px;padding:4px 12px;border-left:4px solid #d1d9e0;color:#59636e;"),
    "code": (
        "font-family:SFMono-Regular,Consolas,Menlo,monospace;font-size:12px;"
        "background:#f6f8fa;padding:1px 4px;border-radius:4px;"
    ),
    "ul": "margin:0 0 10px;padding-left:22px;line-height:1.6;",
    "ol": "margin:0 0 10px;padding-left:22px;line-height:1.6;",
    "hr": "border:0;border-top:1px solid #d1d9e0;margin:18px 0;",
    "a": "color:#0969da;",
}
BODY_STYLE = (
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI','PingFang SC','Hiragino Sans GB',"
    "'Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',"
    "Helvetica,Arial,sans-serif;font-size:14px;color:#1f2328;max-width:960px;"
    "margin:0 auto;padding:16px;"
)
# Dark mode for the web pages: the inline styles are the light theme, so the dark one wins with
# !important. Emails keep inline styles only (many clients drop or mangle <style> blocks).
DARK_MODE = (
    "@media (prefers-color-scheme: dark){"
    "body{background:#0d1117!important;color:#e6edf3!important}"
    "h1,h2,h3,h4{color:#e6edf3!important}"
    "h2,hr,th,td,blockquote{border-color:#3d444d!important}"
    "th,code{background:#151b23!important;color:#e6edf3!important}"
    "blockquote{color:#9198a1!important}"
    "a{color:#4493f8!important}}"
)
_OPEN_TAG = re.compile(r"<(" + "|".join(STYLES) + r")(?=[\s>])")
_STYLED_OPENING = {tag: f'<{tag} style="{style}"' for tag, style in STYLES.items()}


def sanitize(raw_html: str) -> str:
    """Keep only our tags, attributes and URL schemes of HTML converted from the Markdown."""
    return nh3.clean(
        raw_html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def inline_styles(html: str) -> str:
    """Add our inline styles to the tags of sanitised HTML (no attribute of theirs is touched).

    Mail clients ignore ``<style>`` blocks; nh3 has already removed every attribute but ours,
    so each tag gets exactly one style.
    """
    return _OPEN_TAG.sub(lambda m: _STYLED_OPENING[m[1]], html)


def html_document(body_html: str, title: str, *, page: bool = False) -> str:
    """A complete, mail-client-friendly HTML document around a sanitised, styled body.

    ``page``: a web page, which follows the reader's dark mode; an email does not.
    """
    safe_title = nh3.clean_text(title)
    head = (
        f'<meta name="color-scheme" content="light dark"><style>{DARK_MODE}</style>' if page else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{safe_title}</title>{head}</head>\n"
        f'<body style="{BODY_STYLE}">\n{body_html}\n</body></html>\n'
    )
