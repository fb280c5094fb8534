"""People (recipients) and their preferences: timezone, delivery, topics, shows, feedback."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Integer, Select, String, and_, bindparam, delete, exists, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import UpdateBase

from core.db import (
    Sessions,
    detached_from_row,
    inline_reads,
    mapped_columns,
    single_writes,
    transaction,
)
from core.models import (
    Brief,
    BriefFeed,
    BriefItem,
    ChatContext,
    EmailSubscription,
    Feed,
    Feedback,
    Insight,
    ShowSubscription,
    TopicPreference,
    User,
)
from core.models.base import utcnow
from core.topics.normalise import normalise_topic

FEEDBACK_KINDS = ("up", "down", "more_like", "less_about")
DELIVERY_DAYS = ("daily", "weekdays")
_TIME = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")
_TOPIC_MAX = 100


class PeopleError(ValueError):
    """A preference that cannot be stored as given; the message is for the user."""


def _clean_topic(raw: str) -> str:
    topic = normalise_topic(raw)[:_TOPIC_MAX]
    if not topic:
        raise PeopleError(
            f"{raw!r} is not a topic I can follow: use a word or two, like 'pricing'."
        )
    return topic


async def get_or_create_user(
    sessions: Sessions,
    platform: str,
    workspace: str,
    external_id: str,
    *,
    kind: str = "person",
    display_name: str | None = None,
    timezone: str | None = None,
) -> User:
    """The recipient for (platform, workspace, external_id), created on first contact."""
    if not platform or not external_id:
        raise PeopleError("a user needs a platform and an id on it")
    found = await _find_user(sessions, platform, workspace, external_id)
    if found is not None:
        return found
    tz = validate_timezone(timezone) if timezone else "UTC"
    try:
        async with transaction(sessions) as session:
            user = User(
                platform=platform,
                workspace=workspace,
                external_id=external_id,
                kind=kind,
                display_name=display_name,
                timezone=tz,
            )
            session.add(user)
        return user
    except IntegrityError:
        # Another handler created the same user a moment ago: use theirs.
        again = await _find_user(sessions, platform, workspace, external_id)
        if again is None:
            raise
        return again


def _user_query() -> Select[Any]:
    return select(*mapped_columns(User)).where(
        User.platform == bindparam("platform"),
        User.workspace == bindparam("workspace"),
        User.external_id == bindparam("external_id"),
    )


async def _find_user(
    sessions: Sessions, platform: str, workspace: str, external_id: str
) -> User | None:
    """Every chat turn starts here: an inline read (see ``InlineReads``), not a session."""
    params = {"platform": platform, "workspace": workspace, "external_id": external_id}
    rows = await inline_reads(sessions).rows(_user_query, params)
    return detached_from_row(User, rows[0]) if rows else None


async def get_user(sessions: Sessions, user_id: int) -> User:
    async with sessions() as session:
        user = await session.get(User, user_id)
    if user is None:
        raise PeopleError(f"there is no user {user_id}")
    return user


def validate_timezone(name: str) -> str:
    """The IANA name as given (e.g. "Europe/Berlin"), or a plain-words error."""
    cleaned = name.strip()
    if not cleaned or cleaned.startswith(("/", ".")) or ".." in cleaned:
        raise PeopleError(f"{name!r} is not a time zone; try one like 'Europe/Berlin'.")
    try:
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PeopleError(
            f"I don't know the time zone {name!r}; try one like 'America/New_York'."
        ) from exc
    return cleaned


def validate_delivery_time(value: str) -> str:
    """ "7:30", "07:30", "7.30" or "7h30" -> "07:30"."""
    match = _TIME.match(value)
    if match is None:
        raise PeopleError(f"{value!r} is not a time of day; use HH:MM, like 07:30.")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise PeopleError(f"{value!r} is not a time of day; hours go 0-23 and minutes 0-59.")
    return f"{hour:02d}:{minute:02d}"


async def _update_user(sessions: Sessions, user_id: int, **values: object) -> None:
    async with transaction(sessions) as session:
        user = await session.get(User, user_id)
        if user is None:
            raise PeopleError(f"there is no user {user_id}")
        for name, value in values.items():
            setattr(user, name, value)


async def set_timezone(sessions: Sessions, user_id: int, name: str) -> str:
    tz = validate_timezone(name)
    await _update_user(sessions, user_id, timezone=tz, onboarded=True)
    return tz


async def set_delivery_time(sessions: Sessions, user_id: int, value: str) -> str:
    hhmm = validate_delivery_time(value)
    await _update_user(sessions, user_id, delivery_time=hhmm, onboarded=True)
    return hhmm


async def set_days(sessions: Sessions, user_id: int, days: str) -> str:
    cleaned = days.strip().lower()
    if cleaned not in DELIVERY_DAYS:
        raise PeopleError(f"{days!r} is not a delivery schedule; use 'daily' or 'weekdays'.")
    await _update_user(sessions, user_id, delivery_days=cleaned, onboarded=True)
    return cleaned


async def pause(sessions: Sessions, user_id: int) -> None:
    await _update_user(sessions, user_id, paused=True)


async def resume(sessions: Sessions, user_id: int) -> None:
    # Choosing when or saying resume signs a group chat up for daily briefs too.
    await _update_user(sessions, user_id, paused=False, onboarded=True)


async def _set_topic_mode(sessions: Sessions, user_id: int, raw: str, mode: str) -> str:
    topic = _clean_topic(raw)
    async with transaction(sessions) as session:
        if await session.get(User, user_id) is None:
            raise PeopleError(f"there is no user {user_id}")
        pref = await session.get(TopicPreference, (user_id, topic))
        if pref is None:
            session.add(TopicPreference(user_id=user_id, topic=topic, mode=mode))
        else:
            pref.mode = mode  # following a muted topic un-mutes it, and the other way round
        if mode == "follow":
            await session.execute(
                delete(Feedback).where(
                    Feedback.user_id == user_id,
                    Feedback.kind == "less_about",
                    Feedback.topic == topic,
                )
            )
    return topic


async def follow_topic(sessions: Sessions, user_id: int, topic: str) -> str:
    """Follow a topic; an earlier "less about" it no longer holds."""
    return await _set_topic_mode(sessions, user_id, topic, "follow")


async def mute_topic(sessions: Sessions, user_id: int, topic: str) -> str:
    return await _set_topic_mode(sessions, user_id, topic, "mute")


async def unfollow(sessions: Sessions, user_id: int, raw: str) -> bool:
    """Forget a follow or a mute of a topic; False if there was neither."""
    topic = _clean_topic(raw)
    async with transaction(sessions) as session:
        result = await session.execute(
            delete(TopicPreference).where(
                TopicPreference.user_id == user_id, TopicPreference.topic == topic
            )
        )
    return bool(getattr(result, "rowcount", 0))


async def follow_show(sessions: Sessions, user_id: int, feed_id: int) -> None:
    async with transaction(sessions) as session:
        if await session.get(User, user_id) is None:
            raise PeopleError(f"there is no user {user_id}")
        if await session.get(Feed, feed_id) is None:
            raise PeopleError(f"there is no show {feed_id}; 'shows' lists the ones I know.")
        if await session.get(ShowSubscription, (user_id, feed_id)) is None:
            session.add(ShowSubscription(user_id=user_id, feed_id=feed_id))


async def unfollow_show(sessions: Sessions, user_id: int, feed_id: int) -> bool:
    async with transaction(sessions) as session:
        result = await session.execute(
            delete(ShowSubscription).where(
                ShowSubscription.user_id == user_id, ShowSubscription.feed_id == feed_id
            )
        )
    return bool(getattr(result, "rowcount", 0))


async def record_feedback(
    sessions: Sessions,
    user_id: int,
    kind: str,
    *,
    insight_id: int | None = None,
    topic: str | None = None,
    now: datetime | None = None,
) -> Feedback:
    """👍 / 👎 / "more like this" need an insight; "less about X" needs a topic."""
    if kind not in FEEDBACK_KINDS:
        raise PeopleError(f"unknown feedback {kind!r}; use one of {', '.join(FEEDBACK_KINDS)}.")
    if kind == "less_about":
        if not topic:
            raise PeopleError("'less about' needs a topic, like 'less about crypto'.")
        topic = _clean_topic(topic)
    elif insight_id is None:
        raise PeopleError("that feedback needs an insight, like 'more like #3'.")
    values = {
        "user_id": user_id,
        "insight_id": insight_id,
        "kind": kind,
        "topic": topic,
        "created_at": now or utcnow(),
    }
    # One statement (no session): a 👍 is a chat turn, and as an ORM transaction it cost
    # five round trips on PostgreSQL and SQLite's write lock over several hand-offs.
    if not await single_writes(sessions).execute("feedback", _feedback_insert, values):
        reads = inline_reads(sessions)
        if not await reads.scalars(_user_exists_query, {"user_id": user_id}):
            raise PeopleError(f"there is no user {user_id}")
        raise PeopleError(f"there is no insight {insight_id}")
    return Feedback(**values)


def _feedback_insert() -> UpdateBase:
    """INSERT INTO feedback ... only if the user and the insight (when given) exist."""
    columns = Feedback.__table__.c
    user_id = bindparam("user_id", type_=Integer())
    insight_id = bindparam("insight_id", type_=Integer())
    row = select(
        user_id,
        insight_id,
        bindparam("kind", type_=String()),
        bindparam("topic", type_=String()),
        bindparam("created_at", type_=columns.created_at.type),
    ).where(
        and_(
            exists().where(User.id == user_id),
            or_(insight_id.is_(None), exists().where(Insight.id == insight_id)),
        )
    )
    names = ["user_id", "insight_id", "kind", "topic", "created_at"]
    return insert(Feedback).from_select(names, row)


def _user_exists_query() -> Select[Any]:
    return select(User.id).where(User.id == bindparam("user_id"))


async def forget_user(sessions: Sessions, user_id: int) -> bool:
    """Delete everything about a user: preferences, feedback, briefs, chat context, the user."""
    async with transaction(sessions) as session:
        user = await session.get(User, user_id)
        if user is None:
            return False
        # Explicit deletes, not only ON DELETE CASCADE, so nothing survives on any backend.
        for model in (
            BriefItem, Feedback, TopicPreference, ShowSubscription, BriefFeed, EmailSubscription
        ):  # fmt: skip
            await session.execute(delete(model).where(model.user_id == user_id))
        await session.execute(
            delete(ChatContext).where(
                ChatContext.platform == user.platform,
                ChatContext.workspace == user.workspace,
                ChatContext.chat_id == user.external_id,
            )
        )
        await session.execute(delete(Brief).where(Brief.user_id == user_id))
        await session.delete(user)
    return True


@dataclass(frozen=True, slots=True)
class UserProfile:
    """What ranking needs to know about one user, read in one go."""

    user_id: int
    timezone: str = "UTC"
    followed_topics: frozenset[str] = frozenset()
    muted_topics: frozenset[str] = frozenset()
    less_about_topics: frozenset[str] = frozenset()
    followed_feeds: frozenset[int] = frozenset()
    # Topics of insights the user liked (👍 / more like this), with how often.
    liked_topics: dict[str, int] = field(default_factory=dict)
    disliked_topics: dict[str, int] = field(default_factory=dict)
    # Related-insight neighbours of liked insights, with the edge score (embedding similarity).
    similar_to_liked: dict[int, float] = field(default_factory=dict)
    received_ids: frozenset[int] = frozenset()
    received_groups: frozenset[int] = frozenset()

    @property
    def is_new(self) -> bool:
        return not (self.followed_topics or self.followed_feeds or self.liked_topics)
