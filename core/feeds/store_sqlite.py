"""SQLite: new episodes and their transcript links as two executemany statements on the
driver itself, each row one ready tuple. Through a Core statement, SQLAlchemy processes every
parameter of every row in Python (``construct_params``, the DATETIME and JSON bind
processors): more CPU than SQLite's own inserts. The values stored are exactly those the Core
insert stored (a test compares them column by column), in the same transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from core.feeds.parse import ParsedEpisode

# insights_rejected: the model's default, which the Core insert sent as a parameter.
_INSERT_EPISODES = """
    INSERT INTO episodes
        (feed_id, dedup_key, guid, title, published_at, duration_seconds, enclosure_url,
         enclosure_type, link, description, image_url, chapters_url, persons, language,
         transcript_status, insight_status, insights_rejected, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 'pending', 0, ?)
"""
# A transcript link finds its episode by the feed's dedup key (unique), so the episodes need
# no RETURNING (which, in parameter order, SQLAlchemy runs as one statement per row).
_INSERT_LINKS = """
    INSERT INTO transcript_links (episode_id, url, mime_type, language, rel)
    SELECT episodes.id, ?, ?, ?, ? FROM episodes
    WHERE episodes.feed_id = ? AND episodes.dedup_key = ?
"""


def sqlite_time(value: datetime | None) -> str | None:
    """A time as SQLAlchemy's SQLite DATETIME stores it for ``UTCDateTime``: in UTC, without
    an offset, to the microsecond ("2025-09-01 08:00:00.000000")."""
    if value is None:
        return None
    if value.tzinfo is not UTC:  # parsed feeds' times are already in UTC
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without "+00:00"


async def insert_episodes_sqlite(
    conn: AsyncConnection,
    items: list[tuple[int, ParsedEpisode, str | None]],
    created_at: datetime,
) -> None:
    """Each item is (feed id, episode, the feed's language)."""
    created = sqlite_time(created_at)
    dumps = json.dumps  # what SQLAlchemy's JSON type sends (no serializer is configured)
    episodes: list[tuple[Any, ...]] = [
        (
            feed_id,
            e.dedup_key,
            e.guid,
            e.title,
            sqlite_time(e.published_at),
            e.duration_seconds,
            e.enclosure_url,
            e.enclosure_type,
            e.link,
            e.description,
            e.image_url,
            e.chapters_url,
            dumps(e.persons) if e.persons else "[]",  # most episodes name no one
            language,
            created,
        )
        for feed_id, e, language in items
    ]
    await conn.exec_driver_sql(_INSERT_EPISODES, episodes)
    links = [
        (t.url, t.mime_type, t.language, t.rel, feed_id, e.dedup_key)
        for feed_id, e, _ in items
        for t in e.transcripts
    ]
    if links:
        await conn.exec_driver_sql(_INSERT_LINKS, links)
