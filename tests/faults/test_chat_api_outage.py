"""Telegram and Slack failing for ten minutes while briefs are due: 429 with a retry_after,
500, a 200 whose body is a proxy's HTML page, a 200 whose JSON is cut off. The real Telegram
(PTB) and Slack (slack_sdk) clients talk to the loopback fakes; delivery ticks every minute of
a fake clock, as `podbrief run` does every real minute, so ten minutes take no real time.

Nothing is lost (every brief is sent once the API recovers, none given up), nothing arrives
twice (a brief cut off mid-way resumes after the messages that went out), and each failed
attempt is recorded in plain words. The failing requests are not carried out by the fake (a
200 whose body is garbled but whose message went out is the duplicate case no client can
tell apart; see README, "Hostile input, faults and load")."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.telegram.limits import RateLimits
from core.db import Sessions, transaction
from core.delivery.ratelimit import RateLimiters
from core.delivery.service import deliver_due
from core.delivery.types import DeliveryConfig
from core.models import Delivery, DeliveryAttempt, User
from core.ports import Messenger
from tests.adapters.telegram_harness import running_bot
from tests.fakes.chat_library import build_library
from tests.fakes.clock import FakeClock
from tests.fakes.messenger import FakeTimer
from tests.fakes.slack_harness import TEAM, USER, slack_stack

OUTAGE = timedelta(minutes=10)
KINDS = ["429", "500", "html", "truncated"]
# What each attempt during the outage says, in plain words (no traceback, no page source).
SAYS = {"429": r"retry (after|in) 30", "500": r"server error", "html": r"not JSON",
        "truncated": r"not JSON"}  # fmt: skip
CHATS = [9100, 9101, 9102]
# The client's own retries are tested in tests/adapters; here every failure reaches delivery
# at once, the worst case for how many attempts a brief goes through.
NO_RETRIES = RateLimits(per_chat_per_second=1000, group_max=1000, group_period_seconds=1,
                        max_retries=0)  # fmt: skip


async def _add_recipients(sessions: Sessions, clock: FakeClock, platform: str,
                          ids: list[str], workspace: str = "") -> None:  # fmt: skip
    async with transaction(sessions) as session:
        for external_id in ids:
            session.add(
                User(platform=platform, workspace=workspace, external_id=external_id,
                     timezone="UTC", delivery_time=f"{clock.now():%H:%M}", onboarded=True,
                     created_at=clock.now() - timedelta(days=30))
            )  # fmt: skip


async def _deliver_through(
    sessions: Sessions, clock: FakeClock, messenger: Messenger, until: timedelta
) -> None:
    """Delivery ticks a minute apart on the fake clock for ``until``, as `podbrief run`."""
    config = DeliveryConfig(worker="w1", concurrency=2)
    limiters = RateLimiters(FakeTimer())  # one per process: a 429's pause outlives a tick
    for _ in range(int(until / timedelta(minutes=1))):
        await deliver_due(
            sessions, clock, {messenger.platform: messenger}, config=config, limiters=limiters
        )
        clock.advance(timedelta(minutes=1))


async def _deliveries(sessions: Sessions) -> tuple[dict[str, str], list[DeliveryAttempt]]:
    async with sessions() as session:
        rows = await session.execute(
            select(User.external_id, Delivery.status).join(User, User.id == Delivery.user_id)
        )
        attempts = (await session.scalars(select(DeliveryAttempt))).all()
    return {chat: status for chat, status in rows.all()}, list(attempts)


def _check_said_plainly(attempts: list[DeliveryAttempt], kind: str) -> None:
    failed = [a for a in attempts if a.status != "sent"]
    assert failed, "the outage was never noticed"
    for attempt in failed:
        error = attempt.error or ""
        assert re.search(SAYS[kind], error, re.IGNORECASE), error
        assert "Traceback" not in error and "<html" not in error and len(error) < 300, error


@pytest.mark.parametrize("kind", KINDS)
async def test_telegram_failing_for_ten_minutes_loses_nothing_and_sends_nothing_twice(
    sessions: Sessions, clock: FakeClock, kind: str
) -> None:
    library = await build_library(sessions, clock.now())
    await _add_recipients(sessions, clock, "telegram", [str(chat) for chat in CHATS])
    async with running_bot(sessions, clock, library.embedder, limits=NO_RETRIES) as bot:
        for chat in CHATS:
            bot.api.private_chat(chat)
        bot.api.outage("sendMessage", kind, after=2)  # the first brief is cut after two
        messenger = bot.service.messenger
        await _deliver_through(sessions, clock, messenger, OUTAGE)
        statuses, attempts = await _deliveries(sessions)
        assert set(statuses.values()) == {"queued"}, statuses  # none given up, none sent
        assert sum(len(bot.api.messages_to(chat)) for chat in CHATS) == 2

        bot.api.recover()
        await _deliver_through(sessions, clock, messenger, timedelta(minutes=10))
        statuses, attempts = await _deliveries(sessions)

    assert statuses == {str(chat): "sent" for chat in CHATS}
    lengths = set()
    for chat in CHATS:
        texts = [m.visible_text for m in bot.api.messages_to(chat)]
        assert Counter(texts).most_common(1)[0][1] == 1, texts  # no message twice
        lengths.add(len(texts))
    assert len(lengths) == 1 and lengths.pop() >= 6  # the cut brief is whole: as long as others
    _check_said_plainly(attempts, kind)


@pytest.mark.parametrize("kind", KINDS)
async def test_slack_failing_for_ten_minutes_loses_nothing_and_sends_nothing_twice(
    sessions: Sessions, engine: AsyncEngine, clock: FakeClock, kind: str
) -> None:
    people = [USER, "U0BO", "U0CY"]
    async with slack_stack(sessions, engine, clock) as stack:
        for person in people[1:]:
            stack.fake.add_user(person)
        await _add_recipients(sessions, clock, "slack", people, workspace=TEAM)
        stack.fake.outage("chat.postMessage", kind)
        messenger = stack.bot.messenger
        await _deliver_through(sessions, clock, messenger, OUTAGE)
        statuses, _ = await _deliveries(sessions)
        assert set(statuses.values()) == {"queued"}, statuses
        assert stack.fake.messages == []

        stack.fake.recover()
        await _deliver_through(sessions, clock, messenger, timedelta(minutes=10))
        statuses, attempts = await _deliveries(sessions)

    assert statuses == {person: "sent" for person in people}
    posted = Counter(message.channel for message in stack.fake.messages)
    assert posted == {"D" + person[1:]: 1 for person in people}  # one brief each, once
    _check_said_plainly(attempts, kind)
