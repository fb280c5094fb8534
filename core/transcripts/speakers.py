"""One person, one name: a short form ("Bekah") joins the full name ("Bekah Hawrot Weigel")
when exactly one full name in the same transcript starts with it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from core.domain import SegmentData


def speaker_aliases(names: Iterable[str]) -> dict[str, str]:
    """Map every short form to its full name; names with no unique full form are left out."""
    distinct = sorted({name for name in names if name})
    aliases: dict[str, str] = {}
    for short in distinct:
        short_words = short.casefold().split()
        fuller = [
            name
            for name in distinct
            if len(name.split()) > len(short_words)
            and name.casefold().split()[: len(short_words)] == short_words
        ]
        longest = {max(fuller, key=len)} if fuller else set()
        # "Steve" next to both "Steve Tuck" and "Steve Klabnik" is nobody in particular.
        if longest and all(_extends(full, name) for name in fuller for full in longest):
            aliases[short] = longest.pop()
    return aliases


def _extends(full: str, name: str) -> bool:
    return full.casefold().split()[: len(name.split())] == name.casefold().split()


def merge_speakers(segments: list[SegmentData]) -> list[SegmentData]:
    aliases = speaker_aliases(s.speaker for s in segments if s.speaker)
    if not aliases:
        return segments
    return [replace(s, speaker=aliases[s.speaker]) if s.speaker in aliases else s for s in segments]
