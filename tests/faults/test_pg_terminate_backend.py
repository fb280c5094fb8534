"""PostgreSQL drops the connections of two real `podbrief run --role worker` processes while
both are in the middle of a brief (`pg_terminate_backend`, what a server restart does to
them). Each worker finds out on its next use of the database and goes on by itself, without a
restart: every brief arrives whole, no message twice, one `sent` row per recipient.

The fake Bot API holds each worker's next sendMessage open, so both are caught
deterministically with a message in flight; the connections are terminated then, and the held
messages are carried out: the first thing each worker does next is write down the message it
just sent, on a pooled connection the server has closed."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from core.db import create_engine, session_factory
from core.delivery.claim import plan_due
from tests.cli_process import PODBRIEF, clean_env
from tests.conftest import PG_URL
from tests.fakes.telegram_api import TelegramApiEmulator
from tests.faults.killing import delivery_statuses, seed_due_briefs
from tests.http_server import serve

# More chats than one worker claims ahead (with batches of one: the one being sent, one in the
# queue, one being stored, one ranked, one read), so the other worker always has some.
CHATS = list(range(9100, 9108))


def _terminate(application_name: str) -> int:
    """Terminate every connection of the workers (and only theirs: the database is shared),
    waiting up to 10 s for each to be gone, as after a restart."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
            " WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
            (application_name + "%",),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


async def _plan_deliveries(db_url: str) -> None:
    """The due briefs planned before the workers start: otherwise the worker whose first tick
    plans them can claim ahead all there are before the other worker looks."""
    engine = create_engine(db_url)
    try:
        planned = await plan_due(
            session_factory(engine), datetime.now(UTC), ["telegram"], timedelta(hours=3)
        )
        assert planned.queued == len(CHATS)
    finally:
        await engine.dispose()


async def test_two_workers_whose_connections_are_terminated_go_on_and_send_each_brief_once(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    await seed_due_briefs(postgres_schema_url, CHATS)
    await _plan_deliveries(postgres_schema_url)  # so both workers' first tick finds them
    name = f"podbrief-faults-{uuid.uuid4().hex[:8]}"
    api = TelegramApiEmulator()
    for chat in CHATS:
        api.private_chat(chat)
    api.hold("sendMessage", after=3)
    async with serve(api.app()) as url:
        workers = []
        for tag in ("a", "b"):
            env = clean_env(
                tmp_path / tag,
                PODBRIEF_DATABASE_URL=f"{postgres_schema_url}&application_name={name}-{tag}",
                PODBRIEF_TELEGRAM_TOKEN=api.token,
                PODBRIEF_TELEGRAM_BASE_URL=api.base_url(url),
                PODBRIEF_DELIVERY_CONCURRENCY="1",  # one brief at a time each
                PODBRIEF_DELIVERY_BATCH_SIZE="1",  # so neither claims them all
            )
            workers.append(await asyncio.create_subprocess_exec(
                str(PODBRIEF), "run", "--role", "worker", env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT))  # fmt: skip
        outputs: list[str] = []
        stuck, terminated = "", 0
        try:
            await api.wait_for(lambda: api.held == 2, within=120)  # both mid-brief
            terminated = await asyncio.to_thread(_terminate, name)
            api.let_go(carry_out=True)

            def all_whole() -> bool:
                counts = {len(api.messages_to(chat)) for chat in CHATS}
                return len(counts) == 1 and counts.pop() >= 6

            await api.wait_for(all_whole, within=120)
        except TimeoutError:
            stuck = f"held {api.held}, sent {[len(api.messages_to(c)) for c in CHATS]}"
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                async with asyncio.timeout(60):
                    output, _ = await worker.communicate()
                outputs.append(output.decode())
            await api.close()
    assert not stuck, (stuck, outputs)
    assert terminated >= 2, terminated  # each worker had at least one connection
    assert [w.returncode for w in workers] == [0, 0], outputs
    for chat in CHATS:
        texts = [m.visible_text for m in api.messages_to(chat)]
        assert Counter(texts).most_common(1)[0][1] == 1, texts  # none twice
        assert sum("Insight number" in text for text in texts) >= 5
    assert await delivery_statuses(postgres_schema_url) == {str(chat): "sent" for chat in CHATS}
