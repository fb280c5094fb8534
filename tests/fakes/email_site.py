"""The email pages and brief feeds on a real loopback HTTP server, sending to a test SMTP
server: what `podbrief run` serves with PODBRIEF_SMTP_HOST set, wired the same way."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from html import unescape

import httpx

from adapters.email.messenger import EmailMessenger
from adapters.email.smtp import SmtpConfig, SmtpMailer
from adapters.web.feeds import BriefFeedPages
from adapters.web.signup import EmailPages
from bot.runtime import http_server
from core.db import Sessions
from core.delivery.ratelimit import RateLimiters
from core.delivery.service import deliver_due
from core.delivery.types import DeliveryConfig, DeliveryReport
from core.email.throttle import Limit
from core.signing.links import LinkSigner
from tests.cli_process import free_port
from tests.fakes.clock import FakeClock
from tests.fakes.smtp_server import SmtpSink, smtp_sink

SECRET = "test-signing-key-not-secret"
SENDER = "podbrief <brief@podbrief.test>"


@dataclass
class EmailSite:
    url: str
    sink: SmtpSink
    sessions: Sessions
    clock: FakeClock
    messenger: EmailMessenger
    pages: EmailPages
    signer: LinkSigner
    limiters: RateLimiters

    async def deliver(self) -> DeliveryReport:
        return await deliver_due(
            self.sessions,
            self.clock,
            {"email": self.messenger},
            config=DeliveryConfig(worker="test", concurrency=1),
            limiters=self.limiters,
        )


@asynccontextmanager
async def email_site(
    sessions: Sessions,
    clock: FakeClock,
    *,
    limits: tuple[Limit, ...] = (
        Limit("client", 10, timedelta(hours=1)),
        Limit("address", 3, timedelta(hours=1)),
    ),
) -> AsyncIterator[EmailSite]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    signer = LinkSigner(SECRET)

    async def signers() -> LinkSigner:
        return signer

    async with smtp_sink() as sink:
        config = SmtpConfig(host="127.0.0.1", port=sink.port, security="none", sender=SENDER)
        mailer = SmtpMailer(config)
        messenger = EmailMessenger(mailer, signers, url, sessions, clock)
        pages = EmailPages(
            sessions=sessions,
            clock=clock,
            signer=signers,
            mailer=mailer,
            public_url=url,
            limits=limits,
        )
        feeds = BriefFeedPages(sessions, clock, url)
        async with http_server([*pages.routes(), *feeds.routes()], "127.0.0.1", port):
            yield EmailSite(url, sink, sessions, clock, messenger, pages, signer, RateLimiters())


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TOKEN = re.compile(r'name="t" value="([^"]+)"')


def form_field(html: str, pattern: re.Pattern[str] = CSRF) -> str:
    found = pattern.search(html)
    assert found, f"no such field in the page: {html[:500]}"
    return unescape(found.group(1))


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


async def sign_up(
    client: httpx.AsyncClient,
    email: str,
    *,
    topics: tuple[str, ...] = ("pricing",),
    delivery_time: str = "08:00",
    timezone: str = "Europe/Berlin",
) -> httpx.Response:
    page = await client.get("/signup")
    data = {
        "email": email,
        "delivery_time": delivery_time,
        "timezone": timezone,
        "csrf": form_field(page.text),
    }
    return await client.post("/signup", data={**data, "topics": list(topics)})


async def press(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open a link from a mail and press the page's button, as a person does."""
    page = await client.get(link)
    assert page.status_code == 200, page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action, page.text
    data = {"t": form_field(page.text, TOKEN), "csrf": form_field(page.text)}
    return await client.post(unescape(action.group(1)), data=data)
