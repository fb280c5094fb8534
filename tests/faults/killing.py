"""What the fault tests share: a loopback podcast site that can hold one transcript request
open, a database subscribed to a feed or with briefs due, a real `podbrief` process started in
its own process group, SIGKILL at an observed point, a restarted `podbrief run` waited on
through its own output, and what ended up stored."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy import select, text

from core.db import create_engine, migrate, session_factory, transaction
from core.models import Delivery, Feed, User
from tests.cli_process import PODBRIEF
from tests.fakes.brief_rows import add_episode, add_feed, add_insight
from tests.integration.test_transcripts_service import MIME_BY_SUFFIX

# `podbrief run` with its scheduler (ingest and delivery) and no receiving side; RUN_ENV makes a
# single process ingest right at start, not at a random point of its first minute.
RUN = ("run", "--role", "worker")
RUN_ENV = {"PODBRIEF_POLL_AT_START": "true"}


def feed_xml(base: str, names: list[str], title: str) -> str:
    """A podcast feed of one episode per shared transcript file, each linked by its type."""
    items = "".join(
        f"<item><title>{name}</title><guid>{name}</guid>"
        f"<pubDate>Mon, 0{i + 1} Jun 2026 10:00:00 +0000</pubDate>"
        f'<enclosure url="{base}/audio/{name}.mp3" type="audio/mpeg" length="1"/>'
        f'<podcast:transcript url="{base}/t/{name}" type="{MIME_BY_SUFFIX[Path(name).suffix]}"/>'
        "</item>"
        for i, name in enumerate(names)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>{title}</title><link>{base}</link><language>en</language>"
        f"{items}</channel></rss>"
    )


class Site:
    """The feed at /feed.xml and its transcripts at /t/NAME; ``hold`` names a transcript whose
    request is kept open (``held`` is set when it arrives) until ``release``."""

    def __init__(self, folder: Path, names: list[str], title: str) -> None:
        self.folder, self.base = folder, ""
        self.names, self.title = names, title
        self.hold: str | None = None
        self.held, self.release = asyncio.Event(), asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feed.xml", self.feed)
        app.router.add_get("/t/{name}", self.transcript)
        return app

    async def feed(self, _: web.Request) -> web.Response:
        return web.Response(
            text=feed_xml(self.base, self.names, self.title), content_type="application/rss+xml"
        )

    async def transcript(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == self.hold:
            self.held.set()
            await self.release.wait()
            return web.Response(status=503)  # nobody is listening any more
        return web.Response(body=(self.folder / name).read_bytes(),
                            content_type="application/octet-stream")  # fmt: skip


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    """`podbrief ARGS` in its own process group (as systemd runs it), output piped."""
    return await asyncio.create_subprocess_exec(
        str(PODBRIEF), *args, env=env, start_new_session=True,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def podbrief(env: dict[str, str], *args: str) -> str:
    """Run `podbrief ARGS` to the end; it must succeed. Its output."""
    process = await start(env, *args)
    async with asyncio.timeout(240):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def kill_when(process: asyncio.subprocess.Process, reached: Awaitable[object]) -> None:
    """SIGKILL the process's group (with its feed-parsing pool) once it has ``reached`` the
    point to be killed at (2 minutes at most; its output then says why not)."""
    got_there = False
    try:
        async with asyncio.timeout(120):
            await reached
            got_there = True
    except TimeoutError:
        pass
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        async with asyncio.timeout(30):
            output, _ = await process.communicate()
    assert got_there, output.decode()
    assert process.returncode == -signal.SIGKILL


async def run_until_ingested(env: dict[str, str]) -> str:
    """Restart `podbrief run`, wait for its scheduler to log a finished ingest pass (the one it
    makes at start), then SIGTERM it: it must stop cleanly. Its whole output."""
    process = await start(env, *RUN)
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(180):
            while not any(" ingest: " in line for line in seen):
                line = (await process.stdout.readline()).decode()
                assert line, "".join(seen)  # it ended before ingesting
                seen.append(line)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            rest, _ = await process.communicate()
    output = "".join(seen) + rest.decode()
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    return output


async def subscribe(db_url: str, url: str) -> None:
    """A new database subscribed to the feed at ``url``, not yet polled (as `podbrief feeds
    add` leaves it, without a process to start for it)."""
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        async with transaction(session_factory(engine)) as session:
            session.add(Feed(url=url))
    finally:
        await engine.dispose()


async def seed_due_briefs(db_url: str, chats: list[int]) -> None:
    """A new database with seven insights and Telegram ``chats`` whose daily brief was due half
    an hour ago (so a starting worker sends it late, at once)."""
    now = datetime.now(UTC)
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        feed = await add_feed(sessions, "Fault show")
        episode = await add_episode(sessions, feed, "Fault episode")
        for i in range(7):
            await add_insight(sessions, episode, feed, headline=f"Insight number {i}",
                              score=0.4 + i / 20, created_at=now - timedelta(hours=6))  # fmt: skip
        due = now - timedelta(minutes=30)
        async with transaction(sessions) as session:
            for chat in chats:
                session.add(User(platform="telegram", external_id=str(chat), timezone="UTC",
                                 delivery_time=f"{due:%H:%M}",
                                 created_at=now - timedelta(days=3)))  # fmt: skip
    finally:
        await engine.dispose()


Stored = tuple[list[tuple[str, str, str]], list[tuple[str, str, str, int]]]


async def delivery_statuses(db_url: str) -> dict[str, str]:
    """Each chat's delivery status (claimed, sent, ...), by the chat's id."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(User.external_id, Delivery.status).join(User, User.id == Delivery.user_id)
            )
            return {chat: status for chat, status in rows.all()}
    finally:
        await engine.dispose()


async def stored(db_url: str) -> Stored:
    """Insights as (episode, headline, quote), sorted; every episode's title, transcript and
    insight states and how many transcripts it has."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            insights = await session.execute(text(
                "SELECT e.title, i.headline, i.quote FROM insights i JOIN episodes e"
                " ON e.id = i.episode_id"))  # fmt: skip
            episodes = await session.execute(text(
                "SELECT e.title, e.transcript_status, e.insight_status, count(t.id)"
                " FROM episodes e LEFT JOIN transcripts t ON t.episode_id = e.id"
                " GROUP BY e.id, e.title, e.transcript_status, e.insight_status"))  # fmt: skip
            return (  # sorted here: PostgreSQL's collation may order text unlike SQLite's
                sorted((a, b, c) for a, b, c in insights.all()),
                sorted((a, b, c, int(d)) for a, b, c, d in episodes.all()),
            )
    finally:
        await engine.dispose()


def sqlite_url(data: Path) -> str:
    return f"sqlite:///{data / 'data' / 'podbrief.sqlite3'}"
