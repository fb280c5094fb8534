"""Spoken numbers as digits for headlines: "fifteen percent" -> "15%", "a hundred" -> "100".

Transcripts spell numbers out; a headline reads faster (and fits 90 characters more often) with
digits. Small counts stay words ("two engineers"), as style guides have it, unless a percentage.
"""

from __future__ import annotations

import re

_UNITS_TEXT = """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen"""
_TENS_TEXT = "twenty thirty forty fifty sixty seventy eighty ninety"
_UNITS = _UNITS_TEXT.split()
_TENS = _TENS_TEXT.split()
VALUE = {w: i for i, w in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
SCALE = {"hundred": 100, "thousand": 1000}

_WORD = "|".join(sorted([*VALUE, *SCALE], key=len, reverse=True))
_DIGIT_WORD = "|".join(_UNITS[:10])
# A run of number words: "thirty-nine", "a hundred and twenty", "two point eight".
_RUN = re.compile(
    rf"\b(?:a\s+(?=hundred|thousand))?(?:{_WORD})(?:(?:[\s-]+(?:and\s+)?)(?:{_WORD}))*"
    rf"(?:\s+point(?:\s+(?:{_DIGIT_WORD}))+)?\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(\d)\s*(?:percent|per cent)\b", re.IGNORECASE)


def _value(run: str) -> tuple[float, int] | None:
    """The number a run of words names and its decimal places; None when not one number."""
    whole, _, decimals = run.lower().partition(" point ")
    total, current = 0, 0
    previous: int | None = None
    for token in re.split(r"[\s-]+", whole):
        if token in ("a", "and", ""):
            continue
        if token in SCALE:
            current = max(current, 1) * SCALE[token]
            if token == "thousand":
                total, current = total + current, 0
            previous = None
            continue
        if previous is not None and (previous % 10 or previous < 20 or VALUE[token] >= 10):
            return None  # "twenty twenty-five", "five six": a year or a list, not a sum
        current += VALUE[token]
        previous = VALUE[token]
    places = [str(VALUE[d]) for d in decimals.split()] if decimals else []
    number = float(f"{total + current}.{''.join(places) or 0}")
    return number, len(places)


def _replace(match: re.Match[str]) -> str:
    run = match.group(0)
    parsed = _value(run)
    if run.split()[0].lower() in SCALE:
        return run  # "several hundred", "a few thousand": no number to write
    if parsed is None:
        first, space, rest_of_run = run.partition(" ")
        if space and first.lower() in VALUE and VALUE[first.lower()] < 10:
            return first + space + _RUN.sub(_replace, rest_of_run)  # "one ninety-minute block"
        return run
    value, places = parsed
    rest = match.string[match.end() :]
    if value < 10 and not re.match(r"\s*(?:percent|per cent)\b", rest, re.I):
        return run
    return f"{value:.{places}f}"


def with_digits(text: str) -> str:
    """``text`` with spoken numbers of ten or more (and percentages) written as digits."""
    return _PERCENT.sub(r"\1%", _RUN.sub(_replace, text))
