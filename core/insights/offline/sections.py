"""Topical sections by lexical cohesion, in the manner of Hearst's TextTiling.

Sentences are grouped into blocks of about ``block_words`` words; at each gap between blocks the
vocabulary of the blocks before is compared with the blocks after. A topic shift shows as a
valley in that similarity; the deepest valleys, at least ``min_words`` apart, become boundaries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from core.insights.offline.passages import Sentence


def blocks_of(sentences: Sequence[Sentence], block_words: int) -> list[list[int]]:
    blocks: list[list[int]] = [[]]
    count = 0
    for sentence in sentences:
        blocks[-1].append(sentence.index)
        count += sentence.n_words
        if count >= block_words:
            blocks.append([])
            count = 0
    return [b for b in blocks if b]


def gap_similarities(
    sentences: Sequence[Sentence], blocks: list[list[int]], window: int
) -> np.ndarray:
    counts = [Counter(w for i in block for w in sentences[i].content) for block in blocks]
    sims = np.zeros(max(0, len(blocks) - 1))
    for gap in range(len(blocks) - 1):
        left: Counter[str] = Counter()
        right: Counter[str] = Counter()
        for c in counts[max(0, gap - window + 1) : gap + 1]:
            left.update(c)
        for c in counts[gap + 1 : gap + 1 + window]:
            right.update(c)
        shared = sum(left[w] * right[w] for w in left.keys() & right.keys())
        norm = np.sqrt(sum(v * v for v in left.values()) * sum(v * v for v in right.values()))
        sims[gap] = shared / norm if norm else 0.0
    return sims


def depth_scores(sims: np.ndarray) -> np.ndarray:
    depths = np.zeros_like(sims)
    for i, value in enumerate(sims):
        # Hearst: climb to the nearest peak on each side of the valley.
        left_peak = _climb(sims, i, -1)
        right_peak = _climb(sims, i, 1)
        depths[i] = (left_peak - value) + (right_peak - value)
    return depths


def _climb(sims: np.ndarray, i: int, step: int) -> float:
    best = sims[i]
    j = i + step
    while 0 <= j < len(sims) and sims[j] >= best:
        best = sims[j]
        j += step
    return float(best)


def split_sections(
    sentences: Sequence[Sentence],
    *,
    max_sections: int,
    block_words: int = 80,
    window: int = 4,
    min_words: int = 500,
) -> list[list[int]]:
    """Sentence indices of each section, in order; at most ``max_sections`` sections."""
    if not sentences:
        return []
    blocks = blocks_of(sentences, block_words)
    sims = gap_similarities(sentences, blocks, window)
    depths = depth_scores(sims)
    block_words_before = np.cumsum([sum(sentences[i].n_words for i in b) for b in blocks])
    total = int(block_words_before[-1])
    chosen: list[int] = []
    cutoff = depths.mean() - depths.std() / 2 if len(depths) else 0.0
    # Deepest valleys first; ties broken by position so the result is deterministic.
    for gap in sorted(range(len(depths)), key=lambda g: (-depths[g], g)):
        if len(chosen) + 1 >= max_sections or depths[gap] < cutoff or depths[gap] <= 0:
            break
        at = int(block_words_before[gap])
        if at < min_words or total - at < min_words:
            continue
        if all(abs(at - int(block_words_before[c])) >= min_words for c in chosen):
            chosen.append(gap)
    sections: list[list[int]] = []
    start = 0
    for gap in sorted(chosen):
        end = blocks[gap + 1][0]
        sections.append(list(range(start, end)))
        start = end
    sections.append(list(range(start, len(sentences))))
    return sections
