"""`kill -9` of a real `podbrief ingest` process while it fetches a transcript, then the same
command again: every episode, transcript and insight is stored once, and the result is the
same as one uninterrupted run over the same feed (compared with a run in another data dir).

The loopback transcript server holds one transcript's request open, so the process is caught
deterministically in the middle: other transcripts fetched (and perhaps their insights
extracted), one in flight. `podbrief run` runs the same pipeline on its scheduler (after a
random start-up delay of up to a minute, which is why the test runs the command directly)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

from aiohttp import web

from tests.cli_process import PODBRIEF, clean_env
from tests.http_server import serve
from tests.integration.test_transcripts_service import MIME_BY_SUFFIX

NAMES = ["awsbites__10.vtt", "virtualcoffee__3_3.srt", "changelog__practical-ai-300.md",
         "oxide__2021_coders-block_transcript.txt"]  # fmt: skip
HELD = "changelog__practical-ai-300.md"


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
    def __init__(self, folder: Path, names: list[str] = NAMES, title: str = "Faults") -> None:
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


async def _podbrief(data: Path, *args: str) -> str:
    process = await _start(data, *args)
    async with asyncio.timeout(240):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def _start(data: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(PODBRIEF), *args, env=clean_env(data), start_new_session=True,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def kill_when(process: asyncio.subprocess.Process, reached: asyncio.Event) -> None:
    """SIGKILL the process's group (with its feed-parsing pool, as systemd does) once it has
    ``reached`` the point to be killed at (2 minutes at most; its output then says why not)."""
    try:
        async with asyncio.timeout(120):
            await reached.wait()
    except TimeoutError:
        pass
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        async with asyncio.timeout(30):
            output, _ = await process.communicate()
    assert reached.is_set(), output.decode()
    assert process.returncode == -signal.SIGKILL


def _stored(data: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, ...]]]:
    """Insights as (episode, headline, quote), sorted; and every episode's title and states."""
    with sqlite3.connect(data / "data" / "podbrief.sqlite3") as db:
        insights = db.execute(
            "SELECT e.title, i.headline, i.quote FROM insights i JOIN episodes e"
            " ON e.id = i.episode_id ORDER BY 1, 2, 3"
        ).fetchall()
        episodes = db.execute(
            "SELECT e.title, e.transcript_status, e.insight_status, count(t.id) FROM episodes e"
            " LEFT JOIN transcripts t ON t.episode_id = e.id GROUP BY e.id ORDER BY 1"
        ).fetchall()
    return insights, episodes


async def test_ingest_killed_mid_transcript_then_rerun_stores_everything_once(
    tmp_path: Path, shared_data: Path
) -> None:
    site = Site(shared_data / "transcripts")
    async with serve(site.app()) as base:
        site.base = base
        reference, killed = tmp_path / "reference", tmp_path / "killed"
        for data in (reference, killed):
            await _podbrief(data, "feeds", "add", f"{base}/feed.xml")
        await _podbrief(reference, "ingest", "--all")

        site.hold = HELD
        process = await _start(killed, "ingest", "--all")
        try:
            await kill_when(process, site.held)
        finally:
            site.hold = None
            site.release.set()
        _, midway = _stored(killed)
        assert dict((title, count) for title, *_, count in midway)[HELD] == 0

        await _podbrief(killed, "ingest", "--all")

    want_insights, want_episodes = _stored(reference)
    got_insights, got_episodes = _stored(killed)
    assert len(want_episodes) == len(NAMES) and len(want_insights) > 10
    assert {state for _, state, _, _ in want_episodes} == {"fetched"}
    assert got_episodes == want_episodes  # one transcript each, all in the same state
    assert got_insights == want_insights  # none lost, none twice
