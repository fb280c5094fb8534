"""Reads a user's preferences, feedback and history into a ``UserProfile`` for ranking.

Topics in the profile are matching keys (``core.topic_match.topic_key``), as are the candidates'.
"""

from __future__ import annotations

from collections import Counter

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
from core.people import PeopleError, UserProfile, normalise_topic
from core.topic_match import topic_key

LIKE_KINDS = ("up", "more_like")


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
    liked, disliked, liked_ids, less_about = await _feedback(session, user_id)
    received = (
        await session.execute(
            select(BriefItem.insight_id, func.coalesce(Insight.group_id, Insight.id))
            .join(Insight, Insight.id == BriefItem.insight_id)
            .where(BriefItem.user_id == user_id)
        )
    ).all()
    return UserProfile(
        user_id=user_id,
        timezone=user.timezone,
        followed_topics=frozenset(topic_key(t) for t, mode in prefs if mode == "follow"),
        muted_topics=frozenset(topic_key(t) for t, mode in prefs if mode == "mute"),
        less_about_topics=less_about,
        followed_feeds=frozenset(feeds),
        liked_topics=dict(liked),
        disliked_topics=dict(disliked),
        similar_to_liked=await _neighbours(session, liked_ids),
        received_ids=frozenset(r[0] for r in received),
        received_groups=frozenset(r[1] for r in received),
    )


async def _feedback(
    session: AsyncSession, user_id: int
) -> tuple[Counter[str], Counter[str], set[int], frozenset[str]]:
    rows = (
        await session.execute(
            select(Feedback.kind, Feedback.topic, Feedback.insight_id, Insight.topics)
            .outerjoin(Insight, Insight.id == Feedback.insight_id)
            .where(Feedback.user_id == user_id)
        )
    ).all()
    liked: Counter[str] = Counter()
    disliked: Counter[str] = Counter()
    liked_ids: set[int] = set()
    less_about: set[str] = set()
    for kind, topic, insight_id, topics in rows:
        keys = {topic_key(normalise_topic(t)) for t in topics or ()}
        if kind == "less_about" and topic:
            less_about.add(topic_key(topic))
        elif kind in LIKE_KINDS and insight_id is not None:
            liked.update(keys)
            liked_ids.add(insight_id)
        elif kind == "down":
            disliked.update(keys)
    return liked, disliked, liked_ids, frozenset(less_about)


async def _neighbours(session: AsyncSession, liked_ids: set[int]) -> dict[int, float]:
    """Related insights of liked ones (edges come from embeddings), best edge score each."""
    if not liked_ids:
        return {}
    rows = (
        await session.execute(
            select(RelatedEdge.related_id, func.max(RelatedEdge.score))
            .where(RelatedEdge.insight_id.in_(sorted(liked_ids)))
            .group_by(RelatedEdge.related_id)
        )
    ).all()
    return {int(rid): float(score) for rid, score in rows if rid not in liked_ids}
