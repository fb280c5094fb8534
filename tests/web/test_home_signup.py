"""The home page's signup form is the email signup itself: a visitor signs up from `/` without
visiting another page first (its CSRF token and cookie come with the home page)."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.web.app import WebApp
from bot.runtime import listening_socket, serving_on
from core.db import Sessions
from core.web.pages import WebPages
from tests.fakes.chat_library import build_library
from tests.fakes.clock import FakeClock
from tests.fakes.email_site import email_site, form_field
from tests.web.checks import assert_page_ok


async def test_a_visitor_signs_up_from_the_home_page(
    engine: AsyncEngine, sessions: Sessions, clock: FakeClock
) -> None:
    await build_library(sessions, clock.now())
    async with email_site(sessions, clock) as site:
        app = WebApp(WebPages(engine, clock), site.url, signup=site.pages)
        sock = listening_socket("127.0.0.1", 0)
        async with (
            serving_on(app.routes() + site.pages.routes(), sock, front=app),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as web,
        ):
            home = await web.get("/")
            assert home.status_code == 200
            assert home.headers["cache-control"] == "no-store"  # the form's token is this visitor's
            assert 'action="/signup"' in home.text and 'name="email"' in home.text
            assert_page_ok(home.text)
            answer = await web.post(
                "/signup",
                data={
                    "email": "home@example.org",
                    "topics": ["pricing"],
                    "delivery_time": "07:30",
                    "timezone": "Europe/Berlin",
                    "csrf": form_field(home.text),
                },
            )
            assert answer.status_code == 200 and "Check your inbox" in answer.text
            assert len(site.sink.to("home@example.org")) == 1

            # Without the cookie the home page set, the same form is refused.
            stranger = await httpx.AsyncClient(base_url=str(web.base_url)).post(
                "/signup",
                data={"email": "x@example.org", "delivery_time": "07:30",
                      "csrf": form_field(home.text)},
            )  # fmt: skip
            assert stranger.status_code == 403
