"""The brief by email end to end over loopback HTTP and SMTP: signup, the confirmation mail,
confirming, the daily brief at the fake clock's delivery time, 👎 from the mail, settings,
and one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from core.db import Sessions
from core.models import Delivery, DeliveryAttempt, EmailSubscription, Feedback, User
from tests.fakes.chat_library import build_library
from tests.fakes.clock import FakeClock
from tests.fakes.email_site import TOKEN, email_site, form_field, links_in, press, sign_up
from tests.fakes.smtp_server import html_part, text_part

ADDRESS = "Reader@Example.ORG"
NORMAL = "reader@example.org"


async def _users(sessions: Sessions) -> list[User]:
    async with sessions() as session:
        return list((await session.execute(select(User))).scalars())


async def test_signup_confirm_brief_feedback_unsubscribe(
    sessions: Sessions, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=-1))  # 06:00 UTC: 07:00 in Berlin, the brief is due at 08:00
    library = await build_library(sessions, clock.now())
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        answer = await sign_up(web, ADDRESS, topics=("pricing", "ai"))
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        assert await _users(sessions) == []  # nothing is stored before confirmation

        [confirmation] = site.sink.to(NORMAL)
        assert confirmation["Subject"] == "Confirm your podcast brief"
        [confirm_link] = [u for u in links_in(text_part(confirmation)) if "/signup/confirm" in u]
        assert confirm_link in html_part(confirmation).replace("&amp;", "&")
        report = await site.deliver()
        assert report.sent == 0 and len(site.sink.messages) == 1  # still nothing else sent

        confirmed = await press(web, confirm_link)
        assert confirmed.status_code == 200 and "subscribed" in confirmed.text
        [user] = await _users(sessions)
        assert (user.platform, user.external_id, user.timezone, user.delivery_time) == (
            "email",
            NORMAL,
            "Europe/Berlin",
            "08:00",
        )

        clock.advance(timedelta(minutes=59))
        assert (await site.deliver()).sent == 0  # 07:59 in Berlin: not yet
        clock.advance(timedelta(minutes=1))
        assert (await site.deliver()).sent == 1
        assert (await site.deliver()).sent == 0  # exactly once per local day
        brief = site.sink.to(NORMAL)[-1]
        assert brief["Subject"].startswith("Your brief for")
        assert brief["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe_url = str(brief["List-Unsubscribe"]).strip("<>")
        text, html = text_part(brief), html_part(brief)
        insight_links = [u for u in links_in(text) if "/insights/" in u]
        assert len(insight_links) == 5
        assert all(f'href="{u}"' in html for u in insight_links)
        assert html.count("👎 Not for me") == 5 and "Unsubscribe" in html
        async with sessions() as session:
            delivery = (await session.execute(select(Delivery))).scalar_one()
            attempts = (await session.execute(select(DeliveryAttempt))).scalars().all()
        assert delivery.status == "sent" and delivery.message_ids == [brief["Message-ID"]]
        assert [a.status for a in attempts] == ["sent"]

        # 👎 on the first card: the same feedback a chat's button gives.
        first = int(insight_links[0].rsplit("/", 1)[1])
        down_link = _after(text, "👎 ", insight_links[0])
        assert "/email/feedback?t=" in down_link
        thanks = await press(web, down_link)
        assert thanks.status_code == 200 and "less like it" in thanks.text
        async with sessions() as session:
            feedback = (await session.execute(select(Feedback))).scalar_one()
        assert (feedback.user_id, feedback.insight_id, feedback.kind) == (user.id, first, "down")
        assert first in library.insight_ids

        # RFC 8058 one-click: what a mail client posts, no cookie, no CSRF token.
        async with httpx.AsyncClient() as mail_client:
            done = await mail_client.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
        [user] = await _users(sessions)
        assert not user.active and user.inactive_reason == "unsubscribed"
        clock.advance(timedelta(days=1))
        assert (await site.deliver()).sent == 0
        assert len(site.sink.to(NORMAL)) == 2  # the confirmation and one brief, nothing after


def _after(text: str, marker: str, anchor: str) -> str:
    """The first URL after ``marker`` that follows ``anchor`` in the plain-text part."""
    rest = text[text.index(anchor) :]
    return rest[rest.index(marker) + len(marker) :].split()[0]


async def test_settings_link_changes_topics_time_and_pause(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        await sign_up(web, ADDRESS, topics=("pricing",), timezone="")
        [mail] = site.sink.to(NORMAL)
        confirmed = await press(web, links_in(text_part(mail))[0])
        settings_link = links_in(confirmed.text.replace('href="', " ").replace('">', " "))
        settings_url = next(u for u in settings_link if "/email/settings" in u)
        page = await web.get(settings_url.replace("&amp;", "&"))
        assert page.status_code == 200 and 'value="UTC"' in page.text  # no JS: UTC
        saved = await web.post(
            "/email/settings",
            data={
                "t": form_field(page.text, TOKEN),
                "csrf": form_field(page.text),
                "topics": ["sleep", "ai"],
                "delivery_time": "6:45",
                "timezone": "America/New_York",
                "paused": "1",
            },
        )
        assert saved.status_code == 200 and "Saved." in saved.text
        [user] = await _users(sessions)
        assert (user.delivery_time, user.timezone, user.paused) == (
            "06:45",
            "America/New_York",
            True,
        )
        assert 'value="sleep" checked' in saved.text and 'value="pricing" checked' not in saved.text


async def test_confirming_again_resubscribes_and_keeps_one_recipient(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        await sign_up(web, ADDRESS)
        await press(web, links_in(text_part(site.sink.to(NORMAL)[0]))[0])
        await sign_up(web, NORMAL.upper(), delivery_time="09:30")
        assert len(site.sink.to(NORMAL)) == 2  # the same answer and a mail, subscribed or not
        await press(web, links_in(text_part(site.sink.to(NORMAL)[1]))[0])
        [user] = await _users(sessions)
        assert user.delivery_time == "09:30" and user.active
        async with sessions() as session:
            sub = (await session.execute(select(EmailSubscription))).scalar_one()
        assert sub.address == NORMAL and sub.unsubscribed_at is None
