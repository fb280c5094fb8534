"""Front matter: a YAML (``---``) or TOML (``+++``) block at the top of a transcript file.

It is metadata about the episode, never speech: it is cut off before the transcript is read,
and its title and date are kept for an episode the feed left without them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import yaml

_YAML = re.compile(r"\A\ufeff?[ \t]*---[ \t]*\n(.*?\n)?[ \t]*(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_TOML = re.compile(r"\A\ufeff?[ \t]*\+\+\+[ \t]*\n(.*?\n)?[ \t]*\+\+\+[ \t]*(?:\n|\Z)", re.S)
_TITLE_KEYS = ("title", "episode_title", "name")
_DATE_KEYS = ("date", "published", "published_at", "pubdate", "recorded")


@dataclass(frozen=True, slots=True)
class FrontMatter:
    title: str | None = None
    published_at: datetime | None = None


def split_front_matter(text: str) -> tuple[FrontMatter | None, str]:
    """The front matter (None when the file has none) and the text after it.

    A block that is not valid YAML/TOML is still cut off when it is made of ``key: value``
    lines: it is metadata even when a tool wrote it carelessly.
    """
    for pattern, load in ((_YAML, _load_yaml), (_TOML, _load_toml)):
        match = pattern.match(text)
        if match is None:
            continue
        block = match.group(1) or ""
        fields = load(block)
        if fields is None:
            if not _looks_like_fields(block):
                continue
            fields = _loose_fields(block)
        return _front_matter(fields), text[match.end() :]
    return None, text


def _load_yaml(block: str) -> dict[str, Any] | None:
    try:
        value = yaml.safe_load(block) if block.strip() else {}
    except yaml.YAMLError:
        return None
    return value if isinstance(value, dict) else None


def _load_toml(block: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(block)
    except tomllib.TOMLDecodeError:
        return None


def _looks_like_fields(block: str) -> bool:
    lines = [line for line in block.splitlines() if line.strip()]
    keyed = sum(1 for line in lines if re.match(r"^\s*[\w-]{1,40}\s*[:=]", line))
    return bool(lines) and keyed >= len(lines) / 2


def _loose_fields(block: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for line in block.splitlines():
        match = re.match(r"^([\w-]{1,40})\s*[:=]\s*(.*)$", line)
        if match:
            fields[match.group(1)] = match.group(2).strip().strip("\"'")
    return fields


def _front_matter(fields: dict[str, Any]) -> FrontMatter:
    lowered = {str(k).lower(): v for k, v in fields.items()}
    title = next((lowered[k] for k in _TITLE_KEYS if isinstance(lowered.get(k), str)), None)
    published = next((_as_datetime(lowered[k]) for k in _DATE_KEYS if k in lowered), None)
    title = " ".join(title.split()) if title else None
    return FrontMatter(title=title or None, published_at=published)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
