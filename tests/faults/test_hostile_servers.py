"""Hostile feed and transcript servers against a real `podbrief ingest` process, on SQLite and
PostgreSQL. One loopback site serves, beside two sane feeds:

- feeds that hang (headers never come), drip one byte a second, send 2 GB, or redirect forever;
- transcripts of 500 MB (one declares its length, one streams it) and a gzip bomb (64 KB that
  inflate to 64 MB).

Each hostile fetch is cut (by the whole-fetch timeout, the size cap counted on the decoded
bytes, the redirect limit) with a plain error for its feed or episode; everything else is
ingested in the same run, and the process's memory stays far below what was sent. Nothing is
lost: the failed feeds are retried by themselves after their backoff, and once the servers
behave the next scheduled ingest takes their episodes, none twice.

The site writes the big bodies from one reused chunk: nothing is materialised on its side."""

from __future__ import annotations

import asyncio
import re
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy import select, update

from core.db import create_engine, session_factory, transaction
from core.models import Episode, Feed, Insight
from tests.cli_process import clean_env
from tests.faults.killing import podbrief, start, subscribe
from tests.http_server import serve
from tests.integration.test_transcripts_service import MIME_BY_SUFFIX

HUGE = 500 * 1024 * 1024  # a 500 MB transcript
ENDLESS = 2 * 1024**3  # a 2 GB feed
CHUNK = bytes(256 * 1024)
CAP = 2_000_000  # max_feed_bytes and max_transcript_bytes: "2 MB"
TIMEOUT = 3  # fetch_timeout_seconds: the hanging and the dripping feed take this long
SANE = {
    "one": ["awsbites__10.vtt", "declared.vtt", "streamed.vtt", "bomb.vtt",
            "changelog__changelog-news-100.md"],
    "two": ["podcastindex__example.srt"],
}  # fmt: skip
HOSTILE = ["hang", "drip", "endless", "redirects"]
TOO_BIG = ("declared.vtt", "streamed.vtt", "bomb.vtt")
HELD = "podcastindex__example.srt"  # answered once both 500 MB ones are cut: RSS read then
MAX_RSS_MB = 400  # far under the 500 MB bodies: they were never held
SAYS = {"hang": f"timed out after {TIMEOUT} s", "drip": f"timed out after {TIMEOUT} s",
        "endless": "larger than the 2 MB limit", "redirects": "too many redirects"}  # fmt: skip


def _bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    mb = bytes(1024 * 1024)
    return b"".join(packer.compress(mb) for _ in range(64)) + packer.flush()


def _feed(base: str, name: str, files: list[str]) -> str:
    items = "".join(
        f"<item><title>{file}</title><guid>{name}-{file}</guid>"
        f"<pubDate>Mon, 0{i + 1} Jun 2026 10:00:00 +0000</pubDate>"
        f'<enclosure url="{base}/audio/{file}.mp3" type="audio/mpeg" length="1"/>'
        + (f'<podcast:transcript url="{base}/t/{file}" '
           f'type="{MIME_BY_SUFFIX[Path(file).suffix]}"/>' if name in SANE else "")
        + "</item>"
        for i, file in enumerate(files)
    )  # fmt: skip
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>Show {name}</title><link>{base}/{name}</link><language>en</language>"
        f"{items}</channel></rss>"
    )


class Site:
    def __init__(self, folder: Path) -> None:
        self.folder, self.base = folder, ""
        self.hostile = True  # False: every feed behaves (the servers were fixed)
        self.done = asyncio.Event()  # the hostile run is over: a hanging request may end
        self.sent = Counter[str]()  # bytes written of each endless body before the cut
        self.pid = 0  # the podbrief process
        self.cut: set[str] = set()  # the 500 MB transcripts whose client hung up
        self.both_cut = asyncio.Event()
        self.peak_rss_mb = 0
        self.bomb = _bomb()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{name}.xml", self.feed)
        app.router.add_get("/t/{name}", self.transcript)
        return app

    async def feed(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name in SANE or not self.hostile:
            files = SANE.get(name, [f"{name} is back"])
            return web.Response(text=_feed(self.base, name, files),
                                content_type="application/rss+xml")  # fmt: skip
        if name == "redirects":  # always somewhere new: no loop to notice, just no end
            hop = int(request.query.get("hop", "0")) + 1
            raise web.HTTPFound(f"/redirects.xml?hop={hop}")
        if name == "hang":
            await self.done.wait()
            return web.Response(status=503)
        return await self._endless(request, name, b"<" if name == "drip" else CHUNK)

    async def _endless(self, request: web.Request, name: str, chunk: bytes) -> web.StreamResponse:
        """A body without a length that never ends: a byte a second, or 2 GB at full speed."""
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            while self.sent[name] < ENDLESS:
                await response.write(chunk)
                self.sent[name] += len(chunk)
                if name == "drip":
                    await asyncio.sleep(1)  # the far side's pace
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client gave up, as it should
        return response

    async def transcript(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == HELD:  # answered once both huge ones are cut, while the process still runs
            async with asyncio.timeout(120):
                await self.both_cut.wait()
            self.peak_rss_mb = _peak_rss_mb(self.pid)
        if name == "bomb.vtt":
            return web.Response(body=self.bomb, headers={"Content-Encoding": "gzip",
                                                         "Content-Type": "text/vtt"})  # fmt: skip
        if name not in TOO_BIG:
            return web.Response(body=(self.folder / name).read_bytes(),
                                content_type="application/octet-stream")  # fmt: skip
        response = web.StreamResponse(headers={"Content-Type": "text/vtt"})
        if name == "declared.vtt":
            response.content_length = HUGE
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(HUGE // len(CHUNK)):
                await response.write(CHUNK)
                self.sent[name] += len(CHUNK)
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client hung up at its cap, as it should
        finally:
            self.cut.add(name)
            if len(self.cut) == 2:
                self.both_cut.set()
        return response


def _peak_rss_mb(pid: int) -> int:
    """The process's high-water RSS so far (VmHWM: of this program only, unlike wait4's
    ru_maxrss, which also counts the forked test process it started from)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1)) // 1024  # type: ignore[union-attr]


async def _ingest(site: Site, env: dict[str, str]) -> str:
    """`podbrief ingest`: the due feeds only, as the scheduler polls them."""
    process = await start(env, "ingest")
    site.pid = process.pid
    async with asyncio.timeout(240):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


Feeds = dict[str, tuple[int, str | None, datetime | None]]
Episodes = dict[str, tuple[str, str | None, str, int]]


async def _state(db_url: str) -> tuple[Feeds, Episodes]:
    """Each feed's errors, last error and next poll; each episode's transcript status and
    error, insight status and insight count."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            feeds = {
                feed.url.rsplit("/", 1)[-1].split(".")[0]: (
                    feed.error_count, feed.last_error, feed.next_poll_at)
                for feed in (await session.scalars(select(Feed))).all()
            }  # fmt: skip
            counts = Counter((await session.scalars(select(Insight.episode_id))).all())
            episodes = {
                episode.title: (episode.transcript_status, episode.transcript_error,
                                episode.insight_status, counts[episode.id])
                for episode in (await session.scalars(select(Episode))).all()
            }  # fmt: skip
            return feeds, episodes
    finally:
        await engine.dispose()


async def _backoff_passes(db_url: str) -> None:
    """Time passing for the failed feeds (the clock is the far side): their next poll, half
    an hour away, is now."""
    engine = create_engine(db_url)
    try:
        async with transaction(session_factory(engine)) as session:
            await session.execute(update(Feed).where(Feed.error_count > 0)
                                  .values(next_poll_at=datetime.now(UTC)))  # fmt: skip
    finally:
        await engine.dispose()


async def test_hostile_servers_are_cut_off_the_rest_is_ingested_and_they_recover(
    tmp_path: Path, shared_data: Path, db_url: str
) -> None:
    site = Site(shared_data / "transcripts")
    env = clean_env(tmp_path, PODBRIEF_DATABASE_URL=db_url, PODBRIEF_MAX_FEED_BYTES=str(CAP),
                    PODBRIEF_MAX_TRANSCRIPT_BYTES=str(CAP),
                    PODBRIEF_FETCH_TIMEOUT_SECONDS=str(TIMEOUT))  # fmt: skip
    async with serve(site.app()) as base:
        site.base = base
        for name in [*SANE, *HOSTILE]:
            await subscribe(db_url, f"{base}/{name}.xml")
        started = datetime.now(UTC)
        output = await _ingest(site, env)
        site.done.set()
        feeds, episodes = await _state(db_url)

        for name in HOSTILE:  # a plain error, and a retry in half an hour (the first backoff)
            errors, error, next_poll = feeds[name]
            assert errors == 1 and error is not None and SAYS[name] in error, (name, error)
            assert "Traceback" not in error and len(error) < 300, error
            assert next_poll is not None
            assert started + timedelta(minutes=29) < next_poll.replace(tzinfo=UTC), next_poll
        assert set(episodes) == {file for files in SANE.values() for file in files}, output
        for name in TOO_BIG:
            status, error, _, insights = episodes[name]
            assert status == "failed" and insights == 0, episodes[name]
            assert error is not None and "2 MB limit" in error and "Traceback" not in error
        for name in set(episodes) - set(TOO_BIG):
            status, error, insight_status, insights = episodes[name]
            assert (status, error, insight_status) == ("fetched", None, "done"), (name, output)
            assert insights > 0, name
        assert site.sent["streamed.vtt"] < 100 * 2**20  # the client hung up near its cap
        assert site.sent["endless"] < 100 * 2**20 and site.sent["drip"] <= TIMEOUT + 1
        rss = site.peak_rss_mb
        assert 0 < rss < MAX_RSS_MB, f"peak RSS {rss} MB"

        site.hostile = False  # the servers are fixed; the failed feeds' backoff runs out
        await _backoff_passes(db_url)
        await podbrief(env, "ingest")
        after, again = await _state(db_url)

    assert {name: errors for name, (errors, _, _) in after.items()} == dict.fromkeys(
        [*SANE, *HOSTILE], 0)  # fmt: skip
    assert set(again) == set(episodes) | {f"{name} is back" for name in HOSTILE}
    assert {name: again[name] for name in episodes} == episodes  # nothing twice, nothing lost
    print(f"peak RSS of podbrief ingest: {rss} MB; sent before the cut: {dict(site.sent)}")
