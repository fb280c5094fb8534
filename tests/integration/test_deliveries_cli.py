"""`podbrief deliveries [--json]` in a real process over a SQLite data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.db import create_engine, migrate, session_factory, transaction
from core.delivery.ratelimit import RateLimiters
from core.delivery.service import deliver_due
from core.delivery.types import DeliveryConfig
from core.models import User
from tests.fakes.brief_rows import add_episode, add_feed, add_insight
from tests.fakes.clock import FakeClock
from tests.fakes.messenger import FakeMessenger, FakeTimer

PODBRIEF = Path(sys.executable).parent / "podbrief"


async def _seed(data_dir: Path) -> None:
    """Two recipients due an hour ago (by the real clock): one gets a brief, one blocked us."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    engine = create_engine(f"sqlite:///{data_dir / 'podbrief.sqlite3'}")
    await migrate(engine)
    sessions = session_factory(engine)
    feed = await add_feed(sessions, "CLI show")
    episode = await add_episode(sessions, feed, "CLI episode")
    for i in range(6):
        await add_insight(
            sessions,
            episode,
            feed,
            headline=f"insight {i}",
            score=0.5,
            created_at=now - timedelta(hours=5),
        )
    due = now - timedelta(hours=1)
    async with transaction(sessions) as session:
        for chat in ("42", "43"):
            session.add(
                User(
                    platform="telegram",
                    external_id=chat,
                    timezone="UTC",
                    delivery_time=f"{due:%H:%M}",
                    created_at=now - timedelta(days=2),
                )
            )
    messenger = FakeMessenger("telegram")
    messenger.blocked["43"] = "Forbidden: bot was blocked by the user"
    await deliver_due(
        sessions,
        FakeClock(now),
        {"telegram": messenger},
        config=DeliveryConfig(worker="cli-test"),
        limiters=RateLimiters(FakeTimer()),
    )
    await engine.dispose()


def _run(args: list[str], data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODBRIEF_", "OPENAI_"))}
    env.update(
        PODBRIEF_DATA_DIR=str(data_dir),
        COLUMNS="200",
        TERM="dumb",
        PODBRIEF_CONFIG=str(data_dir / "none.toml"),
    )
    done = subprocess.run(
        [str(PODBRIEF), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


async def test_deliveries_shows_today_as_json_and_as_a_table(tmp_path: Path) -> None:
    await _seed(tmp_path)
    data = json.loads(_run(["deliveries", "--json"], tmp_path))
    assert data["counts"] == {"sent": 1, "failed": 1}
    assert data["inactive"] == 1
    rows = {row["chat_id"]: row for row in data["rows"]}
    assert rows["42"]["status"] == "sent" and rows["42"]["sent_at"]
    assert rows["43"]["error"] == "Forbidden: bot was blocked by the user"
    assert rows["42"]["last_latency_ms"] is not None
    table = _run(["deliveries"], tmp_path)
    assert "1 sent" in table and "1 failed" in table and "bot was blocked" in table
