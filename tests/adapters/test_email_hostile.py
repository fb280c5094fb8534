"""Hostile input to the email pages: huge or scripted fields, forged and expired links, a
missing CSRF token, too many signups, and no redirect anywhere a request could name."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from core.db import Sessions
from core.email.throttle import Limit
from core.models import User
from tests.fakes.clock import FakeClock
from tests.fakes.email_site import CSRF, email_site, form_field, links_in, press, sign_up
from tests.fakes.smtp_server import text_part


async def _count_users(sessions: Sessions) -> int:
    async with sessions() as session:
        return len((await session.execute(select(User))).scalars().all())


@pytest.fixture
def db_url(tmp_path: object) -> str:  # the pages' logic, not storage: SQLite is enough here
    return f"sqlite:///{tmp_path}/hostile.sqlite3"


async def test_a_10000_character_address_is_refused_without_mail(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        answer = await sign_up(web, "a" * 9_990 + "@example.org")
        assert answer.status_code == 400 and "too long" in answer.text
        assert "a" * 300 not in answer.text  # not echoed back whole
        assert site.sink.messages == []


@pytest.mark.parametrize(
    "address", ["not-an-address", "two@@example.org", "x@localhost", "<script>@example.org"]
)
async def test_invalid_addresses_get_a_clear_error_and_no_mail(
    sessions: Sessions, clock: FakeClock, address: str
) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        answer = await sign_up(web, address)
        assert answer.status_code == 400 and "not a valid email address" in answer.text
        assert site.sink.messages == []


async def test_script_in_fields_is_escaped_everywhere(sessions: Sessions, clock: FakeClock) -> None:
    script = '"><script>alert(1)</script>'
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        answer = await sign_up(web, f"x{script}@example.org")
        assert answer.status_code == 400
        assert "<script>alert" not in answer.text and "&lt;script&gt;" in answer.text
        bad_topic = await sign_up(web, "ok@example.org", topics=(script,))
        assert bad_topic.status_code == 400 and "<script>alert" not in bad_topic.text
        bad_zone = await sign_up(web, "ok@example.org", timezone=script)
        assert bad_zone.status_code == 400 and "<script>alert" not in bad_zone.text
        assert site.sink.messages == []


async def test_forms_without_a_valid_csrf_token_are_refused(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        data = {"email": "reader@example.org", "delivery_time": "08:00"}
        missing = await web.post("/signup", data=data)
        assert missing.status_code == 403
        page = await web.get("/signup")
        token = form_field(page.text, CSRF)
        async with httpx.AsyncClient(base_url=site.url) as other:  # another browser: no cookie
            stolen = await other.post("/signup", data={**data, "csrf": token})
        assert stolen.status_code == 403
        forged = await web.post("/signup", data={**data, "csrf": token[:-4] + "AAAA"})
        assert forged.status_code == 403
        clock.advance(timedelta(hours=13))
        stale = await web.post("/signup", data={**data, "csrf": token})
        assert stale.status_code == 403
        assert site.sink.messages == []


async def test_forged_expired_and_misused_links_do_nothing(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        await sign_up(web, "reader@example.org")
        [link] = links_in(text_part(site.sink.messages[0]))
        token = link.split("t=", 1)[1]
        for bad in (token[:-2] + "xx", "", "A" * 5000, token.replace(".", "", 1)):
            page = await web.get("/signup/confirm", params={"t": bad})
            assert page.status_code == 400 and "not valid" in page.text
        # A confirmation token is not an unsubscribe or settings token (purpose-bound).
        assert (await web.get("/email/unsubscribe", params={"t": token})).status_code == 400
        assert (await web.get("/email/settings", params={"t": token})).status_code == 400
        # A token signed with another key.
        from core.signing.links import LinkSigner

        other = LinkSigner("another key").sign(
            "unsubscribe", {"a": "x@example.org"}, now=clock.now()
        )
        one_click = await web.post(
            "/email/unsubscribe", params={"t": other}, data={"List-Unsubscribe": "One-Click"}
        )
        assert one_click.status_code == 400
        clock.advance(timedelta(days=2, minutes=1))
        expired = await web.get(link)
        assert expired.status_code == 400 and "expired" in expired.text
        assert await _count_users(sessions) == 0


async def test_an_expired_confirmation_cannot_be_pressed(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        await sign_up(web, "reader@example.org")
        [link] = links_in(text_part(site.sink.messages[0]))
        page = await web.get(link)
        clock.advance(timedelta(days=3))
        from tests.fakes.email_site import TOKEN

        late = await web.post(
            "/signup/confirm",
            data={"t": form_field(page.text, TOKEN), "csrf": form_field(page.text)},
        )
        assert late.status_code in {400, 403}
        assert await _count_users(sessions) == 0


async def test_signups_are_rate_limited_per_client_and_per_address(
    sessions: Sessions, clock: FakeClock
) -> None:
    limits = (Limit("client", 4, timedelta(hours=1)), Limit("address", 2, timedelta(hours=1)))
    async with (
        email_site(sessions, clock, limits=limits) as site,
        httpx.AsyncClient(base_url=site.url) as web,
    ):
        assert (await sign_up(web, "victim@example.org")).status_code == 200
        assert (await sign_up(web, "VICTIM@example.org")).status_code == 200
        third = await sign_up(web, "victim@example.org")  # the address is flooded: no more mail
        assert third.status_code == 429
        assert len(site.sink.to("victim@example.org")) == 2
        assert (await sign_up(web, "a@example.org")).status_code == 200
        assert (await sign_up(web, "b@example.org")).status_code == 200
        assert (await sign_up(web, "c@example.org")).status_code == 429  # the client is over
        clock.advance(timedelta(hours=1, seconds=1))
        assert (await sign_up(web, "c@example.org")).status_code == 200


async def test_no_page_redirects_where_a_request_says(sessions: Sessions, clock: FakeClock) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        page = await web.get("/signup", params={"next": "https://evil.example/"})
        answer = await web.post(
            "/signup?next=https://evil.example/",
            data={
                "email": "reader@example.org",
                "delivery_time": "08:00",
                "csrf": form_field(page.text),
                "next": "https://evil.example/",
                "redirect": "//evil.example",
            },
        )
        assert answer.status_code == 200 and "location" not in answer.headers
        assert "evil.example" not in answer.text and "evil.example" not in page.text
        link = links_in(text_part(site.sink.messages[0]))[0]
        done = await press(web, link + "&next=https://evil.example/")
        assert done.status_code == 200 and "location" not in done.headers


async def test_oversized_forms_are_refused(sessions: Sessions, clock: FakeClock) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        answer = await web.post("/signup", data={"email": "x" * 100_000})
        assert answer.status_code == 413
        assert site.sink.messages == []
