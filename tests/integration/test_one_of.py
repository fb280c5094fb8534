"""``one_of``: the rows whose id is in a list, on either backend, whatever the list's length
(on PostgreSQL one ``integer[]`` parameter sent as its text form)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from core.db import Sessions, one_of, transaction
from core.models import User


async def test_one_of_matches_exactly_the_listed_ids(sessions: Sessions) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with transaction(sessions) as session:
        rows = [
            {"platform": "telegram", "workspace": "", "external_id": str(n), "created_at": now}
            for n in range(1200)
        ]
        await session.execute(insert(User), rows)
    async with sessions() as session:
        ids = sorted((await session.scalars(select(User.id))).all())
        for wanted in ([], [ids[0]], ids[::3], ids, [ids[5], -1, 10**9]):
            stmt = select(User.id).where(one_of(session, User.id, wanted))
            found = sorted((await session.scalars(stmt)).all())
            assert found == sorted(set(wanted) & set(ids))
