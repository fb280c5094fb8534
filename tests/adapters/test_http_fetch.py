"""HttpFetcher end to end over a real loopback HTTP server, and on local files."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.fetch_guard import Allowlist, describe_refused
from adapters.http_fetch import HttpFetcher
from core.domain import FetchError
from core.ports import Fetcher
from tests.fakes.feed_server import FeedSite, Route, episode_items, rss, serving

FEED = rss("Show", episode_items(2))


@pytest.fixture
async def site() -> AsyncIterator[tuple[FeedSite, str]]:
    feed_site = FeedSite()
    async with serving(feed_site) as base:
        yield feed_site, base


@pytest.fixture
async def fetcher() -> AsyncIterator[HttpFetcher]:
    async with HttpFetcher(timeout=5, max_bytes=20_000_000, max_redirects=3) as f:
        yield f


def test_http_fetcher_implements_the_port() -> None:
    assert isinstance(HttpFetcher(), Fetcher)


async def test_conditional_get_answers_304_with_the_validators(
    site: tuple[FeedSite, str], fetcher: HttpFetcher
) -> None:
    feed_site, base = site
    feed_site.feed("feed.xml", FEED)
    first = await fetcher.fetch(f"{base}/feed.xml")
    assert (first.status, first.body) == (200, FEED)
    assert first.etag == FeedSite.etag_of(FEED)
    assert first.last_modified == FeedSite.LAST_MODIFIED
    assert first.content_type is not None and first.content_type.startswith("application/rss+xml")

    second = await fetcher.fetch(
        f"{base}/feed.xml", etag=first.etag, last_modified=first.last_modified
    )
    assert (second.status, second.body, second.etag) == (304, b"", first.etag)
    assert feed_site.not_modified["/feed.xml"] == 1


async def test_permanent_redirect_is_reported_and_temporary_is_not(
    site: tuple[FeedSite, str], fetcher: HttpFetcher
) -> None:
    feed_site, base = site
    feed_site.feed("new.xml", FEED)
    feed_site.put("old.xml", Route(status=301, location="/new.xml"))
    feed_site.put("moved-for-now.xml", Route(status=302, location=f"{base}/new.xml"))
    moved = await fetcher.fetch(f"{base}/old.xml")
    assert (moved.status, moved.url, moved.permanent_redirect_to) == (
        200,
        f"{base}/new.xml",
        f"{base}/new.xml",
    )
    temporary = await fetcher.fetch(f"{base}/moved-for-now.xml")
    assert temporary.url == f"{base}/new.xml"
    assert temporary.permanent_redirect_to is None


async def test_redirect_loop_and_too_many_redirects_are_refused(
    site: tuple[FeedSite, str], fetcher: HttpFetcher
) -> None:
    feed_site, base = site
    feed_site.put("a", Route(status=302, location="/b"))
    feed_site.put("b", Route(status=302, location="/a"))
    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher.fetch(f"{base}/a")
    for n in range(10):
        feed_site.put(f"hop{n}", Route(status=307, location=f"/hop{n + 1}"))
    with pytest.raises(FetchError, match=r"too many redirects \(more than 3\)"):
        await fetcher.fetch(f"{base}/hop0")
    assert feed_site.hits["/hop4"] == 0  # gave up after 3 redirects


async def test_a_100_mb_body_is_refused_whether_declared_or_streamed(
    site: tuple[FeedSite, str], fetcher: HttpFetcher
) -> None:
    feed_site, base = site
    feed_site.put("declared.xml", Route(declared_length=100_000_000))
    feed_site.put("endless.xml", Route(endless=True))
    with pytest.raises(FetchError, match="100 MB, over the 20 MB limit") as declared:
        await fetcher.fetch(f"{base}/declared.xml")
    assert declared.value.retryable is False
    with pytest.raises(FetchError, match="larger than the 20 MB limit"):
        await fetcher.fetch(f"{base}/endless.xml")
    with pytest.raises(FetchError, match="735 bytes, over the 100 bytes limit"):
        feed_site.feed("small.xml", FEED)
        await fetcher.fetch(f"{base}/small.xml", max_bytes=100)


async def test_server_errors_and_timeouts_become_plain_fetch_errors(
    site: tuple[FeedSite, str],
) -> None:
    feed_site, base = site
    feed_site.put("broken.xml", Route(status=500, body=b"oops", validators=False))
    feed_site.put("gone.xml", Route(status=410, body=b"gone", validators=False))
    feed_site.put("slow.xml", Route(hang=True))
    async with HttpFetcher(timeout=0.3) as fetcher:
        with pytest.raises(FetchError, match="the server answered 500 Internal Server Error") as e:
            await fetcher.fetch(f"{base}/broken.xml")
        assert (e.value.status, e.value.retryable) == (500, True)
        with pytest.raises(FetchError, match="answered 410") as gone:
            await fetcher.fetch(f"{base}/gone.xml")
        assert gone.value.retryable is False
        with pytest.raises(FetchError, match=r"timed out after 0.3 s"):
            await fetcher.fetch(f"{base}/slow.xml")
        with pytest.raises(FetchError, match="could not connect"):
            await fetcher.fetch("http://127.0.0.1:9/feed.xml")


async def test_local_files_by_url_and_path_with_a_304_when_unchanged(
    shared_data: Path, fetcher: HttpFetcher
) -> None:
    path = shared_data / "feeds" / "podcastindex__example.xml"
    by_path = await fetcher.fetch(str(path))
    by_url = await fetcher.fetch(path.as_uri())
    assert by_path.body == by_url.body == path.read_bytes()
    assert by_path.url == path.as_uri()
    again = await fetcher.fetch(str(path), etag=by_path.etag)
    assert again.status == 304
    with pytest.raises(FetchError, match="no such file"):
        await fetcher.fetch(str(path.with_name("missing.xml")))
    with pytest.raises(FetchError, match="over the 1 kB limit"):
        await fetcher.fetch(str(path), max_bytes=1000)


async def test_untrusted_urls_cannot_reach_loopback_files_or_other_schemes(
    site: tuple[FeedSite, str], fetcher: HttpFetcher, shared_data: Path
) -> None:
    feed_site, base = site
    feed_site.feed("feed.xml", FEED)
    port = base.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match=r"resolves to 127\.0\.0\.1, a loopback address"):
        await fetcher.fetch(f"{base}/feed.xml", untrusted=True)
    # A name is checked after DNS resolution, not by its spelling.
    with pytest.raises(FetchError, match=r"localhost: it resolves to .*loopback"):
        await fetcher.fetch(f"http://localhost:{port}/feed.xml", untrusted=True)
    with pytest.raises(FetchError, match="only http and https"):
        await fetcher.fetch(
            (shared_data / "feeds" / "podcastindex__example.xml").as_uri(), untrusted=True
        )
    with pytest.raises(FetchError, match="only http and https"):
        await fetcher.fetch("ftp://example.org/feed.xml", untrusted=True)
    with pytest.raises(FetchError, match="cloud metadata"):
        await fetcher.fetch("http://169.254.169.254/latest/meta-data/", untrusted=True)
    assert feed_site.hits["/feed.xml"] == 0
    # The operator's own fetches are not restricted.
    assert (await fetcher.fetch(f"{base}/feed.xml")).status == 200


async def test_allowlist_opens_a_cidr_or_a_host_and_each_redirect_hop_is_checked(
    site: tuple[FeedSite, str],
) -> None:
    feed_site, base = site
    port = base.rsplit(":", 1)[1]
    feed_site.feed("feed.xml", FEED)
    feed_site.put("to-ip.xml", Route(status=302, location=f"{base}/feed.xml"))
    async with HttpFetcher(allowlist=["127.0.0.0/8"]) as by_cidr:
        assert (await by_cidr.fetch(f"{base}/feed.xml", untrusted=True)).body == FEED
    async with HttpFetcher(allowlist=["localhost"]) as by_host:
        ok = await by_host.fetch(f"http://localhost:{port}/feed.xml", untrusted=True)
        assert ok.body == FEED
        # localhost is allowed, 127.0.0.1 is not: the redirect's hop is refused.
        with pytest.raises(FetchError, match=r"127\.0\.0\.1.*loopback"):
            await by_host.fetch(f"http://localhost:{port}/to-ip.xml", untrusted=True)
    assert feed_site.hits["/feed.xml"] == 2


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("192.168.0.10", "a private address"),
        ("172.16.5.4", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("100.64.0.1", "a non-public address"),
        ("0.0.0.0", "a private address"),
        ("224.0.0.1", "a reserved address"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_which_addresses_an_untrusted_url_may_reach(address: str, reason: str | None) -> None:
    assert describe_refused(ipaddress.ip_address(address)) == reason


def test_allowlist_parses_hosts_and_networks() -> None:
    allow = Allowlist.parse(["10.0.0.0/8", "Feeds.Home.Arpa.", " ", "::1"])
    assert allow.allows_host("feeds.home.arpa")
    assert allow.allows_address(ipaddress.ip_address("10.9.8.7"))
    assert allow.allows_address(ipaddress.ip_address("::1"))
    assert not allow.allows_address(ipaddress.ip_address("192.168.1.1"))
