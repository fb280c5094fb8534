"""Team briefs for a channel: "channel daily 09:00 [topics]" subscribes the channel itself.

Separate from the conversation engine: a channel subscription is set up by a command in
that channel, and the channel then is a recipient (kind "channel") like any person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from core.chat.types import ChatRef, Reply
from core.db import Sessions
from core.models import User
from core.people import users as people

_COMMAND = re.compile(
    r"^\s*channel(?:\s+(?P<days>daily|weekdays))?(?:\s+(?P<time>\d{1,2}[:.h]\d{2}))?"
    r"(?:\s+(?P<topics>.+))?\s*$",
    re.IGNORECASE,
)
_STOP = re.compile(r"^\s*channel\s+(?:stop|off|pause|unsubscribe)\s*$", re.IGNORECASE)
CHANNEL_HELP = (
    "Use it in a channel: `channel daily 09:00 [topics]` (or `weekdays`) subscribes the "
    "channel to a team brief; `channel stop` ends it."
)


@dataclass(frozen=True, slots=True)
class ChannelRequest:
    days: str
    time: str | None
    topics: tuple[str, ...]
    stop: bool = False


def is_channel_command(text: str) -> bool:
    return bool(re.match(r"^\s*channel\b", text, re.IGNORECASE))


def parse_channel_command(text: str) -> ChannelRequest:
    """Raises ``people.PeopleError`` with a plain-words message if it is not one."""
    if _STOP.match(text):
        return ChannelRequest(days="daily", time=None, topics=(), stop=True)
    match = _COMMAND.match(text)
    if match is None or not (match["days"] or match["time"]):
        raise people.PeopleError(CHANNEL_HELP)
    time = people.validate_delivery_time(match["time"]) if match["time"] else None
    raw_topics = re.split(r"\s*,\s*|\s+and\s+", match["topics"] or "")
    topics = tuple(t.strip() for t in raw_topics if t.strip())
    return ChannelRequest(days=(match["days"] or "daily").lower(), time=time, topics=topics)


async def ensure_channel(sessions: Sessions, chat: ChatRef) -> None:
    """A channel first met through an @mention or a button is known but gets no briefs:
    only ``channel daily HH:MM`` subscribes it (a paused recipient until then)."""
    if not chat.is_group:
        return
    async with sessions() as session:
        known = await session.scalar(
            select(User.id).where(
                User.platform == chat.platform,
                User.workspace == chat.workspace,
                User.external_id == chat.chat_id,
            )
        )
    if known is None:
        user = await people.get_or_create_user(
            sessions, chat.platform, chat.workspace, chat.chat_id, kind="channel"
        )
        await people.pause(sessions, user.id)


async def handle_channel_command(
    sessions: Sessions,
    chat: ChatRef,
    text: str,
    *,
    timezone_hint: str | None = None,
    display_name: str | None = None,
) -> Reply:
    """Subscribe (or stop) ``chat`` as a channel recipient; the reply says what now holds."""
    if not chat.is_group:
        return Reply.text("That only works in a channel. " + CHANNEL_HELP)
    try:
        request = parse_channel_command(text)
        user = await people.get_or_create_user(
            sessions,
            chat.platform,
            chat.workspace,
            chat.chat_id,
            kind="channel",
            display_name=display_name,
            timezone=timezone_hint,
        )
        if request.stop:
            await people.pause(sessions, user.id)
            return Reply.text(
                "This channel's team brief is stopped. `channel daily HH:MM` restarts it."
            )
        return await _subscribe(sessions, user, request)
    except people.PeopleError as exc:
        return Reply.text(str(exc))


async def _subscribe(sessions: Sessions, user: User, request: ChannelRequest) -> Reply:
    await people.set_days(sessions, user.id, request.days)
    time = request.time or user.delivery_time
    await people.set_delivery_time(sessions, user.id, time)
    followed = [await people.follow_topic(sessions, user.id, topic) for topic in request.topics]
    await people.resume(sessions, user.id)
    about = f" about {', '.join(followed)}" if followed else ""
    when = "every weekday" if request.days == "weekdays" else "every day"
    return Reply.text(
        f"This channel now gets a team brief {when} at {time} ({user.timezone}){about}."
    )
