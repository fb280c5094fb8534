"""Taking a batch (``core.delivery.take``): claiming with the recipients read, on SQLite and
PostgreSQL (where it is one statement of its own; SQLite claims with ``claim_batch``)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.db import Sessions, transaction
from core.delivery.claim import claim_batch, plan_due
from core.delivery.take import take_batch
from core.delivery.types import Claimed, Recipient
from core.models import Delivery, User
from tests.integration.test_delivery import START, add_recipient

LEASE, GRACE = timedelta(minutes=10), timedelta(hours=3)
NOW = START + timedelta(hours=1)


async def take(
    sessions: Sessions, worker: str, at: datetime = NOW, limit: int = 10
) -> list[tuple[Claimed, Recipient]]:
    return await take_batch(sessions, worker, at, lease=LEASE, limit=limit, platforms=["telegram"])


async def holders(sessions: Sessions) -> dict[int, str | None]:
    async with sessions() as session:
        rows = await session.execute(select(Delivery.id, Delivery.claimed_by))
        return {did: by for did, by in rows}


async def test_takes_up_to_the_limit_and_respects_the_lease(sessions: Sessions) -> None:
    for i in range(5):
        await add_recipient(sessions, str(100 + i))
    assert (await plan_due(sessions, NOW, ["telegram"], GRACE)).queued == 5
    first, second = await take(sessions, "a", limit=2), await take(sessions, "b")
    ids = lambda taken: [claimed.id for claimed, _ in taken]  # noqa: E731
    assert len(first) == 2 and len(second) == 3 and not set(ids(first)) & set(ids(second))
    held = await holders(sessions)
    assert all(held[i] == "a" for i in ids(first)) and all(held[i] == "b" for i in ids(second))
    assert await take(sessions, "c") == []  # every row is held
    later = NOW + LEASE + timedelta(seconds=1)  # the leases ran out
    assert sorted(ids(await take(sessions, "c", later))) == sorted(ids(first) + ids(second))


async def test_dead_workers_rows_come_first_then_the_earliest_due(sessions: Sessions) -> None:
    """On PostgreSQL the dead workers' rows are locked first; SQLite's claim takes the earliest due
    of both kinds, so there the dead worker's row waits its turn."""
    late = await add_recipient(sessions, "100", at="08:00")  # Berlin: 07:00 UTC
    early = await add_recipient(sessions, "200", at="07:00")  # 06:00 UTC
    middle = await add_recipient(sessions, "300", at="07:30")
    assert (await plan_due(sessions, NOW, ["telegram"], GRACE)).queued == 3
    async with transaction(sessions) as session:  # a worker that died holding the latest
        await session.execute(
            update(Delivery)
            .where(Delivery.user_id == late)
            .values(status="claimed", claimed_by="dead", claimed_at=NOW - 2 * LEASE)
        )
    taken = [claimed.user_id for claimed, _ in await take(sessions, "w", limit=2)]
    rest = [claimed.user_id for claimed, _ in await take(sessions, "w")]
    if sessions.kw["bind"].dialect.name == "postgresql":
        assert (taken, rest) == ([early, late], [middle])  # answered in due order
    else:
        assert (taken, rest) == ([early, middle], [late])


async def test_answers_each_row_with_its_recipient(sessions: Sessions) -> None:
    person = await add_recipient(sessions, "100", timezone="Asia/Kolkata", at="11:30")
    group = await add_recipient(sessions, "-200", kind="group")
    async with transaction(sessions) as session:
        user = await session.get(User, group)
        assert user is not None
        user.settings = {"compact": True}
    assert (await plan_due(sessions, NOW, ["telegram"], GRACE)).queued == 2
    taken = await take(sessions, "w")
    assert sorted(claimed.user_id for claimed, _ in taken) == sorted([person, group])
    for claimed, user in taken:
        assert claimed.user_id == user.id and claimed.attempts == 0
        assert user.platform == "telegram" and user.workspace == "" and user.active
        assert not user.paused and user.inactive_reason is None
    found = {user.id: user for _, user in taken}
    assert found[person].timezone == "Asia/Kolkata" and found[person].kind == "person"
    assert found[person].external_id == "100" and not found[person].settings
    assert found[group].settings == {"compact": True} and found[group].kind == "group"


async def test_workers_taking_at_once_never_share_a_row(sessions: Sessions) -> None:
    for i in range(40):
        await add_recipient(sessions, str(100 + i))
    assert (await plan_due(sessions, NOW, ["telegram"], GRACE)).queued == 40

    async def drain(worker: str) -> list[int]:
        mine: list[int] = []
        while taken := await take(sessions, worker, limit=3):
            mine += [claimed.id for claimed, _ in taken]
        return mine

    parts = await asyncio.gather(*(drain(f"w{n}") for n in range(4)))
    every = [did for part in parts for did in part]
    assert len(every) == 40 and len(set(every)) == 40
    held = await holders(sessions)
    assert all(held[did] == f"w{n}" for n, part in enumerate(parts) for did in part)


async def test_sqlites_claim_is_refused_on_postgresql(sessions: Sessions) -> None:
    """``claim_batch`` is one UPDATE … IN (subquery), atomic only under SQLite's one writer: on
    PostgreSQL the subquery may run twice and claim more than the limit."""
    await add_recipient(sessions, "100")
    assert (await plan_due(sessions, NOW, ["telegram"], GRACE)).queued == 1
    claim = claim_batch(sessions, "a", NOW, lease=LEASE, limit=1, platforms=["telegram"])
    if sessions.kw["bind"].dialect.name == "sqlite":
        assert len(await claim) == 1
    else:
        with pytest.raises(ValueError, match="take_batch claims on PostgreSQL"):
            await claim
