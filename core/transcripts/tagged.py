"""Turn-tagged transcripts: XML-ish tags carrying the speaker and the time as attributes.

``<turn speaker="Waleed Ammar" timestamp="30:54"> words </turn>``, and the same idea under other
names (``<utterance who="…" start="12.5">``, ``<segment speaker="…" time="00:01:02">``). Each
tag starts a turn that runs to the next one; any other markup inside is dropped and entities are
decoded, so no tag ever reaches the words. Times between stamps are interpolated.
"""

from __future__ import annotations

import html
import re

from core.domain import SegmentData
from core.transcripts.text import clock_to_seconds, has_words, squash, strip_annotations
from core.transcripts.timing import Passage, time_passages

_SPEAKER_KEYS = ("speaker", "who", "spk", "speaker_name", "name", "voice")
_TIME_KEYS = ("timestamp", "time", "start", "begin", "ts", "at", "start_time", "starttime")
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
# An opening tag whose attributes name a speaker (or only a time: a speaker left blank).
_TURN_TAG = re.compile(
    r"<(?!/)([A-Za-z][\w:-]*)((?:\s+[\w:-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))+)\s*/?>"
)
_ANY_TAG = re.compile(r"</?[A-Za-z][^<>]{0,400}>|<!--.*?-->", re.S)
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?](?:\s|$))")
_SECONDS = re.compile(r"^\d+(?:\.\d+)?s?$")


def looks_turn_tagged(text: str) -> bool:
    """At least two opening tags that carry a speaker or a time attribute."""
    hits = 0
    for match in _TURN_TAG.finditer(text[:200_000]):
        keys = {k.lower() for k, *_ in _ATTRIBUTE.findall(match.group(2))}
        if keys & set(_SPEAKER_KEYS) and (keys & set(_TIME_KEYS) or match.group(1).lower() in
                                          ("turn", "utterance", "u", "speech")):  # fmt: skip
            hits += 1
            if hits >= 2:
                return True
    return False


def parse_turn_tagged(text: str) -> list[SegmentData]:
    return time_passages(tagged_passages(text))


def tagged_passages(text: str) -> list[Passage]:
    turns = [m for m in _TURN_TAG.finditer(text) if _is_turn(m)]
    passages: list[Passage] = []
    for index, match in enumerate(turns):
        end = turns[index + 1].start() if index + 1 < len(turns) else len(text)
        attributes = _attributes(match.group(2))
        words = _plain(text[match.end() : end])
        if not has_words(words):
            continue
        speaker = next((attributes[k] for k in _SPEAKER_KEYS if attributes.get(k)), None)
        seconds = next(
            (s for k in _TIME_KEYS if (s := _seconds(attributes.get(k))) is not None), None
        )
        stamps = [(0, seconds)] if seconds is not None else []
        passages.append(Passage(text=words, speaker=squash(speaker) if speaker else None,
                                stamps=stamps))  # fmt: skip
    return passages


def _is_turn(match: re.Match[str]) -> bool:
    keys = set(_attributes(match.group(2)))
    return bool(keys & set(_SPEAKER_KEYS) or keys & set(_TIME_KEYS))


def _attributes(raw: str) -> dict[str, str]:
    return {
        key.lower(): html.unescape(a or b or c).strip() for key, a, b, c in _ATTRIBUTE.findall(raw)
    }


def _seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if _SECONDS.match(value):
        return float(value.rstrip("s"))
    return clock_to_seconds(value)


def _plain(fragment: str) -> str:
    words = squash(strip_annotations(html.unescape(_ANY_TAG.sub(" ", fragment))))
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", words)  # "<b>here</b>." is "here."
