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

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.brief import (
    BRIEF_SIZE,
    FIRST_BRIEF_WINDOW,
    NEW_POOL,
    OLDER_POOL,
    BriefEntry,
    BriefResult,
    _entries_query,
    _entry,
    compose_brief,
    local_date_for,
)
from core.brief_batch_load import PoolRow, chunks, load_pool, load_profiles
from core.db import transaction
from core.models import Brief, BriefItem, User
from core.people import UserProfile
from core.ports import Clock
from core.ranking import CandidateRow, Candidates, Ranker

log = logging.getLogger(__name__)
Sessions = async_sessionmaker[AsyncSession]

NEW_MARGIN = 2000  # extra newest insights read for users who received or muted some
OLDER_MARGIN = 1000  # extra best older ones, for the same reason


async def compose_briefs(
    sessions: Sessions, user_ids: Sequence[int], clock: Clock, *, kind: str = "daily"
) -> dict[int, BriefResult]:
    """Today's brief for each user (by id): the stored one if it exists, else a new one.
    Unknown ids are left out of the answer."""
    now = clock.now()
    async with sessions() as session:
        zones = await _timezones(session, user_ids)
        dates = {uid: local_date_for(tz, now) for uid, tz in zones.items()}
        existing = await _existing(session, dates)
        todo = {uid: tz for uid, tz in zones.items() if uid not in existing}
        picks = await _rank(session, todo, now) if todo else {}
    try:
        stored = await _store(sessions, picks, dates, kind, now)
    except DBAPIError:  # a race with another compose (or a deadlock): one at a time instead
        log.warning("storing %d briefs in one go failed; composing one by one", len(picks))
        stored = await _one_by_one(sessions, picks, clock, kind)
    existing.update({uid: bid for uid, (bid, _) in stored.items()})
    new = {uid for uid, (_, is_new) in stored.items() if is_new}
    async with sessions() as session:
        results = await _results(session, existing, new)
    for uid in zones:
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
            stored[uid] = (result.brief_id, not result.reused)
    return stored


async def _timezones(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for part in chunks(sorted(set(user_ids))):
        stmt = select(User.id, User.timezone).where(User.id.in_(part))
        found.update({uid: tz for uid, tz in await session.execute(stmt)})
    return found


async def _existing(session: AsyncSession, dates: dict[int, date]) -> dict[int, int]:
    """The first brief of each user's local day, if there is one: user id -> brief id."""
    found: dict[int, int] = {}
    days = sorted(set(dates.values()))
    for part in chunks(sorted(dates)):
        stmt = (
            select(Brief.user_id, Brief.local_date, func.min(Brief.id))
            .where(Brief.user_id.in_(part), Brief.local_date.in_(days))
            .group_by(Brief.user_id, Brief.local_date)
        )
        for uid, day, bid in await session.execute(stmt):
            if dates[uid] == day:
                found[uid] = bid
    return found


async def _last_brief_times(session: AsyncSession, ids: Sequence[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for part in chunks(ids):
        stmt = (
            select(Brief.user_id, func.max(Brief.created_at))
            .where(Brief.user_id.in_(part))
            .group_by(Brief.user_id)
        )
        found.update({uid: at for uid, at in await session.execute(stmt)})
    return found


async def _rank(
    session: AsyncSession, zones: dict[int, str], now: datetime
) -> dict[int, list[CandidateRow]]:
    ids = sorted(zones)
    last = await _last_brief_times(session, ids)
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
        return {}
    profiles = await load_profiles(session, zones, {row.group for row in pool})
    views: dict[datetime, _View] = {}
    picks: dict[int, list[CandidateRow]] = {}
    for uid in ids:
        view = views.get(since[uid])
        if view is None:
            view = views[since[uid]] = _View(pool, since[uid], now)
        picks[uid] = view.pick(profiles[uid], now)
    return picks


class _View:
    """The pool as users whose last brief was at ``since`` see it: new ones (newest first),
    then older ones (best first), in the order ``compose_brief`` reads them."""

    def __init__(self, pool: list[PoolRow], since: datetime, now: datetime) -> None:
        new = [r for r in pool if since < r.created_at <= now]
        new.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        older = [r for r in pool if r.created_at <= since]
        older.sort(key=lambda r: (r.score, r.id), reverse=True)
        self.rows = [_candidate(r, is_older=False) for r in new]
        self.rows += [_candidate(r, is_older=True) for r in older]
        self.new_count = len(new)
        self.candidates = Candidates.build(self.rows)
        self.ranker = Ranker(self.candidates, now)
        self.scores = np.maximum(self.candidates.scores, 0.0)
        self.best = float(self.scores.max()) if self.rows else 0.0
        self.tags: dict[str, list[int]] = defaultdict(list)
        for index, row in enumerate(new + older):
            for tag in set(row.tags):
                self.tags[tag].append(index)

    def pick(self, profile: UserProfile, now: datetime) -> list[CandidateRow]:
        if not self.rows:
            return []
        out = self._outside_pool(profile)
        best = float(self.scores[~out].max()) if not out.all() else 0.0
        ranker = self.ranker if best == self.best else Ranker(self.candidates, now, best)
        cut = self._beyond_limits(out)
        if cut:  # rows compose_brief's LIMITs would not have read for this user
            profile = replace(profile, received_ids=profile.received_ids | cut)
        return [self.rows[i] for i in ranker.pick(profile, BRIEF_SIZE)]

    def _outside_pool(self, profile: UserProfile) -> npt.NDArray[np.bool_]:
        """What compose_brief's queries leave out: received insights and muted tags."""
        out = np.zeros(len(self.rows), dtype=np.bool_)
        index_of = self.candidates.index_of
        out[[index_of[i] for i in profile.received_ids if i in index_of]] = True
        for topic in profile.muted_topics:
            for tag in (topic, f"{topic}s"):
                out[self.tags.get(tag, [])] = True
        return out

    def _beyond_limits(self, out: npt.NDArray[np.bool_]) -> frozenset[int]:
        cut: list[int] = []
        for start, stop, limit in (
            (0, self.new_count, NEW_POOL),
            (self.new_count, len(self.rows), OLDER_POOL),
        ):
            if stop - start <= limit:
                continue
            kept = np.cumsum(~out[start:stop])
            beyond = np.flatnonzero((kept > limit) & ~out[start:stop]) + start
            cut += [self.rows[i].id for i in beyond.tolist()]
        return frozenset(cut)


def _candidate(row: PoolRow, *, is_older: bool) -> CandidateRow:
    return CandidateRow(
        id=row.id,
        episode_id=row.episode_id,
        feed_id=row.feed_id,
        score=row.score,
        created_at=row.created_at,
        topics=row.keys,
        group_id=row.group_id,
        is_older=is_older,
    )


async def _store(
    sessions: Sessions,
    picks: dict[int, list[CandidateRow]],
    dates: dict[int, date],
    kind: str,
    now: datetime,
) -> dict[int, tuple[int, bool]]:
    """Insert the briefs with picks, unless another compose stored one meanwhile (then that
    one is today's): user id -> (brief id, stored here)."""
    ids = sorted(uid for uid, chosen in picks.items() if chosen)
    if not ids:
        return {}
    async with transaction(sessions) as session:
        for part in chunks(ids):  # the lock compose_brief takes, for all users at once
            await session.execute(
                update(User).where(User.id.in_(part)).values(paused=User.paused),
                execution_options={"synchronize_session": False},
            )
        raced = await _existing(session, {uid: dates[uid] for uid in ids})
        fresh = [uid for uid in ids if uid not in raced]
        found = {uid: (bid, False) for uid, bid in raced.items()}
        if not fresh:
            return found
        rows = [
            {"user_id": uid, "local_date": dates[uid], "kind": kind, "created_at": now}
            for uid in fresh
        ]
        stmt = insert(Brief).returning(Brief.id, Brief.user_id, sort_by_parameter_order=True)
        stored = {uid: bid for bid, uid in await session.execute(stmt, rows)}
        items = [
            {
                "brief_id": stored[uid],
                "position": position,
                "user_id": uid,
                "insight_id": row.id,
                "is_older": row.is_older,
            }
            for uid in fresh
            for position, row in enumerate(picks[uid], start=1)
        ]
        await session.execute(insert(BriefItem), items)
    return found | {uid: (bid, True) for uid, bid in stored.items()}


async def _results(
    session: AsyncSession, briefs: dict[int, int], new: set[int]
) -> dict[int, BriefResult]:
    """Read every brief back (items with their insight, episode and show) in bulk."""
    by_brief: dict[int, list[BriefEntry]] = defaultdict(list)
    heads: dict[int, Brief] = {}
    brief_ids = sorted(set(briefs.values()))
    for part in chunks(brief_ids):
        for brief in await session.scalars(select(Brief).where(Brief.id.in_(part))):
            heads[brief.id] = brief
        stmt = _entries_query().where(BriefItem.brief_id.in_(part))
        for item, insight, episode, feed in await session.execute(stmt):
            by_brief[item.brief_id].append(_entry(item, insight, episode, feed))
    return {
        uid: BriefResult(
            brief_id=bid,
            user_id=uid,
            local_date=heads[bid].local_date,
            kind=heads[bid].kind,
            created_at=heads[bid].created_at,
            items=sorted(by_brief[bid], key=lambda e: e.position),
            reused=uid not in new,
        )
        for uid, bid in briefs.items()
        if bid in heads
    }
