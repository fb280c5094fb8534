"""Feed ingest end to end: real fetcher, real loopback HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.http_fetch import HttpFetcher
from core.db import Sessions
from core.feeds.errors import FeedError
from core.feeds.opml import export_opml, import_opml, read_opml
from core.feeds.service import PollPolicy, add_feed, list_feeds, poll_due_feeds, remove_feed
from core.ingest.stats import collect_stats
from core.models import Episode, Feed, TranscriptLink
from tests.fakes.clock import FakeClock
from tests.fakes.feed_server import FeedSite, Route, episode_items, rss, serving
from tests.unit.test_feed_parse import ITEMS


@pytest.fixture
async def fetcher() -> AsyncIterator[HttpFetcher]:
    async with HttpFetcher(timeout=1, max_bytes=5_000_000, max_redirects=3) as f:
        yield f


@pytest.fixture
async def site() -> AsyncIterator[tuple[FeedSite, str]]:
    feed_site = FeedSite()
    async with serving(feed_site) as base:
        yield feed_site, base


def opml_of(paths: list[str]) -> str:
    outlines = "".join(f"<outline type='rss' text='x' xmlUrl={quoteattr(p)}/>" for p in paths)
    return f"<?xml version='1.0'?><opml version='2.0'><body>{outlines}</body></opml>"


async def episode_count(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count(Episode.id))) or 0)


async def test_every_shared_feed_is_ingested_once(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, shared_data: Path
) -> None:
    feeds_dir = shared_data / "feeds"
    opml = opml_of(sorted(ITEMS))  # relative paths, resolved against the OPML's folder
    imported = await import_opml(sessions, opml, base_dir=feeds_dir)
    assert (len(imported.added), imported.invalid) == (10, [])

    progress: list[tuple[int, int]] = []
    report = await poll_due_feeds(
        sessions, fetcher, clock, concurrency=4, on_progress=lambda *p: progress.append(p)
    )
    assert progress == [(n, 10) for n in range(11)]
    assert (report.count("updated"), report.count("failed")) == (10, 0)
    assert report.new_episodes == sum(ITEMS.values()) == await episode_count(sessions)
    by_url = {f.url: f.episodes for f in await list_feeds(sessions)}
    assert by_url == {(feeds_dir / name).as_uri(): n for name, n in ITEMS.items()}

    clock.advance(timedelta(hours=1))
    again = await poll_due_feeds(sessions, fetcher, clock, concurrency=4)
    assert (again.count("unchanged"), again.new_episodes) == (10, 0)
    assert await episode_count(sessions) == sum(ITEMS.values())

    stats = await collect_stats(sessions)
    assert stats["feeds"] == 10
    assert stats["episodes"] == sum(ITEMS.values())
    assert (stats["errors"], stats["episodes_with_transcripts"]) == (0, 0)
    async with sessions() as session:
        links = await session.scalar(select(func.count(TranscriptLink.id)))
        pending = await session.scalar(
            select(func.count(Episode.id)).where(Episode.transcript_status == "pending")
        )
    assert links == 47 + 29 + 56 + 4  # pc20, no-agenda, Mike Neumann, the namespace example
    async with sessions() as session:
        ep3_links = await session.scalars(
            select(TranscriptLink.url)
            .join(Episode, Episode.id == TranscriptLink.episode_id)
            .where(Episode.guid == "https://example.com/ep0003")
            .order_by(TranscriptLink.id)
        )
        assert list(ep3_links) == [
            "https://example.com/ep3/transcript.txt",
            "https://example.com/episode1/transcript.vtt",
        ]
    assert pending == sum(ITEMS.values())


async def test_a_304_is_not_reparsed_and_failing_feeds_back_off(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, site: tuple[FeedSite, str]
) -> None:
    feed_site, base = site
    feed_site.feed("good.xml", rss("Good", episode_items(3)))
    feed_site.put("slow.xml", Route(hang=True))
    feed_site.put("broken.xml", Route(status=500, validators=False))
    feed_site.feed("page.html", b"<html><body>hello</body></html>", content_type="text/html")
    for name in ("good.xml", "slow.xml", "broken.xml", "page.html"):
        await add_feed(sessions, clock, f"{base}/{name}")
    policy = PollPolicy(interval=timedelta(minutes=30), backoff_base=timedelta(minutes=10))

    first = await poll_due_feeds(sessions, fetcher, clock, concurrency=4, policy=policy)
    assert {o.url.rsplit("/", 1)[1]: o.status for o in first.outcomes} == {
        "good.xml": "updated",
        "slow.xml": "failed",
        "broken.xml": "failed",
        "page.html": "failed",
    }
    feeds = {f.url.rsplit("/", 1)[1]: f for f in await list_feeds(sessions)}
    assert feeds["good.xml"].episodes == 3
    assert feeds["slow.xml"].last_error == "timed out after 1 s"
    assert feeds["broken.xml"].last_error == "the server answered 500 Internal Server Error"
    assert feeds["page.html"].last_error == (
        "this is not an RSS or Atom feed (text/html is not an XML media type)"
    )
    assert feeds["broken.xml"].next_poll_at == clock.now() + timedelta(minutes=10)

    clock.advance(timedelta(minutes=15))  # only the failed feeds are due
    second = await poll_due_feeds(sessions, fetcher, clock, concurrency=4, policy=policy)
    assert {o.status for o in second.outcomes} == {"failed"} and len(second.outcomes) == 3
    broken = next(f for f in await list_feeds(sessions) if f.url.endswith("broken.xml"))
    assert broken.error_count == 2
    assert broken.next_poll_at == clock.now() + timedelta(minutes=20)  # doubled

    clock.advance(timedelta(minutes=20))  # good.xml is due again and answers 304
    feed_site.put("broken.xml", Route(body=rss("Fixed", episode_items(1))))
    third = await poll_due_feeds(sessions, fetcher, clock, concurrency=4, policy=policy)
    statuses = {o.url.rsplit("/", 1)[1]: o.status for o in third.outcomes}
    assert (statuses["good.xml"], statuses["broken.xml"]) == ("unchanged", "updated")
    assert feed_site.not_modified["/good.xml"] == 1
    fixed = next(f for f in await list_feeds(sessions) if f.url.endswith("broken.xml"))
    assert (fixed.error_count, fixed.last_error, fixed.title) == (0, None, "Fixed")


async def test_redirect_loop_and_huge_body_fail_with_clear_errors(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, site: tuple[FeedSite, str]
) -> None:
    feed_site, base = site
    feed_site.put("a.xml", Route(status=301, location="/b.xml"))
    feed_site.put("b.xml", Route(status=301, location="/a.xml"))
    feed_site.put("huge.xml", Route(endless=True))
    feed_site.feed("fine.xml", rss("Fine", episode_items(2)))
    for name in ("a.xml", "huge.xml", "fine.xml"):
        await add_feed(sessions, clock, f"{base}/{name}")
    report = await poll_due_feeds(sessions, fetcher, clock)
    errors = {o.url.rsplit("/", 1)[1]: o.error for o in report.outcomes}
    assert errors == {
        "a.xml": f"redirect loop at {base}/a.xml",
        "huge.xml": "the response is larger than the 5 MB limit",
        "fine.xml": None,
    }


async def test_a_permanent_redirect_moves_the_stored_url(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, site: tuple[FeedSite, str]
) -> None:
    feed_site, base = site
    feed_site.feed("new.xml", rss("Moved", episode_items(2)))
    feed_site.put("old.xml", Route(status=308, location="/new.xml"))
    added = await add_feed(sessions, clock, f"{base}/old.xml")
    assert added.feed.url == f"{base}/old.xml"
    await poll_due_feeds(sessions, fetcher, clock)
    [feed] = await list_feeds(sessions)
    assert (feed.url, feed.episodes) == (f"{base}/new.xml", 2)


async def test_a_feed_that_rewrites_itself_never_duplicates(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, site: tuple[FeedSite, str]
) -> None:
    feed_site, base = site
    feed_site.feed("feed.xml", rss("Show", episode_items(3)))
    added = await add_feed(sessions, clock, f"{base}/feed.xml", fetcher=fetcher)
    assert (added.created, added.new_episodes) == (True, 3)
    # The host drops the GUIDs and adds one new episode: matched by enclosure URL.
    feed_site.feed("feed.xml", rss("Show", episode_items(4, guids=False)))
    clock.advance(timedelta(hours=1))
    report = await poll_due_feeds(sessions, fetcher, clock)
    assert report.new_episodes == 1
    assert await episode_count(sessions) == 4
    again = await add_feed(sessions, clock, f"{base}/feed.xml", fetcher=fetcher)
    assert (again.created, again.feed.id) == (False, added.feed.id)


def linked_items(show: int, count: int, *, start: int = 1) -> list[dict[str, str]]:
    """Episodes that each announce a transcript of their own (its URL names show and episode)."""
    items = episode_items(count, start=start)
    for item in items:
        n = item["guid"].rsplit(":", 1)[1]
        item["guid"] = f"urn:show:{show}:ep:{n}"
        item["raw"] += (
            f'<podcast:transcript url="https://example.org/t/{show}/{n}.vtt" type="text/vtt"/>'
        )
    return items


async def test_feeds_polled_at_once_are_each_stored_whole_and_a_bad_one_fails_alone(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, site: tuple[FeedSite, str]
) -> None:
    feed_site, base = site
    shows = range(12)
    for show in shows:
        feed_site.feed(f"{show}.xml", rss(f"Show {show}", linked_items(show, 3)))
        await add_feed(sessions, clock, f"{base}/{show}.xml")
    # A GUID with a NUL in it (from "&#0;"): PostgreSQL cannot store it, SQLite can.
    nul = rss(
        "Nul", [{"guid": "urn:nul&#0;", "title": "Zero"}, {"guid": "urn:fine", "title": "One"}]
    )
    feed_site.feed("nul.xml", nul)
    await add_feed(sessions, clock, f"{base}/nul.xml")

    first = await poll_due_feeds(sessions, fetcher, clock, concurrency=20)
    outcomes = {o.url.rsplit("/", 1)[1]: o for o in first.outcomes}
    assert {outcomes[f"{show}.xml"].status for show in shows} == {"updated"}
    assert {outcomes[f"{show}.xml"].new_episodes for show in shows} == {3}
    bad = outcomes["nul.xml"]
    assert (bad.status, bad.new_episodes) == ("updated", 2) or (
        bad.status == "failed" and bad.error and "Traceback" not in bad.error
    )
    feeds = {f.url.rsplit("/", 1)[1]: f for f in await list_feeds(sessions)}
    assert {(feeds[f"{show}.xml"].title, feeds[f"{show}.xml"].episodes) for show in shows} == {
        (f"Show {show}", 3) for show in shows
    }
    async with sessions() as session:
        pairs = (await session.execute(select(Episode.guid, TranscriptLink.url).join(
            TranscriptLink, TranscriptLink.episode_id == Episode.id))).all()  # fmt: skip
    # Every link belongs to its own episode: urn:show:S:ep:N has .../t/S/N.vtt.
    assert sorted(pairs) == sorted(
        (f"urn:show:{show}:ep:{n}", f"https://example.org/t/{show}/{n}.vtt")
        for show in shows
        for n in range(1, 4)
    )

    # Each feed gains one episode and repeats the others: only the new ones are stored.
    for show in shows:
        feed_site.feed(f"{show}.xml", rss(f"Show {show}", linked_items(show, 4)))
    clock.advance(timedelta(hours=2))
    second = await poll_due_feeds(sessions, fetcher, clock, concurrency=20)
    grown = {o.url.rsplit("/", 1)[1]: o.new_episodes for o in second.outcomes}
    assert {grown[f"{show}.xml"] for show in shows} == {1}
    assert {f.episodes for f in await list_feeds(sessions) if "nul" not in f.url} == {4}


async def test_feeds_parsed_one_by_one_are_stored_in_a_few_transactions(
    engine: AsyncEngine,
    sessions: Sessions,
    clock: FakeClock,
    fetcher: HttpFetcher,
    site: tuple[FeedSite, str],
) -> None:
    # A transaction per feed cost more than the feed's rows: parsed feeds wait until 20 have
    # arrived (or no other feed is still being fetched or parsed) and are stored together.
    feed_site, base = site
    for show in range(45):
        feed_site.feed(f"{show}.xml", rss(f"Show {show}", linked_items(show, 2)))
    await import_opml(sessions, opml_of([f"{base}/{show}.xml" for show in range(45)]))
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(engine.sync_engine, "commit", count)
    try:
        report = await poll_due_feeds(sessions, fetcher, clock, concurrency=1)
    finally:
        event.remove(engine.sync_engine, "commit", count)
    assert [(o.status, o.new_episodes) for o in report.outcomes] == [("updated", 2)] * 45
    assert await episode_count(sessions) == 90
    assert len(commits) <= 3  # 20, 20 and the last 5 (more join a batch while one is written)


async def test_chat_users_cannot_add_internal_urls_unless_allowlisted(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, site: tuple[FeedSite, str]
) -> None:
    feed_site, base = site
    feed_site.feed("feed.xml", rss("Home", episode_items(2)))
    with pytest.raises(FeedError, match=r"could not fetch .*loopback address"):
        await add_feed(sessions, clock, f"{base}/feed.xml", fetcher=fetcher, untrusted=True)
    with pytest.raises(FeedError, match="only http and https"):
        await add_feed(sessions, clock, "/etc/passwd", fetcher=fetcher, untrusted=True)
    assert await list_feeds(sessions) == []
    assert feed_site.hits["/feed.xml"] == 0

    async with HttpFetcher(allowlist=["127.0.0.1/32"]) as allowing:
        added = await add_feed(
            sessions, clock, f"{base}/feed.xml", fetcher=allowing, untrusted=True
        )
    assert (added.feed.untrusted, added.new_episodes) == (True, 2)
    # Later polls of a chat user's feed stay guarded.
    clock.advance(timedelta(hours=1))
    report = await poll_due_feeds(sessions, fetcher, clock)
    assert "loopback address" in (report.outcomes[0].error or "")


async def test_adding_something_that_is_not_a_feed_stores_nothing(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, site: tuple[FeedSite, str]
) -> None:
    feed_site, base = site
    feed_site.feed("page", b"<!doctype html><title>x</title><p>hi", content_type="text/html")
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        await add_feed(sessions, clock, f"{base}/page", fetcher=fetcher)
    with pytest.raises(FeedError, match="no such file"):
        await add_feed(sessions, clock, "/nowhere/feed.xml")
    with pytest.raises(FeedError, match="unsupported URL scheme 'gopher'"):
        await add_feed(sessions, clock, "gopher://example.org/feed")
    assert await list_feeds(sessions) == []


async def test_remove_feed_takes_its_episodes(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, shared_data: Path
) -> None:
    path = shared_data / "feeds" / "podcastindex__example.xml"
    added = await add_feed(sessions, clock, str(path), fetcher=fetcher)
    assert added.new_episodes == 3
    removed = await remove_feed(sessions, added.feed.id)
    assert removed is not None and removed.title == "Podcasting 2.0 Namespace Example"
    assert await remove_feed(sessions, added.feed.id) is None
    assert await episode_count(sessions) == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count(TranscriptLink.id))) == 0


async def test_opml_round_trip_and_bad_entries(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher, shared_data: Path
) -> None:
    path = shared_data / "feeds" / "partytime__pc20rss.xml"
    opml = opml_of([str(path), "https://example.org/a.xml", "gopher://x/y", str(path)])
    report = await import_opml(sessions, opml)
    assert report.added == [path.as_uri(), "https://example.org/a.xml"]
    assert [url for url, _ in report.invalid] == ["gopher://x/y"]
    again = await import_opml(sessions, opml)
    assert (again.added, len(again.already_present)) == ([], 2)
    await poll_due_feeds(sessions, fetcher, clock)
    exported = await export_opml(sessions)
    assert read_opml(exported) == [path.as_uri(), "https://example.org/a.xml"]
    assert 'text="Podcasting 2.0"' in exported
    with pytest.raises(FeedError, match="not an OPML file"):
        await import_opml(sessions, "<rss></rss>")
    with pytest.raises(FeedError, match="not an OPML file"):
        await import_opml(sessions, b"\x00garbage")
    chat = await import_opml(sessions, opml_of([str(path)]), untrusted=True)
    assert chat.invalid == [(str(path), "only http and https feed URLs are accepted")]


async def test_stats_counts_feed_errors(
    sessions: Sessions, clock: FakeClock, fetcher: HttpFetcher
) -> None:
    async with sessions() as session, session.begin():
        session.add(Feed(url="file:///nowhere.xml", error_count=0))
    await poll_due_feeds(sessions, fetcher, clock)
    stats = await collect_stats(sessions)
    assert (stats["feeds"], stats["feeds_failing"], stats["errors"]) == (1, 1, 1)
    [feed] = await list_feeds(sessions)
    assert feed.last_error == "no such file: /nowhere.xml"
