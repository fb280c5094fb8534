"""Which of a brief's insights still exist, checked where the brief is stored.

Brief items have no foreign key to their insight (migration 0013): on PostgreSQL its check
locked the same few top insights once per stored item, from every worker at once. Storing
briefs calls ``live_insights`` in its transaction instead: each distinct insight is looked up
once and, on PostgreSQL, held ``FOR KEY SHARE`` (the foreign key's lock) until the commit, so
removing a feed either waits for the briefs being stored and then deletes their items with
its insights (``core.feeds.service.remove_feed``), or is seen to have removed them first. On
SQLite the caller already holds the single writer lock.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import chunks, one_of
from core.models import Insight


async def live_insights(session: AsyncSession, ids: Collection[int]) -> set[int]:
    """The ids among ``ids`` whose insight exists, kept from deletion until the commit."""
    postgres = session.get_bind().dialect.name == "postgresql"
    found: set[int] = set()
    for part in chunks(sorted(set(ids))):
        stmt = select(Insight.id).where(one_of(session, Insight.id, part))
        if postgres:
            stmt = stmt.with_for_update(key_share=True)
        found.update(await session.scalars(stmt))
    return found
