"""Benchmark: a broadcast through the Telegram adapter under Telegram's default flood limits.

N private chats get 3 messages each and G groups M messages each through
``TelegramMessenger`` (the path scheduled delivery takes), all at once, against the Bot API
emulator on 127.0.0.1 with the production ``RateLimits`` (30 messages a second overall, 1 a
second per chat, 20 a minute per group). Reports the wall time, the overall rate, the busiest
second, the fastest gap between two messages to one chat, and the most messages any group got
in its first minute, and checks that every message arrived exactly once.

Usage: .venv/bin/python bench/telegram_broadcast.py [--chats N] [--groups G] [--group-messages M]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.telegram.app import TelegramConfig, TelegramService
from core.chat.types import ChatRef, Reply, Text
from core.db import create_engine, migrate, session_factory
from tests.fakes.telegram_api import TelegramApiEmulator
from tests.http_server import serve


class NoEngine:
    """The broadcast never reaches the conversation engine; only commands() is asked."""

    async def handle(self, message: object) -> Reply:
        raise AssertionError("no incoming messages in this benchmark")

    def commands(self) -> list[tuple[str, str]]:
        return [("help", "What you can say")]


async def run(chats: int, groups: int, group_messages: int) -> dict[str, object]:
    api = TelegramApiEmulator()
    with tempfile.TemporaryDirectory() as tmp:
        db = create_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        await migrate(db)
        async with serve(api.app()) as url:
            config = TelegramConfig(token=api.token, base_url=api.base_url(url))
            service = TelegramService(config, NoEngine(), session_factory(db))
            await service.application.initialize()
            targets = [ChatRef("telegram", str(1000 + i)) for i in range(chats)]
            for i in range(chats):
                api.private_chat(1000 + i)
            for i in range(groups):
                api.group_chat(-5000 - i, f"group {i}", admins=set())
                targets.append(ChatRef("telegram", str(-5000 - i), is_group=True))
            started = time.monotonic()
            sent = await asyncio.gather(
                *(replies(service, t, group_messages if t.is_group else 3) for t in targets)
            )
            wall = time.monotonic() - started
            await service.application.shutdown()
            await api.close()
        await db.dispose()
    return figures(api, targets, sent, wall, 3 * chats + group_messages * groups)


async def replies(service: TelegramService, chat: ChatRef, count: int) -> list[str]:
    ids: list[str] = []
    for n in range(count):
        ids += await service.messenger.send(chat, Reply(parts=(Text(f"part {n}", "heading"),)))
    return ids


def figures(
    api: TelegramApiEmulator,
    targets: list[ChatRef],
    sent: list[list[str]],
    wall: float,
    expected: int,
) -> dict[str, object]:
    messages = api.sent
    per_chat: dict[int, list[float]] = defaultdict(list)
    for message in messages:
        per_chat[message.chat_id].append(message.at)
    start = min(m.at for m in messages)
    per_second = Counter(int(m.at - start) for m in messages)
    gaps = [b - a for times in per_chat.values() for a, b in itertools.pairwise(sorted(times))]
    group_minute = max(
        (sum(1 for t in times if t - min(times) < 60) for cid, times in per_chat.items()
         if cid < 0),
        default=0,
    )  # fmt: skip
    texts = Counter((m.chat_id, m.text) for m in messages)
    return {
        "chats": len(targets),
        "messages": len(messages),
        "expected": expected,
        "sent_ids": sum(len(ids) for ids in sent),
        "duplicates": sum(n - 1 for n in texts.values() if n > 1),
        "wall_seconds": round(wall, 2),
        "messages_per_second": round(len(messages) / wall, 1),
        "busiest_second": max(per_second.values()),
        "min_gap_same_chat_seconds": round(min(gaps), 3) if gaps else None,
        "max_group_messages_first_minute": group_minute,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--groups", type=int, default=2)
    parser.add_argument("--group-messages", type=int, default=22)
    args = parser.parse_args()
    result = asyncio.run(run(args.chats, args.groups, args.group_messages))
    for key, value in result.items():
        print(f"{key:34} {value}")
    assert result["messages"] == result["expected"] == result["sent_ids"], "lost messages"
    assert result["duplicates"] == 0, "duplicate messages"
    assert int(str(result["max_group_messages_first_minute"])) <= 20, "group flood limit broken"
    assert int(str(result["busiest_second"])) <= 31, "overall flood limit broken"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
