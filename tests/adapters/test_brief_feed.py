"""The private Atom feed of a recipient's briefs: valid Atom, escaped, secret, resettable;
and the chat commands `feed` and `feed reset` that give it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import httpx

from core.brief.compose import compose_brief
from core.chat.engine import ConversationEngine
from core.chat.types import ChatRef, IncomingMessage, Sender
from core.db import Sessions, transaction
from core.models import Insight
from core.people import users as people
from tests.fakes.chat_library import build_library
from tests.fakes.clock import FakeClock
from tests.fakes.email_site import email_site

ATOM = "{http://www.w3.org/2005/Atom}"


def _say(text: str) -> IncomingMessage:
    chat = ChatRef("telegram", "42")
    return IncomingMessage(chat=chat, sender=Sender("42"), text=text)


def _reply_text(reply: object) -> str:
    return " ".join(getattr(p, "text", "") for p in getattr(reply, "parts", ()))


async def test_feed_command_gives_a_private_atom_feed_of_the_briefs(
    sessions: Sessions, clock: FakeClock
) -> None:
    library = await build_library(sessions, clock.now())
    async with transaction(sessions) as session:  # a headline that tries to break out
        insight = await session.get(Insight, library.insight_ids[0])
        assert insight is not None
        insight.headline = "Pricing <script>alert('x')</script> & ]]> wins"
    async with email_site(sessions, clock) as site, httpx.AsyncClient() as web:
        engine = ConversationEngine(sessions, clock, public_url=site.url)
        reply = await engine.handle(_say("feed"))
        [url] = [w for w in _reply_text(reply).split() if w.startswith(site.url)]
        assert url.startswith(f"{site.url}/feeds/") and url.endswith(".atom")
        assert _reply_text(await engine.handle(_say("/feed"))).count(url) == 1  # same URL again

        empty = await web.get(url)
        assert empty.status_code == 200 and not feedparser.parse(empty.text).entries

        user = await people.get_or_create_user(sessions, "telegram", "", "42")
        await compose_brief(sessions, user.id, clock, kind="daily")
        clock.advance(timedelta(days=1))
        await compose_brief(sessions, user.id, clock, kind="daily")
        answer = await web.get(url)
        assert answer.headers["content-type"].startswith("application/atom+xml")
        assert "noindex" in answer.headers["x-robots-tag"]
        root = ET.fromstring(answer.content)  # well-formed XML
        assert root.tag == f"{ATOM}feed"
        parsed = feedparser.parse(answer.content)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == 2 and parsed.feed.title == "Your podcast brief"
        newest, oldest = parsed.entries
        assert newest.updated_parsed > oldest.updated_parsed
        html = "".join(e.content[0].value for e in parsed.entries)
        assert f"{site.url}/insights/" in html
        assert "<script>" not in answer.text and "&lt;script&gt;" in html
        assert len({e.id for e in parsed.entries}) == 2
        for element in root.iter(f"{ATOM}entry"):  # RFC 4287: id, title, updated in each
            for required in ("id", "title", "updated"):
                assert element.find(f"{ATOM}{required}") is not None

        reset = await engine.handle(_say("feed reset"))
        [new_url] = [w for w in _reply_text(reset).split() if w.startswith(site.url)]
        assert new_url != url
        assert (await web.get(url)).status_code == 404  # the old secret URL stops working
        assert (await web.get(new_url)).status_code == 200


async def test_unknown_or_malformed_feed_tokens_are_not_found(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        for token in ("nope", "A" * 500, "..%2F..%2Fetc"):
            assert (await web.get(f"/feeds/{token}.atom")).status_code == 404


async def test_feed_without_public_url_says_what_to_set(
    sessions: Sessions, clock: FakeClock
) -> None:
    engine = ConversationEngine(sessions, clock)
    reply = await engine.handle(_say("feed"))
    assert "public_url" in _reply_text(reply)
