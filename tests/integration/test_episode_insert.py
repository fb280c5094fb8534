"""Ingest's bulk insert of new episodes (each backend's own fast path) stores exactly what a
plain SQLAlchemy Core insert of the same episodes stores, odd values included."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import Sessions, transaction
from core.domain import FetchResult
from core.feeds.parse import ParsedEpisode, ParsedFeed, ParsedTranscriptLink, dedup_key
from core.feeds.store import PolledFeed, PollPolicy, insert_episodes, store_many_parsed
from core.feeds.store_sqlite import sqlite_time
from core.models import Episode, Feed, TranscriptLink, utcnow
from core.models.base import UTCDateTime

EPISODE_COLUMNS = [c.name for c in Episode.__table__.columns if c.name not in {"id", "feed_id"}]
LINK_COLUMNS = "e.dedup_key, t.url, t.mime_type, t.language, t.rel"


def episode(guid: str | None, title: str, **fields: Any) -> ParsedEpisode:
    values: dict[str, Any] = {
        "guid": guid,
        "title": title,
        "published_at": None,
        "duration_seconds": None,
        "enclosure_url": None,
        "enclosure_type": None,
        "link": None,
        "description": None,
        "image_url": None,
        "chapters_url": None,
        "persons": [],
        "transcripts": [],
    } | fields
    key = dedup_key(guid, values["enclosure_url"], values["link"], title)
    return ParsedEpisode(dedup_key=key, **values)


ODD = [
    episode("urn:plain", "Plain", published_at=datetime(2025, 9, 1, 8, tzinfo=UTC)),
    episode(None, "No date, no GUID, no duration", link="https://example.org/a"),
    episode(
        "urn:ünï/😀",
        "Ünïcödé 😀 עברית \u200b tabs\tand\nnewlines",
        published_at=datetime(
            2025, 3, 30, 1, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))
        ),
        duration_seconds=3723.5,
        enclosure_url="https://cdn.example.org/ü.mp3",
        enclosure_type="audio/mpeg",
        description="Ünïcödé notes " * 5000,
        persons=[{"name": "Zoë Ådams", "role": "host", "img": "https://example.org/z.png"}],
        transcripts=[
            ParsedTranscriptLink("https://example.org/1.srt", "application/srt", "de", None),
            ParsedTranscriptLink("https://example.org/1.vtt", "text/vtt", None, "captions"),
        ],
    ),
    episode("urn:long", "T" * 1000, published_at=datetime(1900, 1, 1, tzinfo=UTC)),
    episode(
        "urn:" + "g" * 2040,  # its dedup key is a hash: longer than the key's 700 characters
        "Long GUID",
        published_at=datetime(8999, 12, 31, 23, 59, 59, tzinfo=UTC),
        duration_seconds=0.001,
        image_url="https://example.org/i.png",
        chapters_url="https://example.org/c.json",
        link="https://example.org/" + "l" * 2000,
        transcripts=[ParsedTranscriptLink("https://example.org/2.srt", None, None, None)],
    ),
    episode(None, "", enclosure_url="https://cdn.example.org/only.mp3"),
]


async def reference_insert(
    conn: AsyncConnection, items: list[tuple[int, ParsedEpisode, str | None]]
) -> None:
    """The plain Core insert (every parameter through SQLAlchemy's types), as ingest did."""
    episodes = cast_table(Episode)
    await conn.execute(
        insert(episodes),
        [
            {name: getattr(e, name) for name in ("dedup_key", "guid", "title", "published_at")}
            | {name: getattr(e, name) for name in ("duration_seconds", "enclosure_url")}
            | {name: getattr(e, name) for name in ("enclosure_type", "link", "description")}
            | {name: getattr(e, name) for name in ("image_url", "chapters_url")}
            | {"feed_id": feed_id, "persons": list(e.persons), "language": language}
            | {"transcript_status": "pending", "insight_status": "pending"}
            | {"created_at": utcnow()}
            for feed_id, e, language in items
        ],
    )
    links = cast_table(TranscriptLink)
    from_episode = select(
        episodes.c.id, *(bindparam(n) for n in ("url", "mime_type", "language", "rel"))
    ).where(episodes.c.feed_id == bindparam("fid"), episodes.c.dedup_key == bindparam("key"))
    rows = [
        {"fid": feed_id, "key": e.dedup_key, "url": t.url, "mime_type": t.mime_type}
        | {"language": t.language, "rel": t.rel}
        for feed_id, e, _ in items
        for t in e.transcripts
    ]
    columns = ["episode_id", "url", "mime_type", "language", "rel"]
    await conn.execute(insert(links).from_select(columns, from_episode), rows)


def cast_table(model: Any) -> Table:
    table: Table = model.__table__
    return table


async def stored(conn: AsyncConnection, feed_id: int) -> tuple[list[Any], list[Any]]:
    """What is stored, as the driver gives it back (on SQLite: the very text and numbers)."""
    columns = ", ".join(EPISODE_COLUMNS)
    episodes = await conn.exec_driver_sql(
        f"SELECT {columns} FROM episodes WHERE feed_id = {feed_id} ORDER BY id"
    )
    links = await conn.exec_driver_sql(
        f"SELECT {LINK_COLUMNS} FROM transcript_links t JOIN episodes e ON e.id = t.episode_id"
        f" WHERE e.feed_id = {feed_id} ORDER BY t.id"
    )
    return [list(row) for row in episodes], [tuple(row) for row in links]


async def two_feeds(sessions: Sessions) -> tuple[int, int]:
    async with transaction(sessions) as session:
        feeds = [Feed(url=f"https://example.org/{n}.xml", error_count=0) for n in (1, 2)]
        session.add_all(feeds)
        await session.flush()
        return feeds[0].id, feeds[1].id


async def test_the_fast_insert_stores_what_the_core_insert_stored(sessions: Sessions) -> None:
    ours, theirs = await two_feeds(sessions)
    async with transaction(sessions) as session:
        await insert_episodes(session, [(ours, e, "de-AT") for e in ODD])
        await reference_insert(await session.connection(), [(theirs, e, "de-AT") for e in ODD])
    async with sessions() as session:
        conn = await session.connection()
        (our_episodes, our_links), (their_episodes, their_links) = [
            await stored(conn, feed_id) for feed_id in (ours, theirs)
        ]
    created = EPISODE_COLUMNS.index("created_at")
    for row in our_episodes + their_episodes:
        row[created] = shape(row[created])
    assert our_episodes == their_episodes
    assert our_links == their_links
    assert len(our_episodes) == len(ODD) and len(our_links) == 3


def shape(value: Any) -> Any:
    """A stored creation time without its digits (the two inserts ran a moment apart)."""
    return re.sub(r"\d", "9", value) if isinstance(value, str) else type(value)


@pytest.mark.parametrize("language", [None, "en"])
async def test_the_fast_insert_reads_back_through_the_models(
    sessions: Sessions, language: str | None
) -> None:
    feed_id, _ = await two_feeds(sessions)
    before = utcnow()
    async with transaction(sessions) as session:
        await insert_episodes(session, [(feed_id, e, language) for e in ODD])
    async with sessions() as session:
        rows = (await session.scalars(select(Episode).order_by(Episode.id))).all()
        links = (await session.scalars(select(TranscriptLink).order_by(TranscriptLink.id))).all()
    assert [(r.guid, r.title, r.published_at, r.persons) for r in rows] == [
        (e.guid, e.title, e.published_at, e.persons) for e in ODD
    ]
    assert {r.language for r in rows} == {language}
    assert all(before <= r.created_at <= utcnow() for r in rows)
    assert [(link.episode_id, link.url) for link in links] == [
        (rows[2].id, "https://example.org/1.srt"),
        (rows[2].id, "https://example.org/1.vtt"),
        (rows[4].id, "https://example.org/2.srt"),
    ]


async def test_duplicate_guids_within_a_feed_are_stored_once(sessions: Sessions) -> None:
    feed_id, _ = await two_feeds(sessions)
    first, again = episode("urn:same", "First"), episode("urn:same", "Same GUID, new title")
    parsed = ParsedFeed("Show", None, None, None, "en", [first, again, ODD[1], ODD[1]])
    result = FetchResult(url="https://example.org/1.xml", status=200, etag='"v1"')
    async with transaction(sessions) as session:
        counts = await store_many_parsed(
            session, [PolledFeed(feed_id, result, parsed)] * 2, utcnow(), PollPolicy()
        )
    assert counts == [2, 0]
    async with sessions() as session:
        titles = (await session.scalars(select(Episode.title).order_by(Episode.id))).all()
    assert titles == ["First", ODD[1].title]


def test_sqlite_time_is_what_sqlalchemy_stores_for_a_utc_datetime() -> None:
    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    plus_one = timezone(timedelta(hours=1))
    for moment in (
        datetime(2025, 9, 1, 8, tzinfo=UTC),
        datetime(2025, 1, 1, 0, 30, 0, 5, tzinfo=plus_one),  # the day before, in UTC
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(9000, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(0), "GMT")),  # UTC, not ``UTC``
        datetime(2025, 6, 1, 12, tzinfo=ZoneInfo("Europe/Berlin")),
    ):
        assert sqlite_time(moment) == process(moment)
    assert sqlite_time(None) is None
    with pytest.raises(ValueError, match="naive"):
        sqlite_time(datetime(2025, 1, 1))
