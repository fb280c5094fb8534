"""fetch_pending_transcripts on SQLite and PostgreSQL: fetch, parse, store, fall back, fail."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select, update

from adapters.http_fetch import HttpFetcher
from core.db import Sessions, transaction
from core.domain import FetchError
from core.feeds.service import add_feed
from core.models import Episode, Feed, Segment, Transcript, TranscriptLink
from core.transcripts.service import fetch_pending_transcripts
from tests.fakes.clock import FakeClock
from tests.fakes.fetcher import FakeFetcher
from tests.http_server import serve
from tests.unit.test_transcript_parsers import EXPECTED

BASE = "https://cdn.example.test/"
MIME_BY_SUFFIX = {  # what a feed would announce; .md and .txt only as generic text
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
    ".json": "application/json",
    ".md": "text/plain",
    ".txt": "text/plain",
}
FRONT_MATTER_EPISODE = Path(__file__).resolve().parents[1] / "data" / "frontmatter_episode.md"
NOTES = "<p>In this episode we talk about <b>pricing</b> for small teams.</p><p>Links: a, b</p>"


async def add_episode(
    sessions: Sessions,
    key: str,
    links: Sequence[tuple[str, str | None, str | None]] = (),
    **fields: Any,
) -> int:
    async with transaction(sessions) as session:
        feed = (await session.execute(select(Feed).limit(1))).scalar_one_or_none()
        if feed is None:
            feed = Feed(url="https://feeds.example.test/show.xml", language="en")
            session.add(feed)
            await session.flush()
        episode = Episode(feed_id=feed.id, dedup_key=key, title=f"Episode {key}", **fields)
        episode.transcript_links = [
            TranscriptLink(url=url, mime_type=mime, language=lang) for url, mime, lang in links
        ]
        session.add(episode)
        await session.flush()
        return episode.id


async def load(sessions: Sessions, episode_id: int) -> tuple[Episode, Transcript | None]:
    async with sessions() as session:
        episode = await session.get(Episode, episode_id)
        assert episode is not None
        transcript = (
            await session.execute(select(Transcript).where(Transcript.episode_id == episode_id))
        ).scalar_one_or_none()
        return episode, transcript


async def segments_of(sessions: Sessions, transcript_id: int) -> list[Segment]:
    async with sessions() as session:
        query = select(Segment).where(Segment.transcript_id == transcript_id).order_by(Segment.idx)
        return list((await session.execute(query)).scalars())


async def count(sessions: Sessions, model: type[Transcript] | type[Segment]) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_every_shared_transcript_is_fetched_parsed_and_stored(
    sessions: Sessions, clock: FakeClock, shared_data: Path
) -> None:
    fetcher = FakeFetcher()
    ids: dict[str, int] = {}
    for path in sorted((shared_data / "transcripts").iterdir()):
        url = BASE + path.name
        fetcher.responses[url] = path.read_bytes()
        ids[path.name] = await add_episode(
            sessions, path.name, [(url, MIME_BY_SUFFIX[path.suffix], None)]
        )

    report = await fetch_pending_transcripts(sessions, fetcher, clock, concurrency=4)

    assert (report.checked, report.fetched, report.failed, report.errors) == (16, 16, 0, {})
    assert report.segments == sum(e.count for e in EXPECTED.values())
    for name, episode_id in ids.items():
        expected = EXPECTED[name]
        episode, transcript = await load(sessions, episode_id)
        assert (episode.transcript_status, episode.transcript_error) == ("fetched", None)
        assert transcript is not None and transcript.format == expected.format
        raw = (shared_data / "transcripts" / name).read_bytes()
        assert transcript.content_hash == hashlib.sha256(raw).hexdigest()
        assert (transcript.is_fallback, transcript.source_url) == (False, BASE + name)
        assert transcript.fetched_at == clock.now()
        rows = await segments_of(sessions, transcript.id)
        assert len(rows) == expected.count
        assert [r.idx for r in rows] == list(range(expected.count))
        first, last = rows[0], rows[-1]
        assert first.start == pytest.approx(expected.first[0])
        assert first.speaker == expected.first[2]
        assert first.text.startswith(expected.first[3])
        assert last.end == pytest.approx(expected.last[1])
        assert last.speaker == expected.last[2]
        assert {r.speaker for r in rows if r.speaker} == expected.speakers
        assert transcript.duration_seconds == pytest.approx(max(r.end for r in rows))


async def test_broken_transcript_stores_an_error_and_nothing_else(
    sessions: Sessions, clock: FakeClock
) -> None:
    url = BASE + "broken.srt"
    episode_id = await add_episode(
        sessions, "broken", [(url, "application/srt", "en")], description=NOTES,
        insight_status="pending", duration_seconds=1234.0,
    )  # fmt: skip
    fetcher = FakeFetcher({url: b"1\n00:00:01,000 --> soon\nHello there\n"})

    report = await fetch_pending_transcripts(sessions, fetcher, clock)

    episode, transcript = await load(sessions, episode_id)
    assert (report.failed, report.fetched, report.fallback) == (1, 0, 0)
    assert episode.transcript_status == "failed"
    assert episode.transcript_error is not None
    assert url in episode.transcript_error and "SRT file is malformed" in episode.transcript_error
    assert report.errors == {episode_id: episode.transcript_error}
    assert transcript is None and await count(sessions, Segment) == 0
    # Everything else about the episode is as it was.
    assert (episode.title, episode.description, episode.duration_seconds) == (
        "Episode broken", NOTES, 1234.0,
    )  # fmt: skip
    assert episode.insight_status == "pending"


async def test_a_failing_link_falls_back_to_the_next_one(
    sessions: Sessions, clock: FakeClock, shared_data: Path
) -> None:
    json_url, garbage_url, vtt_url = BASE + "t.json", BASE + "t.html", BASE + "t.vtt"
    episode_id = await add_episode(
        sessions, "e1",
        [(vtt_url, "text/vtt", None), (garbage_url, "text/html", None),
         (json_url, "application/json", None)],
    )  # fmt: skip
    vtt = (shared_data / "transcripts" / "awsbites__10.vtt").read_bytes()
    fetcher = FakeFetcher(
        {
            json_url: FetchError("the server timed out after 20 seconds"),
            vtt_url: vtt,
            garbage_url: b"\x00\x01\x02" * 100,
        }
    )

    report = await fetch_pending_transcripts(sessions, fetcher, clock)

    assert fetcher.calls == [json_url, vtt_url]  # JSON is preferred, then VTT
    episode, transcript = await load(sessions, episode_id)
    assert report.fetched == 1 and episode.transcript_status == "fetched"
    assert transcript is not None and transcript.format == "vtt"
    assert transcript.source_url == vtt_url
    assert transcript.content_hash == hashlib.sha256(vtt).hexdigest()


async def test_all_links_failing_names_each_reason(sessions: Sessions, clock: FakeClock) -> None:
    a, b = BASE + "a.json", BASE + "b.srt"
    episode_id = await add_episode(sessions, "e1", [(a, "application/json", None), (b, None, None)])
    fetcher = FakeFetcher({a: b"{not json", b: FetchError("connection refused")})

    await fetch_pending_transcripts(sessions, fetcher, clock)

    episode, transcript = await load(sessions, episode_id)
    assert episode.transcript_status == "failed" and transcript is None
    assert episode.transcript_error == (
        "Could not use any of the 2 transcripts this episode links to. "
        f"{a}: the JSON transcript is not valid JSON (line 1: Expecting property name enclosed "
        f"in double quotes); {b}: connection refused"
    )


async def test_episode_language_picks_the_link(
    sessions: Sessions, clock: FakeClock, shared_data: Path
) -> None:
    es, en = BASE + "es.vtt", BASE + "en.srt"
    episode_id = await add_episode(
        sessions, "e1", [(es, "text/vtt", "es"), (en, "application/srt", "en-GB")], language="en"
    )
    srt = (shared_data / "transcripts" / "podcastindex__example.srt").read_bytes()
    fetcher = FakeFetcher({es: b"WEBVTT\n\n00:00.000 --> 00:01.000\nHola\n", en: srt})

    await fetch_pending_transcripts(sessions, fetcher, clock)

    _, transcript = await load(sessions, episode_id)
    assert fetcher.calls == [en]
    assert transcript is not None and (transcript.format, transcript.language) == ("srt", "en-GB")


async def test_show_notes_stand_in_when_there_is_no_transcript(
    sessions: Sessions, clock: FakeClock
) -> None:
    with_notes = await add_episode(sessions, "notes", description=NOTES)
    placeholder = await add_episode(sessions, "bare", description="<p>Episode 12</p>")
    fetcher = FakeFetcher()

    report = await fetch_pending_transcripts(sessions, fetcher, clock)

    assert (report.fallback, report.none, fetcher.calls) == (1, 1, [])
    episode, transcript = await load(sessions, with_notes)
    assert episode.transcript_status == "fallback"
    assert transcript is not None and transcript.is_fallback and transcript.format == "shownotes"
    assert transcript.content_hash == hashlib.sha256(NOTES.encode()).hexdigest()
    rows = await segments_of(sessions, transcript.id)
    assert [(r.start, r.end, r.speaker, r.text) for r in rows] == [
        (0.0, 0.0, None, "In this episode we talk about pricing for small teams."),
        (0.0, 0.0, None, "Links: a, b"),
    ]
    bare, nothing = await load(sessions, placeholder)
    assert (bare.transcript_status, bare.transcript_error, nothing) == ("none", None, None)


async def test_only_pending_and_requested_episodes_are_touched(
    sessions: Sessions, clock: FakeClock
) -> None:
    url = BASE + "t.txt"
    link = [(url, "text/plain", None)]
    done = await add_episode(sessions, "done", link, transcript_status="none")
    wanted = await add_episode(sessions, "wanted", [(url, "text/plain", None)])
    other = await add_episode(sessions, "other", [(url, "text/plain", None)])
    fetcher = FakeFetcher({url: b"[Ann] [00:05] Hello there.\n[Bob] [00:09] Hi Ann.\n"})

    report = await fetch_pending_transcripts(sessions, fetcher, clock, episode_ids=[done, wanted])

    assert (report.checked, report.fetched, fetcher.calls) == (1, 1, [url])
    assert [(await load(sessions, i))[0].transcript_status for i in (done, wanted, other)] == [
        "none", "fetched", "pending",
    ]  # fmt: skip
    again = await fetch_pending_transcripts(sessions, fetcher, clock, episode_ids=[wanted])
    assert again.checked == 0 and fetcher.calls == [url]


async def test_a_pending_episode_replaces_its_old_transcript(
    sessions: Sessions, clock: FakeClock
) -> None:
    url = BASE + "t.txt"
    episode_id = await add_episode(sessions, "e1", [(url, "text/plain", None)])
    fetcher = FakeFetcher({url: b"[Ann] [00:05] First version.\n"})
    await fetch_pending_transcripts(sessions, fetcher, clock)
    async with transaction(sessions) as session:
        episode = await session.get(Episode, episode_id)
        assert episode is not None
        episode.transcript_status = "pending"
    fetcher.responses[url] = b"[Ann] [00:05] Second version.\n[Bob] [00:07] Yes.\n"

    await fetch_pending_transcripts(sessions, fetcher, clock)

    _, transcript = await load(sessions, episode_id)
    assert transcript is not None
    texts = [r.text for r in await segments_of(sessions, transcript.id)]
    assert texts == ["Second version.", "Yes."]
    assert (await count(sessions, Transcript), await count(sessions, Segment)) == (1, 2)


def _feed_xml(base: str, names: list[str]) -> str:
    items = "".join(
        f"<item><title>{name}</title><guid>{name}</guid>"
        f'<enclosure url="{base}/audio/{name}.mp3" type="audio/mpeg" length="1"/>'
        f'<podcast:transcript url="{base}/t/{name}" type="{MIME_BY_SUFFIX[Path(name).suffix]}"/>'
        "</item>"
        for name in names
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>Transcripts</title><link>{base}</link><language>en</language>"
        f"{items}</channel></rss>"
    )


async def test_a_local_feed_pointing_at_every_transcript_end_to_end(
    sessions: Sessions, clock: FakeClock, shared_data: Path
) -> None:
    """The acceptance test: a real RSS feed and real HTTP on 127.0.0.1."""
    folder = shared_data / "transcripts"
    names = sorted(p.name for p in folder.iterdir())
    app = web.Application()
    state: dict[str, str] = {}

    async def feed(_: web.Request) -> web.Response:
        xml = _feed_xml(state["base"], names)
        return web.Response(text=xml, content_type="application/rss+xml")

    async def transcript(request: web.Request) -> web.Response:
        body = (folder / request.match_info["name"]).read_bytes()
        return web.Response(body=body, content_type="application/octet-stream")

    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/t/{name}", transcript)
    async with serve(app) as base, HttpFetcher() as fetcher:
        state["base"] = base
        added = await add_feed(sessions, clock, f"{base}/feed.xml", fetcher=fetcher)
        assert added.new_episodes == len(names)
        report = await fetch_pending_transcripts(sessions, fetcher, clock)

    assert (report.fetched, report.errors) == (len(names), {})
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Episode.title, Transcript.id, Transcript.format).join(
                    Transcript, Transcript.episode_id == Episode.id
                )
            )
        ).all()
    assert {title: fmt for title, _, fmt in rows} == {n: EXPECTED[n].format for n in names}
    for title, transcript_id, _ in rows:
        segments = await segments_of(sessions, transcript_id)
        expected = EXPECTED[title]
        assert len(segments) == expected.count
        assert segments[0].start == pytest.approx(expected.first[0])
        assert segments[-1].end == pytest.approx(expected.last[1])
        assert {s.speaker for s in segments if s.speaker} == expected.speakers


async def test_front_matter_fills_a_missing_title_and_date_but_never_overwrites(
    sessions: Sessions, clock: FakeClock
) -> None:
    body = await asyncio.to_thread(FRONT_MATTER_EPISODE.read_bytes)
    url = BASE + "ep.md"
    blank = await add_episode(sessions, "blank", [(url, "text/markdown", "en")])
    async with transaction(sessions) as session:  # a feed item with no title at all
        await session.execute(update(Episode).where(Episode.id == blank).values(title=""))
    known = await add_episode(
        sessions, "known", [(url, "text/markdown", "en")],
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    report = await fetch_pending_transcripts(sessions, FakeFetcher({url: body}), clock)

    assert report.fetched == 2
    filled, transcript = await load(sessions, blank)
    assert filled.title == "Shipping small: feature flags, rollbacks and the cost of big releases"
    assert (
        filled.published_at is not None and filled.published_at.date().isoformat() == "2024-05-02"
    )
    assert transcript is not None
    first = (await segments_of(sessions, transcript.id))[0]
    assert first.text.startswith("Welcome back to Release Notes.")  # not "title: ..."
    kept, _ = await load(sessions, known)
    assert kept.title == "Episode known"
    assert kept.published_at is not None and kept.published_at.year == 2024
    assert kept.published_at.month == 1
