"""Reads a user's preferences, feedback and history into a ``UserProfile`` for ranking.

Topics in the profile are matching keys (``core.topics.match.topic_key``), as are the
candidates'. ``profile_from`` is the one rule that turns the stored rows into a profile: the
single read here and the batch read (``core.brief.load``) both go through it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import (
    BriefItem,
    Feedback,
    Insight,
    RelatedEdge,
    ShowSubscription,
    TopicPreference,
    User,
)
from core.people.users import PeopleError, UserProfile
from core.topics.match import topic_key
from core.topics.normalise import normalise_topic

LIKE_KINDS = ("up", "more_like")
FeedbackRow = tuple[str, str | None, int | None, list[str] | None]  # kind, topic, insight, tags
Edges = Mapping[int, Sequence[tuple[int, float]]]  # liked insight -> (related insight, score)


async def load_profile(session: AsyncSession, user_id: int) -> UserProfile:
    user = await session.get(User, user_id)
    if user is None:
        raise PeopleError(f"there is no user {user_id}")
    prefs = (
        await session.execute(
            select(TopicPreference.topic, TopicPreference.mode).where(
                TopicPreference.user_id == user_id
            )
        )
    ).all()
    feeds = (
        await session.scalars(
            select(ShowSubscription.feed_id).where(ShowSubscription.user_id == user_id)
        )
    ).all()
    feedback: list[FeedbackRow] = [
        (kind, topic, iid, topics)
        for kind, topic, iid, topics in await session.execute(
            select(Feedback.kind, Feedback.topic, Feedback.insight_id, Insight.topics)
            .outerjoin(Insight, Insight.id == Feedback.insight_id)
            .where(Feedback.user_id == user_id)
        )
    ]
    received = (
        await session.execute(
            select(BriefItem.insight_id, func.coalesce(Insight.group_id, Insight.id))
            .join(Insight, Insight.id == BriefItem.insight_id)
            .where(BriefItem.user_id == user_id)
        )
    ).all()
    edges = await _edges(session, liked_ids(feedback))
    return profile_from(
        user_id,
        user.timezone,
        [(t, m) for t, m in prefs],
        feeds,
        feedback,
        [(iid, group) for iid, group in received],
        edges,
    )


def liked_ids(feedback: Iterable[FeedbackRow]) -> set[int]:
    """The insights a user liked (👍 or "more like this")."""
    return {iid for kind, _, iid, _ in feedback if kind in LIKE_KINDS and iid is not None}


def profile_from(
    user_id: int,
    timezone: str,
    prefs: Iterable[tuple[str, str]],
    feeds: Iterable[int],
    feedback: Iterable[FeedbackRow],
    received: Iterable[tuple[int, int]],
    edges: Edges,
) -> UserProfile:
    """The profile of stored rows: preferences (topic, mode), followed feeds, feedback, what
    was received (insight, near-duplicate group) and the related edges of liked insights."""
    prefs, feedback, received = list(prefs), list(feedback), list(received)
    liked: Counter[str] = Counter()
    disliked: Counter[str] = Counter()
    less_about: set[str] = set()
    for kind, topic, iid, topics in feedback:
        keys = {topic_key(normalise_topic(t)) for t in topics or ()}
        if kind == "less_about" and topic:
            less_about.add(topic_key(topic))
        elif kind in LIKE_KINDS and iid is not None:
            liked.update(keys)
        elif kind == "down":
            disliked.update(keys)
    return UserProfile(
        user_id=user_id,
        timezone=timezone,
        followed_topics=frozenset(topic_key(t) for t, mode in prefs if mode == "follow"),
        muted_topics=frozenset(topic_key(t) for t, mode in prefs if mode == "mute"),
        less_about_topics=frozenset(less_about),
        followed_feeds=frozenset(feeds),
        liked_topics=dict(liked),
        disliked_topics=dict(disliked),
        similar_to_liked=neighbours(liked_ids(feedback), edges),
        received_ids=frozenset(r[0] for r in received),
        received_groups=frozenset(r[1] for r in received),
    )


def neighbours(liked: set[int], edges: Edges) -> dict[int, float]:
    """Related insights of liked ones (edges come from embeddings), best edge score each."""
    best: dict[int, float] = {}
    for iid in liked:
        for rid, score in edges.get(iid, ()):
            if rid not in liked and score > best.get(rid, float("-inf")):
                best[rid] = score
    return best


async def _edges(session: AsyncSession, liked: set[int]) -> dict[int, list[tuple[int, float]]]:
    found: dict[int, list[tuple[int, float]]] = {}
    if not liked:
        return found
    stmt = select(RelatedEdge.insight_id, RelatedEdge.related_id, RelatedEdge.score).where(
        RelatedEdge.insight_id.in_(sorted(liked))
    )
    for iid, rid, score in await session.execute(stmt):
        found.setdefault(int(iid), []).append((int(rid), float(score)))
    return found
