"""A recipient's settings as a settings screen shows them: delivery, topics, shows.

The chat's "topics" and "shows" replies and Slack's App Home read the same view, so every
surface shows the same preferences (and no adapter queries the tables itself)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.db import Sessions
from core.models import Feed, InsightTopic, ShowSubscription, TopicPreference, User

KNOWN_TOPICS_MAX = 60


@dataclass(frozen=True, slots=True)
class SettingsView:
    timezone: str
    delivery_time: str
    delivery_days: str
    paused: bool
    followed: tuple[str, ...]  # topics, sorted
    muted: tuple[str, ...]
    subscribed: frozenset[int]  # feed ids
    inactive_reason: str | None  # None while deliveries reach the recipient
    known_topics: tuple[str, ...]  # tags insights carry, what there is to choose from
    shows: tuple[tuple[int, str], ...]  # (feed id, title) of every show, by title


async def settings_view(
    sessions: Sessions, user: User, *, known_topics_max: int = KNOWN_TOPICS_MAX
) -> SettingsView:
    prefs = await topic_preferences(sessions, user.id)
    async with sessions() as session:
        known = await session.scalars(
            select(InsightTopic.topic)
            .distinct()
            .order_by(InsightTopic.topic)
            .limit(known_topics_max)
        )
        known_topics = tuple(known)
        shows = (await session.execute(select(Feed.id, Feed.title).order_by(Feed.title))).all()
    return SettingsView(
        timezone=user.timezone,
        delivery_time=user.delivery_time,
        delivery_days=user.delivery_days,
        paused=user.paused,
        followed=tuple(prefs["follow"]),
        muted=tuple(prefs["mute"]),
        subscribed=frozenset(await subscribed_feeds(sessions, user.id)),
        inactive_reason=None if user.active else (user.inactive_reason or "inactive"),
        known_topics=known_topics,
        shows=tuple((fid, title or f"Show {fid}") for fid, title in shows),
    )


async def topic_preferences(sessions: Sessions, user_id: int) -> dict[str, list[str]]:
    """Followed ("follow") and muted ("mute") topics, each sorted."""
    stmt = select(TopicPreference.topic, TopicPreference.mode).where(
        TopicPreference.user_id == user_id
    )
    out: dict[str, list[str]] = {"follow": [], "mute": []}
    async with sessions() as session:
        for topic, mode in (await session.execute(stmt)).all():
            out.setdefault(mode, []).append(topic)
    return {mode: sorted(topics) for mode, topics in out.items()}


async def subscribed_feeds(sessions: Sessions, user_id: int) -> set[int]:
    stmt = select(ShowSubscription.feed_id).where(ShowSubscription.user_id == user_id)
    async with sessions() as session:
        return {row[0] for row in (await session.execute(stmt)).all()}
