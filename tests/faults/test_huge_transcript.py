"""A 500 MB transcript through the whole ingest of a real `podbrief ingest` process: one
server declares it (Content-Length), another streams it without a length. Both are cut at the
transcript cap (20 MB) with a plain error for their episode; the other episodes of the same
feed and of another feed are ingested as usual, and the process's memory stays bounded.

The loopback server writes the 500 MB from one reused zero chunk: nothing is materialised on
disk or in memory on the server's side either. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
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
        return response


def _run(args: list[str], env: dict[str, str], log: Path) -> tuple[int, str, int]:
    """Run ``podbrief`` to its end: its exit status, output and peak RSS in MB (from wait4)."""
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen([str(PODBRIEF), *args], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen
    return process.returncode, log.read_text(), usage.ru_maxrss // 1024


async def _podbrief(data: Path, db_url: str, *args: str) -> tuple[str, int]:
    env = clean_env(data, PODBRIEF_DATABASE_URL=db_url)
    log = data / f"{args[0]}.log"
    code, output, rss = await asyncio.wait_for(asyncio.to_thread(_run, list(args), env, log), 240)
    assert code == 0, output
    return output, rss


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
        await _podbrief(tmp_path, db_url, "feeds", "import-opml", str(opml))
        output, rss = await _podbrief(tmp_path, db_url, "ingest", "--all")

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
    assert rss < MAX_RSS_MB, f"peak RSS {rss} MB"
    print(f"peak RSS of podbrief ingest: {rss} MB; streamed before the cut: "
          f"{site.streamed_bytes // 2**20} MB")  # fmt: skip
