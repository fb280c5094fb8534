"""Composing the daily briefs of many recipients at once (the delivery run's compose step).

``compose_brief`` costs a few queries per user; here a batch of users costs a few queries in
all: the candidate insights are read ONCE, every profile in bulk, ranking runs in memory with
the same ``Ranker`` (shared work per candidate set), and briefs and items are inserted in bulk.

The rules are those of ``compose_brief``: one brief per user and local day (an existing one is
reused), new insights since the user's last brief (48 h for a first one) before the best older
unseen ones marked as such, nothing received before, nothing muted. Picks are the same as
``compose_brief``'s, with one documented difference: ``compose_brief`` takes the newest
``NEW_POOL`` / best ``OLDER_POOL`` insights *after* removing what the user received or muted;
the batch reads the newest ``NEW_POOL + NEW_MARGIN`` / best ``OLDER_POOL + OLDER_MARGIN`` before
removing them, so a user whose exclusions exceed the margin there sees fewer backlog candidates
(never a repeat either way). Insights muted by a tag ranking does not treat as muted follow the
ranking's rule for the limits and the score scale.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.brief.batch_rank import SinceView
from core.brief.compose import (
    FIRST_BRIEF_WINDOW,
    NEW_POOL,
    OLDER_POOL,
    BriefEntry,
    BriefResult,
    brief_entry,
    compose_brief,
    entries_query,
    local_date_for,
)
from core.brief.live import live_insights
from core.brief.load import PoolRow, core_rows, load_pool, load_profiles
from core.brief.rank import CandidateRow
from core.db import IntArray, Sessions, chunks, one_of, transaction
from core.models import Brief, BriefItem, Episode, Feed, Insight, User
from core.people.users import UserProfile
from core.ports import Clock

log = logging.getLogger(__name__)

# PostgreSQL: a batch's briefs and all their items in one statement, the rows read from one
# JSON text (one parameter: psycopg sends it as is, where arrays cost a Python call a cell).
# Its insights are held as ``live_insights`` holds them (``live``: each distinct one looked
# up and locked FOR KEY SHARE once, until the commit), and items of those deleted since they
# were read are left out.
_STORE_PG = text(
    """
    WITH b AS (
        SELECT * FROM json_to_recordset(CAST(:briefs AS json))
            AS b(user_id integer, local_date date, insights integer[], older boolean[])
    ), live AS (
        SELECT id FROM insights WHERE id = ANY(CAST(:chosen AS integer[])) FOR KEY SHARE
    ), stored AS (
        INSERT INTO briefs (user_id, local_date, kind, created_at)
        SELECT b.user_id, b.local_date, :kind, :now FROM b ORDER BY b.user_id
        RETURNING id, user_id
    ), items AS (
        INSERT INTO brief_items (brief_id, position, user_id, insight_id, is_older)
        SELECT s.id, x.position, s.user_id, x.insight_id, x.is_older
        FROM stored AS s JOIN b ON b.user_id = s.user_id
        CROSS JOIN LATERAL unnest(b.insights, b.older) WITH ORDINALITY
            AS x(insight_id, is_older, position)
        WHERE x.insight_id IN (SELECT id FROM live)
    )
    SELECT id, user_id FROM stored
    """
)
_LOCK_USERS_PG = text(
    # The lock compose_brief's no-op UPDATE takes, without writing a new version of each row.
    "SELECT id FROM users WHERE id = ANY(CAST(:ids AS integer[])) ORDER BY id FOR NO KEY UPDATE"
)
RANK_STEP = 10  # users ranked between two pauses (about 4 ms)
NEW_MARGIN = 2000  # extra newest insights read for users who received or muted some
OLDER_MARGIN = 1000  # extra best older ones, for the same reason


async def compose_briefs(
    sessions: Sessions, user_ids: Sequence[int], clock: Clock, *, kind: str = "daily"
) -> dict[int, BriefResult]:
    """Today's brief for each user (by id): the stored one if it exists, else a new one.
    Unknown ids are left out of the answer."""
    prepared = await prepare_briefs(sessions, user_ids, clock, kind=kind)
    # CPU work off the event loop: the senders sharing it keep their pace meanwhile.
    picks = await asyncio.to_thread(rank_prepared, prepared) if prepared.ranks else {}
    return await store_briefs(sessions, prepared, picks, clock)


@dataclass(frozen=True, slots=True)
class PreparedBriefs:
    """What composing a batch reads before ranking (``prepare_briefs``). The three steps are
    separate so that a delivery run can read the next batch and store the last one while
    this one is ranked: the database's work then overlaps ranking's."""

    now: datetime
    kind: str
    zones: dict[int, str]  # user id -> time zone, every known user asked for
    dates: dict[int, date]  # user id -> their local day
    existing: dict[int, int]  # user id -> today's brief already stored
    pool: list[PoolRow]  # the candidates of the users to rank
    since: dict[int, datetime]  # user to rank -> new insights count from then
    profiles: Callable[[], dict[int, UserProfile]] | None

    @property
    def ranks(self) -> bool:
        return bool(self.pool) and self.profiles is not None


async def prepare_briefs(
    sessions: Sessions,
    user_ids: Sequence[int],
    clock: Clock,
    *,
    kind: str = "daily",
    zones: Mapping[int, str] | None = None,
) -> PreparedBriefs:
    """Every read composing these users' briefs needs, in one session. ``zones`` (user id ->
    time zone) saves reading them when the caller has just read the users."""
    now = clock.now()
    async with sessions() as session:
        if zones is None:
            zones = await _timezones(session, user_ids)
        zones = dict(sorted(zones.items()))
        days = {tz: local_date_for(tz, now) for tz in set(zones.values())}
        dates = {uid: days[tz] for uid, tz in zones.items()}
        existing, last = await _briefs_so_far(session, dates)
        todo = {uid: tz for uid, tz in zones.items() if uid not in existing}
        pool, since, profiles = (
            await _ranking_inputs(session, todo, last, now) if todo else ([], {}, None)
        )
    return PreparedBriefs(now, kind, zones, dates, existing, pool, since, profiles)


def rank_prepared(prepared: PreparedBriefs) -> dict[int, list[CandidateRow]]:
    """Each user's picks: CPU work only, which a caller may run off the event loop."""
    if not prepared.ranks:
        return {}
    assert prepared.profiles is not None
    return _rank_all(prepared.pool, prepared.since, prepared.profiles, prepared.now)


def rank_in_steps(prepared: PreparedBriefs, picks: dict[int, list[CandidateRow]]) -> Iterator[None]:
    """``rank_prepared`` into ``picks`` in steps of a few tens of milliseconds: a caller on
    the event loop lets other tasks run between them (see ``core.delivery.service``)."""
    if prepared.ranks:
        assert prepared.profiles is not None
        yield from _rank_steps(
            prepared.pool, prepared.since, prepared.profiles, prepared.now, picks
        )


async def store_briefs(
    sessions: Sessions,
    prepared: PreparedBriefs,
    picks: dict[int, list[CandidateRow]],
    clock: Clock,
) -> dict[int, BriefResult]:
    """Store the new briefs (unless another compose stored one meanwhile) and answer every
    user's: the stored one, else the one made of their picks."""
    now, kind, dates = prepared.now, prepared.kind, prepared.dates
    read_back = {uid: (bid, True) for uid, bid in prepared.existing.items()}  # (id, reused)
    try:
        new, raced = await _store(sessions, picks, dates, kind, now)
        read_back |= {uid: (bid, True) for uid, bid in raced.items()}
    except DBAPIError:  # a race with another compose (or a deadlock): one at a time instead
        log.warning("storing %d briefs in one go failed; composing one by one", len(picks))
        new = {}
        read_back |= await _one_by_one(sessions, picks, clock, kind)
    async with sessions() as session:
        results = await _results(session, read_back)
        results |= await _fresh_results(session, new, picks, dates, kind, now)
    for uid in prepared.zones:
        if uid not in results:
            results[uid] = BriefResult(None, uid, dates[uid], kind, None, [])
    return results


async def _one_by_one(
    sessions: Sessions, picks: dict[int, list[CandidateRow]], clock: Clock, kind: str
) -> dict[int, tuple[int, bool]]:
    stored: dict[int, tuple[int, bool]] = {}
    for uid in picks:
        result = await compose_brief(sessions, uid, clock, kind=kind)
        if result.brief_id is not None:
            stored[uid] = (result.brief_id, result.reused)
    return stored


async def _timezones(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for part in chunks(sorted(set(user_ids))):
        stmt = select(User.id, User.timezone).where(one_of(session, User.id, part))
        found.update({uid: tz for uid, tz in await core_rows(session, stmt)})
    return found


# PostgreSQL: each user's briefs looked up in ix_briefs_user_date, one user at a time (a
# subquery per user). As one "user_id = ANY(…)" PostgreSQL read the whole table for each 500
# users (its cost model prefers that to 500 index lookups), and it grows through a run.
_EXISTING_PG = text(
    """
    SELECT u.id, (SELECT min(b.id) FROM briefs AS b WHERE b.user_id = u.id AND b.local_date = u.day)
    FROM unnest(CAST(:ids AS integer[]), CAST(:days AS date[])) AS u(id, day)
    """
)
# Both of a batch's questions of ``briefs`` in one statement: today's brief already? and when
# was the last one? (for the new insights since).
_SO_FAR_PG = text(
    """
    SELECT u.id,
        (SELECT min(b.id) FROM briefs AS b WHERE b.user_id = u.id AND b.local_date = u.day),
        (SELECT max(b.created_at) FROM briefs AS b WHERE b.user_id = u.id)
    FROM unnest(CAST(:ids AS integer[]), CAST(:days AS date[])) AS u(id, day)
    """
)


async def _briefs_so_far(
    session: AsyncSession, dates: dict[int, date]
) -> tuple[dict[int, int], dict[int, datetime]]:
    """Each user's brief of their local day if there is one (user id -> brief id), and the
    time of the last brief of each user without one."""
    if session.get_bind().dialect.name != "postgresql":
        existing = await _existing(session, dates)
        return existing, await _last_brief_times(session, [u for u in dates if u not in existing])
    ids = sorted(dates)
    params = {"ids": IntArray(ids), "days": _dates_text(ids, dates)}
    existing, last = {}, {}
    for uid, bid, at in await (await session.connection()).execute(_SO_FAR_PG, params):
        if bid is not None:
            existing[uid] = bid
        elif at is not None:
            last[uid] = at.astimezone(UTC)
    return existing, last


def _dates_text(ids: list[int], dates: dict[int, date]) -> str:
    """The users' days as one ``date[]`` literal (one parameter, sent as text)."""
    return "{" + ",".join(dates[uid].isoformat() for uid in ids) + "}"


async def _existing(session: AsyncSession, dates: dict[int, date]) -> dict[int, int]:
    """The first brief of each user's local day, if there is one: user id -> brief id."""
    if session.get_bind().dialect.name == "postgresql":
        ids = sorted(dates)
        conn = await session.connection()
        params = {"ids": IntArray(ids), "days": _dates_text(ids, dates)}
        rows = await conn.execute(_EXISTING_PG, params)
        return {uid: bid for uid, bid in rows if bid is not None}
    found: dict[int, int] = {}
    days = sorted(set(dates.values()))
    for part in chunks(sorted(dates)):
        stmt = (
            select(Brief.user_id, Brief.local_date, func.min(Brief.id))
            .where(one_of(session, Brief.user_id, part), Brief.local_date.in_(days))
            .group_by(Brief.user_id, Brief.local_date)
        )
        for uid, day, bid in await core_rows(session, stmt):
            if dates[uid] == day:
                found[uid] = bid
    return found


async def _last_brief_times(session: AsyncSession, ids: Sequence[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for part in chunks(ids):
        stmt = (
            select(Brief.user_id, func.max(Brief.created_at))
            .where(one_of(session, Brief.user_id, part))
            .group_by(Brief.user_id)
        )
        found.update({uid: at for uid, at in await core_rows(session, stmt)})
    return found


async def _ranking_inputs(
    session: AsyncSession, zones: dict[int, str], last: dict[int, datetime], now: datetime
) -> tuple[list[PoolRow], dict[int, datetime], Callable[[], dict[int, UserProfile]] | None]:
    ids = sorted(zones)
    since = {uid: last.get(uid, now - FIRST_BRIEF_WINDOW) for uid in ids}
    pool = await load_pool(
        session,
        newest_after=min(since.values()),
        older_until=max(since.values()),
        now=now,
        new_limit=NEW_POOL + NEW_MARGIN,
        older_limit=OLDER_POOL + OLDER_MARGIN,
    )
    if not pool:
        return [], since, None
    return pool, since, await load_profiles(session, zones, {row.group for row in pool})


def _rank_all(
    pool: list[PoolRow],
    since: dict[int, datetime],
    assemble_profiles: Callable[[], dict[int, UserProfile]],
    now: datetime,
) -> dict[int, list[CandidateRow]]:
    picks: dict[int, list[CandidateRow]] = {}
    for _ in _rank_steps(pool, since, assemble_profiles, now, picks):
        pass
    return picks


def _rank_steps(
    pool: list[PoolRow],
    since: dict[int, datetime],
    assemble_profiles: Callable[[], dict[int, UserProfile]],
    now: datetime,
    picks: dict[int, list[CandidateRow]],
    users_per_step: int = RANK_STEP,
) -> Iterator[None]:
    """Rank every user into ``picks``, pausing (yielding) every ``users_per_step`` users."""
    profiles = assemble_profiles()
    yield
    views: dict[datetime, SinceView] = {}
    for n, (uid, moment) in enumerate(since.items(), start=1):
        view = views.get(moment)
        if view is None:
            view = views[moment] = SinceView(pool, moment, now)
        picks[uid] = view.pick(profiles[uid], now)
        if n % users_per_step == 0:
            yield


async def _store(
    sessions: Sessions,
    picks: dict[int, list[CandidateRow]],
    dates: dict[int, date],
    kind: str,
    now: datetime,
) -> tuple[dict[int, int], dict[int, int]]:
    """Insert the briefs with picks, unless another compose stored one meanwhile (then that
    one is today's): (user id -> brief id stored here, user id -> the other's brief id)."""
    ids = sorted(uid for uid, chosen in picks.items() if chosen)
    if not ids:
        return {}, {}
    async with transaction(sessions) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            await session.execute(_LOCK_USERS_PG, {"ids": IntArray(ids)})
        else:
            for part in chunks(ids):  # the lock compose_brief takes, for all users at once
                await session.execute(
                    update(User).where(User.id.in_(part)).values(paused=User.paused),
                    execution_options={"synchronize_session": False},
                )
        raced = await _existing(session, {uid: dates[uid] for uid in ids})
        fresh = [uid for uid in ids if uid not in raced]
        if not fresh:
            return {}, raced
        chosen = {row.id for uid in fresh for row in picks[uid]}
        conn = await session.connection()  # Core statements: no ORM objects for 1000s of rows
        if postgres:  # the insights are held in the same statement
            stored = await _store_pg(conn, fresh, picks, dates, kind, now, chosen)
        else:
            gone = chosen - await live_insights(session, chosen)  # deleted since they were read
            stored = await _store_rows(conn, fresh, picks, dates, kind, now, gone)
    return stored, raced


async def _store_pg(
    conn: AsyncConnection,
    fresh: list[int],
    picks: dict[int, list[CandidateRow]],
    dates: dict[int, date],
    kind: str,
    now: datetime,
    chosen: set[int],
) -> dict[int, int]:
    briefs = _briefs_json(fresh, picks, dates)
    params = {"briefs": briefs, "kind": kind, "now": now, "chosen": IntArray(sorted(chosen))}
    return {uid: bid for bid, uid in await conn.execute(_STORE_PG, params)}


def _briefs_json(
    fresh: list[int], picks: dict[int, list[CandidateRow]], dates: dict[int, date]
) -> str:
    """``_STORE_PG``'s rows as JSON text. Most users of a batch share their picks (the same
    rows of a shared view, so the same list by identity) and their day: each is encoded once,
    not as a dict per user (building and encoding those was most of this step's CPU)."""
    days: dict[date, str] = {}
    shared: dict[tuple[int, ...], str] = {}
    rows = []
    for uid in fresh:
        chosen, day = picks[uid], dates[uid]
        key = tuple(map(id, chosen))  # picks holds the rows meanwhile: their ids are theirs
        tail = shared.get(key)
        if tail is None:
            ids, older = [row.id for row in chosen], [row.is_older for row in chosen]
            tail = shared[key] = f'"insights":{json.dumps(ids)},"older":{json.dumps(older)}'
        when = days.get(day) or days.setdefault(day, day.isoformat())
        rows.append(f'{{"user_id":{int(uid)},"local_date":"{when}",{tail}}}')
    return "[" + ",".join(rows) + "]"


async def _store_rows(
    conn: AsyncConnection,
    fresh: list[int],
    picks: dict[int, list[CandidateRow]],
    dates: dict[int, date],
    kind: str,
    now: datetime,
    gone: set[int],
) -> dict[int, int]:
    briefs, items = cast(Table, Brief.__table__), cast(Table, BriefItem.__table__)
    rows = [
        {"user_id": uid, "local_date": dates[uid], "kind": kind, "created_at": now} for uid in fresh
    ]
    stmt = insert(briefs).returning(briefs.c.id, briefs.c.user_id, sort_by_parameter_order=True)
    stored = {uid: bid for bid, uid in await conn.execute(stmt, rows)}
    item_rows = [
        {
            "brief_id": stored[uid],
            "position": position,
            "user_id": uid,
            "insight_id": row.id,
            "is_older": row.is_older,
        }
        for uid in fresh
        for position, row in enumerate(picks[uid], start=1)
        if row.id not in gone
    ]
    if item_rows:
        await conn.execute(insert(items), item_rows)
    return stored


async def _results(
    session: AsyncSession, briefs: dict[int, tuple[int, bool]]
) -> dict[int, BriefResult]:
    """Read stored briefs back (items with their insight, episode and show) in bulk."""
    by_brief: dict[int, list[BriefEntry]] = defaultdict(list)
    heads: dict[int, Brief] = {}
    brief_ids = sorted({bid for bid, _ in briefs.values()})
    for part in chunks(brief_ids):
        for brief in await session.scalars(select(Brief).where(one_of(session, Brief.id, part))):
            heads[brief.id] = brief
        stmt = entries_query().where(one_of(session, BriefItem.brief_id, part))
        for item, insight, episode, feed in await session.execute(stmt):
            by_brief[item.brief_id].append(brief_entry(item, insight, episode, feed))
    return {
        uid: BriefResult(
            brief_id=bid,
            user_id=uid,
            local_date=heads[bid].local_date,
            kind=heads[bid].kind,
            created_at=heads[bid].created_at,
            items=sorted(by_brief[bid], key=lambda e: e.position),
            reused=reused,
        )
        for uid, (bid, reused) in briefs.items()
        if bid in heads
    }


async def _fresh_results(
    session: AsyncSession,
    briefs: dict[int, int],
    picks: dict[int, list[CandidateRow]],
    dates: dict[int, date],
    kind: str,
    now: datetime,
) -> dict[int, BriefResult]:
    """The briefs just stored, from their picks: each distinct insight is read once."""
    chosen = sorted({row.id for uid in briefs for row in picks[uid]})
    shown: dict[int, tuple[Any, ...]] = {}  # every BriefEntry field after position, is_older
    for part in chunks(chosen):
        stmt = (
            select(Insight, Episode, Feed)
            .join(Episode, Episode.id == Insight.episode_id)
            .join(Feed, Feed.id == Insight.feed_id)
            .where(one_of(session, Insight.id, part))
        )
        for insight, episode, feed in await session.execute(stmt):
            read = brief_entry(BriefItem(position=0, is_older=False), insight, episode, feed)
            shown[insight.id] = _after_position(read)
    # Entries are frozen: users given the same insight at the same place share one, and
    # users given the same picks (the same rows of a shared view, so by identity) one list.
    made: dict[tuple[int, bool, int], BriefEntry] = {}
    lists: dict[tuple[int, ...], list[BriefEntry]] = {}

    def entry(position: int, row: CandidateRow) -> BriefEntry:
        key = (position, row.is_older, row.id)
        found = made.get(key)
        if found is None:
            found = made[key] = BriefEntry(position, row.is_older, *shown[row.id])
        return found

    def items(rows: list[CandidateRow]) -> list[BriefEntry]:
        key = tuple(map(id, rows))  # picks holds the rows meanwhile: their ids are theirs
        found = lists.get(key)
        if found is None:
            found = lists[key] = [
                entry(position, row)
                for position, row in enumerate(rows, start=1)
                if row.id in shown  # deleted meanwhile (the stored item went with it)
            ]
        return found

    return {
        uid: BriefResult(
            brief_id=bid,
            user_id=uid,
            local_date=dates[uid],
            kind=kind,
            created_at=now,
            items=items(picks[uid]),
        )
        for uid, bid in briefs.items()
    }


def _after_position(entry: BriefEntry) -> tuple[Any, ...]:
    return astuple(entry)[2:]
