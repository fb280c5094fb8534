"""When a recipient is due: pure functions over IANA time zones (zoneinfo), no database.

A brief belongs to a local calendar day. Its instant is the local delivery time on that day:
a time that does not exist (spring forward) moves to the first instant after the gap, a time
that happens twice (fall back) is its first occurrence (fold=0). So DST neither skips nor
doubles a day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("daily", "weekdays")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """A stored schedule that cannot be read (the message says which part)."""


def parse_hhmm(value: str) -> time:
    match = _HHMM.match(value.strip())
    if match is None:
        raise ScheduleError(f"delivery time {value!r} is not HH:MM (00:00-23:59)")
    return time(int(match.group(1)), int(match.group(2)))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name!r}") from exc


def is_delivery_day(day: date, days: str) -> bool:
    if days == "daily":
        return True
    if days == "weekdays":
        return day.weekday() < 5
    raise ScheduleError(f"delivery days {days!r} is not one of {', '.join(DAYS)}")


def due_instant(timezone: str, day: date, at: time) -> datetime:
    """The UTC instant of local ``at`` on ``day`` in ``timezone``."""
    tz = zone(timezone)
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first  # exists (for an ambiguous time, fold=0 is the first occurrence)
    return _end_of_gap(tz, wall, first)


def _end_of_gap(tz: ZoneInfo, wall: datetime, upper: datetime) -> datetime:
    """First instant whose local time is at or after a ``wall`` time that the gap skipped."""
    lower = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)  # the other offset: before the gap
    lo, hi = 0, int((upper - lower).total_seconds())
    while lo < hi:  # binary search over seconds: local time only jumps forward in here
        mid = (lo + hi) // 2
        if (lower + timedelta(seconds=mid)).astimezone(tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid + 1
    return lower + timedelta(seconds=lo)


@dataclass(frozen=True, slots=True)
class DueSlot:
    local_date: date
    due_at: datetime  # UTC


def latest_due(timezone: str, at: str, days: str, now: datetime) -> DueSlot | None:
    """The most recent delivery slot at or before ``now`` (today's or yesterday's local day)."""
    when = parse_hhmm(at)
    today = now.astimezone(zone(timezone)).date()
    for day in (today, today - timedelta(days=1)):
        if not is_delivery_day(day, days):
            continue
        due = due_instant(timezone, day, when)
        if due <= now:
            return DueSlot(day, due)
    return None


def next_due(timezone: str, at: str, days: str, now: datetime) -> DueSlot | None:
    """The first delivery slot after ``now`` within a week (None: no delivery day)."""
    when = parse_hhmm(at)
    today = now.astimezone(zone(timezone)).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if is_delivery_day(day, days):
            due = due_instant(timezone, day, when)
            if due > now:
                return DueSlot(day, due)
    return None


def is_late_beyond(due_at: datetime, now: datetime, grace: timedelta) -> bool:
    """A brief missed by more than ``grace`` is skipped, not sent hours late."""
    return now - due_at > grace
