"""Bulk reads for composing many briefs at once: the shared candidate pool and every
profile of a batch in a handful of queries (``core.brief.profile.load_profile`` reads one)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.brief.profile import FeedbackRow, liked_ids, profile_from
from core.db import CHUNK, id_chunks, one_of
from core.models import (
    BriefItem,
    Feedback,
    Insight,
    RelatedEdge,
    ShowSubscription,
    TopicPreference,
)
from core.people.users import UserProfile
from core.topics.match import topic_key
from core.topics.normalise import normalise_topic

# What the ranking reads of an insight (a ``PoolRow``/``CandidateRow``), in this order: a pool
# of thousands of rows is read as these columns, never as ORM objects.
RANKING_COLUMNS = (
    Insight.id,
    Insight.episode_id,
    Insight.feed_id,
    Insight.score,
    Insight.created_at,
    Insight.topics,
    Insight.group_id,
)


@dataclass(frozen=True, slots=True)
class PoolRow:
    """One candidate insight as every user of the batch sees it."""

    id: int
    episode_id: int
    feed_id: int
    score: float
    created_at: datetime
    tags: tuple[str, ...]  # normalised tags, as stored (what a mute matches in SQL)
    keys: tuple[str, ...]  # matching keys, as ranking compares them
    group_id: int | None

    @property
    def group(self) -> int:
        return self.group_id if self.group_id is not None else self.id


async def load_pool(
    session: AsyncSession,
    *,
    newest_after: datetime,
    older_until: datetime,
    now: datetime,
    new_limit: int,
    older_limit: int,
) -> list[PoolRow]:
    """Insights created after ``newest_after`` (newest first) and the best-scored ones
    created up to ``older_until``, each once."""
    columns = RANKING_COLUMNS
    new = (
        select(*columns)
        .where(Insight.created_at > newest_after, Insight.created_at <= now)
        .order_by(Insight.created_at.desc(), Insight.id.desc())
        .limit(new_limit)
    )
    older = (
        select(*columns)
        .where(Insight.created_at <= older_until)
        .order_by(Insight.score.desc(), Insight.id.desc())
        .limit(older_limit)
    )
    rows: dict[int, PoolRow] = {}
    # Every batch reads the pool afresh; its rows share a few hundred topics, each made
    # into a tag and a key once here.
    tag_key: dict[str, tuple[str, str]] = {}
    for stmt in (new, older):
        for iid, episode, feed, score, created, topics, group in await core_rows(session, stmt):
            pairs = [tag_key.get(t) or tag_key.setdefault(t, _tag_and_key(t)) for t in topics or ()]
            tags = tuple(tag for tag, _ in pairs)
            keys = tuple(key for _, key in pairs)
            rows[iid] = PoolRow(iid, episode, feed, score, created, tags, keys, group)
    return list(rows.values())


def _tag_and_key(topic: str) -> tuple[str, str]:
    tag = normalise_topic(topic)
    return tag, topic_key(tag)


async def load_profiles(
    session: AsyncSession,
    timezones: dict[int, str],
    candidate_groups: Collection[int],
) -> Callable[[], dict[int, UserProfile]]:
    """Read every user's profile, with what they received limited to what can matter for
    these candidates: insights of the candidates' near-duplicate groups (ids included).
    Returns the function that assembles them: CPU work a caller may run off the event loop."""
    ids = sorted(timezones)
    prefs: dict[int, list[tuple[str, str]]] = defaultdict(list)
    feeds: dict[int, set[int]] = defaultdict(set)
    feedback: dict[int, list[FeedbackRow]] = defaultdict(list)
    received: dict[int, list[tuple[int, int]]] = defaultdict(list)
    groups = sorted(set(candidate_groups))
    for part in id_chunks(session, ids):
        stmt = select(TopicPreference.user_id, TopicPreference.topic, TopicPreference.mode)
        for uid, tag, mode in await core_rows(
            session, stmt.where(one_of(session, TopicPreference.user_id, part))
        ):
            prefs[uid].append((tag, mode))
        subs = select(ShowSubscription.user_id, ShowSubscription.feed_id)
        for uid, feed in await core_rows(
            session, subs.where(one_of(session, ShowSubscription.user_id, part))
        ):
            feeds[uid].add(feed)
        fb = (
            select(
                Feedback.user_id, Feedback.kind, Feedback.topic, Feedback.insight_id, Insight.topics
            )
            .outerjoin(Insight, Insight.id == Feedback.insight_id)
            .where(one_of(session, Feedback.user_id, part))
        )
        for uid, kind, topic, iid, topics in await core_rows(session, fb):
            feedback[uid].append((kind, topic, iid, topics))
        for group_part in id_chunks(session, groups, 5 * CHUNK):
            group_of = func.coalesce(Insight.group_id, Insight.id)
            got = (
                select(BriefItem.user_id, BriefItem.insight_id, group_of)
                .join(Insight, Insight.id == BriefItem.insight_id)
                .where(
                    one_of(session, BriefItem.user_id, part), one_of(session, group_of, group_part)
                )
            )
            for uid, iid, group in await core_rows(session, got):
                received[uid].append((iid, group))
    liked_by_user = {uid: liked_ids(rows) for uid, rows in feedback.items()}
    edges = await _edges(session, set().union(*liked_by_user.values()) if liked_by_user else set())

    def assemble() -> dict[int, UserProfile]:
        return {
            uid: profile_from(
                uid, timezones[uid], prefs[uid], feeds[uid], feedback[uid], received[uid], edges
            )
            for uid in ids
        }

    return assemble


async def _edges(session: AsyncSession, liked: set[int]) -> dict[int, list[tuple[int, float]]]:
    found: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for part in id_chunks(session, sorted(liked)):
        stmt = select(RelatedEdge.insight_id, RelatedEdge.related_id, RelatedEdge.score).where(
            one_of(session, RelatedEdge.insight_id, part)
        )
        for iid, rid, score in await core_rows(session, stmt):
            found[iid].append((int(rid), float(score)))
    return found


async def core_rows(session: AsyncSession, stmt: Executable) -> Sequence[Row[*tuple[Any, ...]]]:
    """A plain column select run on the session's connection: Core rows, fetched at once,
    without the ORM result machinery a session's ``execute`` puts around every statement."""
    return (await (await session.connection()).execute(stmt)).all()
