"""Times for transcripts that carry only a few timestamps (Markdown, HTML, plain text).

Each passage gets a start and end by linear interpolation over character offsets between the
known stamps: speech runs at a roughly even pace, so characters are a fair proxy for time.
Before the first stamp the clock starts at zero; after the last one the pace measured so far
(or a typical speaking pace) carries on.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from core.domain import SegmentData
from core.transcripts.text import CHARS_PER_SECOND


@dataclass(slots=True)
class Passage:
    """One paragraph or utterance before it has times."""

    text: str
    speaker: str | None = None
    # Known times inside this passage: (character offset within ``text``, seconds).
    stamps: list[tuple[int, float]] = field(default_factory=list)


def time_passages(passages: list[Passage]) -> list[SegmentData]:
    """Give every passage a start and end from the stamps around it."""
    offsets: list[int] = []
    anchors: list[tuple[float, float]] = [(0.0, 0.0)]
    position = 0
    for passage in passages:
        offsets.append(position)
        for offset, seconds in passage.stamps:
            # A stamp earlier than one already seen is a typo; it would make time run backwards.
            if seconds >= anchors[-1][1] and position + offset >= anchors[-1][0]:
                anchors.append((float(position + offset), seconds))
        position += len(passage.text) + 1
    clock = _Clock(anchors)
    return [
        SegmentData(
            start=round(clock.at(start), 3),
            end=round(clock.at(start + len(passage.text)), 3),
            text=passage.text,
            speaker=passage.speaker,
        )
        for passage, start in zip(passages, offsets, strict=True)
    ]


class _Clock:
    """Piecewise-linear map from character offset to seconds."""

    def __init__(self, anchors: list[tuple[float, float]]) -> None:
        self._positions = [pos for pos, _ in anchors]
        self._seconds = [sec for _, sec in anchors]
        last_pos, last_sec = anchors[-1]
        # The pace measured over the stamped part, unless it is implausible.
        pace = last_pos / last_sec if last_sec > 0 and last_pos > 0 else CHARS_PER_SECOND
        self._tail_pace = pace if 3.0 <= pace <= 60.0 else CHARS_PER_SECOND

    def at(self, position: float) -> float:
        index = bisect_right(self._positions, position) - 1
        if index >= len(self._positions) - 1:
            return self._seconds[-1] + (position - self._positions[-1]) / self._tail_pace
        pos0, pos1 = self._positions[index], self._positions[index + 1]
        sec0, sec1 = self._seconds[index], self._seconds[index + 1]
        if pos1 == pos0:
            return sec1
        return sec0 + (sec1 - sec0) * (position - pos0) / (pos1 - pos0)
