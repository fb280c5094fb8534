"""Daily delivery on SQLite and PostgreSQL with a fake clock and a fake platform."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.brief.compose import compose_brief
from core.chat.types import InsightCard, Text
from core.db import Sessions, transaction
from core.delivery.claim import plan_due
from core.delivery.ratelimit import RateLimiters
from core.delivery.service import deliver_due
from core.delivery.status import delivery_status
from core.delivery.take import take_batch
from core.delivery.types import DeliveryConfig, DeliveryReport
from core.models import Delivery, DeliveryAttempt, User
from core.people import users as people
from tests.fakes.brief_rows import add_episode, add_feed, add_insight
from tests.fakes.clock import FakeClock
from tests.fakes.messenger import FakeMessenger, FakeTimer, ProcessCrash

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 07:00 in Berlin, 01:00 in New York


async def add_recipient(
    sessions: Sessions,
    external_id: str,
    *,
    timezone: str = "Europe/Berlin",
    at: str = "08:00",
    days: str = "daily",
    kind: str = "person",
    platform: str = "telegram",
    onboarded: bool = True,
) -> int:
    async with transaction(sessions) as session:
        user = User(
            platform=platform,
            workspace="",
            external_id=external_id,
            kind=kind,
            timezone=timezone,
            delivery_time=at,
            delivery_days=days,
            onboarded=onboarded,
            created_at=START - timedelta(days=365),
        )
        session.add(user)
        await session.flush()
        return user.id


async def add_insights(sessions: Sessions, count: int, created_at: datetime, tag: str) -> None:
    feed = await add_feed(sessions, f"Show {tag}")
    episode = await add_episode(sessions, feed, f"Episode {tag}")
    for i in range(count):
        await add_insight(
            sessions,
            episode,
            feed,
            headline=f"{tag} insight {i}",
            score=0.5 + i / 100,
            created_at=created_at,
        )


class Harness:
    def __init__(self, sessions: Sessions, clock: FakeClock, worker: str = "w1") -> None:
        self.sessions, self.clock = sessions, clock
        self.messenger = FakeMessenger("telegram")
        self.timer = FakeTimer()
        self.limiters = RateLimiters(self.timer)  # lives as long as the process, like run's
        self.config = DeliveryConfig(worker=worker, concurrency=1)

    async def tick(self) -> DeliveryReport:
        return await deliver_due(
            self.sessions,
            self.clock,
            {"telegram": self.messenger},
            config=self.config,
            limiters=self.limiters,
        )


async def statuses(sessions: Sessions) -> dict[tuple[int, date], str]:
    async with sessions() as session:
        rows = (
            await session.execute(select(Delivery.user_id, Delivery.local_date, Delivery.status))
        ).all()
    return {(r[0], r[1]): r[2] for r in rows}


@pytest.fixture
async def library(sessions: Sessions) -> None:
    await add_insights(sessions, 12, START - timedelta(hours=3), "fresh")


async def test_each_recipient_gets_one_brief_at_their_local_time(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    berlin = await add_recipient(sessions, "100")
    new_york = await add_recipient(sessions, "200", timezone="America/New_York")
    group = await add_recipient(sessions, "-300", kind="group")
    run = Harness(sessions, clock)
    clock.set(START + timedelta(minutes=59))  # 07:59 in Berlin
    assert (await run.tick()).sent == 0
    clock.set(START + timedelta(hours=1))  # 08:00 in Berlin
    report = await run.tick()
    assert report.sent == 2 and sorted(run.messenger.chats()) == ["-300", "100"]
    for minute in range(1, 5):  # later ticks the same day send nothing more
        clock.set(START + timedelta(hours=1, minutes=minute))
        assert (await run.tick()).sent == 0
    clock.set(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))  # 08:00 in New York
    assert (await run.tick()).sent == 1
    assert run.messenger.chats()[-1] == "200"
    _, reply = run.messenger.sent[0]
    assert reply.brief_id is not None and len(reply.cards) == 5
    day = date(2026, 11, 24)
    assert await statuses(sessions) == {
        (berlin, day): "sent",
        (new_york, day): "sent",
        (group, day): "sent",
    }
    async with sessions() as session:
        attempts = (await session.scalars(select(DeliveryAttempt))).all()
    assert [a.status for a in attempts] == ["sent"] * 3
    assert all(a.latency_ms >= 0 and a.worker == "w1" for a in attempts)


@pytest.mark.parametrize(
    ("downtime", "sent"), [(timedelta(hours=2), True), (timedelta(hours=5), False)]
)
async def test_catch_up_after_downtime(
    sessions: Sessions,
    clock: FakeClock,
    library: None,
    downtime: timedelta,
    sent: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await add_recipient(sessions, "100")
    run = Harness(sessions, clock)
    clock.set(START + timedelta(minutes=30))
    await run.tick()  # up before the slot, then down from 07:30 to 08:00 + downtime
    clock.set(START + timedelta(hours=1) + downtime)
    report = await run.tick()
    assert report.sent == (1 if sent else 0) and report.missed == (0 if sent else 1)
    skipped = "1 briefs due at 2026-11-24T07:00:00+00:00 were missed by more than 3:00:00"
    assert (skipped in caplog.text) is not sent  # a skipped brief is logged, a late one is not
    assert await statuses(sessions) == {(user, date(2026, 11, 24)): "sent" if sent else "missed"}
    clock.set(START + timedelta(days=1, hours=1))  # the next day is normal again
    assert (await run.tick()).sent == 1


async def test_a_queued_brief_older_than_the_window_is_missed(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    user = await add_recipient(sessions, "100")
    run = Harness(sessions, clock)
    run.messenger.transient_failures["100"] = 1  # queued for a retry, then the process stops
    clock.set(START + timedelta(hours=1))
    assert (await run.tick()).retried == 1
    clock.set(START + timedelta(hours=5))
    report = await run.tick()
    assert report.sent == 0 and report.missed == 1
    assert await statuses(sessions) == {(user, date(2026, 11, 24)): "missed"}


async def test_blocked_recipient_is_deactivated(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    blocked = await add_recipient(sessions, "100")
    await add_recipient(sessions, "101")
    run = Harness(sessions, clock)
    run.messenger.blocked["100"] = "Forbidden: bot was blocked by the user"
    clock.set(START + timedelta(hours=1))
    report = await run.tick()
    assert (report.sent, report.gone, report.failed) == (1, 1, 1)
    async with sessions() as session:
        user = await session.get(User, blocked)
        assert user is not None and not user.active
        assert user.inactive_reason == "Forbidden: bot was blocked by the user"
        attempt = (
            await session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.status == "gone"))
        ).one()
    assert attempt.error == "Forbidden: bot was blocked by the user"
    clock.set(START + timedelta(days=1, hours=1))
    assert (await run.tick()).sent == 1  # only the other one; no row for the blocked one
    assert len(await statuses(sessions)) == 3


async def test_transient_errors_are_retried_with_backoff(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    user = await add_recipient(sessions, "100")
    run = Harness(sessions, clock)
    run.messenger.transient_failures["100"] = 2
    clock.set(START + timedelta(hours=1))
    assert (await run.tick()).retried == 1
    clock.advance(timedelta(seconds=59))  # first backoff is a minute
    assert (await run.tick()).sent == 0
    clock.advance(timedelta(seconds=1))
    assert (await run.tick()).retried == 1
    clock.advance(timedelta(minutes=1))  # second backoff is two minutes
    assert (await run.tick()).sent == 0
    clock.advance(timedelta(minutes=1))
    assert (await run.tick()).sent == 1
    async with sessions() as session:
        delivery = (await session.scalars(select(Delivery))).one()
        kinds = (
            await session.scalars(select(DeliveryAttempt.status).order_by(DeliveryAttempt.id))
        ).all()
    assert (delivery.user_id, delivery.attempts, delivery.status) == (user, 3, "sent")
    assert kinds == ["transient", "transient", "sent"]
    assert len(run.messenger.sent) == 1


async def test_rate_limit_waits_retry_after_and_pauses_the_platform(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    await add_recipient(sessions, "100")
    run = Harness(sessions, clock)
    run.messenger.rate_limited["100"] = 90.0
    clock.set(START + timedelta(hours=1))
    assert (await run.tick()).retried == 1
    clock.advance(timedelta(seconds=89))
    assert (await run.tick()).sent == 0
    clock.advance(timedelta(seconds=1))
    assert (await run.tick()).sent == 1
    assert sum(run.timer.slept) >= 89.9  # the whole platform paused for Retry-After


async def test_restart_in_the_middle_of_a_run_sends_each_brief_once(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    ids = [await add_recipient(sessions, str(100 + i)) for i in range(6)]
    first = Harness(sessions, clock, worker="first")
    first.messenger.crash_after = 2
    clock.set(START + timedelta(hours=1))
    with pytest.raises(BaseExceptionGroup) as crashed:
        await first.tick()
    assert crashed.value.subgroup(ProcessCrash) is not None
    second = Harness(sessions, clock, worker="second")
    assert (await second.tick()).sent == 0  # the dead worker's lease still holds
    clock.advance(timedelta(minutes=11))  # the lease (10 minutes) has expired
    report = await second.tick()
    assert report.sent == 4
    everyone = sorted(first.messenger.chats() + second.messenger.chats())
    assert everyone == [str(100 + i) for i in range(6)]
    assert set((await statuses(sessions)).values()) == {"sent"}
    assert len(await statuses(sessions)) == len(ids)


async def test_fewer_than_five_new_says_so_and_fills_with_unseen_older(
    sessions: Sessions, clock: FakeClock
) -> None:
    await add_insights(sessions, 6, START - timedelta(days=10), "archive")
    await add_insights(sessions, 2, START - timedelta(hours=2), "today")
    await add_recipient(sessions, "100")
    run = Harness(sessions, clock)
    clock.set(START + timedelta(hours=1))
    await run.tick()
    clock.set(START + timedelta(days=1, hours=1))
    await run.tick()
    (_, first), (_, second) = run.messenger.sent
    notes = [p.text for p in first.parts if isinstance(p, Text) and p.style == "note"]
    assert any(
        n.startswith("Only 2 new insights since your last brief, so 3 older ones") for n in notes
    )
    assert [c.is_older for c in first.cards].count(True) == 3
    assert all(c.is_older for c in second.cards) and len(second.cards) == 3
    shown = [c.insight_id for r in (first, second) for c in r.cards]
    assert len(shown) == len(set(shown)) == 8  # never a repeat
    assert isinstance(second.parts[1], InsightCard)


async def test_on_request_brief_today_and_paused_recipients_are_not_sent_again(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    asked = await add_recipient(sessions, "100")
    paused = await add_recipient(sessions, "101")
    async with transaction(sessions) as session:
        user = await session.get(User, paused)
        assert user is not None
        user.paused = True
    clock.set(START + timedelta(minutes=30))
    await compose_brief(sessions, asked, clock, kind="on_demand")
    run = Harness(sessions, clock)
    clock.set(START + timedelta(hours=1))
    report = await run.tick()
    assert (report.sent, report.skipped) == (0, 1)
    assert await statuses(sessions) == {(asked, date(2026, 11, 24)): "skipped"}


async def test_a_group_gets_daily_briefs_only_once_signed_up(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    asked_only = await add_recipient(sessions, "-300", kind="group", onboarded=False)
    await add_recipient(sessions, "-301", kind="group")  # someone said /start there
    await add_recipient(sessions, "100", onboarded=False)  # a Slack DM has no /start step
    run = Harness(sessions, clock)
    clock.set(START)
    assert (await delivery_status(sessions, clock.now())).upcoming_24h == 2
    clock.set(START + timedelta(hours=1))
    assert (await run.tick()).sent == 2
    assert sorted(run.messenger.chats()) == ["-301", "100"]
    await people.set_delivery_time(sessions, asked_only, "08:00")  # an admin: "time 08:00"
    clock.set(START + timedelta(days=1, hours=1))
    assert (await run.tick()).sent == 3
    assert run.messenger.chats()[-3:].count("-300") == 1


def _utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "at", "start", "first_due"),
    [  # fall back: 02:30 twice in Berlin on 25 October, 01:30 twice in New York on 1 November
        ("Europe/Berlin", "02:30", _utc(2026, 10, 24, 20), _utc(2026, 10, 25, 0, 30)),
        ("America/New_York", "01:30", _utc(2026, 10, 31, 20), _utc(2026, 11, 1, 5, 30)),
        # spring forward: 02:30 does not exist in New York on 8 March, Berlin on 29 March
        ("America/New_York", "02:30", _utc(2026, 3, 7, 20), _utc(2026, 3, 8, 7)),
        ("Europe/Berlin", "02:30", _utc(2026, 3, 28, 20), _utc(2026, 3, 29, 1)),
    ],
)
async def test_dst_delivers_once_a_day(
    sessions: Sessions,
    clock: FakeClock,
    timezone: str,
    at: str,
    start: datetime,
    first_due: datetime,
) -> None:
    await add_insights(sessions, 15, start - timedelta(days=1), "library")
    await add_recipient(sessions, "100", at=at, timezone=timezone)
    run = Harness(sessions, clock)
    clock.set(start)
    for _ in range(3 * 24 * 4):  # a tick every 15 minutes for three days
        await run.tick()
        clock.advance(timedelta(minutes=15))
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.local_date, Delivery.due_at).order_by(Delivery.local_date)
            )
        ).all()
    assert len(rows) == 3 and len(run.messenger.sent) == 3
    assert [r[0] for r in rows] == [first_due.date() + timedelta(days=i) for i in range(3)]
    assert rows[0][1] == first_due


async def test_planning_twice_adds_no_row(sessions: Sessions, clock: FakeClock) -> None:
    """The unique key holds one row per recipient and local day, whatever the platform asked.
    (Claiming them, the limit and the lease: tests/integration/test_delivery_take.py.)"""
    for i in range(5):
        await add_recipient(sessions, str(100 + i))
    now, grace = START + timedelta(hours=1), timedelta(hours=3)
    assert (await plan_due(sessions, now, ["telegram"], grace)).queued == 5
    assert (await plan_due(sessions, now, ["telegram"], grace)).queued == 0  # the unique key
    assert (await plan_due(sessions, now, ["slack"], grace)).queued == 0


async def test_planning_again_adds_rows_only_for_recipients_without_one(
    sessions: Sessions, clock: FakeClock
) -> None:
    """A schedule group planned before: the recipients it gained since get their rows, the
    others keep their one row."""
    first = [await add_recipient(sessions, str(100 + i)) for i in range(3)]
    now, grace = START + timedelta(hours=1), timedelta(hours=3)
    assert (await plan_due(sessions, now, ["telegram"], grace)).queued == 3
    later = [await add_recipient(sessions, str(200 + i)) for i in range(2)]
    assert (await plan_due(sessions, now, ["telegram"], grace)).queued == 2
    async with sessions() as session:
        planned = (await session.scalars(select(Delivery.user_id))).all()
    assert sorted(planned) == sorted(first + later)


async def test_claims_take_the_earliest_due_first(sessions: Sessions, clock: FakeClock) -> None:
    late = await add_recipient(sessions, "100", at="08:00")  # Berlin: 07:00 UTC
    early = await add_recipient(sessions, "200", at="07:00")  # 06:00 UTC
    middle = await add_recipient(sessions, "300", at="07:30")
    now, lease = START + timedelta(hours=1), timedelta(minutes=10)
    assert (await plan_due(sessions, now, ["telegram"], timedelta(hours=3))).queued == 3
    order = []
    for _ in range(3):
        ((claimed, recipient),) = await take_batch(
            sessions, "w", now, lease=lease, limit=1, platforms=["telegram"]
        )
        async with sessions() as session:
            order.append(
                await session.scalar(select(Delivery.user_id).where(Delivery.id == claimed.id))
            )
        assert recipient.id == order[-1]
    assert order == [early, middle, late]


class HeldTimer(FakeTimer):
    """A rate-limit wait that lasts as long as the test wants, moving the clock meanwhile."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.waiting, self.release = asyncio.Event(), asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        self.waiting.set()
        await self.release.wait()
        await super().sleep(seconds)


async def test_a_worker_whose_lease_ran_out_while_waiting_does_not_send(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    await add_recipient(sessions, "100")
    clock.set(START + timedelta(hours=1))
    slow = Harness(sessions, clock, worker="slow")
    slow.timer = HeldTimer(clock)
    slow.limiters = RateLimiters(slow.timer)
    slow.limiters.for_platform("telegram").pause(11 * 60)  # e.g. a long Retry-After
    waiting = asyncio.create_task(slow.tick())
    await asyncio.wait_for(slow.timer.waiting.wait(), timeout=30)
    other = Harness(sessions, clock, worker="other")
    assert (await other.tick()).sent == 1  # the lease ran out: the other worker took over
    slow.timer.release.set()
    report = await asyncio.wait_for(waiting, timeout=30)
    assert report.lost_lease == 1 and report.sent == 0
    assert slow.messenger.sent == [] and other.messenger.chats() == ["100"]


async def test_above_the_operators_count_briefs_default_to_one_compact_message(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    """Three recipients due at once with ``compact_above=2``: compact by default, except for
    whoever said 'compact off'; at or under the count, one message per insight as before."""
    plain = await add_recipient(sessions, "100")
    await add_recipient(sessions, "200")
    chose = await add_recipient(sessions, "300")
    async with transaction(sessions) as session:
        user = await session.get(User, chose)
        assert user is not None
        user.settings = {"compact": False}
    run = Harness(sessions, clock)
    run.config = DeliveryConfig(worker="w1", concurrency=1, compact_above=2)
    clock.set(START + timedelta(hours=1))
    assert (await run.tick()).sent == 3
    compact = {chat.chat_id: reply.compact for chat, reply in run.messenger.sent}
    assert compact == {"100": True, "200": True, "300": False}

    async with transaction(sessions) as session:  # the next day, only one is due
        await session.execute(update(User).where(User.id != plain).values(paused=True))
    clock.set(START + timedelta(days=1, hours=1))
    assert (await run.tick()).sent == 1
    chat, reply = run.messenger.sent[-1]
    assert chat.chat_id == "100" and reply.compact is False and len(reply.cards) == 5
