"""With ``public_url`` set, every card carries its insight page's URL and each surface shows it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from adapters.console.render import render_reply as console_render
from adapters.slack.blocks import render_reply as slack_render
from adapters.telegram.render import render_reply as telegram_render
from core.chat.engine import ConversationEngine
from core.chat.page_links import with_page_urls
from core.chat.types import ChatRef, IncomingMessage, InsightCard, Reply, Sender, Text
from core.db import Sessions, transaction
from core.delivery.ratelimit import RateLimiters
from core.delivery.service import deliver_due
from core.delivery.types import DeliveryConfig
from core.models import User
from core.web.urls import PublicUrlError, normalise_public_url
from tests.fakes.chat_library import build_library
from tests.fakes.clock import FakeClock
from tests.fakes.messenger import FakeMessenger, FakeTimer

PUBLIC = "https://brief.example.org"
ALICE = ChatRef(platform="console", chat_id="alice")


def card(insight_id: int = 7, page_url: str | None = None) -> InsightCard:
    return InsightCard(
        insight_id=insight_id, position=1, headline="Price for value", body="Body.",
        quote="Nobody cares.", speaker="Tom", start_seconds=61.0, show_title="Pod",
        episode_title="Ep", episode_url="https://pod.example/ep", page_url=page_url,
    )  # fmt: skip


def test_cards_get_their_page_url_and_other_parts_stay() -> None:
    reply = Reply(parts=(Text("Your brief"), card(7), card(9)), brief_id=3)
    linked = with_page_urls(reply, PUBLIC)
    assert [c.page_url for c in linked.cards] == [f"{PUBLIC}/insights/7", f"{PUBLIC}/insights/9"]
    assert linked.parts[0] == Text("Your brief") and linked.brief_id == 3
    assert with_page_urls(reply, "") is reply  # no pages: cards stay as they were


@pytest.mark.parametrize(
    "raw", ["brief.example.org", "ftp://x.example", "javascript:alert(1)", "https://x.example/?a=1",
            "https://user:pw@x.example", "https://"],
)  # fmt: skip
def test_a_public_url_that_is_not_a_plain_http_url_is_refused(raw: str) -> None:
    with pytest.raises(PublicUrlError):
        normalise_public_url(raw)


def test_a_public_url_loses_its_trailing_slash() -> None:
    assert normalise_public_url(" https://x.example/brief/ ") == "https://x.example/brief"
    assert normalise_public_url("") == ""


def test_telegram_slack_and_console_show_the_page_link() -> None:
    linked = Reply(parts=(card(7, f"{PUBLIC}/insights/7"),))
    telegram = "".join(m.html for m in telegram_render(linked))
    assert f'<a href="{PUBLIC}/insights/7">Open the page</a>' in telegram
    compact = "".join(m.html for m in telegram_render(Reply(parts=linked.parts, compact=True)))
    assert f'<a href="{PUBLIC}/insights/7">Open the page</a>' in compact
    slack = str([m.blocks for m in slack_render(linked)])
    assert f"<{PUBLIC}/insights/7|Open the insight page>" in slack
    out = io.StringIO()
    console_render(Console(file=out, width=200), linked)
    assert f"Page: {PUBLIC}/insights/7" in out.getvalue()
    plain = Reply(parts=(card(7),))  # without pages, no link anywhere
    assert "Open the page" not in "".join(m.html for m in telegram_render(plain))
    assert "insight page" not in str([m.blocks for m in slack_render(plain)])


async def test_the_engine_links_brief_and_follow_up_cards_to_their_pages(
    sessions: Sessions, clock: FakeClock
) -> None:
    await build_library(sessions, clock.now())
    engine = ConversationEngine(sessions, clock, public_url=PUBLIC)
    brief = await engine.brief_for(ALICE, kind="on_demand")
    assert brief.cards
    assert all(c.page_url == f"{PUBLIC}/insights/{c.insight_id}" for c in brief.cards)
    related = await engine.handle(
        IncomingMessage(chat=ALICE, sender=Sender(user_id="alice"), text="related 1")
    )
    assert related.cards and all(c.page_url for c in related.cards)
    unlinked = await ConversationEngine(sessions, clock).brief_for(ALICE, kind="on_demand")
    assert unlinked.cards and all(c.page_url is None for c in unlinked.cards)


async def test_the_delivered_brief_carries_page_urls(sessions: Sessions, clock: FakeClock) -> None:
    start = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    clock.set(start)
    await build_library(sessions, start - timedelta(hours=1))
    async with transaction(sessions) as session:
        session.add(
            User(platform="telegram", workspace="", external_id="100", kind="person",
                 timezone="UTC", delivery_time="08:00", delivery_days="daily", onboarded=True,
                 created_at=start - timedelta(days=30))
        )  # fmt: skip
    messenger = FakeMessenger("telegram")
    report = await deliver_due(
        sessions,
        clock,
        {"telegram": messenger},
        config=DeliveryConfig(worker="w", concurrency=1, public_url=PUBLIC),
        limiters=RateLimiters(FakeTimer()),
    )
    assert report.sent == 1
    ((_, reply),) = messenger.sent
    assert len(reply.cards) == 5
    assert all(c.page_url == f"{PUBLIC}/insights/{c.insight_id}" for c in reply.cards)
