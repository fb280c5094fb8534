"""parse_feed on the shared real feeds (broken ones included) and on small crafted ones."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import product
from pathlib import Path
from urllib.parse import urljoin

import feedparser.mixin
import feedparser.urls
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.feeds.parse import (
    PLAIN_HTTP_URL,
    DedupIndex,
    NotAFeedError,
    ParsedFeed,
    parse_duration,
    parse_feed,
)
from core.feeds.store import new_episodes
from core.feeds.text import html_to_text
from tests.fakes.feed_server import episode_items, rss

# Every <item> of each shared feed is an episode a lenient podcast app would show.
ITEMS = {
    "node-podcast-parser__libsyn-example-podcast.xml": 6,
    "node-podcast-parser__no-pubdate.xml": 3,
    "node-podcast-parser__rtve-podcast.xml": 6,
    "node-podcast-parser__se-radio.xml": 249,
    "partytime__dk-podcast.xml": 59,
    "partytime__no-agenda.MALFORMED.xml": 29,
    "partytime__pc20rss.xml": 56,
    "partytime__sentimental-garbage.xml": 138,
    "partytime__themnshow.xml": 54,
    "podcastindex__example.xml": 3,
}


def parse_shared(shared_data: Path, name: str) -> ParsedFeed:
    path = shared_data / "feeds" / name
    return parse_feed(path.read_bytes(), feed_url=path.as_uri())


def test_the_test_data_is_the_one_described(shared_data: Path) -> None:
    names = {p.name for p in (shared_data / "feeds").glob("*.xml")}
    assert names == set(ITEMS)
    for name, count in ITEMS.items():
        raw = (shared_data / "feeds" / name).read_bytes()
        assert len(re.findall(rb"<item[ >]", raw)) == count


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_every_shared_feed_yields_every_item_once(shared_data: Path, name: str) -> None:
    parsed = parse_shared(shared_data, name)
    assert parsed.title
    assert len(parsed.episodes) == ITEMS[name]
    assert len({e.dedup_key for e in parsed.episodes}) == ITEMS[name]
    assert all(e.title for e in parsed.episodes)


def test_the_malformed_feed_is_read_with_a_warning(shared_data: Path) -> None:
    parsed = parse_shared(shared_data, "partytime__no-agenda.MALFORMED.xml")
    assert parsed.warning is not None and "undefined entity" in parsed.warning
    assert all(len(e.transcripts) == 1 for e in parsed.episodes)
    first = parsed.episodes[0]
    assert first.transcripts[0].url == "https://mp3s.nashownotes.com/NA-1393-Captions.srt"
    assert first.transcripts[0].mime_type == "application/srt"
    # The entity-escaped HTML show notes come out as clean text.
    assert first.description is not None and "<" not in first.description
    assert "Executive Producers" in first.description
    assert {p["name"] for p in first.persons} == {"Adam Curry", "John C Dvorak"}


def test_podcasting_2_tags_keep_every_transcript_and_person(shared_data: Path) -> None:
    parsed = parse_shared(shared_data, "podcastindex__example.xml")
    ep3 = next(e for e in parsed.episodes if e.guid == "https://example.com/ep0003")
    assert [(t.url, t.mime_type, t.language, t.rel) for t in ep3.transcripts] == [
        ("https://example.com/ep3/transcript.txt", "text/plain", None, None),
        ("https://example.com/episode1/transcript.vtt", "text/vtt", "es", "captions"),
    ]
    assert ep3.chapters_url == "https://example.com/ep3_chapters.json"
    assert ep3.persons[1] == {
        "name": "Dave Jones",
        "role": "guest",
        "href": "https://github.com/daveajones/",
        "img": "https://example.com/images/davejones.jpg",
    }
    assert ep3.published_at == datetime(2020, 10, 9, 4, 30, 38, tzinfo=UTC)
    assert ep3.enclosure_url == "https://example.com/file-03.mp3"
    assert ep3.enclosure_type == "audio/mpeg"
    assert ep3.image_url == "https://example.com/ep0003/artMd.jpg"


def test_transcript_counts_match_the_sources_notes(shared_data: Path) -> None:
    pc20 = parse_shared(shared_data, "partytime__pc20rss.xml")
    assert sum(1 for e in pc20.episodes if e.transcripts) == 47
    assert sum(1 for e in pc20.episodes if e.chapters_url) == 48
    mn = parse_shared(shared_data, "partytime__themnshow.xml")
    kinds = {(t.mime_type, t.language) for e in mn.episodes for t in e.transcripts}
    assert ("application/x-subrip", "EN") in kinds


def test_missing_dates_are_none_and_durations_are_seconds(shared_data: Path) -> None:
    parsed = parse_shared(shared_data, "node-podcast-parser__no-pubdate.xml")
    assert [e.published_at for e in parsed.episodes] == [None, None, None]
    assert all(e.duration_seconds and e.duration_seconds > 0 for e in parsed.episodes)
    assert all(e.description and "<" not in e.description for e in parsed.episodes)


def test_declaration_after_a_newline_and_german_text(shared_data: Path) -> None:
    garbage = parse_shared(shared_data, "partytime__sentimental-garbage.xml")
    assert garbage.title == "Sentimental Garbage"
    dk = parse_shared(shared_data, "partytime__dk-podcast.xml")
    assert "Hörverstehen" in (dk.episodes[0].description or "")


def test_relative_transcript_links_resolve_against_the_feed_url() -> None:
    body = rss(
        "Show",
        [
            {
                "title": "One",
                "guid": "one",
                "raw": '<podcast:transcript url="../t/one.vtt" type="text/vtt"/>'
                '<podcast:transcript url="file:///etc/passwd" type="text/plain"/>'
                '<podcast:chapters url="/c/one.json" type="application/json+chapters"/>',
            }
        ],
    )
    remote = parse_feed(body, feed_url="https://host.example/shows/feed.xml").episodes[0]
    assert [t.url for t in remote.transcripts] == ["https://host.example/t/one.vtt"]
    assert remote.chapters_url == "https://host.example/c/one.json"
    local = parse_feed(body, feed_url="file:///srv/shows/feed.xml").episodes[0]
    assert [t.url for t in local.transcripts] == ["file:///srv/t/one.vtt", "file:///etc/passwd"]


# Items under xml:base of their own: feedparser resolves each element's base against its
# parent's; an unsafe scheme is refused and the parent's base kept.
XML_BASE_FEED = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
<title>Bases</title><link>page.html</link>
<item xml:base="https://cdn.example/a/"><title>One</title><guid>1</guid><link>one.html</link>
<enclosure url="one.mp3" type="audio/mpeg" length="1"/></item>
<item xml:base="javascript:alert(1)//"><title>Two</title><guid>2</guid><link>two.html</link>
<enclosure url="two.mp3" type="audio/mpeg" length="1"/></item>
<item xml:base="/b/"><title>Three</title><guid>3</guid><link>three.html</link>
<enclosure url="three.mp3" type="audio/mpeg" length="1"/></item>
</channel></rss>"""


def test_item_links_resolve_against_their_own_xml_base() -> None:
    parsed = parse_feed(XML_BASE_FEED, feed_url="https://host.example/shows/feed.xml")
    assert parsed.link == "https://host.example/shows/page.html"
    assert [e.link for e in parsed.episodes] == [
        "https://cdn.example/a/one.html",
        "https://host.example/shows/two.html",
        "https://host.example/b/three.html",
    ]


def test_enclosures_resolve_like_links_and_keep_their_written_url_as_identity() -> None:
    """feedparser leaves an enclosure's URL as written; it is resolved against the item's
    xml:base or the feed's URL (one of an unsafe scheme stays as written, as before), and an
    episode without a GUID is still known by the URL as written, as it was stored before."""
    parsed = parse_feed(XML_BASE_FEED, feed_url="https://host.example/shows/feed.xml")
    assert [e.enclosure_url for e in parsed.episodes] == [
        "https://cdn.example/a/one.mp3",
        "https://host.example/shows/two.mp3",
        "https://host.example/b/three.mp3",
    ]
    written = {
        "Rel": "/audio/rel.mp3",
        "Bad": "javascript:alert(1)",
        "Abs": "https://cdn.example/abs.mp3",
    }
    feed = rss(
        "Show",
        [
            {"title": title, "raw": f'<enclosure url="{url}" type="audio/mpeg" length="1"/>'}
            for title, url in written.items()
        ],
    )
    no_guid = parse_feed(feed, feed_url="https://host.example/shows/feed.xml").episodes
    assert [(e.enclosure_url, e.given_enclosure, e.dedup_key) for e in no_guid] == [
        ("https://host.example/audio/rel.mp3", "/audio/rel.mp3", "enclosure:/audio/rel.mp3"),
        ("javascript:alert(1)", None, "enclosure:javascript:alert(1)"),  # as before
        ("https://cdn.example/abs.mp3", None, "enclosure:https://cdn.example/abs.mp3"),
    ]
    stored_before = DedupIndex()  # their rows as stored before: the URLs as written
    for title, url in written.items():
        stored_before.add_identity(None, url, None, title)
    stored_now = DedupIndex()
    for episode in no_guid:
        stored_now.add_identity(None, episode.enclosure_url, None, episode.title)
    again = parse_feed(feed, feed_url="https://host.example/shows/feed.xml")
    assert new_episodes(stored_before, again) == []
    assert new_episodes(stored_now, again) == []


@pytest.mark.parametrize("name", [*sorted(ITEMS), "xml:base"])
def test_remembered_base_uris_change_no_result(
    shared_data: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """core.feeds.base_uri memoises feedparser's base-URI function: parsing with
    feedparser's own function again gives the same feed, field for field."""

    def parse() -> ParsedFeed:
        if name == "xml:base":
            return parse_feed(XML_BASE_FEED, feed_url="https://host.example/shows/feed.xml")
        return parse_shared(shared_data, name)

    remembered = parse()
    monkeypatch.setattr(
        feedparser.mixin, "make_safe_absolute_uri", feedparser.urls.make_safe_absolute_uri
    )
    assert parse() == remembered


def test_dedup_by_guid_then_enclosure_then_link_and_title() -> None:
    items = episode_items(2)
    items.append(dict(items[0]))  # the same GUID twice
    no_guid = episode_items(2, start=10, guids=False)
    no_guid.append(dict(no_guid[0]))  # the same enclosure twice
    bare = [{"title": "Bare", "link": "https://example.org/bare"}] * 2
    parsed = parse_feed(rss("Show", items + no_guid + bare), feed_url="https://x/feed.xml")
    assert [e.dedup_key for e in parsed.episodes] == [
        "guid:urn:example:ep:1",
        "guid:urn:example:ep:2",
        "enclosure:https://cdn.example.org/ep10.mp3",
        "enclosure:https://cdn.example.org/ep11.mp3",
        "link-title:https://example.org/bare\nBare",
    ]


def test_a_very_long_guid_gets_a_hashed_key() -> None:
    guid = "g" * 1000
    parsed = parse_feed(rss("Show", [{"title": "T", "guid": guid}]), feed_url="https://x/f")
    key = parsed.episodes[0].dedup_key
    assert key.startswith("guid:sha256:") and len(key) <= 700


def test_an_html_page_is_not_a_feed() -> None:
    page = b"<!doctype html><html><head><title>Hi</title></head><body><p>x</p></body></html>"
    with pytest.raises(NotAFeedError, match="not an RSS or Atom feed"):
        parse_feed(page, feed_url="https://x/", content_type="text/html")
    with pytest.raises(NotAFeedError):
        parse_feed(b"", feed_url="https://x/")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("3600", 3600.0),
        ("59:59", 3599.0),
        ("1:02:03", 3723.0),
        ("1:02:03.5", 3723.5),
        (" 45 ", 45.0),
        ("abc", None),
        ("", None),
        (None, None),
        ("0", None),
        ("\u0661\u0662\u0663", 123.0),  # any decimal digits, as the pattern's \\d reads them
        ("\u00b2", None),  # a digit that is no decimal
        ("863999", 863999.0),
        ("864000", None),  # ten days or more is garbage
        ("1" * 400, None),
        ("1" * 5000, None),
    ],
)
def test_parse_duration(raw: str | None, seconds: float | None) -> None:
    assert parse_duration(raw) == seconds


def test_html_to_text() -> None:
    html = (
        "<p>Hello&nbsp;<b>world</b> &amp; co</p><ul><li>one</li><li>two</li></ul><style>x</style>"
    )
    assert html_to_text(html) == "Hello world & co\n- one\n- two"
    assert html_to_text("&lt;p&gt;escaped twice&lt;/p&gt;") == "escaped twice"
    assert html_to_text("plain 3 < 4") == "plain 3 < 4"
    assert html_to_text("  ") is None
    assert html_to_text(None) is None
    # Blank lines, of any spaces, fold to one; a single one stays.
    assert html_to_text("<p>a</p>\n \n\u2003\n\t\n<p>b</p>") == "a\n\nb"
    assert html_to_text("<p>a</p>\n \n<p>b</p>") == "a\n\nb"
    # Decoded once: a bare "&" left is text, an entity left was escaped twice.
    assert html_to_text("<b>fish &amp; chips</b> &amp;amp; more") == "fish & chips & more"
    assert html_to_text("<b>fish</b> &amp;#38; chips") == "fish & chips"


def test_runs_of_spaces_of_any_kind_become_one_space_and_lone_spaces_stay() -> None:
    text = "<p>a \t\u00a0 b\u00a0c\td  e f</p><ul><li> one\r\n two </li><LI>three</li></ul>"
    assert html_to_text(text) == "a b c d e f\n- one\ntwo\n- three"


# Text made of what decides whether show notes need tidying: spaces of every kind, line
# breaks, "&" and entities, tags.
NOTE_PIECES = ["a", "é", " ", "  ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u2003", "\u2028"]
NOTE_PIECES += ["&", "&amp;", "&#0;", "<", "<b>", "</p>", "<br/>", ">"]


def test_plain_text_comes_out_as_the_full_tidying_makes_it() -> None:
    # An empty inline tag changes nothing in the text but always takes the full pass, so
    # whatever skips that pass (plain one-line titles) must come out the same. Every text of
    # up to three pieces.
    for size in range(4):
        for pieces in product(NOTE_PIECES, repeat=size):
            text = "".join(pieces)
            assert html_to_text(text) == html_to_text(text + "<i></i>"), repr(text)


BASES = ("http://host.example/f.xml", "https://host.example/a/f.xml", "file:///f.xml")
# What urljoin changes: a bare "?" or "#", a ";" with no parameters after it, a tab.
TRICKY_URLS = ["http://a/b?", "http://a/b#", "http://a/b?#f", "http://a/b;", "http://a/b;?q"]
TRICKY_URLS += ["http://a/b;p", "http://a/\tb", "http://[::1/x", "HTTP://a/b", "http:///a"]


@given(st.one_of(st.from_regex(PLAIN_HTTP_URL, fullmatch=True), st.sampled_from(TRICKY_URLS)))
def test_a_plain_http_url_is_one_urljoin_gives_back_unchanged(url: str) -> None:
    # parse_feed takes such URLs as they are, without resolving them against the feed's URL.
    if PLAIN_HTTP_URL.fullmatch(url):
        assert [urljoin(base, url) for base in (*BASES, url)] == [url] * 4
    else:
        assert url in TRICKY_URLS


def test_feeds_come_due_spread_over_the_interval_each_at_its_own_phase() -> None:
    from datetime import UTC, datetime, timedelta

    from core.feeds.store import PollPolicy

    policy = PollPolicy(interval=timedelta(minutes=30))
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    due = [policy.next_poll(now, feed_id) for feed_id in range(1, 301)]
    assert all(now + timedelta(minutes=15) <= d <= now + timedelta(minutes=45) for d in due)
    # Spread: every 3-minute slice of the interval gets some feeds, none gets most of them.
    slices = {int(((d - now).total_seconds() // 60 - 15) // 3) for d in due}
    assert slices == set(range(10))
    # Once in phase, a feed is polled exactly one interval later.
    first = policy.next_poll(now, 7)
    assert policy.next_poll(first, 7) == first + timedelta(minutes=30)
