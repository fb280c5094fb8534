"""A 500 MB transcript through the whole ingest of a real `podbrief ingest` process: one
server declares it (Content-Length), another streams it without a length. Both are cut at the
transcript cap (20 MB) with a plain error for their episode; the other episodes of the same
feed and of another feed are ingested as usual, and the process's memory stays bounded.

The loopback server writes the 500 MB from one reused zero chunk: nothing is materialised on
disk or in memory on the server's side either. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from core.db import create_engine, session_factory
from core.models import Episode, Feed, Insight
from tests.cli_process import PODBRIEF, clean_env
from tests.http_server import serve
from tests.integration.test_transcripts_service import MIME_BY_SUFFIX

HUGE = 500 * 1024 * 1024
CHUNK = bytes(256 * 1024)
FEEDS = {
    "one": ["awsbites__10.vtt", "declared.vtt", "streamed.vtt", "changelog__changelog-news-100.md"],
    "two": ["awsbites__150.vtt"],
}  # fmt: skip
HELD = "awsbites__150.vtt"  # held until both huge ones are cut: memory is read meanwhile
MAX_RSS_MB = 400  # far under the 500 MB body: it was never held


def _feed(base: str, name: str, files: list[str]) -> str:
    items = "".join(
        f"<item><title>{file}</title><guid>{name}-{file}</guid>"
        f"<pubDate>Mon, 0{i + 1} Jun 2026 10:00:00 +0000</pubDate>"
        f'<enclosure url="{base}/audio/{file}.mp3" type="audio/mpeg" length="1"/>'
        f'<podcast:transcript url="{base}/t/{file}" type="{MIME_BY_SUFFIX[Path(file).suffix]}"/>'
        "</item>"
        for i, file in enumerate(files)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>Show {name}</title><link>{base}/{name}</link><language>en</language>"
        f"{items}</channel></rss>"
    )


class Site:
    def __init__(self, folder: Path) -> None:
        self.folder, self.base = folder, ""
        self.streamed_bytes = 0  # what the server managed to write of the streamed 500 MB
        self.pid = 0  # the podbrief process
        self.cut: set[str] = set()  # the huge transcripts whose client hung up
        self.both_cut = asyncio.Event()
        self.peak_rss_mb = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{name}.xml", self.feed)
        app.router.add_get("/t/{name}", self.transcript)
        return app

    async def feed(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.Response(text=_feed(self.base, name, FEEDS[name]),
                            content_type="application/rss+xml")  # fmt: skip

    async def transcript(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == HELD:  # answered once both huge ones are cut, while the process still runs
            async with asyncio.timeout(120):
                await self.both_cut.wait()
            self.peak_rss_mb = _peak_rss_mb(self.pid)
        if name not in ("declared.vtt", "streamed.vtt"):
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
                if name == "streamed.vtt":
                    self.streamed_bytes += len(CHUNK)
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


async def _podbrief(site: Site, data: Path, db_url: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(PODBRIEF), *args, env=clean_env(data, PODBRIEF_DATABASE_URL=db_url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    site.pid = process.pid
    async with asyncio.timeout(240):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def _episodes(db_url: str) -> dict[str, tuple[str, str | None, str, int]]:
    """Each episode's title: transcript status and error, insight status, its insight count."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(Episode, Feed.title).join(Feed))).all()
            counts = Counter((await session.scalars(select(Insight.episode_id))).all())
            return {
                episode.title: (episode.transcript_status, episode.transcript_error,
                                episode.insight_status, counts[episode.id])
                for episode, _ in rows
            }  # fmt: skip
    finally:
        await engine.dispose()


async def test_a_500_mb_transcript_is_cut_at_the_cap_and_the_rest_is_ingested(
    tmp_path: Path, shared_data: Path, db_url: str
) -> None:
    site = Site(shared_data / "transcripts")
    async with serve(site.app()) as base:
        site.base = base
        opml = tmp_path / "feeds.opml"
        opml.write_text(
            '<?xml version="1.0"?><opml version="2.0"><head/><body>'
            + "".join(f'<outline type="rss" xmlUrl="{base}/{name}.xml"/>' for name in FEEDS)
            + "</body></opml>"
        )
        await _podbrief(site, tmp_path, db_url, "feeds", "import-opml", str(opml))
        output = await _podbrief(site, tmp_path, db_url, "ingest", "--all")

    episodes = await _episodes(db_url)
    assert set(episodes) == {file for files in FEEDS.values() for file in files}, output
    for huge in ("declared.vtt", "streamed.vtt"):
        status, error, _, insights = episodes[huge]
        assert status == "failed" and insights == 0, episodes[huge]
        assert error is not None and "20 MB limit" in error, error
        assert "Traceback" not in error
    for name, (status, error, insight_status, insights) in episodes.items():
        if name not in ("declared.vtt", "streamed.vtt"):
            assert (status, error, insight_status) == ("fetched", None, "done"), (name, output)
            assert insights > 0, name
    assert site.streamed_bytes < 200 * 1024 * 1024  # the client hung up near its cap
    rss = site.peak_rss_mb
    assert 0 < rss < MAX_RSS_MB, f"peak RSS {rss} MB"
    print(f"peak RSS of podbrief ingest: {rss} MB; streamed before the cut: "
          f"{site.streamed_bytes // 2**20} MB")  # fmt: skip
