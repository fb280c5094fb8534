"""Composing, storing and reading back a user's brief: the top 5 for their local day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.brief.live import live_insights
from core.brief.load import RANKING_COLUMNS
from core.brief.profile import load_profile
from core.brief.rank import CandidateRow, Candidates, Ranker
from core.db import Query, Sessions, inline_reads, transaction
from core.models import Brief, BriefItem, Episode, Feed, Insight, InsightTopic, User
from core.people.users import UserProfile
from core.ports import Clock
from core.topics.match import topic_key
from core.topics.normalise import normalise_topic

BRIEF_SIZE = 5
FIRST_BRIEF_WINDOW = timedelta(hours=48)  # "new" for someone who never had a brief
NEW_POOL = 3000  # newest candidates considered
OLDER_POOL = 300  # best-scored backlog candidates considered for the fill


@dataclass(frozen=True, slots=True)
class BriefEntry:
    """One numbered item of a brief with what a reply needs to show and cite it."""

    position: int
    is_older: bool
    insight_id: int
    headline: str
    body: str
    quote: str
    speaker: str | None
    start_seconds: float
    end_seconds: float | None
    topics: list[str]
    score: float
    created_at: datetime
    episode_id: int
    episode_title: str
    episode_link: str | None
    episode_published_at: datetime | None
    enclosure_url: str | None
    feed_id: int
    show_title: str | None
    show_link: str | None


@dataclass(frozen=True, slots=True)
class BriefResult:
    brief_id: int | None  # None when there was nothing to send (nothing is stored then)
    user_id: int
    local_date: date
    kind: str
    created_at: datetime | None
    items: list[BriefEntry]
    reused: bool = False  # today's brief already existed and is returned unchanged

    @property
    def new_count(self) -> int:
        return sum(1 for item in self.items if not item.is_older)

    @property
    def older_count(self) -> int:
        return sum(1 for item in self.items if item.is_older)


def local_date_for(timezone: str, now: datetime) -> date:
    """The user's calendar date at ``now``: briefs are per local day."""
    return now.astimezone(ZoneInfo(timezone)).date()


async def compose_brief(
    sessions: Sessions, user_id: int, clock: Clock, *, kind: str = "on_demand"
) -> BriefResult:
    """Today's brief for the user's local date: the stored one if it exists, else a new one."""
    now = clock.now()
    known_date, stored = await _stored_today(sessions, user_id, now)
    if stored is not None:
        return stored
    # Today's brief was not there a moment ago (checked again under the lock below).
    async with sessions() as session:
        profile = await load_profile(session, user_id)  # no such user: a plain-words error
        rows = await _candidate_rows(session, profile, now)
    local_date = known_date or local_date_for(profile.timezone, now)
    chosen = _choose(rows, profile, now)
    if not chosen:
        return BriefResult(None, user_id, local_date, kind, None, [])
    try:
        async with transaction(sessions) as session:
            await _lock_user(session, user_id)
            # Another compose may have stored today's brief while this one was ranking.
            existing = await _brief_on(session, user_id, local_date)
            if existing is not None:
                return await _result(session, existing, reused=True)
            brief = await _store(session, user_id, local_date, kind, now, chosen)
    except IntegrityError:
        # A concurrent compose for the same user won the race: theirs is today's brief.
        async with sessions() as session:
            existing = await _brief_on(session, user_id, local_date)
            if existing is None:
                raise
            return await _result(session, existing, reused=True)
    # Read back inline (no session, no ORM objects), as an already composed brief is.
    items = await _entries_of(sessions, brief.id)
    return BriefResult(brief.id, user_id, local_date, kind, brief.created_at, items)


async def _stored_today(
    sessions: Sessions, user_id: int, now: datetime
) -> tuple[date | None, BriefResult | None]:
    """The user's local date (None: no such user) and today's brief if already composed
    (most asks for one): inline reads, no session."""
    reads = inline_reads(sessions)
    timezone = await reads.scalars(_timezone_query, {"user_id": user_id})
    if not timezone:
        return None, None  # no such user: the full path says so
    local_date = local_date_for(timezone[0], now)
    found = await reads.rows(_brief_on_query, {"user_id": user_id, "local_date": local_date})
    if not found:
        return local_date, None
    brief_id, kind, created_at = found[0]
    items = await _entries_of(sessions, brief_id)
    result = BriefResult(brief_id, user_id, local_date, kind, created_at, items, reused=True)
    return local_date, result


async def _entries_of(sessions: Sessions, brief_id: int) -> list[BriefEntry]:
    rows = await inline_reads(sessions).rows(_entries_columns_query, {"brief_id": brief_id})
    return [_entry_from_columns(row) for row in rows]


def _timezone_query() -> Query:
    return select(User.timezone).where(User.id == bindparam("user_id"))


def _brief_on_query() -> Query:
    return (
        select(Brief.id, Brief.kind, Brief.created_at)
        .where(Brief.user_id == bindparam("user_id"), Brief.local_date == bindparam("local_date"))
        .order_by(Brief.id)
        .limit(1)
    )


def _entries_columns_query() -> Query:
    """What ``brief_entry`` takes from the four rows, in ``BriefEntry``'s field order."""
    return (
        select(
            BriefItem.position,
            BriefItem.is_older,
            Insight.id,
            Insight.headline,
            Insight.body,
            Insight.quote,
            Insight.speaker,
            Insight.start_seconds,
            Insight.end_seconds,
            Insight.topics,
            Insight.score,
            Insight.created_at,
            Episode.id,
            Episode.title,
            Episode.link,
            Episode.published_at,
            Episode.enclosure_url,
            Feed.id,
            Feed.title,
            Feed.link,
        )
        .join(Insight, Insight.id == BriefItem.insight_id)
        .join(Episode, Episode.id == Insight.episode_id)
        .join(Feed, Feed.id == Insight.feed_id)
        .where(BriefItem.brief_id == bindparam("brief_id"))
        .order_by(BriefItem.position)
    )


def _entry_from_columns(row: Sequence[Any]) -> BriefEntry:
    values = list(row)
    values[9] = list(values[9] or [])  # topics
    return BriefEntry(*values)


async def _lock_user(session: AsyncSession, user_id: int) -> None:
    """Serialise composes for one user: a no-op UPDATE row-locks on PostgreSQL and takes the
    write lock first on SQLite (so the reads after it see the latest commit)."""
    await session.execute(
        update(User).where(User.id == user_id).values(paused=User.paused),
        execution_options={"synchronize_session": False},
    )


async def _store(
    session: AsyncSession,
    user_id: int,
    local_date: date,
    kind: str,
    now: datetime,
    chosen: list[CandidateRow],
) -> Brief:
    brief = Brief(user_id=user_id, local_date=local_date, kind=kind, created_at=now)
    session.add(brief)
    await session.flush()
    live = await live_insights(session, [row.id for row in chosen])  # not deleted meanwhile
    session.add_all(
        BriefItem(
            brief_id=brief.id,
            position=position,
            user_id=user_id,
            insight_id=row.id,
            is_older=row.is_older,
        )
        for position, row in enumerate(chosen, start=1)
        if row.id in live
    )
    return brief


def _choose(rows: list[CandidateRow], profile: UserProfile, now: datetime) -> list[CandidateRow]:
    if not rows:
        return []
    picks = Ranker(Candidates.build(rows), now).pick(profile, BRIEF_SIZE)
    return [rows[i] for i in picks]


async def _brief_on(session: AsyncSession, user_id: int, local_date: date) -> Brief | None:
    stmt = (
        select(Brief)
        .where(Brief.user_id == user_id, Brief.local_date == local_date)
        .order_by(Brief.id)
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def _candidate_rows(
    session: AsyncSession, profile: UserProfile, now: datetime
) -> list[CandidateRow]:
    """New insights since the last brief (48 h for a first one), then the best older unseen."""
    last = await session.scalar(
        select(Brief.created_at)
        .where(Brief.user_id == profile.user_id)
        .order_by(Brief.created_at.desc())
        .limit(1)
    )
    since = last if last is not None else now - FIRST_BRIEF_WINDOW
    new = _unseen(profile).where(Insight.created_at > since, Insight.created_at <= now)
    new = new.order_by(Insight.created_at.desc(), Insight.id.desc()).limit(NEW_POOL)
    older = _unseen(profile).where(Insight.created_at <= since)
    older = older.order_by(Insight.score.desc(), Insight.id.desc()).limit(OLDER_POOL)
    rows = [_row(*found, is_older=False) for found in (await session.execute(new)).all()]
    rows += [_row(*found, is_older=True) for found in (await session.execute(older)).all()]
    return rows


def _unseen(profile: UserProfile) -> Query:
    """Insights never sent to this user and not tagged with a topic they muted."""
    received = exists().where(
        BriefItem.user_id == profile.user_id, BriefItem.insight_id == Insight.id
    )
    # Only what the ranking reads: up to NEW_POOL + OLDER_POOL rows per first brief of the day.
    stmt = select(*RANKING_COLUMNS).where(~received)
    if profile.muted_topics:
        plurals = {f"{topic}s" for topic in profile.muted_topics}
        muted = exists().where(
            InsightTopic.insight_id == Insight.id,
            # Keys are singular-ish; stored tags may be the plural (the ranking checks keys too).
            InsightTopic.topic.in_(sorted(profile.muted_topics | plurals)),
        )
        stmt = stmt.where(~muted)
    return stmt


def _row(
    insight_id: int,
    episode_id: int,
    feed_id: int,
    score: float,
    created_at: datetime,
    topics: list[str] | None,
    group_id: int | None,
    *,
    is_older: bool,
) -> CandidateRow:
    return CandidateRow(
        id=insight_id,
        episode_id=episode_id,
        feed_id=feed_id,
        score=score,
        created_at=created_at,
        topics=tuple(_topic_key(t) for t in topics or ()),
        group_id=group_id,
        is_older=is_older,
    )


@lru_cache(maxsize=4096)
def _topic_key(topic: str) -> str:
    """The ranking's key of a stored tag (the same few hundred tags come up in every brief)."""
    return topic_key(normalise_topic(topic))


def entries_query() -> Select[BriefItem, Insight, Episode, Feed]:
    return (
        select(BriefItem, Insight, Episode, Feed)
        .join(Insight, Insight.id == BriefItem.insight_id)
        .join(Episode, Episode.id == Insight.episode_id)
        .join(Feed, Feed.id == Insight.feed_id)
        .order_by(BriefItem.position)
    )


def brief_entry(item: BriefItem, insight: Insight, episode: Episode, feed: Feed) -> BriefEntry:
    return BriefEntry(
        position=item.position,
        is_older=item.is_older,
        insight_id=insight.id,
        headline=insight.headline,
        body=insight.body,
        quote=insight.quote,
        speaker=insight.speaker,
        start_seconds=insight.start_seconds,
        end_seconds=insight.end_seconds,
        topics=list(insight.topics or []),
        score=insight.score,
        created_at=insight.created_at,
        episode_id=episode.id,
        episode_title=episode.title,
        episode_link=episode.link,
        episode_published_at=episode.published_at,
        enclosure_url=episode.enclosure_url,
        feed_id=feed.id,
        show_title=feed.title,
        show_link=feed.link,
    )


async def _result(session: AsyncSession, brief: Brief, *, reused: bool) -> BriefResult:
    rows = (await session.execute(entries_query().where(BriefItem.brief_id == brief.id))).all()
    return BriefResult(
        brief_id=brief.id,
        user_id=brief.user_id,
        local_date=brief.local_date,
        kind=brief.kind,
        created_at=brief.created_at,
        items=[brief_entry(row[0], row[1], row[2], row[3]) for row in rows],
        reused=reused,
    )


async def load_brief(sessions: Sessions, brief_id: int) -> BriefResult | None:
    async with sessions() as session:
        brief = await session.get(Brief, brief_id)
        return None if brief is None else await _result(session, brief, reused=True)


async def latest_brief(sessions: Sessions, user_id: int) -> BriefResult | None:
    """The user's most recent brief, whatever its day (what "#3" means without context)."""
    async with sessions() as session:
        brief = (
            await session.scalars(
                select(Brief).where(Brief.user_id == user_id).order_by(Brief.id.desc()).limit(1)
            )
        ).first()
        return None if brief is None else await _result(session, brief, reused=True)


async def brief_item(sessions: Sessions, brief_id: int, position: int) -> BriefEntry | None:
    """Item "#position" of a brief, or None if the brief has no such item."""
    async with sessions() as session:
        stmt = entries_query().where(BriefItem.brief_id == brief_id, BriefItem.position == position)
        row = (await session.execute(stmt)).first()
    return None if row is None else brief_entry(row[0], row[1], row[2], row[3])
