"""Planning and claiming deliveries so that each recipient gets one brief per local day.

Planning inserts one ``deliveries`` row per due recipient and local day; the unique key
(user_id, local_date) and ON CONFLICT DO NOTHING make a second row impossible, whichever
process plans. Claiming locks rows with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, then
updates them (SQLite has a single writer: one UPDATE … RETURNING is atomic there).
A claim is a lease: a worker that dies leaves rows that another takes over when it expires.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Integer,
    String,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from core.db import Sessions, one_of, transaction
from core.delivery.schedule import ScheduleError, is_late_beyond, latest_due
from core.models import Delivery, User
from core.models.base import UTCDateTime

log = logging.getLogger(__name__)

ANALYZE_AFTER = 1000  # rows inserted since the last refresh of the planner's statistics


def gets_daily_briefs() -> ColumnElement[bool]:
    """Recipients planned for a daily brief: reachable, not paused, and signed up. A person is
    from first contact (Telegram starts with /start; a Slack DM has no separate step), a
    channel once ``channel daily`` resumes it; a group chat only once it said /start or set
    its time, days, time zone or resumed (merely asking the bot something signs up nobody)."""
    return and_(
        User.active.is_(True),
        User.paused.is_(False),
        or_(User.onboarded.is_(True), User.kind != "group"),
    )


@dataclass(frozen=True, slots=True)
class Schedule:
    platform: str
    timezone: str
    delivery_time: str
    delivery_days: str


@dataclass
class PlanReport:
    queued: int = 0
    missed: int = 0
    bad_schedules: int = 0


async def plan_due(
    sessions: Sessions,
    now: datetime,
    platforms: Collection[str],
    grace: timedelta,
    *,
    forget_after: timedelta = timedelta(hours=12),
) -> PlanReport:
    """Insert a row for every active recipient whose latest slot has come and has none yet.

    A slot older than ``grace`` is stored as ``missed`` (and logged) instead of queued; one
    older than ``forget_after`` is ignored (a first start does not log yesterday as missed).
    """
    report = PlanReport()
    unanalyzed = 0  # rows inserted since the statistics were last refreshed here
    for schedule in await _schedules(sessions, platforms):
        try:
            slot = latest_due(
                schedule.timezone, schedule.delivery_time, schedule.delivery_days, now
            )
        except ScheduleError as exc:
            report.bad_schedules += 1
            log.warning("recipients with an unreadable schedule are skipped: %s", exc)
            continue
        if slot is None or now - slot.due_at > max(forget_after, grace):
            continue
        missed = is_late_beyond(slot.due_at, now, grace)
        count = await _insert_rows(
            sessions, schedule, slot.local_date, slot.due_at, now, missed=missed
        )
        unanalyzed += count
        if unanalyzed >= ANALYZE_AFTER:  # many small groups add up too
            await _refresh_statistics(sessions)
            unanalyzed = 0
        if missed:
            report.missed += count
            if count:
                log.warning(
                    "%d briefs due at %s were missed by more than %s: skipped",
                    count,
                    slot.due_at.isoformat(),
                    grace,
                )
        else:
            report.queued += count
    return report


async def _refresh_statistics(sessions: Sessions) -> None:
    """PostgreSQL: after many new rows, let the planner know. With the statistics of a
    smaller table it checks "already planned?" by a nested loop over the day's rows, once
    per recipient: 2.4 s instead of 0.07 s for 5,000 recipients, quadratic beyond. ANALYZE
    reads a bounded sample (tens of milliseconds whatever the size)."""
    if sessions.kw["bind"].dialect.name != "postgresql":
        return
    async with transaction(sessions) as session:
        await session.execute(text("ANALYZE deliveries"))


async def _schedules(sessions: Sessions, platforms: Collection[str]) -> list[Schedule]:
    """The distinct schedules in use: a few hundred at most, however many recipients."""
    stmt = (
        select(User.platform, User.timezone, User.delivery_time, User.delivery_days)
        .where(gets_daily_briefs(), User.platform.in_(platforms))
        .group_by(User.platform, User.timezone, User.delivery_time, User.delivery_days)
    )
    async with sessions() as session:
        return [Schedule(*row) for row in (await session.execute(stmt)).all()]


async def _insert_rows(
    sessions: Sessions,
    schedule: Schedule,
    local_date: date,
    due_at: datetime,
    now: datetime,
    *,
    missed: bool,
) -> int:
    """Rows for the schedule's recipients who have none for ``local_date``: who they are is
    read first, then inserted. In one INSERT … SELECT … WHERE NOT EXISTS the check ran while
    the rows went in, and PostgreSQL may check through the day's index (local_date alone,
    dropped since by migration 0013; what its statistics of a day with no rows yet
    suggested): every recipient's check then
    stepped over every row inserted before it, quadratic in the group (25,000 recipients:
    41 s; read first, 1.3 s)."""
    schedule_is = (
        User.platform == schedule.platform,
        User.timezone == schedule.timezone,
        User.delivery_time == schedule.delivery_time,
        User.delivery_days == schedule.delivery_days,
        gets_daily_briefs(),
        User.created_at <= due_at,  # someone who joined after today's time starts tomorrow
    )
    already = exists().where(Delivery.user_id == User.id, Delivery.local_date == local_date)
    async with transaction(sessions) as session:
        due = (await session.scalars(select(User.id).where(*schedule_is, ~already))).all()
        if not due:
            return 0
        chosen = select(
            User.id,
            literal(local_date, Date()),
            User.platform,
            literal("missed" if missed else "queued", String()),
            literal(due_at, UTCDateTime()),
            literal(0, Integer()),
            literal("too late after downtime" if missed else None, String()),
            literal([], JSON()),
            literal(now, UTCDateTime()),
        ).where(one_of(session, User.id, sorted(due)), *schedule_is)
        stmt = _insert_ignoring_duplicates(session, _COLUMNS, chosen)
        # RETURNING counts portably (psycopg reports -1 rows for INSERT … SELECT).
        return len((await session.scalars(stmt.returning(Delivery.id))).all())


_COLUMNS = [
    "user_id",
    "local_date",
    "platform",
    "status",
    "due_at",
    "attempts",
    "error",
    "message_ids",
    "created_at",
]


def _insert_ignoring_duplicates(session: AsyncSession, columns: list[str], chosen: Any) -> Any:
    """INSERT … SELECT … ON CONFLICT (user_id, local_date) DO NOTHING on either backend."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(Delivery)
        .from_select(columns, chosen)
        .on_conflict_do_nothing(index_elements=["user_id", "local_date"])
    )


async def due_counts(sessions: Sessions, platforms: list[str]) -> dict[str, int]:
    """Deliveries waiting or being sent, per platform: the size of the run at hand."""
    stmt = (
        select(Delivery.platform, func.count())
        .where(Delivery.status.in_(("queued", "claimed")), Delivery.platform.in_(platforms))
        .group_by(Delivery.platform)
    )
    async with sessions() as session:
        return {platform: int(n) for platform, n in (await session.execute(stmt)).all()}


def _claimable(now: datetime, lease: timedelta) -> ColumnElement[bool]:
    waiting = and_(
        Delivery.status == "queued",
        or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
    )
    abandoned = and_(Delivery.status == "claimed", Delivery.claimed_at < now - lease)
    return or_(waiting, abandoned)


async def claim_batch(
    sessions: Sessions,
    worker: str,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    platforms: Collection[str],
) -> list[int]:
    """Claim up to ``limit`` deliveries (earliest due first) for ``worker``; their ids. SQLite
    only: there one statement is atomic under the single writer lock. PostgreSQL claims in
    ``core.delivery.take`` (one statement that locks first: inside UPDATE … IN (subquery)
    PostgreSQL may run the LIMIT … SKIP LOCKED subquery more than once and claim more than
    ``limit`` rows)."""
    claim = update(Delivery).values(status="claimed", claimed_by=worker, claimed_at=now)
    async with transaction(sessions) as session:
        if session.get_bind().dialect.name != "sqlite":
            raise ValueError("claim_batch is SQLite's claim: take_batch claims on PostgreSQL")
        candidates = (
            select(Delivery.id)
            .where(_claimable(now, lease), Delivery.platform.in_(platforms))
            .order_by(Delivery.due_at, Delivery.id)
            .limit(limit)
        )
        stmt = (
            claim.where(Delivery.id.in_(candidates.scalar_subquery()), _claimable(now, lease))
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        return sorted((await session.scalars(stmt)).all())


async def still_mine(
    sessions: Sessions, delivery_id: int, worker: str, now: datetime, *, brief_id: int | None
) -> bool:
    """Renew the lease (and note the brief) just before sending; False if another worker has
    taken the row over since, so this one must not send."""
    stmt = (
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.claimed_by == worker,
            Delivery.status == "claimed",
        )
        .values(claimed_at=now, brief_id=brief_id)
        .execution_options(synchronize_session=False)
    )
    async with transaction(sessions) as session:
        result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def expire_stale(
    sessions: Sessions, now: datetime, *, grace: timedelta, lease: timedelta
) -> int:
    """Rows still waiting (or abandoned by a dead worker) longer than ``grace``: missed."""
    too_old = now - grace
    stmt = (
        update(Delivery)
        .where(
            Delivery.due_at < too_old,
            or_(
                Delivery.status == "queued",
                and_(Delivery.status == "claimed", Delivery.claimed_at < now - lease),
            ),
        )
        .values(status="missed", error="too late after downtime", claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    async with transaction(sessions) as session:
        result = await session.execute(stmt)
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.warning("%d queued briefs are older than %s: marked missed", count, grace)
    return count


async def release(sessions: Sessions, worker: str, ids: Collection[int]) -> None:
    """Give claimed rows back (an orderly stop): another tick or worker sends them at once
    instead of after the lease. Their brief is kept and reused."""
    if not ids:
        return
    stmt = (
        update(Delivery)
        .where(
            Delivery.id.in_(sorted(ids)),
            Delivery.claimed_by == worker,
            Delivery.status == "claimed",
        )
        .values(status="queued", claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    async with transaction(sessions) as session:
        await session.execute(stmt)
