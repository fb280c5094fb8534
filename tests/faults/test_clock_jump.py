"""The clock jumping back an hour (an NTP correction, a VM restored from a snapshot) neither
sends a brief twice nor loses one, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import Sessions
from tests.fakes.clock import FakeClock
from tests.integration.test_delivery import START, Harness, add_recipient, statuses

pytest_plugins = ["tests.integration.test_delivery"]  # its `library` fixture


async def test_after_sending_the_clock_going_back_an_hour_sends_nothing_again(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    users = [await add_recipient(sessions, str(100 + i)) for i in range(3)]
    run = Harness(sessions, clock)
    clock.set(START + timedelta(hours=1))  # 08:00 in Berlin
    assert (await run.tick()).sent == 3
    clock.set(START)  # back an hour: 07:00 again, before the delivery time
    for minute in range(0, 70, 5):  # and forward again, past 08:00 a second time
        clock.set(START + timedelta(minutes=minute))
        assert (await run.tick()).sent == 0
    assert sorted(run.messenger.chats()) == ["100", "101", "102"]
    clock.set(START + timedelta(days=1, hours=1))  # the next day is normal
    assert (await run.tick()).sent == 3
    assert len(await statuses(sessions)) == 2 * len(users)


async def test_a_crash_then_the_clock_going_back_still_delivers_each_brief_once(
    sessions: Sessions, clock: FakeClock, library: None
) -> None:
    await add_recipient(sessions, "100")
    await add_recipient(sessions, "101")
    first = Harness(sessions, clock, worker="first")
    first.messenger.crash_after = 1
    clock.set(START + timedelta(hours=1))
    with pytest.raises(BaseExceptionGroup):
        await first.tick()  # one sent, then the process dies holding the other's lease
    clock.set(START + timedelta(minutes=1))  # restarted with the clock an hour behind
    second = Harness(sessions, clock, worker="second")
    assert (await second.tick()).sent == 0  # the dead worker's lease is still in the future
    clock.set(START + timedelta(hours=1, minutes=11))  # the lease has run out on the new clock
    assert (await second.tick()).sent == 1
    assert sorted(first.messenger.chats() + second.messenger.chats()) == ["100", "101"]
    assert set((await statuses(sessions)).values()) == {"sent"}
    assert len(await statuses(sessions)) == 2
