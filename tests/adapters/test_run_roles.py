"""`podbrief run --role worker` as a real process: it sends due briefs through the Bot API
(the emulator) without polling for updates, deactivates a chat that blocked the bot, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from core.db import create_engine, migrate, session_factory, transaction
from core.models import Delivery, User
from tests.cli_process import PODBRIEF, clean_env
from tests.fakes.brief_rows import add_episode, add_feed, add_insight
from tests.fakes.telegram_api import TelegramApiEmulator
from tests.http_server import serve


def _db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'podbrief.sqlite3'}"


async def _seed(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    now = datetime.now(UTC)
    engine = create_engine(_db_url(tmp_path))
    await migrate(engine)
    sessions = session_factory(engine)
    feed = await add_feed(sessions, "Worker show")
    episode = await add_episode(sessions, feed, "Worker episode")
    for i in range(7):
        await add_insight(
            sessions,
            episode,
            feed,
            headline=f"Insight number {i}",
            score=0.4 + i / 20,
            created_at=now - timedelta(hours=6),
        )
    due = now - timedelta(minutes=30)  # due half an hour ago: sent late, at start
    async with transaction(sessions) as session:
        for chat in (9100, 9101):
            session.add(
                User(
                    platform="telegram",
                    external_id=str(chat),
                    timezone="UTC",
                    delivery_time=f"{due:%H:%M}",
                    created_at=now - timedelta(days=3),
                )
            )
    await engine.dispose()


async def _deliveries(tmp_path: Path) -> dict[str, tuple[str, bool]]:
    engine = create_engine(_db_url(tmp_path))
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(User.external_id, Delivery.status, User.active).join(
                    Delivery, Delivery.user_id == User.id
                )
            )
            return {chat: (status, active) for chat, status, active in rows.all()}
    finally:
        await engine.dispose()


async def test_worker_sends_due_briefs_without_polling(tmp_path: Path) -> None:
    await _seed(tmp_path)
    api = TelegramApiEmulator()
    api.private_chat(9100)
    api.private_chat(9101, "Bo")
    api.blocked.add(9101)
    async with serve(api.app()) as url:
        env = clean_env(
            tmp_path,
            PODBRIEF_TELEGRAM_TOKEN=api.token,
            PODBRIEF_TELEGRAM_BASE_URL=api.base_url(url),
        )
        process = await asyncio.create_subprocess_exec(
            str(PODBRIEF),
            "run",
            "--role",
            "worker",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            messages = await api.wait_messages(9100, 6, within=90)  # heading + 5 cards (+ notes)
            assert "Insight number" in " ".join(m.visible_text for m in messages)
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                output, _ = await process.communicate()
            await api.close()
    assert process.returncode == 0, output.decode()
    assert api.called("getUpdates") == [] and api.called("setWebhook") == []
    assert await _deliveries(tmp_path) == {"9100": ("sent", True), "9101": ("failed", False)}


async def test_an_unknown_role_is_refused_in_plain_words(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    process = await asyncio.create_subprocess_exec(
        str(PODBRIEF),
        "run",
        "--role",
        "everything",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    assert process.returncode == 2
    assert "--role must be one of all, chat, worker" in output.decode()


async def test_a_worker_without_a_platform_says_it_sends_nothing(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        str(PODBRIEF),
        "run",
        "--role",
        "worker",
        env=clean_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(60):
            while "started" not in "".join(seen):  # the warning comes before the scheduler
                line = (await process.stdout.readline()).decode()
                assert line, "".join(seen)
                seen.append(line)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            rest, _ = await process.communicate()
    output = " ".join(("".join(seen) + rest.decode()).split())  # rich wraps long lines
    assert process.returncode == 0, output
    assert "No chat platform is set up" in output and "sends no daily briefs" in output
    assert "Traceback" not in output
