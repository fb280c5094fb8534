"""`kill -9` of a real `podbrief run --role worker` in the middle of sending a brief, then
`podbrief run` again: every brief reaches its chat exactly once, message by message, and the
deliveries table says sent once per recipient. SQLite and PostgreSQL.

The fake Bot API holds the third sendMessage open, so the process is caught deterministically
with two messages of the first brief out, one request in flight and one brief not started.
The held request is never carried out (the bot died before Telegram acted on it); a request
that Telegram carried out but whose answer was lost with the process is the one message that
can arrive twice (see README, "Hostile input, faults and load"). The dead worker's claims free
up after the lease (10 minutes): that time passing is the one thing the test does besides the
restart (the claims' clock moves back by a lease)."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from core.db import create_engine, session_factory, transaction
from core.models import Delivery
from tests.cli_process import clean_env
from tests.fakes.telegram_api import TelegramApiEmulator
from tests.faults.killing import RUN, delivery_statuses, kill_when, seed_due_briefs, start
from tests.http_server import serve

LEASE_MINUTES = 10  # the default: a dead worker's claims free up after it


async def _let_the_lease_run_out(db_url: str) -> None:
    """Time passing for the dead worker's claims (the clock is the far side): their claim
    time moves back by one lease, as if the restart came ten minutes later."""
    engine = create_engine(db_url)
    try:
        async with transaction(session_factory(engine)) as session:
            claimed = (await session.scalars(
                select(Delivery).where(Delivery.status == "claimed"))).all()  # fmt: skip
            for delivery in claimed:
                assert delivery.claimed_at is not None
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery.id)
                    .values(claimed_at=delivery.claimed_at - timedelta(minutes=LEASE_MINUTES))
                )
    finally:
        await engine.dispose()


async def test_run_killed_mid_brief_is_resumed_and_nothing_arrives_twice(
    tmp_path: Path, db_url: str
) -> None:
    await seed_due_briefs(db_url, [9100, 9101])
    api = TelegramApiEmulator()
    api.private_chat(9100)
    api.private_chat(9101, "Bo")
    api.hold("sendMessage", after=2)
    async with serve(api.app()) as url:
        env = clean_env(
            tmp_path,
            PODBRIEF_DATABASE_URL=db_url,
            PODBRIEF_TELEGRAM_TOKEN=api.token,
            PODBRIEF_TELEGRAM_BASE_URL=api.base_url(url),
            PODBRIEF_DELIVERY_CONCURRENCY="1",  # one brief at a time: 9101's waits behind
        )
        first = await start(env, *RUN)
        await kill_when(first, api.wait_for(lambda: api.held == 1, within=120))
        api.let_go()
        assert [len(api.messages_to(c)) for c in (9100, 9101)] == [2, 0]
        # both held by the dead worker
        assert set((await delivery_statuses(db_url)).values()) == {"claimed"}

        await _let_the_lease_run_out(db_url)
        second = await start(env, *RUN)
        try:
            await api.wait_for(
                lambda: (
                    len(api.messages_to(9100)) > 2
                    and len(api.messages_to(9101)) == len(api.messages_to(9100))
                ),
                within=120,
            )
        finally:
            second.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                output, _ = await second.communicate()
            await api.close()
    assert second.returncode == 0, output.decode()
    for chat in (9100, 9101):
        texts = [m.visible_text for m in api.messages_to(chat)]
        assert len(texts) >= 6, texts  # a heading and five cards at least
        assert Counter(texts).most_common(1)[0][1] == 1, texts  # none twice
        assert sum("Insight number" in text for text in texts) >= 5
    resumed = [m.visible_text for m in api.messages_to(9100)]
    fresh = [m.visible_text for m in api.messages_to(9101)]
    assert len(fresh) == len(resumed)  # the resumed brief is as long as one sent whole
    assert await delivery_statuses(db_url) == {"9100": "sent", "9101": "sent"}
