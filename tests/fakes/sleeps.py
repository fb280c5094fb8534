"""A sleep that records how long it was asked to wait and returns at once."""

from __future__ import annotations


class RecordedSleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
