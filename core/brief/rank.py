"""Pure, numpy-vectorised ranking of insights for one user's brief (no I/O).

Every candidate gets a shared base (its normalised score plus freshness) and a sparse personal
part (followed topics and shows, feedback). Mutes and already-received insights are removed. The
top of that list is re-ranked with MMR so the brief does not say the same thing twice: never two
from one episode while another episode is available, never two of one near-duplicate group.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from core.people.users import UserProfile

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

W_FOLLOW_TOPIC = 1.5  # per followed topic on the insight
W_LESS_ABOUT = -1.5  # per "less about X" topic on the insight
W_LIKED_TOPIC = 0.3  # per like (👍 / more like this) of an insight sharing the topic, capped
W_DISLIKED_TOPIC = -0.3  # per 👎 of an insight sharing the topic, capped
FEEDBACK_TOPIC_CAP = 3  # likes of one topic beyond this add nothing
TOPIC_CLIP = (-3.0, 2.0)  # many matching topics help, but not without bound
W_SHOW = 1.0  # from a followed show
W_SIMILAR = 1.0  # times the related-edge score to a liked insight
W_SCORE = 1.0  # the insight's own score over the best candidate's score
W_FRESH = 0.5  # times 0.5 ** (age / FRESH_HALF_LIFE_H)
FRESH_HALF_LIFE_H = 24.0
OLDER_PENALTY = 10.0  # backlog fill ranks after every new insight
MMR_LAMBDA = 0.75  # relevance vs. similarity to what is already picked
SHORTLIST = 30  # MMR looks at this many of the best
STATIC_WINDOW = 200  # best-by-base candidates always considered for the shortlist


@dataclass(frozen=True, slots=True)
class CandidateRow:
    id: int
    episode_id: int
    feed_id: int
    score: float
    created_at: datetime
    topics: Sequence[str] = ()
    group_id: int | None = None
    is_older: bool = False  # from the backlog, not new since the last brief


@dataclass(slots=True)
class Candidates:
    """Column arrays of the candidate insights plus the posting lists ranking looks things up in."""

    ids: Ints
    episodes: Ints
    feeds: Ints
    groups: Ints  # group_id, or the insight's own id when it has none
    scores: Floats
    created_ts: Floats
    older: npt.NDArray[np.bool_]
    topic_ids: npt.NDArray[np.int32]  # (n, max topics), -1 padded
    topic_postings: dict[str, Ints] = field(default_factory=dict)
    feed_postings: dict[int, Ints] = field(default_factory=dict)
    group_postings: dict[int, Ints] = field(default_factory=dict)
    index_of: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def build(cls, rows: Sequence[CandidateRow]) -> Candidates:
        vocab: dict[str, int] = {}
        width = max((len(r.topics) for r in rows), default=0) or 1
        topic_ids = np.full((len(rows), width), -1, dtype=np.int32)
        for i, row in enumerate(rows):
            for j, topic in enumerate(dict.fromkeys(row.topics)):
                topic_ids[i, j] = vocab.setdefault(topic, len(vocab))
        ids = np.fromiter((r.id for r in rows), np.int64, len(rows))
        groups = np.fromiter(
            (r.group_id if r.group_id is not None else r.id for r in rows), np.int64, len(rows)
        )
        feeds = np.fromiter((r.feed_id for r in rows), np.int64, len(rows))
        names = list(vocab)
        return cls(
            ids=ids,
            episodes=np.fromiter((r.episode_id for r in rows), np.int64, len(rows)),
            feeds=feeds,
            groups=groups,
            scores=np.fromiter((r.score for r in rows), np.float64, len(rows)),
            created_ts=np.fromiter((r.created_at.timestamp() for r in rows), np.float64, len(rows)),
            older=np.fromiter((r.is_older for r in rows), np.bool_, len(rows)),
            topic_ids=topic_ids,
            topic_postings={
                names[k]: v for k, v in _postings(topic_ids.ravel().astype(np.int64), width)
            },
            feed_postings=dict(_postings(feeds, 1)),
            group_postings=dict(_postings(groups, 1)),
            index_of={int(v): i for i, v in enumerate(ids)},
        )


def _postings(keys: Ints, width: int) -> Iterable[tuple[int, Ints]]:
    """(key, row indices) for each distinct non-negative key of a flattened (n, width) array."""
    rows = np.arange(keys.shape[0], dtype=np.int64) // width
    keep = keys >= 0
    keys, rows = keys[keep], rows[keep]
    order = np.argsort(keys, kind="stable")
    keys, rows = keys[order], rows[order]
    uniq, starts = np.unique(keys, return_index=True)
    bounds = [*starts.tolist(), int(keys.shape[0])]
    for n, key in enumerate(uniq.tolist()):
        yield int(key), rows[bounds[n] : bounds[n + 1]]


class Ranker:
    """Ranks one candidate set for many users at one moment; the shared part is computed once."""

    def __init__(self, candidates: Candidates, now: datetime, best: float | None = None) -> None:
        self.c = candidates
        self.base = base_scores(candidates, now, best)
        self.order = np.argsort(-self.base, kind="stable")

    def pick(self, profile: UserProfile, k: int = 5) -> list[int]:
        """Row indices of the user's top ``k``, new before older, best first."""
        if len(self.c) == 0 or k <= 0:
            return []
        personal, excluded = self._personal(profile)
        short, values = self._shortlist(personal, excluded, k)
        chosen = mmr_select(self.c, short, values, k)
        return sorted(chosen, key=lambda i: bool(self.c.older[i]))  # stable: keeps MMR order

    def _personal(self, p: UserProfile) -> tuple[Floats, npt.NDArray[np.bool_]]:
        c = self.c
        n = len(c)
        personal = np.zeros(n, dtype=np.float64)
        for topic, weight in topic_weights(p).items():
            hits = c.topic_postings.get(topic)
            if hits is not None:
                personal[hits] += weight
        np.clip(personal, *TOPIC_CLIP, out=personal)
        for feed in p.followed_feeds:
            hits = c.feed_postings.get(feed)
            if hits is not None:
                personal[hits] += W_SHOW
        for insight_id, edge_score in p.similar_to_liked.items():
            row = c.index_of.get(insight_id)
            if row is not None:
                personal[row] += W_SIMILAR * edge_score
        return personal, self._excluded(p)

    def _excluded(self, p: UserProfile) -> npt.NDArray[np.bool_]:
        c = self.c
        excluded = np.zeros(len(c), dtype=np.bool_)
        for topic in p.muted_topics:
            hits = c.topic_postings.get(topic)
            if hits is not None:
                excluded[hits] = True
        for group in p.received_groups:
            hits = c.group_postings.get(group)
            if hits is not None:
                excluded[hits] = True
        rows = [c.index_of[i] for i in p.received_ids if i in c.index_of]
        excluded[rows] = True
        return excluded

    def _shortlist(
        self, personal: Floats, excluded: npt.NDArray[np.bool_], k: int
    ) -> tuple[Ints, Floats]:
        """The SHORTLIST best eligible rows by total (plus, rarely, more episodes' best)."""
        total = self.base + personal
        total[excluded] = -np.inf
        window = self.order[:STATIC_WINDOW]
        safe = np.count_nonzero(~excluded[window] & (personal[window] >= 0))
        # Untouched rows outside the best-by-base window cannot beat `safe` rows inside it.
        if safe >= SHORTLIST or window.size == len(self.c):
            mask = personal != 0
            mask[window] = True
            mask &= ~excluded
        else:
            mask = ~excluded  # too much removed: look at everything
        pool = np.flatnonzero(mask)
        top = pool
        if pool.size > SHORTLIST:
            top = pool[np.argpartition(-total[pool], SHORTLIST - 1)[:SHORTLIST]]
        top = top[np.argsort(-total[top], kind="stable")]
        episodes, groups = self.c.episodes[top].tolist(), self.c.groups[top].tolist()
        if top.size == pool.size or min(len(set(episodes)), len(set(groups))) >= k:
            return top, total[top]
        # The best rows crowd into few episodes: add the best row of each other episode so the
        # diversity rule has its alternatives.
        ranked = pool[np.argsort(-total[pool], kind="stable")]
        _, first = np.unique(self.c.episodes[ranked], return_index=True)
        extra = ranked[np.sort(first)]
        short = np.concatenate([top, extra[~np.isin(extra, top)][:SHORTLIST]])
        return short, total[short]


def base_scores(c: Candidates, now: datetime, best: float | None = None) -> Floats:
    """The part every user shares: normalised insight score, freshness, backlog penalty.

    ``best`` is the score scores are divided by (default: the best candidate's); a batch that
    shares one candidate set passes each user's own best unseen score."""
    if len(c) == 0:
        return np.zeros(0)
    # Relative to the best candidate, so extractors with other score scales still mix.
    scores = np.maximum(c.scores, 0.0)
    best = float(scores.max()) if best is None else max(best, 0.0)
    norm = scores / best if best > 0 else np.zeros(len(c))
    age_h = np.maximum(now.timestamp() - c.created_ts, 0.0) / 3600.0
    fresh = 0.5 ** (age_h / FRESH_HALF_LIFE_H)
    return W_SCORE * norm + W_FRESH * fresh - OLDER_PENALTY * c.older


def topic_weights(p: UserProfile) -> dict[str, float]:
    """Signed weight per topic from follows, "less about" and liked / disliked insights."""
    weights: dict[str, float] = {}
    for topic in p.followed_topics:
        weights[topic] = weights.get(topic, 0.0) + W_FOLLOW_TOPIC
    for topic in p.less_about_topics:
        weights[topic] = weights.get(topic, 0.0) + W_LESS_ABOUT
    for topic, count in p.liked_topics.items():
        weights[topic] = weights.get(topic, 0.0) + W_LIKED_TOPIC * min(count, FEEDBACK_TOPIC_CAP)
    for topic, count in p.disliked_topics.items():
        bump = W_DISLIKED_TOPIC * min(count, FEEDBACK_TOPIC_CAP)
        weights[topic] = weights.get(topic, 0.0) + bump
    return weights


def topic_similarity(topic_ids: npt.NDArray[np.int32], row: int) -> Floats:
    """Cosine similarity of one row's topic set to every row's (shared / sqrt of both counts)."""
    mine = topic_ids[row]
    shared = ((topic_ids[:, :, None] == mine[None, None, :]) & (mine >= 0)[None, None, :]).sum(
        axis=(1, 2)
    )
    counts = np.maximum((topic_ids >= 0).sum(axis=1), 1)
    sim: Floats = shared / np.sqrt(counts * counts[row])
    return sim


def mmr_select(c: Candidates, rows: Ints, values: Floats, k: int) -> list[int]:
    """Greedy MMR over ``rows`` with two hard rules: one per group; one per episode while
    a row from an unused episode is still available."""
    if rows.size == 0:
        return []
    topic_ids = c.topic_ids[rows]
    episodes, groups = c.episodes[rows], c.groups[rows]
    alive = np.ones(rows.size, dtype=np.bool_)
    max_sim = np.zeros(rows.size)
    picked: list[int] = []
    used_episode = np.zeros(rows.size, dtype=np.bool_)
    while len(picked) < k and alive.any():
        fresh_episode = alive & ~used_episode
        allowed = fresh_episode if fresh_episode.any() else alive
        mmr = np.where(allowed, MMR_LAMBDA * values - (1 - MMR_LAMBDA) * max_sim, -np.inf)
        best = int(np.argmax(mmr))
        picked.append(int(rows[best]))
        alive &= groups != groups[best]  # near-duplicates (and the pick itself) are gone
        used_episode |= episodes == episodes[best]
        np.maximum(max_sim, topic_similarity(topic_ids, best), out=max_sim)
    return picked


def rank(candidates: Candidates, profile: UserProfile, now: datetime, k: int = 5) -> list[int]:
    """Row indices of one user's top ``k`` (see ``Ranker`` to rank many users at once)."""
    return Ranker(candidates, now).pick(profile, k)
