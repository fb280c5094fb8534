"""A recipient's recent briefs and their items: what the Atom feed shows (the web adapter
turns the items into cards)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from core.db import Sessions
from core.models import Brief, BriefItem

FEED_BRIEFS = 20


@dataclass(frozen=True, slots=True)
class FeedBrief:
    brief_id: int
    local_date: date
    created_at: datetime
    items: tuple[BriefItem, ...]  # in position order


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
    return [
        FeedBrief(brief.id, brief.local_date, brief.created_at, tuple(by_brief[brief.id]))
        for brief in briefs
        if by_brief.get(brief.id)
    ]
