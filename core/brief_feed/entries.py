"""A recipient's recent briefs with their cards: what the Atom feed shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.chat.cards import cards_for
from core.chat.types import InsightCard
from core.models import Brief, BriefItem

Sessions = async_sessionmaker[AsyncSession]

FEED_BRIEFS = 20


@dataclass(frozen=True, slots=True)
class FeedBrief:
    brief_id: int
    local_date: date
    created_at: datetime
    cards: tuple[InsightCard, ...]


async def recent_briefs(
    sessions: Sessions, user_id: int, limit: int = FEED_BRIEFS
) -> list[FeedBrief]:
    """The recipient's latest briefs that have items, newest first."""
    async with sessions() as session:
        briefs = (
            (
                await session.execute(
                    select(Brief)
                    .where(Brief.user_id == user_id)
                    .order_by(Brief.created_at.desc(), Brief.id.desc())
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
        items = (
            (
                await session.execute(
                    select(BriefItem)
                    .where(BriefItem.brief_id.in_([b.id for b in briefs]))
                    .order_by(BriefItem.brief_id, BriefItem.position)
                )
            )
            .scalars()
            .all()
            if briefs
            else []
        )
    by_brief: dict[int, list[BriefItem]] = {}
    for item in items:
        by_brief.setdefault(item.brief_id, []).append(item)
    found: list[FeedBrief] = []
    for brief in briefs:
        rows = by_brief.get(brief.id, [])
        if not rows:
            continue
        cards = await cards_for(
            sessions,
            [r.insight_id for r in rows],
            positions=[r.position for r in rows],
            older=[r.is_older for r in rows],
        )
        found.append(FeedBrief(brief.id, brief.local_date, brief.created_at, tuple(cards)))
    return found
