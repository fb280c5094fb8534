"""How fast the insight page is served: `/insights/{id}` over loopback with 50 clients.

Builds a SQLite library of 100,000 insights (the real schema; 1,000 shows' worth of episodes,
6 related insights each, 1–2 topics), starts the real server (`podbrief web --workers 2`, or
with --workers 0 `podbrief run --role chat`, one process) with PODBRIEF_PUBLIC_URL set, then 50
concurrent keep-alive clients request insight pages at random ids over the whole library.

    .venv/bin/python bench/web.py [--insights 100000] [--seconds 10] [--clients 50]
                                  [--rate 500] [--workers 2] [--client auto|wrk|python]
                                  [--library PATH]

Two runs: the 50 clients as fast as the server answers (throughput, and latency at
saturation), then 50 clients paced at --rate requests per second in all (latency at that load,
counted from when each request was due, so a late start is latency too). The load generator
shares the machine's cores with the server: the saturated run uses `wrk` (C, one thread) when
it is installed, else a Python client of raw asyncio streams (it costs the server CPU time:
see client_cpu_ms_per_request); the paced run always uses the Python client (wrk 4 cannot
pace). The server's own CPU time per page is reported too: on a shared, loaded machine it is
the steadier figure. Targets: p99 under 50 ms and at least 500 requests per second on 2
cores; the last line printed is one JSON object, with the targets and whether they are met.

The bound, measured in the same run with the same load generator, clients, seconds and
number of processes: the engine alone (bench/web_floor.py), the same uvicorn + Starlette
serving code answering every `/insights/{id}` with one fixed body the size of a real page, no
SQL and no template. The JSON's `bound_cpu_ratio` is the server CPU per page over the
engine's per response (the steadier figure on a shared machine), `bound_rps_ratio` the
engine's requests/s over the pages'.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
TARGET_P99_MS = 50.0
TARGET_RPS = 500.0
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
    topic_rows: list[tuple[int, str]] = []
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


def start_floor(port: int, workers: int, body_bytes: int) -> subprocess.Popen[bytes]:
    """The bound: the same serving code answering with a fixed body (bench/web_floor.py)."""
    floor = Path(__file__).resolve().parent / "web_floor.py"
    command = [sys.executable, str(floor), str(port), str(max(1, workers)), str(body_bytes)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


async def page_bytes(port: int, insights: int, seed: int, pages: int = 20) -> int:
    """The median body size of ``pages`` random insight pages: what the bound sends."""
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        sizes = sorted([(await get(reader, writer, f"/insights/{rng.randint(1, insights)}"))[1]
                        for _ in range(pages)])  # fmt: skip
    finally:
        writer.close()
    return sizes[len(sizes) // 2]


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
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    at = head.find(b"\r\ncontent-length:") + 17
    length = int(head[at : head.find(b"\r\n", at)]) if at > 16 else 0
    body = await reader.readexactly(length)
    return int(head[9:12]), len(body)


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


async def python_load(
    port: int, insights: int, clients: int, seconds: float, seed: int, rate: float | None = None
) -> dict[str, float]:
    """``clients`` keep-alive connections requesting random insight pages for ``seconds``:
    as fast as the server answers (``rate`` None), or ``rate`` requests per second in all,
    each latency then counted from when the request was due."""
    rng = random.Random(seed)
    latencies: list[float] = []
    errors = 0
    interval = clients / rate if rate else 0.0
    began = time.perf_counter()
    end = began + seconds

    async def client(offset: float) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            n = 0
            while True:
                due = began + offset + n * interval if rate else time.perf_counter()
                if due >= end:
                    return
                n += 1
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                status, size = await get(reader, writer, f"/insights/{rng.randint(1, insights)}")
                latencies.append(time.perf_counter() - due)
                if status != 200 or size < 1000:
                    errors += 1
        finally:
            writer.close()

    cpu = time.process_time()
    await asyncio.gather(*(client(interval * k / clients) for k in range(clients)))
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu
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
        "client_cpu_ms_per_request": round(cpu * 1000 / len(latencies), 3),
    }


WRK_SCRIPT = """
math.randomseed(%(seed)d)
request = function()
  return wrk.format("GET", "/insights/" .. math.random(1, %(insights)d))
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    summary.bytes, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk_load(
    wrk: str, port: int, insights: int, clients: int, seconds: float, seed: int, workdir: Path
) -> dict[str, float]:
    """The same closed loop with `wrk` (one thread; its Lua script picks the random ids)."""
    script = workdir / "random_insight.lua"
    script.write_text(WRK_SCRIPT % {"seed": seed, "insights": insights})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [wrk, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
         "-s", str(script), f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(line for line in done.stdout.splitlines() if line.startswith("WRK "))
    requests, duration_us, size, p50, p90, p99, most, errors = map(int, line.split()[1:])
    if requests and size / requests < 1000:
        errors = max(errors, 1)  # pages too small to be insight pages
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "requests": requests,
        "errors": errors,
        "p50_ms": p50 / 1000,
        "p90_ms": p90 / 1000,
        "p99_ms": p99 / 1000,
        "max_ms": most / 1000,
        "rps": round(requests / (duration_us / 1e6), 1),
        "client_cpu_ms_per_request": round(cpu * 1000 / max(1, requests), 3),
    }


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


def saturate(
    port: int, args: argparse.Namespace, wrk: str | None, seconds: float, seed: int,
    workdir: Path,
) -> dict[str, float]:  # fmt: skip
    if wrk:
        return wrk_load(wrk, port, args.insights, args.clients, seconds, seed, workdir)
    return asyncio.run(python_load(port, args.insights, args.clients, seconds, seed))


def saturated_run(
    port: int, server: subprocess.Popen[bytes], args: argparse.Namespace, wrk: str | None,
    workdir: Path,
) -> dict[str, float]:  # fmt: skip
    """Warm up, then the clients as fast as answered; with the server's CPU per request."""
    asyncio.run(wait_until_up(port, server))
    saturate(port, args, wrk, 3, args.seed + 1, workdir)  # warm up (and the page cache)
    cpu_before = cpu_seconds(server.pid)
    saturated = saturate(port, args, wrk, args.seconds, args.seed, workdir)
    # The server's own CPU per page: what a loaded machine's wall-clock figures cannot show.
    cpu_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / saturated["requests"]
    return {**saturated, "server_cpu_ms_per_request": round(cpu_ms, 3)}


def measure(
    port: int, server: subprocess.Popen[bytes], args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    wrk = shutil.which("wrk") if args.client in ("auto", "wrk") else None
    if args.client == "wrk" and not wrk:
        raise SystemExit("--client wrk: wrk is not installed")
    saturated = saturated_run(port, server, args, wrk, workdir)
    cpu_ms = saturated["server_cpu_ms_per_request"]
    paced = asyncio.run(
        python_load(port, args.insights, args.clients, args.seconds, args.seed + 2, args.rate)
    )
    body_bytes = asyncio.run(page_bytes(port, args.insights, args.seed + 3))
    return {
        "client": "wrk" if wrk else "python",
        **saturated,
        "rps_per_core": round(1000 / cpu_ms, 1) if cpu_ms else 0.0,
        "at_rate_rps": args.rate,
        "at_rate_p50_ms": paced["p50_ms"],
        "at_rate_p90_ms": paced["p90_ms"],
        "at_rate_p99_ms": paced["p99_ms"],
        "at_rate_achieved_rps": paced["rps"],
        "at_rate_errors": paced["errors"],
        "at_rate_client_cpu_ms_per_request": paced["client_cpu_ms_per_request"],
        "page_bytes": body_bytes,
    }


def measure_bound(
    args: argparse.Namespace, workdir: Path, figures: dict[str, Any]
) -> dict[str, Any]:
    """The engine alone under the same load, and the pages' figures against it."""
    wrk = shutil.which("wrk") if figures["client"] == "wrk" else None
    port = free_port()
    floor = start_floor(port, args.workers, figures["page_bytes"])
    try:
        bound = saturated_run(port, floor, args, wrk, workdir)
    finally:
        floor.terminate()
        floor.wait(timeout=30)
    cpu_ms = bound["server_cpu_ms_per_request"]
    return {
        "bound_rps": bound["rps"],
        "bound_p50_ms": bound["p50_ms"],
        "bound_p99_ms": bound["p99_ms"],
        "bound_errors": bound["errors"],
        "bound_server_cpu_ms_per_request": cpu_ms,
        "bound_cpu_ratio": round(figures["server_cpu_ms_per_request"] / cpu_ms, 2)
        if cpu_ms
        else None,
        "bound_rps_ratio": round(bound["rps"] / figures["rps"], 2) if figures["rps"] else None,
    }


def targets(figures: dict[str, Any], rate: float) -> dict[str, Any]:
    """The issue's targets (p99 under 50 ms, at least 500 requests/s with 50 clients on two
    cores), judged both at the target rate and with the clients as fast as answered."""
    kept_up = figures["at_rate_achieved_rps"] >= 0.98 * rate
    return {
        "target_p99_ms": TARGET_P99_MS,
        "target_rps": TARGET_RPS,
        "rps_met": figures["rps"] >= TARGET_RPS and figures["errors"] == 0,
        "p99_met_at_target_rate": rate >= TARGET_RPS
        and kept_up
        and figures["at_rate_p99_ms"] < TARGET_P99_MS
        and figures["at_rate_errors"] == 0,
        "p99_met_saturated": figures["p99_ms"] < TARGET_P99_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--insights", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=int, default=500, help="paced run: requests/s in all")
    parser.add_argument(
        "--workers", type=int, default=2,
        help="`podbrief web --workers N` processes; 0: `podbrief run --role chat` (one process)",
    )  # fmt: skip
    parser.add_argument(
        "--client", choices=("auto", "wrk", "python"), default="auto",
        help="load generator of the saturated run (auto: wrk when installed)",
    )  # fmt: skip
    parser.add_argument(
        "--library", type=Path, help="keep the built library here and reuse it next time"
    )
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = args.library or workdir / "web.sqlite3"
        if args.library and args.library.exists():
            built: dict[str, float] = {"build_s": 0.0, "db_mb": db.stat().st_size >> 20}
            print(f"library: reusing {db}")
        else:
            built = build_library(db, args.insights, args.seed)
            print(f"library: {args.insights:,} insights, {built['db_mb']} MB, built in "
                  f"{built['build_s']} s")  # fmt: skip
        port = free_port()
        server = start_server(db, port, workdir, args.workers)
        try:
            figures = measure(port, server, args, workdir)
        finally:
            server.terminate()
            server.wait(timeout=30)
        figures |= measure_bound(args, workdir, figures)
    load_avg = round(os.getloadavg()[0], 2)
    met = targets(figures, args.rate)
    print(
        f"/insights/{{id}} paced at {args.rate} requests/s over {args.clients} connections "
        f"(python client): p50 {figures['at_rate_p50_ms']} ms, p99 {figures['at_rate_p99_ms']} "
        f"ms ({figures['at_rate_achieved_rps']} requests/s achieved, "
        f"{figures['at_rate_errors']} errors)"
    )
    print(
        f"/insights/{{id}} with {args.clients} clients as fast as answered ({figures['client']} "
        f"client, {figures['client_cpu_ms_per_request']} ms CPU per request): "
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, {figures['rps']} requests/s "
        f"({figures['errors']} errors; {os.cpu_count()} CPUs, load average {load_avg}); "
        f"server CPU {figures['server_cpu_ms_per_request']} ms per page, "
        f"{figures['rps_per_core']} pages/s per core"
    )
    print(
        f"bound, the engine alone (same server code, a fixed {figures['page_bytes']}-byte "
        f"body, same client and load): {figures['bound_rps']} requests/s, p50 "
        f"{figures['bound_p50_ms']} ms, p99 {figures['bound_p99_ms']} ms, server CPU "
        f"{figures['bound_server_cpu_ms_per_request']} ms per response; pages/bound: CPU "
        f"{figures['bound_cpu_ratio']}x, requests/s 1/{figures['bound_rps_ratio']}"
    )
    print(
        f"targets: >= {TARGET_RPS:.0f} requests/s {'met' if met['rps_met'] else 'NOT met'}; "
        f"p99 < {TARGET_P99_MS:.0f} ms at {args.rate}/s "
        f"{'met' if met['p99_met_at_target_rate'] else 'NOT met'}, "
        f"as fast as answered {'met' if met['p99_met_saturated'] else 'NOT met'}"
    )
    print(json.dumps({"insights": args.insights, "clients": args.clients,
                      "workers": args.workers, "seconds": args.seconds, **built, **figures,
                      **met, "cpus": os.cpu_count(), "load_avg_1m": load_avg}))  # fmt: skip


if __name__ == "__main__":
    main()
