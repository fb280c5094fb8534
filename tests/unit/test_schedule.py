"""Due-time logic across DST in America/New_York and Europe/Berlin, weekdays, bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.delivery.schedule import (
    ScheduleError,
    due_instant,
    is_delivery_day,
    is_late_beyond,
    latest_due,
    parse_hhmm,
)

NY, BERLIN = "America/New_York", "Europe/Berlin"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "day", "at", "expected"),
    [
        # spring forward: 02:00 -> 03:00 local; 02:30 does not exist -> 03:00 local
        (NY, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 0)),
        (NY, date(2026, 3, 8), time(2, 0), utc(2026, 3, 8, 7, 0)),
        (NY, date(2026, 3, 8), time(3, 0), utc(2026, 3, 8, 7, 0)),
        (NY, date(2026, 3, 8), time(1, 59), utc(2026, 3, 8, 6, 59)),
        (BERLIN, date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 0)),
        # fall back: 01:30 happens twice in New York, 02:30 twice in Berlin -> the first
        (NY, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
        (BERLIN, date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),
        # ordinary days either side
        (NY, date(2026, 3, 7), time(8, 0), utc(2026, 3, 7, 13, 0)),
        (NY, date(2026, 3, 9), time(8, 0), utc(2026, 3, 9, 12, 0)),
        (BERLIN, date(2026, 10, 26), time(7, 0), utc(2026, 10, 26, 6, 0)),
    ],
)
def test_due_instant(tz: str, day: date, at: time, expected: datetime) -> None:
    assert due_instant(tz, day, at) == expected


def _days_due_by_minute(tz: str, at: str, start: datetime, hours: int) -> list[date]:
    """Tick every minute like the scheduler does; list each local day as it becomes due."""
    seen: list[date] = []
    now = start
    while now < start + timedelta(hours=hours):
        slot = latest_due(tz, at, "daily", now)
        if slot is not None and now - slot.due_at < timedelta(minutes=1):
            seen.append(slot.local_date)
        now += timedelta(minutes=1)
    return seen


@pytest.mark.parametrize(
    ("tz", "at", "start"),
    [
        (NY, "02:30", utc(2026, 3, 6, 12)),  # nonexistent on the 8th
        (NY, "01:30", utc(2026, 10, 30, 12)),  # twice on 1 November
        (NY, "08:00", utc(2026, 3, 6, 12)),
        (BERLIN, "02:30", utc(2026, 3, 27, 12)),
        (BERLIN, "02:30", utc(2026, 10, 23, 12)),
        (BERLIN, "00:00", utc(2026, 10, 23, 12)),
    ],
)
def test_every_local_day_due_exactly_once_across_dst(tz: str, at: str, start: datetime) -> None:
    days = _days_due_by_minute(tz, at, start, hours=4 * 24)
    assert len(days) == len(set(days)) == 4  # never doubled
    assert [d - days[0] for d in days] == [timedelta(days=i) for i in range(4)]  # never skipped


def test_latest_due_is_yesterday_before_today_s_time() -> None:
    slot = latest_due(BERLIN, "08:00", "daily", utc(2026, 11, 24, 6, 59))
    assert slot is not None
    assert slot.local_date == date(2026, 11, 23)
    assert slot.due_at == utc(2026, 11, 23, 7, 0)


def test_weekdays_skip_the_weekend() -> None:
    assert is_delivery_day(date(2026, 11, 27), "weekdays")  # Friday
    assert not is_delivery_day(date(2026, 11, 28), "weekdays")
    assert not is_delivery_day(date(2026, 11, 29), "weekdays")
    # Monday 07:00 in New York, before 08:00: Sunday had no slot, Friday is too old to count.
    assert latest_due(NY, "08:00", "weekdays", utc(2026, 11, 30, 12, 0)) is None
    slot = latest_due(NY, "08:00", "weekdays", utc(2026, 11, 30, 13, 0))
    assert slot is not None and slot.local_date == date(2026, 11, 30)


def test_late_beyond_grace() -> None:
    due = utc(2026, 11, 24, 7)
    grace = timedelta(hours=3)
    assert not is_late_beyond(due, due + timedelta(hours=2), grace)
    assert is_late_beyond(due, due + timedelta(hours=5), grace)


@pytest.mark.parametrize("bad", ["8", "24:00", "07:60", "7:5", "", "noon"])
def test_bad_time_is_a_plain_error(bad: str) -> None:
    with pytest.raises(ScheduleError, match="not HH:MM"):
        parse_hhmm(bad)


def test_bad_zone_and_days_are_plain_errors() -> None:
    with pytest.raises(ScheduleError, match="unknown time zone 'Mars/Olympus'"):
        due_instant("Mars/Olympus", date(2026, 1, 1), time(8))
    with pytest.raises(ScheduleError, match="delivery days 'sundays'"):
        is_delivery_day(date(2026, 1, 1), "sundays")
