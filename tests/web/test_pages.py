"""The public pages end to end: a real server on 127.0.0.1, a real database (SQLite and
PostgreSQL), the chat library of 3 shows and 9 insights."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import httpx
import pytest
from jinja2 import DictLoader
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.web.app import WebApp
from adapters.web.templating import build_environment, long_date
from bot.runtime import listening_socket, serving_on
from core.chat.search import search_insights
from core.db import transaction
from core.models import Episode, Feed, Insight, InsightTopic
from core.web.pages import WebPages
from tests.fakes.chat_library import EPISODES, INSIGHTS
from tests.web.checks import assert_page_ok
from tests.web.conftest import PUBLIC_URL, Site

INVITATION = (
    "Get your free personalized podcast brief. "
    "We scan new podcasts and send you the top 5 insights daily."
)


class Page(HTMLParser):
    """What a test reads from a page: title, meta tags, links, JSON-LD, scripts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.title = ""
        self.meta: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.canonical = ""
        self.jsonld: list[object] = []
        self.scripts: list[dict[str, str]] = []
        self.audio_sources: list[str] = []
        self._in: list[str] = []
        self._href: str | None = None
        self._text = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._in.append(tag)
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        if tag == "link" and a.get("rel") == "canonical":
            self.canonical = a["href"]
        if tag == "a":
            self._href, self._text = a.get("href", ""), ""
        if tag == "script":
            self.scripts.append(a)
        if tag == "source":
            self.audio_sources.append(a.get("src", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text.strip()))
            self._href = None
        if self._in:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "title":
            self.title += data
        if self._in and self._in[-1] == "script":
            self.jsonld.append(json.loads(data))
        if self._href is not None:
            self._text += data

    def hrefs(self, prefix: str) -> list[str]:
        return [href for href, _ in self.links if href.startswith(prefix)]


def insight_row(headline_start: str) -> tuple[str, str, str, str, str | None, float, list[str]]:
    return next(row for row in INSIGHTS if row[1].startswith(headline_start))


async def test_the_insight_page_shows_the_insight_its_quote_and_the_moment(site: Site) -> None:
    insight_id = site.lib.id_of("Usage-based pricing")
    ep_key, headline, body, quote, speaker, _, topics = insight_row("Usage-based pricing")
    response = await site.get(f"/insights/{insight_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = response.text
    page = Page(text)
    assert page.title == headline
    assert f"<h1>{headline}</h1>" in text
    assert body in text and f"“{quote}”" in text and speaker in text
    # The moment: the episode's link at the quote's second, and the audio from there.
    assert ("https://pricing.example/ep/41#t=754", "at 12:34") in page.links
    assert page.audio_sources == ["https://cdn.example/p1.mp3#t=754"]
    # Show, episode and date; topic links.
    assert (f"/shows/{site.lib.feed_ids['f1']}", "The Pricing Pod") in page.links
    assert (f"/episodes/{site.lib.episode_ids[ep_key]}", EPISODES[ep_key][1]) in page.links
    published = site.clock.now() - timedelta(days=1)  # as the library stores it
    assert f'<time datetime="{published.date().isoformat()}">{long_date(published)}</time>' in text
    assert page.hrefs("/topics/") == [f"/topics/{t}" for t in topics]


async def test_related_insights_come_from_other_shows_first_and_link_to_their_pages(
    site: Site,
) -> None:
    # The library relates each insight to the next two: "Price for the value" (The Pricing
    # Pod) to "Annual plans" (same show, rank 1) and "Agents need evals" (AI Weekly, rank 2).
    insight_id = site.lib.id_of("Price for the value")
    page = Page((await site.get(f"/insights/{insight_id}")).text)
    related = page.hrefs("/insights/")
    evals, annual = site.lib.id_of("Agents need evals"), site.lib.id_of("Annual plans")
    assert related == [f"/insights/{evals}", f"/insights/{annual}"]  # other show first
    assert "Related Insights" in (await site.get(f"/insights/{insight_id}")).text


async def test_every_page_has_link_preview_tags_json_ld_a_canonical_url_and_a_phone_layout(
    site: Site,
) -> None:
    insight_id = site.lib.id_of("Annual plans")
    page = Page((await site.get(f"/insights/{insight_id}")).text)
    assert page.canonical == f"{PUBLIC_URL}/insights/{insight_id}"
    assert page.meta["og:url"] == page.canonical
    assert page.meta["og:title"] == "Annual plans cut churn by a third"
    assert page.meta["twitter:title"] == page.meta["og:title"]
    # The first sentence of the body, so a pasted link unfurls with the claim.
    assert page.meta["og:description"] == "Customers on annual plans churned 33% less."
    assert page.meta["twitter:description"] == page.meta["og:description"]
    assert page.meta["twitter:card"] == "summary" and page.meta["og:type"] == "article"
    assert page.meta["viewport"] == "width=device-width, initial-scale=1"
    (ld,) = page.jsonld
    assert isinstance(ld, dict)
    assert ld["@type"] == "Article" and ld["headline"] == "Annual plans cut churn by a third"
    assert ld["citation"]["text"] == "Annual customers simply stick around longer."
    assert ld["citation"]["creator"]["name"] == "Maya Chen"
    assert ld["isBasedOn"]["partOfSeries"]["name"] == "The Pricing Pod"
    for path in _all_paths(site):
        text = (await site.get(path)).text
        other = Page(text)
        assert other.canonical.startswith(PUBLIC_URL), path
        assert {"og:title", "og:description", "twitter:card", "viewport"} <= set(other.meta)
        assert other.jsonld and all(
            s.get("type") == "application/ld+json" for s in other.scripts
        ), path


def _all_paths(site: Site) -> list[str]:
    lib = site.lib
    return [
        "/",
        *(f"/insights/{i}" for i in lib.insight_ids),
        *(f"/episodes/{i}" for i in lib.episode_ids.values()),
        *(f"/shows/{i}" for i in lib.feed_ids.values()),
        "/topics/pricing",
        "/topics/ai",
        "/search",
        "/search?q=pricing",
        "/search?q=zzzqqq",
    ]


async def test_every_page_is_valid_html_and_passes_the_accessibility_smoke_check(
    site: Site,
) -> None:
    for path in [*_all_paths(site), "/insights/999999", "/topics/nope", "/shows/abc"]:
        response = await site.get(path)
        assert response.status_code in (200, 404), path
        try:
            assert_page_ok(response.text)
        except Exception as exc:
            raise AssertionError(f"{path}: {exc}") from exc


async def test_episode_show_and_topic_pages_list_their_insights(site: Site) -> None:
    lib = site.lib
    episode = Page((await site.get(f"/episodes/{lib.episode_ids['a1']}")).text)
    in_episode = [lib.id_of(h) for h in ("Agents need evals", "Small models", "Postgres is")]
    assert episode.hrefs("/insights/") == [f"/insights/{i}" for i in in_episode]  # by time
    show = Page((await site.get(f"/shows/{lib.feed_ids['f1']}")).text)
    assert show.title == "The Pricing Pod"
    assert sorted(show.hrefs("/episodes/")) == sorted(
        f"/episodes/{lib.episode_ids[k]}" for k in ("p1", "p2")
    )
    assert len(show.hrefs("/insights/")) == 4
    topic = Page((await site.get("/topics/crypto")).text)
    assert topic.title == "Insights about crypto"
    crypto = [lib.id_of("Stablecoins"), lib.id_of("Bitcoin ETFs")]
    assert topic.hrefs("/insights/") == [f"/insights/{i}" for i in crypto]  # best first


async def test_the_home_page_shows_todays_best_and_invites_the_reader(site: Site) -> None:
    text = (await site.get("/")).text
    page = Page(text)
    assert INVITATION in text
    listed = page.hrefs("/insights/")
    # At most two per show, best score first.
    lib = site.lib
    assert listed == [
        f"/insights/{lib.id_of(h)}"
        for h in (
            "Usage-based", "Price for the value", "Agents need evals", "Small models",
            "Stablecoins", "Bitcoin ETFs",
        )
    ]  # fmt: skip
    # Without the signup form template (another module provides it) the invitation stands alone.
    assert "<form" not in text.split('id="signup"')[1].split("</section>")[0]
    assert INVITATION in (await site.get(f"/insights/{lib.insight_ids[0]}")).text  # every page


async def test_search_is_the_chats_search(site: Site) -> None:
    found = await search_insights(site.sessions, site.lib.embedder, "pricing", limit=20)
    page = Page((await site.get("/search?q=pricing")).text)
    assert page.hrefs("/insights/") == [f"/insights/{i}" for i in found.insight_ids]
    assert len(found.insight_ids) >= 4
    nothing = await site.get("/search?q=zzzqqq+xxyyzz")
    assert nothing.status_code == 200 and "Nothing found for" in nothing.text
    empty = await site.get("/search")
    assert empty.status_code == 200 and Page(empty.text).hrefs("/insights/") == []


async def test_unknown_and_malformed_ids_are_plain_404_pages(site: Site) -> None:
    for path in [
        "/insights/999999",
        "/insights/abc",
        "/insights/-1",
        "/insights/0",
        "/insights/1.5",
        "/insights/99999999999999999999999",
        "/insights/%F0%9F%98%80",
        "/insights/１２",  # full-width digits are digits to str.isdigit, not to us
        "/episodes/2147483648",
        "/shows/x",
        "/topics/not-a-topic",
        "/topics/" + "a" * 500,
    ]:
        response = await site.get(path)
        assert response.status_code == 404, path
        assert "<h1>Not found</h1>" in response.text, path
        assert "content-security-policy" in response.headers, path


async def test_security_headers_forbid_inline_script(site: Site) -> None:
    response = await site.get(f"/insights/{site.lib.insight_ids[0]}")
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" in response.headers  # public_url is https
    css = await site.get("/static/site.css")
    assert css.status_code == 200 and css.headers["content-security-policy"] == csp


async def test_no_redirect_leaves_the_site(site: Site) -> None:
    for path in ["//evil.example/", "/insights/1/", "//evil.example/%2e%2e", "/\\evil.example"]:
        response = await site.client.get(path, follow_redirects=False)
        location = response.headers.get("location")
        if location is not None:
            assert location.startswith(site.base + "/"), (path, location)


async def test_the_sitemap_lists_every_page(site: Site) -> None:
    response = await site.get("/sitemap.xml")
    assert response.headers["content-type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.fromstring(response.text).findall("s:url/s:loc", ns)]
    lib = site.lib
    expected = {
        f"{PUBLIC_URL}/",
        *(f"{PUBLIC_URL}/insights/{i}" for i in lib.insight_ids),
        *(f"{PUBLIC_URL}/episodes/{i}" for i in lib.episode_ids.values()),
        *(f"{PUBLIC_URL}/shows/{i}" for i in lib.feed_ids.values()),
        f"{PUBLIC_URL}/topics/pricing",
        f"{PUBLIC_URL}/topics/crypto",
    }
    assert expected <= set(locs)
    assert len(locs) == len(set(locs))
    robots = await site.get("/robots.txt")
    assert f"Sitemap: {PUBLIC_URL}/sitemap.xml" in robots.text


@pytest.mark.parametrize("query", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
async def test_a_hostile_search_is_shown_escaped(site: Site, query: str) -> None:
    response = await site.client.get("/search", params={"q": query})
    assert response.status_code == 200
    assert query not in response.text
    assert "<script>alert" not in response.text and "<img" not in response.text
    assert_page_ok(response.text)
    long = await site.client.get("/search", params={"q": "pricing " * 2000})
    assert long.status_code == 200


def test_pages_have_no_inline_event_handlers_or_scripts() -> None:
    """Templates never write inline script or handlers: CSP would block them anyway."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "adapters" / "web" / "templates"
    for template in templates.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"\son[a-z]+=", text), template.name
        scripts = re.findall(r"<script[^>]*>", text)
        # Only data blocks and our own external files (the signup form's timezone.js).
        ours = re.compile(r'<script src="/static/[\w.]+" defer>')
        assert all('type="application/ld+json"' in s or ours.fullmatch(s) for s in scripts), (
            template.name
        )


async def test_hostile_stored_text_is_escaped_everywhere(site: Site) -> None:
    """A feed is untrusted: its titles, a generated headline and links may be hostile."""
    hostile = "<script>alert('x')</script>"
    async with transaction(site.sessions) as session:
        feed = Feed(url="https://evil.example/feed.xml", title=f"Show {hostile}")
        session.add(feed)
        await session.flush()
        episode = Episode(
            feed_id=feed.id, dedup_key="guid:evil", title='Ep "><img src=x onerror=alert(1)>',
            link="javascript:alert(1)", enclosure_url="javascript:alert(2)",
            enclosure_type="audio/mpeg", insight_status="done",
        )  # fmt: skip
        session.add(episode)
        await session.flush()
        insight = Insight(
            episode_id=episode.id, feed_id=feed.id, headline=f"Headline {hostile}",
            body=f"Body </script>{hostile} ends. Second sentence.", quote=f"Quote {hostile}",
            speaker=f"Speaker {hostile}", start_seconds=5.0, topics=["<b>bold</b>"],
        )  # fmt: skip
        session.add(insight)
        await session.flush()
        session.add(InsightTopic(insight_id=insight.id, topic="<b>bold</b>"))
    for path in [f"/insights/{insight.id}", f"/episodes/{episode.id}", f"/shows/{feed.id}", "/"]:
        response = await site.get(path)
        assert response.status_code == 200, path
        text = response.text
        assert "<script>alert" not in text and "<img" not in text, path
        assert "javascript:" not in text, path
        assert "&lt;script&gt;" in text or "\\u003cscript\\u003e" in text, path
        assert_page_ok(text)
        for ld in Page(text).jsonld:  # the data still reads back as written
            assert "<script>" not in json.dumps(ld) or hostile in json.dumps(ld)
    page = Page((await site.get(f"/insights/{insight.id}")).text)
    assert page.title == f"Headline {hostile}"  # the title is the headline, as text
    assert page.audio_sources == []  # a javascript: "enclosure" is no audio
    assert page.hrefs("/topics/") == ["/topics/%3Cb%3Ebold%3C%2Fb%3E"]
    sitemap = await site.get("/sitemap.xml")
    ET.fromstring(sitemap.text)  # still well-formed XML


async def test_the_home_page_includes_the_signup_form_another_module_provides(
    site: Site, engine: AsyncEngine
) -> None:
    form = (
        '<form id="signup-form" method="post" action="/signup">'
        '<label for="signup-email">Email</label>'
        '<input id="signup-email" name="email" type="email" required>'
        '<button type="submit">Sign up</button></form>'
    )
    env = build_environment(DictLoader({"signup_form.html": form}))
    app = WebApp(WebPages(engine, site.clock), PUBLIC_URL, env)
    sock = listening_socket("127.0.0.1", 0)
    async with (
        serving_on(app.routes(), sock, front=app),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as client,
    ):
        text = (await client.get("/")).text
    assert form in text and INVITATION in text
    assert_page_ok(text)
