"""PostgreSQL: new episodes and their transcript links in ONE statement, the rows sent as one
JSON text each and read back server-side by json_to_recordset. psycopg's executemany sends
every row as a statement of its own (0.2 ms of the ingest process's CPU a row, more than
fetching the feed); the effect is that of the executemany path in ``core.feeds.store``, ids
in the same order (a feed's order, and each episode's links in the order it announces them)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import iso_utc

if TYPE_CHECKING:
    from core.feeds.parse import ParsedEpisode

_INSERT = text(
    """
    WITH stored AS (
        INSERT INTO episodes
            (feed_id, dedup_key, guid, title, published_at, duration_seconds, enclosure_url,
             enclosure_type, link, description, image_url, chapters_url, persons, language,
             transcript_status, insight_status, insights_rejected, created_at)
        SELECT e.feed_id, e.dedup_key, e.guid, e.title, e.published_at, e.duration_seconds,
               e.enclosure_url, e.enclosure_type, e.link, e.description, e.image_url,
               e.chapters_url, e.persons, e.language, 'pending', 'pending', 0, :created
        FROM json_to_recordset(CAST(:episodes AS json)) AS e(
            feed_id integer, dedup_key text, guid text, title text, published_at timestamptz,
            duration_seconds double precision, enclosure_url text, enclosure_type text,
            link text, description text, image_url text, chapters_url text, persons json,
            language text, n bigint)
        ORDER BY e.n
        RETURNING id, feed_id, dedup_key
    )
    INSERT INTO transcript_links (episode_id, url, mime_type, language, rel)
    SELECT s.id, t.url, t.mime_type, t.language, t.rel
    FROM json_to_recordset(CAST(:links AS json)) AS t(
        feed_id integer, dedup_key text, url text, mime_type text, language text, rel text,
        n bigint)
    JOIN stored AS s ON s.feed_id = t.feed_id AND s.dedup_key = t.dedup_key
    ORDER BY t.n
    """
)


async def insert_episodes_pg(
    conn: AsyncConnection,
    items: list[tuple[int, ParsedEpisode, str | None]],
    created_at: datetime,
) -> None:
    """Each item is (feed id, episode, the feed's language)."""
    episodes = [
        {
            "n": n,
            "feed_id": feed_id,
            "dedup_key": e.dedup_key,
            "guid": e.guid,
            "title": e.title,
            "published_at": iso_utc(e.published_at),
            "duration_seconds": e.duration_seconds,
            "enclosure_url": e.enclosure_url,
            "enclosure_type": e.enclosure_type,
            "link": e.link,
            "description": e.description,
            "image_url": e.image_url,
            "chapters_url": e.chapters_url,
            "persons": e.persons,
            "language": language,
        }
        for n, (feed_id, e, language) in enumerate(items)
    ]
    links = [
        {"feed_id": feed_id, "dedup_key": e.dedup_key, "url": t.url}
        | {"mime_type": t.mime_type, "language": t.language, "rel": t.rel}
        for feed_id, e, _ in items
        for t in e.transcripts
    ]
    for n, link in enumerate(links):
        link["n"] = n
    params = {"episodes": json.dumps(episodes), "links": json.dumps(links), "created": created_at}
    await conn.execute(_INSERT, params)
