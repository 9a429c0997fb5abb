"""Chat messages through the outbox: queued once per (report or commit, channel), sent once.

``queue_chat`` writes one outbox row per channel and publishes the rows' ids; a second call for
the same subject (a double beat, a retried task) finds the rows and queues nothing new.
``deliver_chat`` claims a row, sends it and records what happened. The channel's URL and
secret are looked up when sending, from the installation's configuration and environment:
they never enter the database or the broker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Literal

import structlog

from commit_digest import outbox
from commit_digest.chat.message import ChatMessage, Mention
from commit_digest.chat.platforms import Channel
from commit_digest.chat.send import ChatRefused, ChatUnavailable, send_chat
from commit_digest.errors import ConfigError
from commit_digest.queueing import SEND_CHAT, publish
from commit_digest.repo_settings import ChannelConfig, InstallationConfig
from commit_digest.runtime import Runtime

log = structlog.get_logger(__name__)

Kind = Literal["chat-report", "chat-alert"]
SEND_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8  # then the row is marked failed and shows in metrics and logs


def queue_chat(
    rt: Runtime, *, kind: Kind, subject: str, messages: Mapping[str, ChatMessage]
) -> list[int]:
    """Write one outbox row per channel (or find it) and queue the new ones; return their ids.

    ``messages`` maps each channel's name to its message (mentions differ per platform).
    """
    now = datetime.now(UTC)
    new: list[int] = []
    with rt.session() as session:
        for channel, message in messages.items():
            item_id, created = outbox.add(
                session,
                kind=kind,
                subject=subject,
                target=channel,
                payload=_payload(message),
                now=now,
            )
            if created:
                new.append(item_id)
    # published after the commit: a lost publish leaves "pending" rows for the sweep
    publish(rt.celery, SEND_CHAT, new)
    return new


def deliver_chat(
    rt: Runtime,
    item_id: int,
    installation: InstallationConfig,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Send one outbox row to its channel; return sent/failed or why nothing was sent.

    Raises ``ChatUnavailable`` after putting the row back to pending, so the task retries it.
    """
    now = datetime.now(UTC)
    with rt.session() as session:
        claimed = outbox.claim(session, item_id, now=now, lease=SEND_LEASE)
    if isinstance(claimed, str):
        return claimed
    config = _channel_named(installation, claimed.target)
    if config is None:
        return _finish(rt, claimed.id, "failed", f"channel {claimed.target!r} is not configured")
    try:
        channel = channel_from(config, environ if environ is not None else os.environ)
        send_chat(channel, _message(claimed.payload))
    except ConfigError as error:
        return _finish(rt, claimed.id, "failed", str(error), platform=config.platform)
    except ChatRefused as error:
        return _finish(rt, claimed.id, "failed", str(error), platform=config.platform)
    except ChatUnavailable as error:
        if claimed.attempts >= MAX_ATTEMPTS:
            return _finish(rt, claimed.id, "failed", str(error), platform=config.platform)
        _finish(rt, claimed.id, "pending", str(error), platform=config.platform)
        raise
    return _finish(rt, claimed.id, "sent", None, platform=config.platform)


def channel_from(config: ChannelConfig, environ: Mapping[str, str]) -> Channel:
    """The channel with its URL and secret, from the file or from the variables it names."""
    url = config.url or (environ.get(config.url_env) if config.url_env else None)
    if not url:
        raise ConfigError(config.url_env or "CONFIG_FILE", f"no URL for channel {config.name!r}")
    if not url.startswith(("https://", "http://")):
        raise ConfigError(config.url_env or "CONFIG_FILE", f"channel {config.name!r}: not a URL")
    secret = config.secret or (environ.get(config.secret_env) if config.secret_env else None)
    if config.secret_env and not secret:
        raise ConfigError(config.secret_env, f"is not set (secret of channel {config.name!r})")
    return Channel(name=config.name, platform=config.platform, url=url, secret=secret)


def mentions_for(
    installation: InstallationConfig, platform: str, logins: Sequence[str]
) -> tuple[Mention, ...]:
    """The chat ids of these GitHub logins on ``platform``, for those the operator mapped."""
    people = {login.lower(): ids for login, ids in installation.people.items()}
    found = ((login, people.get(login.lower(), {}).get(platform)) for login in logins)
    return tuple(Mention(login, chat_id) for login, chat_id in found if chat_id)


def _channel_named(installation: InstallationConfig, name: str) -> ChannelConfig | None:
    return next((channel for channel in installation.channels if channel.name == name), None)


def _finish(
    rt: Runtime,
    item_id: int,
    state: Literal["sent", "failed", "pending"],
    error: str | None,
    *,
    platform: str = "unknown",
) -> str:
    with rt.session() as session:
        outbox.finish(session, item_id, state, now=datetime.now(UTC), error=error)
    status = {"pending": "retrying"}.get(state, state)
    rt.metrics.count("chat_messages", platform=platform, status=status)
    if state == "sent":
        log.info("chat.sent", outbox_id=item_id, platform=platform)
    else:
        log.warning("chat.not_sent", outbox_id=item_id, platform=platform, state=state, error=error)
    return state


def _payload(message: ChatMessage) -> dict[str, object]:
    data = asdict(message)
    data["mentions"] = [asdict(person) for person in message.mentions]
    return data


def _message(payload: Mapping[str, object]) -> ChatMessage:
    mentions = payload.get("mentions") or []
    assert isinstance(mentions, list)
    lines = payload.get("lines") or []
    assert isinstance(lines, list)
    return ChatMessage(
        kind="alert" if payload.get("kind") == "alert" else "report",
        title=str(payload.get("title", "")),
        lines=tuple(str(line) for line in lines),
        link=str(payload["link"]) if payload.get("link") else None,
        link_label=str(payload.get("link_label", "Open")),
        mentions=tuple(Mention(str(m["login"]), str(m["chat_id"])) for m in mentions),
    )
