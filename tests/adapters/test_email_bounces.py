"""SMTP refusals through the delivery engine: a 5xx deactivates the address and records the
bounce; a 4xx is retried with the engine's backoff; an unreachable server too."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from core.db import Sessions
from core.models import Delivery, DeliveryAttempt, EmailSubscription, User
from tests.fakes.chat_library import build_library
from tests.fakes.clock import FakeClock
from tests.fakes.email_site import EmailSite, email_site, links_in, press, sign_up
from tests.fakes.smtp_server import text_part

ADDRESS = "reader@example.org"


async def _subscribe(site: EmailSite, web: httpx.AsyncClient) -> None:
    await sign_up(web, ADDRESS, delivery_time="07:00", timezone="UTC")
    await press(web, links_in(text_part(site.sink.to(ADDRESS)[0]))[0])


async def _state(sessions: Sessions) -> tuple[User, Delivery, list[DeliveryAttempt]]:
    async with sessions() as session:
        user = (await session.execute(select(User))).scalar_one()
        delivery = (await session.execute(select(Delivery))).scalar_one()
        attempts = await session.execute(select(DeliveryAttempt).order_by(DeliveryAttempt.id))
        return user, delivery, list(attempts.scalars())


async def test_a_hard_bounce_deactivates_the_address(sessions: Sessions, clock: FakeClock) -> None:
    clock.advance(timedelta(hours=-1))
    await build_library(sessions, clock.now())
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        await _subscribe(site, web)
        site.sink.refuse[ADDRESS] = "550 5.1.1 <reader@example.org>: mailbox unavailable"
        clock.advance(timedelta(hours=1))
        report = await site.deliver()
        assert (report.sent, report.failed, report.gone) == (0, 1, 1)
        user, delivery, attempts = await _state(sessions)
        assert not user.active and (user.inactive_reason or "").startswith("hard bounce: 550")
        assert delivery.status == "failed" and [a.status for a in attempts] == ["gone"]
        async with sessions() as session:
            sub = (await session.execute(select(EmailSubscription))).scalar_one()
        assert sub.bounced_at == clock.now() and "mailbox unavailable" in (sub.bounce_reason or "")
        clock.advance(timedelta(days=1))
        site.sink.refuse.clear()
        assert (await site.deliver()).sent == 0  # stays off until the person confirms again


async def test_a_temporary_refusal_is_retried_with_backoff(
    sessions: Sessions, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=-1))
    await build_library(sessions, clock.now())
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        await _subscribe(site, web)
        site.sink.refuse[ADDRESS] = "451 4.7.1 Greylisted, try again later"
        clock.advance(timedelta(hours=1))
        assert (await site.deliver()).retried == 1
        user, delivery, attempts = await _state(sessions)
        assert user.active and delivery.status == "queued" and delivery.attempts == 1
        assert delivery.not_before == clock.now() + timedelta(minutes=1)
        assert [a.status for a in attempts] == ["transient"] and "451" in (attempts[0].error or "")
        assert (await site.deliver()).sent == 0  # not before the backoff is over
        site.sink.refuse.clear()
        clock.advance(timedelta(minutes=1))
        assert (await site.deliver()).sent == 1
        _, delivery, attempts = await _state(sessions)
        assert delivery.status == "sent" and [a.status for a in attempts] == ["transient", "sent"]
        assert len(site.sink.to(ADDRESS)) == 2  # the confirmation, then the brief once


async def test_an_unreachable_server_is_retried(sessions: Sessions, clock: FakeClock) -> None:
    clock.advance(timedelta(hours=-1))
    await build_library(sessions, clock.now())
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        await _subscribe(site, web)
    # The SMTP server has stopped with the site: nothing listens on its port any more.
    clock.advance(timedelta(hours=1))
    assert (await site.deliver()).retried == 1
    user, delivery, attempts = await _state(sessions)
    assert user.active and delivery.status == "queued"
    assert "unreachable" in (attempts[0].error or "")
