"""Ranking a batch of users over one shared candidate pool, as ``compose_brief`` would rank
each of them over the pool its queries read (see ``core.brief.batch``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from core.brief.compose import BRIEF_SIZE, NEW_POOL, OLDER_POOL
from core.brief.load import PoolRow
from core.brief.rank import CandidateRow, Candidates, Ranker
from core.people.users import UserProfile


class SinceView:
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
