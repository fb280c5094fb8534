"""Ingest benchmark: N synthetic feeds from a loopback server, cold and then all-304.

    python bench/ingest.py [--feeds 1000] [--episodes 50] [--concurrency 50] [--db URL]

Beside the cold ingest, its bound measured in the same run on the same feeds: feedparser alone
(the same options as ours) parsing every feed body on as many processes as ingest parses with
(``--workers``, default the cores). ``cold_ratio`` is cold ingest / that bound (target at most
1.25); all-304 should take under 3 s. In CPU time (steadier on a shared machine; labelled so):
``cold_cpu_ratio`` is the ingest process's plus its parse workers' CPU time / the bound's
workers'. The parse workers are started before the clock, as the bound's are. Ingest runs
feedparser with its base-URI function memoised (``core.feeds.base_uri``), a fifth to a quarter
less parsing than stock: so the bound is also measured that way, and ``cold_ratio_same_parser`` /
``cold_cpu_ratio_same_parser`` say what ingest adds to the parsing it does. The last line is
one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import resource
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path

import feedparser

from adapters.http_fetch import HttpFetcher
from core.db import create_engine, migrate, session_factory
from core.feeds import base_uri
from core.feeds.opml import import_opml
from core.feeds.parse import parse_feed
from core.feeds.poll import make_parse_pool, poll_due_feeds
from core.ingest.stats import collect_stats

NOTES = (
    "<p>In this episode we talk about <b>shipping software</b> &amp; the people who do it: "
    "<a href='https://example.org/x'>links</a>, war stories, and what we learned.</p>"
    "<ul><li>Chapter one</li><li>Chapter two</li></ul>"
)


def synthetic_feed(n: int, episodes: int) -> bytes:
    items = []
    for e in range(episodes):
        items.append(
            f"<item><title>Show {n} episode {e}</title><guid>urn:bench:{n}:{e}</guid>"
            f"<link>https://example.org/{n}/{e}</link>"
            f"<pubDate>Mon, {e % 28 + 1:02d} Sep 2025 08:00:00 +0000</pubDate>"
            f"<itunes:duration>{1800 + e}</itunes:duration>"
            f'<enclosure url="https://cdn.example.org/{n}/{e}.mp3" type="audio/mpeg" '
            f'length="12345678"/>'
            f'<podcast:transcript url="https://example.org/{n}/{e}.srt" type="application/srt"/>'
            f"<description><![CDATA[{NOTES}]]></description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
        f"<title>Bench show {n}</title><link>https://example.org/{n}</link>"
        f"<language>en</language>{''.join(items)}</channel></rss>"
    ).encode()


class FeedServer(asyncio.Protocol):
    """The far side: HTTP/1.1 over asyncio's transports, every answer built before the clock.

    It runs on the same two cores as the ingest and the bound has none, so it should cost as
    little as it can: aiohttp's server took 0.45 s of CPU for a 1,000-feed cold ingest (its
    request object, router and response per request; load 8), this 0.2-0.26 s at load 15-19
    (0.04 s for 200 feeds at load 10). It reads just what
    the fetcher sends: GET, keep-alive, ``If-None-Match`` answered with a 304 when it is the
    feed's ETag. Anything else gets a 404 or a 400 and the connection closed.
    """

    def __init__(self, answers: dict[bytes, tuple[bytes, bytes, bytes]]) -> None:
        self.answers = answers  # path -> (ETag, 200 answer, 304 answer)
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            self.answer(head)

    def answer(self, head: bytes) -> None:
        assert self.transport is not None
        request, *lines = head.split(b"\r\n")
        parts = request.split(b" ")
        answers = self.answers.get(parts[1]) if len(parts) == 3 and parts[0] == b"GET" else None
        if answers is None:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            self.transport.close()
            return
        etag, full, unchanged = answers
        headers = dict(line.split(b":", 1) for line in lines if b":" in line)
        matches = {k.strip().lower(): v.strip() for k, v in headers.items()}
        self.transport.write(unchanged if matches.get(b"if-none-match") == etag else full)
        if matches.get(b"connection", b"").lower() == b"close":
            self.transport.close()


def feed_answers(feeds: int, episodes: int) -> dict[bytes, tuple[bytes, bytes, bytes]]:
    """Each feed's path -> its ETag, its whole 200 answer and its 304 answer, as bytes."""
    answers = {}
    for n in range(feeds):
        body = synthetic_feed(n, episodes)
        etag = b'"' + hashlib.sha1(body).hexdigest().encode() + b'"'
        full = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: "
            + etag
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        unchanged = b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\n\r\n"
        answers[f"/feed/{n}.xml".encode()] = (etag, full, unchanged)
    return answers


def serve_feeds(feeds: int, episodes: int, conn: Connection) -> None:
    """The far side, in its own process so it does not share the ingest's event loop."""
    answers = feed_answers(feeds, episodes)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: FeedServer(answers), "127.0.0.1", 0, backlog=1024)
        conn.send(server.sockets[0].getsockname()[1])
        await loop.run_in_executor(None, conn.recv)  # until told to stop
        server.close()

    asyncio.run(main())


_BODIES: list[bytes] = []  # each bound worker's copy of the feed bodies


def _make_bodies(feeds: int, episodes: int, remembered_bases: bool) -> None:
    _BODIES[:] = [synthetic_feed(n, episodes) for n in range(feeds)]
    if remembered_bases:
        base_uri.install()


def _parse_alone(n: int) -> int:
    data = feedparser.parse(
        _BODIES[n],
        response_headers={"content-location": f"http://127.0.0.1/feed/{n}.xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    return len(data.entries)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (from /proc: Linux)."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def feedparser_alone(
    feeds: int, episodes: int, workers: int, *, remembered_bases: bool = False
) -> tuple[float, float, int]:
    """The bound: every feed body parsed by feedparser alone on ``workers`` processes (the
    bodies are made before the clock starts). Seconds, the workers' CPU seconds, and the
    entries read. With ``remembered_bases``, feedparser as ingest runs it: its base-URI
    function memoised (``core.feeds.base_uri``), which the stock bound is not."""
    context = multiprocessing.get_context("forkserver")
    setup = (feeds, episodes, remembered_bases)
    with context.Pool(workers, initializer=_make_bodies, initargs=setup) as pool:
        pool.map(_parse_alone, [0] * workers * 2, chunksize=1)  # every worker up and warm
        pids = [p.pid for p in pool._pool if p.pid]  # type: ignore[attr-defined]
        started, cpu_started = time.perf_counter(), cpu_seconds(pids)
        entries = sum(pool.map(_parse_alone, range(feeds), chunksize=4))
        return time.perf_counter() - started, cpu_seconds(pids) - cpu_started, entries


class SteppedClock:
    """Moved by hand, so the second poll finds every feed due without waiting."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment


def own_peak_rss() -> tuple[int, float]:
    return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def warm_up(pool: ProcessPoolExecutor, workers: int) -> list[int]:
    """Start every parse worker and load the parser before the clock starts, as the bound
    does for its workers; their pids."""
    loop = asyncio.get_running_loop()
    body, url = synthetic_feed(0, 1), "http://127.0.0.1/feed/0.xml"
    job = partial(parse_feed, body, feed_url=url, content_type="application/rss+xml")
    await asyncio.gather(*(loop.run_in_executor(pool, job) for _ in range(workers * 4)))
    return list(pool._processes)  # private, but only here: whose CPU time to read


async def worker_peaks(pool: Executor, workers: int) -> dict[int, float]:
    """Ask the parse workers for their peak RSS (a few asks per worker to reach each)."""
    loop = asyncio.get_running_loop()
    answers = await asyncio.gather(
        *(loop.run_in_executor(pool, own_peak_rss) for _ in range(workers * 4))
    )
    return dict(answers)


async def run(
    args: argparse.Namespace, port: int, db_url: str, server_pid: int
) -> dict[str, object]:
    engine = create_engine(db_url)
    await migrate(engine)
    sessions = session_factory(engine)
    clock = SteppedClock()
    urls = [f"http://127.0.0.1:{port}/feed/{n}.xml" for n in range(args.feeds)]
    outlines = "".join(f'<outline xmlUrl="{u}"/>' for u in urls)
    await import_opml(sessions, f"<opml version='2.0'><body>{outlines}</body></opml>")
    async with HttpFetcher(max_connections=args.concurrency, timeout=60) as fetcher:
        with make_parse_pool(args.workers) as pool:
            pids = await warm_up(pool, args.workers or os.cpu_count() or 2)
            # The fetcher's one-time set-up too (aiohttp's imports, the certificate
            # authorities: 0.2-0.3 s of CPU), as the parse workers' and the bound's.
            await fetcher.fetch(urls[0])
            cpu = time.process_time(), cpu_seconds(pids), cpu_seconds([server_pid])
            cold = await poll_due_feeds(
                sessions, fetcher, clock, concurrency=args.concurrency, parse_executor=pool
            )
            cold_cpu = (
                time.process_time() - cpu[0],
                cpu_seconds(pids) - cpu[1],
                cpu_seconds([server_pid]) - cpu[2],
            )
            clock.moment += timedelta(hours=1)
            cpu = time.process_time(), cpu_seconds(pids), cpu_seconds([server_pid])
            warm = await poll_due_feeds(
                sessions, fetcher, clock, concurrency=args.concurrency, parse_executor=pool
            )
            warm_cpu = (
                time.process_time() - cpu[0],
                cpu_seconds(pids) - cpu[1],
                cpu_seconds([server_pid]) - cpu[2],
            )
            workers = await worker_peaks(pool, args.workers or os.cpu_count() or 2)
    stats = await collect_stats(sessions)
    await engine.dispose()
    print(f"cold: {cold.summary()}")
    print(f"304:  {warm.summary()}")
    return {
        "feeds": args.feeds,
        "episodes_per_feed": args.episodes,
        "concurrency": args.concurrency,
        "database": db_url.split(":", 1)[0],
        "cold_seconds": round(cold.seconds, 2),
        "cold_feeds_per_second": round(args.feeds / cold.seconds, 1),
        "cold_failed": cold.count("failed"),
        "cold_cpu_ingest_process": round(cold_cpu[0], 2),
        "cold_cpu_parse_workers": round(cold_cpu[1], 2),
        # The far side: the loopback feed server's CPU, on the same cores (the bound has none).
        "cold_cpu_feed_server": round(cold_cpu[2], 2),
        "warm_304_seconds": round(warm.seconds, 2),
        "warm_304_cpu_ingest_process": round(warm_cpu[0], 2),
        "warm_304_cpu_parse_workers": round(warm_cpu[1], 2),
        "warm_304_cpu_feed_server": round(warm_cpu[2], 2),
        "warm_feeds_per_second": round(args.feeds / warm.seconds, 1),
        "warm_unchanged": warm.count("unchanged"),
        "episodes_stored": stats["episodes"],
        "peak_rss_mb": round(own_peak_rss()[1], 1),
        "parse_workers_probed": len(workers),
        "parse_worker_peak_rss_mb": round(max(workers.values(), default=0.0), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="parse processes (cores)")
    parser.add_argument("--db", default="", help="database URL (default: a temporary SQLite)")
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve_feeds, args=(args.feeds, args.episodes, theirs), daemon=True
    )
    server.start()
    port = ours.recv()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        started = time.perf_counter()
        figures = asyncio.run(run(args, port, db_url, server.pid or 0))
        figures["total_seconds"] = round(time.perf_counter() - started, 2)
    ours.send("stop")
    server.join(timeout=10)
    workers = args.workers or os.cpu_count() or 2
    bound, bound_cpu, entries = feedparser_alone(args.feeds, args.episodes, workers)
    print(f"bound: feedparser alone on {workers} processes, {entries} entries: {bound:.2f} s")
    same, same_cpu, _ = feedparser_alone(args.feeds, args.episodes, workers, remembered_bases=True)
    print(f"feedparser as ingest runs it (base URIs remembered): {same:.2f} s")
    cold = float(figures["cold_seconds"])  # type: ignore[arg-type]
    cold_cpu = float(figures["cold_cpu_ingest_process"]) + float(  # type: ignore[arg-type]
        figures["cold_cpu_parse_workers"]  # type: ignore[arg-type]
    )
    figures |= {
        "bound_feedparser_seconds": round(bound, 2),
        "bound_feedparser_cpu_seconds": round(bound_cpu, 2),
        "bound_processes": workers,
        "bound_same_parser_seconds": round(same, 2),
        "bound_same_parser_cpu_seconds": round(same_cpu, 2),
        # Against stock feedparser (the bound), and against feedparser with the same
        # memoised base URIs: what ingest adds to the parsing it runs.
        "cold_ratio": round(cold / bound, 2),
        "cold_ratio_same_parser": round(cold / same, 2),
        # CPU time, steadier than wall time on a shared machine: all the work cold ingest
        # did (its process and the parse workers) against feedparser alone's. On a quiet
        # machine with the work spread over the cores, wall time follows it.
        "cold_cpu_ratio": round(cold_cpu / bound_cpu, 2),
        "cold_cpu_ratio_same_parser": round(cold_cpu / same_cpu, 2),
        # The same with the feed server's CPU added: what the two cores actually carried.
        "cold_cpu_ratio_with_server": round(
            (cold_cpu + float(figures["cold_cpu_feed_server"])) / bound_cpu,  # type: ignore[arg-type]
            2,
        ),
        "warm_304_target_met": float(figures["warm_304_seconds"]) < 3,  # type: ignore[arg-type]
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
