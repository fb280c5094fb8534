"""How fast the insight page is served: `/insights/{id}` over loopback with 50 clients.

Builds a SQLite library of 100,000 insights (the real schema; 1,000 shows' worth of episodes,
6 related insights each, 1–2 topics), starts the real server (`podbrief web --workers 2`, or
with --workers 0 `podbrief run --role chat`, one process) with PODBRIEF_PUBLIC_URL set, then 50
concurrent keep-alive clients request random insight pages. The clients speak plain HTTP/1.1
on asyncio streams, so they cost little CPU next to the server.

    .venv/bin/python bench/web.py [--insights 100000] [--requests 20000] [--clients 50]
                                  [--rate 500] [--workers 2]

Two runs: the 50 clients as fast as the server answers (throughput, and latency at
saturation), then the same clients paced at --rate requests per second in all (latency at that
load, counted from when each request was due). The server's own CPU time per page is reported
too: on a shared, loaded machine it is the steadier figure. Targets: p99 under 50 ms and at
least 500 requests per second on 2 cores. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.db import run_sync_migrations  # noqa: E402

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
WORDS = [
    "pricing", "agents", "churn", "retention", "founders", "hiring", "latency", "evals",
    "margins", "trust", "sleep", "focus", "habits", "teams", "remote", "sales", "growth",
    "onboarding", "models", "data", "privacy", "culture", "debt", "runway", "customers",
    "feedback", "product", "design", "shipping", "quality",
]  # fmt: skip
TOPICS = ["pricing", "ai", "startups", "health", "engineering", "growth", "saas", "sleep"]
RELATED = 6
EPISODES_PER_SHOW = 50
INSIGHTS_PER_EPISODE = 10
START_BUDGET_S = 120


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def build_library(path: Path, insights: int, seed: int) -> dict[str, float]:
    """The real schema (migrations), then bulk rows through sqlite3 for speed."""
    started = time.perf_counter()
    run_sync_migrations(f"sqlite:///{path}")
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
    created = NOW.isoformat(sep=" ")
    episodes = -(-insights // INSIGHTS_PER_EPISODE)
    shows = -(-episodes // EPISODES_PER_SHOW)
    conn.executemany(
        "INSERT INTO feeds (id, url, title, error_count, untrusted, created_at)"
        " VALUES (?, ?, ?, 0, 0, ?)",
        ((f, f"https://shows.example/{f}.xml", f"Show {f}", created) for f in range(1, shows + 1)),
    )
    conn.executemany(
        "INSERT INTO episodes (id, feed_id, dedup_key, title, link, enclosure_url,"
        " enclosure_type, published_at, persons, transcript_status, insight_status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'audio/mpeg', ?, '[]', 'fetched', 'done', ?)",
        (
            (e, (e - 1) // EPISODES_PER_SHOW + 1, f"guid:{e}", f"Episode {e}: {sentence(rng, 5)}",
             f"https://shows.example/e/{e}", f"https://cdn.example/{e}.mp3", created, created)
            for e in range(1, episodes + 1)
        ),
    )  # fmt: skip
    rows = []
    topic_rows = []
    for i in range(1, insights + 1):
        episode = (i - 1) // INSIGHTS_PER_EPISODE + 1
        topics = rng.sample(TOPICS, rng.randint(1, 2))
        rows.append(
            (i, episode, (episode - 1) // EPISODES_PER_SHOW + 1, sentence(rng, 10),
             " ".join(sentence(rng, 14) for _ in range(3)), sentence(rng, 22), "Maya Chen",
             float(rng.randint(0, 3600)), json.dumps(topics), rng.random(), created)
        )  # fmt: skip
        topic_rows.extend((i, t) for t in topics)
    conn.executemany(
        "INSERT INTO insights (id, episode_id, feed_id, headline, body, quote, speaker,"
        " start_seconds, topics, score, extractor, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'offline', ?)",
        rows,
    )
    conn.executemany("INSERT INTO insight_topics (insight_id, topic) VALUES (?, ?)", topic_rows)
    conn.executemany(
        "INSERT INTO related_edges (insight_id, related_id, rank, score) VALUES (?, ?, ?, ?)",
        (
            (i, (i + k * 7919 - 1) % insights + 1, k, 1.0 - k / 10)
            for i in range(1, insights + 1)
            for k in range(1, RELATED + 1)
        ),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return {"build_s": round(time.perf_counter() - started, 1), "db_mb": path.stat().st_size >> 20}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db: Path, port: int, workdir: Path, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PODBRIEF_", "SLACK_", "OPENAI_"))}  # fmt: skip
    env.update(
        PODBRIEF_DATABASE_URL=f"sqlite:///{db}",
        PODBRIEF_DATA_DIR=str(workdir),
        PODBRIEF_CONFIG=str(workdir / "absent.toml"),
        PODBRIEF_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PODBRIEF_HTTP_HOST="127.0.0.1",
        PODBRIEF_HTTP_PORT=str(port),
        PODBRIEF_EMBEDDER="lsa",
    )
    podbrief = Path(sys.executable).parent / "podbrief"
    command = ["run", "--role", "chat"] if workers == 0 else ["web", "--workers", str(workers)]
    return subprocess.Popen([str(podbrief), *command], env=env, stdout=subprocess.DEVNULL)


async def get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, int]:
    """One keep-alive GET: (status, body bytes)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length)
    return status, len(body)


async def wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_BUDGET_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        status, _ = await get(reader, writer, "/insights/1")
        writer.close()
        if status != 200:
            raise SystemExit(f"/insights/1 answered {status}")
        return
    raise SystemExit(f"the server did not answer within {START_BUDGET_S} s")


async def load(
    port: int, paths: list[str], clients: int, rate: float | None = None
) -> dict[str, float]:
    """Request ``paths`` over ``clients`` keep-alive connections: as fast as the server answers
    (``rate`` None), or at ``rate`` requests per second in all, each latency then counted from
    when the request was due (a late start is latency too)."""
    latencies: list[float] = []
    errors = 0
    queue = iter(enumerate(paths))
    interval = clients / rate if rate else 0.0
    began = time.perf_counter()

    async def client(offset: float) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n, path in queue:
                due = began + offset + (n // clients) * interval if rate else time.perf_counter()
                if rate and due > time.perf_counter():
                    await asyncio.sleep(due - time.perf_counter())
                status, size = await get(reader, writer, path)
                latencies.append(time.perf_counter() - due)
                if status != 200 or size < 1000:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(client(interval * k / clients) for k in range(clients)))
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 2),
        "rps": round(len(latencies) / elapsed, 1),
    }


def random_paths(insights: int, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"/insights/{rng.randint(1, insights)}" for _ in range(count)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its live children have used so far (Linux /proc)."""
    total = 0.0
    for each in [pid, *children_of(pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def children_of(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


async def measure(
    port: int, server: subprocess.Popen[bytes], args: argparse.Namespace
) -> dict[str, float]:
    await wait_until_up(port, server)
    await load(port, random_paths(args.insights, 2000, args.seed + 1), args.clients)  # warm up
    cpu_before = cpu_seconds(server.pid)
    paths = random_paths(args.insights, args.requests, args.seed)
    saturated = await load(port, paths, args.clients)
    # The server's own CPU per page: what a loaded machine's wall-clock figures cannot show.
    cpu_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / saturated["requests"]
    paced = await load(port, paths[: args.rate * 10], args.clients, rate=args.rate)
    return {
        **saturated,
        "server_cpu_ms_per_request": round(cpu_ms, 3),
        "rps_per_core": round(1000 / cpu_ms, 1) if cpu_ms else 0.0,
        "at_rate_rps": args.rate,
        "at_rate_p50_ms": paced["p50_ms"],
        "at_rate_p99_ms": paced["p99_ms"],
        "at_rate_achieved_rps": paced["rps"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--insights", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=int, default=500, help="paced run: requests/s in all")
    parser.add_argument(
        "--workers", type=int, default=2,
        help="`podbrief web --workers N` processes; 0: `podbrief run --role chat` (one process)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = workdir / "web.sqlite3"
        built = build_library(db, args.insights, args.seed)
        print(f"library: {args.insights:,} insights, {built['db_mb']} MB, built in "
              f"{built['build_s']} s")  # fmt: skip
        port = free_port()
        server = start_server(db, port, workdir, args.workers)
        try:
            figures = asyncio.run(measure(port, server, args))
        finally:
            server.terminate()
            server.wait(timeout=30)
    load_avg = round(os.getloadavg()[0], 2)
    print(
        f"/insights/{{id}} at {args.rate} requests/s over {args.clients} connections: "
        f"p50 {figures['at_rate_p50_ms']} ms, p99 {figures['at_rate_p99_ms']} ms "
        f"({figures['at_rate_achieved_rps']} requests/s achieved)"
    )
    print(
        f"/insights/{{id}} with {args.clients} clients as fast as answered: "
        f"p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, {figures['rps']} requests/s "
        f"({figures['errors']} errors; {os.cpu_count()} CPUs, load average {load_avg}); "
        f"server CPU {figures['server_cpu_ms_per_request']} ms per page, "
        f"{figures['rps_per_core']} pages/s per core"
    )
    print(json.dumps({"insights": args.insights, "clients": args.clients,
                      "workers": args.workers, **built, **figures,
                      "cpus": os.cpu_count(), "load_avg_1m": load_avg}))  # fmt: skip


if __name__ == "__main__":
    main()
