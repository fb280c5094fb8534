"""Slack payloads become neutral chat references and messages (no product logic here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.chat.types import ChatRef, Sender

PLATFORM = "slack"
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def is_dm(channel_id: str) -> bool:
    return channel_id.startswith("D")


def person_chat(team_id: str, user_id: str, thread_ts: str | None = None) -> ChatRef:
    """A person is keyed by their user id; posting to it lands in the app's DM with them."""
    return ChatRef(platform=PLATFORM, chat_id=user_id, workspace=team_id, thread_id=thread_ts)


def channel_chat(team_id: str, channel_id: str, thread_ts: str | None = None) -> ChatRef:
    return ChatRef(
        platform=PLATFORM, chat_id=channel_id, workspace=team_id, is_group=True, thread_id=thread_ts
    )


def chat_for(team_id: str, channel_id: str, user_id: str, thread_ts: str | None) -> ChatRef:
    """The DM with a person is that person; anything else is the channel."""
    if is_dm(channel_id) or channel_id == user_id:
        return person_chat(team_id, user_id, thread_ts)
    return channel_chat(team_id, channel_id, thread_ts)


def sender(user_id: str, name: str | None = None) -> Sender:
    return Sender(user_id=user_id, display_name=name or None)


def strip_mentions(text: str) -> str:
    """``<@UBOT> show related`` -> ``show related``."""
    return re.sub(r"\s+", " ", _MENTION.sub(" ", text)).strip()


def unescape(text: str) -> str:
    """Slack sends ``&amp; &lt; &gt;`` in message text; the engine wants the characters."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain_links(text: str) -> str:
    """``<https://x.y/feed|x.y/feed>`` (Slack's auto-linking) -> ``https://x.y/feed``."""
    return re.sub(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>", r"\1", text)


def message_text(raw: str) -> str:
    return unescape(plain_links(strip_mentions(raw)))


def team_of(body: dict[str, Any]) -> str:
    team = body.get("team_id") or body.get("team") or ""
    if isinstance(team, dict):
        team = team.get("id", "")
    return str(team or (body.get("user") or {}).get("team_id", ""))  # "user": null is valid JSON


@dataclass(frozen=True, slots=True)
class ActionOrigin:
    """Where a pressed button sits: its channel and the thread its answer belongs in."""

    team_id: str
    channel_id: str
    user_id: str
    thread_ts: str | None
    message_ts: str | None
    ephemeral: bool = False
    in_thread: bool = False  # the pressed message is itself a reply in a thread


def action_origin(body: dict[str, Any]) -> ActionOrigin:
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
    message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    thread_ts = container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
    return ActionOrigin(
        team_id=team_of(body),
        channel_id=str(channel),
        user_id=str((body.get("user") or {}).get("id", "")),
        thread_ts=thread_ts or message_ts,
        message_ts=message_ts,
        ephemeral=bool(container.get("is_ephemeral")),
        in_thread=bool(thread_ts) and thread_ts != message_ts,
    )
