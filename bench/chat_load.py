"""Chat load: many concurrent chats against ONE `podbrief run`, through the real Telegram webhook
and the real signed Slack HTTP endpoint, with no LLM.

    python bench/chat_load.py [--chats 50 500] [--db sqlite postgres] [--minutes 1]

Half the chats are Telegram private chats (updates POSTed to the webhook by the Bot API emulator),
half Slack DMs (events and button presses signed like Slack signs them); the loopback fakes of
both APIs receive the replies. Each chat repeats a realistic mix: brief, related N, source N, a
search, feedback and a button press, with a pause between messages (people read). The pause is
long enough to keep the Telegram chats under the bot's overall 30 messages a second (Telegram's
own limit, which podbrief keeps) and its 1 a second per chat.

Latency is from the update leaving the fake platform to the first reply reaching it. Memory is
the RSS of the `podbrief run` process, sampled every few seconds. The library comes from the
bundled sample shows (`podbrief demo`). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import aiohttp
import httpx
import psycopg
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cli_process import PODBRIEF, clean_env, free_port  # noqa: E402
from tests.fakes.slack_api import Call, FakeSlack, Posted, Workspace  # noqa: E402
from tests.fakes.slack_harness import BOT_TOKEN, SIGNING_SECRET, TEAM, SlackSide  # noqa: E402
from tests.fakes.telegram_api import Sent, TelegramApiEmulator  # noqa: E402
from tests.fakes.telegram_rules import parse_params  # noqa: E402
from tests.http_server import serve  # noqa: E402

PG_ADMIN = os.environ.get("PODBRIEF_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MIX = ["brief", "related 2", "source 1", "anything about sleep?", "👍 2", "button"]
REPLY_TIMEOUT = 30.0


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    by_platform: dict[str, list[float]] = field(default_factory=dict)
    sent: int = 0  # messages and presses the chats sent during the load
    errors: int = 0
    errors_by: dict[str, int] = field(default_factory=dict)
    # Messages beyond the first of a reply (a reply split in several): each one takes a
    # second of the chat's Telegram pace, so the chat's next reply may wait behind it.
    extra_messages: int = 0
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds in, MB)
    cpu_seconds: float = 0.0  # CPU time of `podbrief run` during the load
    loop_cpu_seconds: float = 0.0  # of which its main thread (the event loop)
    stop_seconds: float | None = None  # from SIGTERM to exit
    bench_cpu_seconds: float = 0.0  # CPU time of this load generator (fakes and chats)
    load_seconds: float = 0.0  # wall time of the load
    first_contact_seconds: float = 0.0  # every chat's first message, before the clock
    # The floor on this machine, measured in the same run: podbrief answering a request that
    # does no work (a 404), and how late this bench's own timers fire.
    probe: list[float] = field(default_factory=list)
    bench_lag: list[float] = field(default_factory=list)
    trace: list[tuple[float, str, Any, str]] | None = None  # (time, event, chat, detail)

    def note(self, event: str, chat: Any, detail: str = "") -> None:
        if self.trace is not None:
            self.trace.append((time.monotonic(), event, chat, detail))

    def took(self, platform: str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.by_platform.setdefault(platform, []).append(seconds)

    def error(self, what: str) -> None:
        self.errors += 1
        self.errors_by[what] = self.errors_by.get(what, 0) + 1

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return (
                round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)
                if ordered
                else None
            )

        wall = self.load_seconds or 1.0
        return {
            "sent": self.sent,
            "offered_per_second": round(self.sent / wall, 1),
            "replies": len(ordered),
            "errors": self.errors,
            "errors_by": self.errors_by,
            "extra_messages": self.extra_messages,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
            **{
                f"{name}_p{p}_ms": round(sorted(values)[int(p / 100 * (len(values) - 1))] * 1000, 1)
                for name, values in self.by_platform.items()
                for p in (50, 99)
            },
            **{
                f"{name}_p{p}_ms": round(sorted(values)[int(p / 100 * (len(values) - 1))] * 1000, 1)
                for name, values in (("noop_probe", self.probe), ("bench_lag", self.bench_lag))
                if values
                for p in (50, 99)
            },
            "cpu_ms_per_reply": round(self.cpu_seconds * 1000 / len(ordered), 1)
            if ordered
            else None,
            "loop_cpu_ms_per_reply": round(self.loop_cpu_seconds * 1000 / len(ordered), 1)
            if ordered
            else None,
            "bench_cpu_share": round(self.bench_cpu_seconds / wall, 2),
            "podbrief_cpu_share": round(self.cpu_seconds / wall, 2),
            "stop_seconds": self.stop_seconds,
            "first_contact_seconds": round(self.first_contact_seconds, 1),
            "rss_mb_start": self.rss_mb[0][1] if self.rss_mb else None,
            "rss_mb_end": self.rss_mb[-1][1] if self.rss_mb else None,
            "rss_mb_samples": self.rss_mb,
        }


def cpu_seconds(pid: int, stat: str = "") -> float:
    """User + system CPU time the process has used so far (less load-sensitive than latency)."""
    fields = Path(stat or f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main_thread_cpu_seconds(pid: int) -> float:
    """CPU time of the process's main thread (the event loop), without its worker threads."""
    return cpu_seconds(pid, f"/proc/{pid}/task/{pid}/stat")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Inbox:
    """What the bot sent to one chat: how many, when each arrived, the last with buttons.

    Each chat waits on its own inbox, so a reply wakes one waiter. (Waiting with the fakes'
    ``wait_for`` woke every chat on every reply, and each scanned all messages sent so far:
    O(chats x messages) per reply, which at 500 chats made the bench measure itself.)
    """

    def __init__(self) -> None:
        self.arrived: list[float] = []
        self.last_with_buttons: Any = None
        self._changed = asyncio.Event()

    def add(self, message: Any, has_buttons: bool) -> None:
        self.arrived.append(time.monotonic())
        if has_buttons:
            self.last_with_buttons = message
        self._changed.set()

    async def arrival_of(self, index: int, within: float) -> float:
        """When message number ``index`` (0-based) to this chat arrived, waiting for it."""
        async with asyncio.timeout(within):
            while len(self.arrived) <= index:
                self._changed.clear()
                await self._changed.wait()
        return self.arrived[index]


@dataclass
class LoadTelegram(TelegramApiEmulator):
    """The emulator, plus per-chat inboxes, and webhook deliveries over kept-alive connections
    (at most 40 at once, Telegram's default ``max_connections``) instead of a new one each."""

    inboxes: dict[int, Inbox] = field(default_factory=lambda: defaultdict(Inbox))
    refused_deliveries: int = 0
    figures: Figures | None = None  # where calls are traced (--trace)
    _http: aiohttp.ClientSession | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        if self.figures is None or self.figures.trace is None:
            return await super()._handle(request)
        params = parse_params(dict(await request.post()))  # aiohttp keeps the parsed body
        chat = params.get("chat_id")
        self.figures.note("call", chat, request.match_info["method"])
        response = await super()._handle(request)
        self.figures.note("answered", chat, request.match_info["method"])
        return response

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        message = await super()._m_sendMessage(params)
        sent: Sent = self.sent[-1]
        self.inboxes[sent.chat_id].add(sent, bool(sent.buttons()))
        return message

    async def _deliver(self, update: dict[str, Any]) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=40))
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret or ""}
        if self.figures is not None:
            holder = update.get("message") or update.get("callback_query", {}).get("message", {})
            self.figures.note("webhook", holder.get("chat", {}).get("id"), "POST")
        for attempt in range(50):
            try:
                async with self._http.post(self.webhook_url, json=update, headers=headers) as r:
                    status = r.status
            except aiohttp.ClientConnectionError:
                status = 0
            if 200 <= status < 300 or self._closing:
                return
            self.refused_deliveries += 1
            await asyncio.sleep(0.05 * (attempt + 1))

    def forget_history(self) -> None:
        """Drop the request logs the bench does not read (a long run would grow them)."""
        self.sent.clear()
        self.calls.clear()
        self.attempts.clear()
        self.webhook_statuses.clear()

    async def close(self) -> None:
        await super().close()
        if self._http is not None:
            await self._http.close()


@dataclass
class LoadSlack(FakeSlack):
    """The fake Slack API, plus per-channel inboxes of the messages posted."""

    inboxes: dict[str, Inbox] = field(default_factory=lambda: defaultdict(Inbox))

    def _chat_postMessage(self, call: Call, ws: Workspace) -> dict[str, Any]:
        answer = super()._chat_postMessage(call, ws)
        if answer.get("ok"):
            posted: Posted = self.messages[-1]
            self.inboxes[posted.channel].add(posted, bool(posted.buttons()))
        return answer

    def forget_history(self) -> None:
        self.calls.clear()
        self.messages.clear()
        self.ephemeral.clear()
        self.responses.clear()


async def telegram_chat(
    api: LoadTelegram,
    chat: int,
    until: float,
    think: float,
    figures: Figures,
    rng: random.Random,
) -> None:
    inbox = api.inboxes[chat]
    await asyncio.sleep(think * rng.random())  # chats start spread out, not all at once
    step = rng.randrange(len(MIX))
    expected = 1  # messages this chat should have had: one per reply
    while time.monotonic() < until:
        await asyncio.sleep(think * rng.uniform(0.7, 1.3))
        what = MIX[step % len(MIX)]
        step += 1
        before = len(inbox.arrived)
        if expected >= 0:  # unknown after a reply that did not come in time
            figures.extra_messages += max(0, before - expected)
        expected = before + 1
        started = time.monotonic()
        if what == "button":
            last = inbox.last_with_buttons
            if last is None:
                expected -= 1
                continue
            figures.note("in", chat, what)
            await api.press(chat, last.message_id, last.buttons()[0]["callback_data"])
        else:
            figures.note("in", chat, what)
            await api.send_text(chat, what)
        figures.sent += 1
        try:
            arrived = await inbox.arrival_of(before, within=REPLY_TIMEOUT)
            figures.took("telegram", arrived - started)
            figures.note("counted", chat, f"{(arrived - started) * 1000:.0f} ms")
        except TimeoutError:
            figures.error(f"telegram {what}")
            expected = -1


async def _or_error(request: Any) -> httpx.Response | Exception:
    """A refused or dropped connection is an error to count, not the end of the run."""
    try:
        response: httpx.Response = await request
    except httpx.HTTPError as exc:
        return exc
    return response


async def slack_chat(
    fake: LoadSlack,
    side: SlackSide,
    n: int,
    until: float,
    think: float,
    figures: Figures,
    rng: random.Random,
) -> None:
    user, dm = f"UL{n:05d}", f"DL{n:05d}"
    inbox = fake.inboxes[dm]
    step = rng.randrange(len(MIX))
    expected = 1  # messages this chat should have had: one per reply (the first: its hello)
    await asyncio.sleep(think * rng.random())  # chats start spread out, not all at once
    while time.monotonic() < until:
        await asyncio.sleep(think * rng.uniform(0.7, 1.3))
        what = MIX[step % len(MIX)]
        step += 1
        before = len(inbox.arrived)
        if expected >= 0:  # unknown after a reply that did not come in time
            figures.extra_messages += max(0, before - expected)
        expected = before + 1
        started = time.monotonic()
        if what == "button":
            last = inbox.last_with_buttons
            if last is None:
                expected -= 1
                continue
            response = await _or_error(
                side.press(
                    last.buttons()[0],
                    channel=dm,
                    message_ts=last.ts,
                    thread_ts=last.thread_ts,
                    user=user,
                )
            )
        else:
            response = await _or_error(
                side.event(
                    {
                        "type": "message",
                        "channel_type": "im",
                        "channel": dm,
                        "user": user,
                        "text": what,
                        "ts": f"{time.time():.6f}",
                    }
                )
            )
        figures.sent += 1
        if isinstance(response, Exception):
            figures.error(f"{what}: {type(response).__name__}")
            continue
        if response.status_code != 200:
            figures.error(f"{what}: HTTP {response.status_code}")
            continue
        try:
            arrived = await inbox.arrival_of(before, within=REPLY_TIMEOUT)
            figures.took("slack", arrived - started)
        except TimeoutError:
            figures.error(f"slack {what}")
            expected = -1


async def first_contact(
    api: LoadTelegram, fake: LoadSlack, side: SlackSide, telegram_n: int, slack_n: int
) -> float:
    """Every chat says its first message before the clock starts (Telegram: /compact on, so
    each reply is one message and countable; Slack: help) and gets its answer: the bench
    measures chats that are talking, not 500 people all meeting the bot in the same minute
    (which queues every first contact's writes on SQLite's one writer; its time is
    printed). Seconds it took."""
    started = time.monotonic()
    gate = asyncio.Semaphore(50)

    async def telegram(chat: int) -> None:
        async with gate:
            await api.send_text(chat, "/compact on")
            await api.inboxes[chat].arrival_of(0, within=120)

    async def slack(n: int) -> None:
        user, dm = f"UL{n:05d}", f"DL{n:05d}"
        async with gate:
            hello = {"type": "message", "channel_type": "im", "channel": dm, "user": user,
                     "text": "help", "ts": f"{time.time():.6f}"}  # fmt: skip
            response = await side.event(hello)
            response.raise_for_status()
            await fake.inboxes[dm].arrival_of(0, within=120)

    async with asyncio.TaskGroup() as group:
        for n in range(telegram_n):
            group.create_task(telegram(100_000 + n))
        for n in range(slack_n):
            group.create_task(slack(n))
    return time.monotonic() - started


async def warm_up(api: LoadTelegram) -> None:
    """One search before the clock starts: the first fits the test embedder (LSA) on the
    library, seconds of CPU a deployment pays once per start, not per reply."""
    chat = 99_999
    await api.send_text(chat, "anything about sleep?")
    await api.inboxes[chat].arrival_of(0, within=120)


def prepare_library(env: dict[str, str]) -> None:
    """The bundled sample shows, ingested and extracted, as `make demo` does."""
    done = subprocess.run(
        [str(PODBRIEF), "demo"],
        input="quit\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"podbrief demo failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


async def wait_listening(port: int) -> None:
    async with asyncio.timeout(120):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.2)
                continue
            writer.close()
            return


async def run_once(
    chats: int,
    db: str,
    minutes: float,
    tmp: Path,
    think_seconds: float | None,
    profile: Path | None = None,
    trace: Path | None = None,
    log_to: Path | None = None,
) -> dict[str, Any]:
    api, fake = LoadTelegram(), LoadSlack()
    fake.add_workspace(TEAM, BOT_TOKEN)
    slack_n = chats // 2
    for n in range(slack_n):
        fake.add_user(f"UL{n:05d}")
    port = free_port()
    extra: dict[str, str] = {}
    pg_name = f"podbrief_load_{os.getpid()}"
    if db == "postgres":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_name}")
            conn.execute(f"CREATE DATABASE {pg_name}")
        extra["PODBRIEF_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_name
    data = tmp / f"{db}-{chats}"
    prepare_library(clean_env(data, **extra))
    figures = Figures(trace=[] if trace is not None else None)
    api.figures = figures
    telegram_n = chats - slack_n
    # Each chat waits for the reply, then ~think seconds (a person reads it and types) before
    # its next message: 5 s, a brisk human pace, or more so the Telegram half offers at most
    # 15 messages a second, half of the bot's 30 a second in all (Telegram's own limit, which
    # podbrief keeps: at the limit replies would queue there by design).
    think = think_seconds if think_seconds is not None else max(5.0, telegram_n / 15)
    async with serve(api.app()) as tg_url, serve(fake.app()) as slack_url:
        env = clean_env(
            data,
            **extra,
            PODBRIEF_TELEGRAM_TOKEN=api.token,
            PODBRIEF_TELEGRAM_BASE_URL=api.base_url(tg_url),
            PODBRIEF_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook/telegram",
            PODBRIEF_TELEGRAM_WEBHOOK_SECRET="load-test-secret",
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            PODBRIEF_SLACK_API_URL=f"{slack_url}/api/",
            PODBRIEF_HTTP_PORT=str(port),
        )
        log = None
        if log_to is not None:  # open for the process's whole life, closed when it ends
            log_path = log_to.with_name(f"{log_to.stem}-{db}-{chats}{log_to.suffix}")
            log = log_path.open("wb")
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, not on a hot path
            [str(PODBRIEF), "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log or subprocess.DEVNULL,
        )
        try:
            await wait_listening(port)
            await api.wait_for(lambda: bool(api.webhook_url), within=120)
            limits = httpx.Limits(max_connections=200)
            async with httpx.AsyncClient(limits=limits, timeout=REPLY_TIMEOUT) as http:
                side = SlackSide(http, f"http://127.0.0.1:{port}", slack_url)
                await warm_up(api)
                figures.first_contact_seconds = await first_contact(
                    api, fake, side, telegram_n, slack_n
                )
                api.forget_history()
                fake.forget_history()
                started = time.monotonic()
                cpu_before = cpu_seconds(process.pid)
                loop_cpu_before = main_thread_cpu_seconds(process.pid)
                bench_cpu_before = time.process_time()
                until = started + minutes * 60
                spy = None
                if profile is not None:  # py-spy must be installed (pip install py-spy)
                    out = profile.with_name(f"{profile.stem}-{db}-{chats}{profile.suffix}")
                    spy = subprocess.Popen(  # noqa: ASYNC220 - started once
                        ["py-spy", "record", "--pid", str(process.pid), "--format", "raw", "--gil",
                         "--rate", "200", "--duration", str(int(minutes * 60)), "--nonblocking",
                         "-o", str(out)],
                        stdout=subprocess.DEVNULL,
                    )  # fmt: skip

                async def sample_memory() -> None:
                    """RSS every 5 s (every 30 s after the first minute), printed once a
                    minute in long runs, so a leak shows as it grows."""
                    printed = 0
                    while time.monotonic() < until:
                        at = round(time.monotonic() - started)
                        figures.rss_mb.append((at, rss_mb(process.pid)))
                        if minutes > 1 and at // 60 > printed:
                            printed = at // 60
                            print(
                                f"  {printed:3} min: RSS {figures.rss_mb[-1][1]} MB, "
                                f"{len(figures.latencies)} replies, {figures.errors} errors",
                                flush=True,
                            )
                            api.forget_history()
                            fake.forget_history()
                        await asyncio.sleep(5 if at < 60 else 30)

                async def probe() -> None:
                    """Five times a second: a request podbrief answers without any work (an
                    unknown path), and how late this bench's own sleep woke."""
                    while time.monotonic() < until:
                        asked = time.monotonic()
                        try:
                            await http.get(f"http://127.0.0.1:{port}/load-probe")
                            figures.probe.append(time.monotonic() - asked)
                        except httpx.HTTPError:
                            figures.error("probe")
                        slept = time.monotonic()
                        await asyncio.sleep(0.2)
                        figures.bench_lag.append(max(0.0, time.monotonic() - slept - 0.2))

                async with asyncio.TaskGroup() as group:
                    group.create_task(sample_memory())
                    group.create_task(probe())
                    for n in range(telegram_n):
                        group.create_task(
                            telegram_chat(api, 100_000 + n, until, think, figures, random.Random(n))
                        )
                    for n in range(slack_n):
                        group.create_task(
                            slack_chat(fake, side, n, until, think, figures, random.Random(-n))
                        )
            figures.rss_mb.append((round(time.monotonic() - started), rss_mb(process.pid)))
            figures.cpu_seconds = cpu_seconds(process.pid) - cpu_before
            figures.loop_cpu_seconds = main_thread_cpu_seconds(process.pid) - loop_cpu_before
            figures.bench_cpu_seconds = time.process_time() - bench_cpu_before
            figures.load_seconds = time.monotonic() - started
            if spy is not None:
                await asyncio.to_thread(spy.wait, 60)
        finally:
            process.terminate()
            stopping = time.monotonic()
            try:
                # In a thread: the fake APIs live on this loop and must keep answering the
                # replies still on their way while podbrief stops.
                await asyncio.to_thread(process.wait, 60)
            except subprocess.TimeoutExpired:  # reported: SIGTERM under load took too long
                print("podbrief run did not stop within 60 s of SIGTERM; killed", flush=True)
                process.kill()
                process.wait()
            figures.stop_seconds = round(time.monotonic() - stopping, 2)
            if log is not None:
                log.close()
            await api.close()
            if db == "postgres":
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
    if trace is not None and figures.trace is not None:
        path = trace.with_name(f"{trace.stem}-{db}-{chats}{trace.suffix}")
        origin = figures.trace[0][0] if figures.trace else 0.0
        path.write_text(
            "".join(
                json.dumps([round((at - origin) * 1000, 1), event, chat, detail]) + "\n"
                for at, event, chat, detail in figures.trace
            )
        )
    result = {
        "db": db,
        "chats": chats,
        "minutes": minutes,
        "think_seconds": round(think, 1),
        **figures.summary(),
        "webhook_retries": api.refused_deliveries,
    }
    target = 100 if chats <= 50 else 500
    result["target_p99_ms"] = target
    print(
        f"{db:8} {chats:4} chats: {result['replies']} replies, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms (target < {target}), errors {result['errors']}, "
        f"CPU {result['cpu_ms_per_reply']} ms/reply "
        f"({result['loop_cpu_ms_per_reply']} on the event loop), "
        f"stopped in {result['stop_seconds']} s, "
        f"RSS {result['rss_mb_start']} -> {result['rss_mb_end']} MB; offered "
        f"{result['offered_per_second']} msg/s, {result['extra_messages']} messages beyond one "
        f"per reply, bench's own CPU {result['bench_cpu_share']:.0%}; floor on this machine now: "
        f"a no-op request p50 {result.get('noop_probe_p50_ms')} / p99 "
        f"{result.get('noop_probe_p99_ms')} ms, bench timer lag p99 "
        f"{result.get('bench_lag_p99_ms')} ms; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, nargs="+", default=[50, 500])
    parser.add_argument(
        "--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=1.0,
        help="load per run (the issue asks for 30 to show leaks)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=None,
        help="seconds a chat waits after a reply before its next message "
        "(default: 5, or more so the Telegram half offers at most 15 a second)",
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="FILE",
        help="record a py-spy profile (collapsed stacks) of `podbrief run` during the load",
    )
    parser.add_argument(
        "--log",
        type=Path,
        default=None,
        metavar="FILE",
        help="keep the log (stderr) of `podbrief run`, one file per run",
    )
    parser.add_argument(
        "--trace",
        type=Path,
        default=None,
        metavar="FILE",
        help="write every Telegram update in, Bot API call and counted reply with its time "
        "(JSON lines), to see what a slow reply waited for",
    )
    args = parser.parse_args()
    results = []
    with TemporaryDirectory() as tmp:
        for chats in args.chats:
            for db in args.db:
                run = run_once(
                    chats,
                    db,
                    args.minutes,
                    Path(tmp),
                    args.think,
                    args.py_spy,
                    args.trace,
                    args.log,
                )
                results.append(await run)
    print(json.dumps({"bench": "chat_load", "loadavg": os.getloadavg()[0], "runs": results}))


if __name__ == "__main__":
    asyncio.run(main())
