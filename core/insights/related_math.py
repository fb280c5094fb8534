"""Vectorised helpers for related insights: running top lists and the other-show-first order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

OTHER_SHOW = 2.0  # ranking bonus over a cosine in [-1, 1]: other shows come first,
OTHER_EPISODE = 1.0  # then other episodes of the same show, then the same episode.


class HasPlace(Protocol):
    @property
    def episode_id(self) -> int: ...

    @property
    def feed_id(self) -> int: ...

    @property
    def group_id(self) -> int: ...


def edge_bonus(rows: Sequence[HasPlace], cols: Sequence[HasPlace]) -> np.ndarray:
    """(rows, cols) ranking bonus: other show 2, other episode 1, same episode 0."""
    return place_bonuses(
        np.array([m.feed_id for m in rows])[:, None],
        np.array([m.episode_id for m in rows])[:, None],
        np.array([m.feed_id for m in cols])[None, :],
        np.array([m.episode_id for m in cols])[None, :],
    )


def place_bonuses(
    feed_a: np.ndarray, episode_a: np.ndarray, feed_b: np.ndarray, episode_b: np.ndarray
) -> np.ndarray:
    """``place_bonus`` of each pair of places given as arrays (broadcast)."""
    other_episode = np.where(episode_a != episode_b, OTHER_EPISODE, 0.0)
    return np.where(feed_a != feed_b, OTHER_SHOW, other_episode)


def place_bonus(a: HasPlace, b: HasPlace) -> float:
    if a.feed_id != b.feed_id:
        return OTHER_SHOW
    return OTHER_EPISODE if a.episode_id != b.episode_id else 0.0


class TopLists:
    """For each of ``n`` rows, the ``width`` best (key, cosine, id) seen so far."""

    def __init__(self, n: int, width: int) -> None:
        self.width = width
        self.keys = np.full((n, 0), -np.inf, dtype=np.float64)
        self.sims = np.zeros((n, 0), dtype=np.float64)
        self.ids = np.zeros((n, 0), dtype=np.int64)

    def merge(self, keys: np.ndarray, sims: np.ndarray, ids: np.ndarray) -> None:
        all_keys = np.concatenate([self.keys, keys], axis=1)
        all_sims = np.concatenate([self.sims, sims], axis=1)
        all_ids = np.concatenate([self.ids, np.broadcast_to(ids, keys.shape)], axis=1)
        if all_keys.shape[1] > self.width:
            top = np.argpartition(-all_keys, self.width - 1, axis=1)[:, : self.width]
            all_keys = np.take_along_axis(all_keys, top, axis=1)
            all_sims = np.take_along_axis(all_sims, top, axis=1)
            all_ids = np.take_along_axis(all_ids, top, axis=1)
        self.keys, self.sims, self.ids = all_keys, all_sims, all_ids

    def row(self, k: int) -> list[tuple[float, float, int]]:
        """Row ``k``'s finite entries as (key, cosine, id), best first, ties by id."""
        finite = np.isfinite(self.keys[k])
        keys, sims, ids = self.keys[k][finite], self.sims[k][finite], self.ids[k][finite]
        order = np.lexsort((ids, -keys))  # by key descending, then id: one sort in C
        return list(
            zip(keys[order].tolist(), sims[order].tolist(), ids[order].tolist(), strict=True)
        )


def pick_top(
    ranked: Iterable[tuple[float, float, int]],
    own_group: int,
    group_of: dict[int, int],
    k: int,
) -> list[tuple[int, float]]:
    """At most one insight per near-duplicate group, never the own group: (id, cosine)."""
    chosen: list[tuple[int, float]] = []
    seen = {own_group}
    for _key, sim, insight_id in ranked:
        group = group_of.get(insight_id, insight_id)
        if group in seen:
            continue
        seen.add(group)
        chosen.append((insight_id, sim))
        if len(chosen) == k:
            break
    return chosen
