"""The email brief in a real browser (Debian's chromium through Playwright): sign up, open the
confirmation link from the test SMTP server, receive the brief at the fake clock's delivery
time, press 👎 in the mail, unsubscribe. Issue 12's browser tests 2-6.

Set PODBRIEF_SCREENSHOTS to a directory (e.g. docs) to keep the screenshots of each step.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select

from core.db import Sessions
from core.models import Feedback, User
from tests.fakes.chat_library import build_library
from tests.fakes.clock import FakeClock
from tests.fakes.email_site import email_site, links_in
from tests.fakes.smtp_server import html_part, text_part

CHROMIUM = Path("/usr/bin/chromium")
STEP_MS = 10_000  # a fixed budget for each browser step
ADDRESS = "reader@example.org"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is missing: apt-get install chromium"
)


@pytest.fixture
def db_url(tmp_path: Path) -> str:  # the browser flow, not storage: SQLite is enough here
    return f"sqlite:///{tmp_path / 'browser.sqlite3'}"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], timeout=STEP_MS * 3
        )
        try:
            yield launched
        finally:
            await launched.close()


def watch(page: Page, errors: list[str]) -> None:
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if "Security Policy" in m.text else None)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PODBRIEF_SCREENSHOTS", "") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _shot(page: Page, name: str, folder: Path) -> None:
    await page.screenshot(path=str(folder / f"signup-{name}.png"), full_page=True)


async def test_sign_up_confirm_receive_thumbs_down_and_unsubscribe_in_chromium(
    browser: Browser, sessions: Sessions, clock: FakeClock, shots: Path
) -> None:
    clock.advance(timedelta(hours=-1))  # 06:00 UTC, 07:00 in Berlin
    await build_library(sessions, clock.now())
    context = await browser.new_context(
        timezone_id="Europe/Berlin", viewport={"width": 420, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(STEP_MS)
    page = await context.new_page()
    errors: list[str] = []  # script errors and CSP violations on our pages
    watch(page, errors)

    async def open_mail(html: str) -> Page:
        """A mail as a mail client shows it: its own blank page, whose links lead to us."""
        mail = await context.new_page()
        await mail.set_content(html)
        watch(mail, errors)  # after the mail's own inline styles: only our pages count
        return mail

    async with email_site(sessions, clock) as site:
        # 2. Sign up with an email address; the time zone comes from the browser.
        await page.goto(f"{site.url}/signup")
        await expect(page.locator("[data-browser-timezone-label]")).to_have_text("Europe/Berlin")
        await page.get_by_label("Email address").fill(ADDRESS)
        await page.get_by_label("pricing").check()
        await page.get_by_label("Delivery time").fill("08:00")
        await _shot(page, "1-form", shots)
        await page.get_by_role("button", name="Send me the brief").click()
        await expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
        await _shot(page, "2-check-inbox", shots)

        # 3. Read the confirmation mail from the test SMTP server and open its link.
        [mail] = site.sink.to(ADDRESS)
        [link] = [u for u in links_in(text_part(mail)) if "/signup/confirm" in u]
        await page.goto(link)
        await _shot(page, "3-confirm", shots)
        await page.get_by_role("button", name="Yes, start my brief").click()
        await expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
        await _shot(page, "4-subscribed", shots)
        async with sessions() as session:
            user = (await session.execute(select(User))).scalar_one()
        assert (user.timezone, user.delivery_time) == ("Europe/Berlin", "08:00")

        # 4. Receive the brief mail at the fake clock's delivery time (08:00 in Berlin).
        clock.advance(timedelta(hours=1))
        assert (await site.deliver()).sent == 1
        brief = site.sink.to(ADDRESS)[-1]
        mail = await open_mail(html_part(brief))
        cards = mail.get_by_role("heading", level=2)
        await expect(cards).to_have_count(5)
        await _shot(mail, "5-brief-mail", shots)

        # 5. Press 👎 in the mail (the page asks once, so link scanners cannot vote).
        first_headline = (await cards.first.inner_text()).removeprefix("#1 ").strip()
        await mail.get_by_role("link", name="👎 Not for me").first.click()
        page = mail
        await expect(page.get_by_text(first_headline)).to_be_visible()
        await page.get_by_role("button", name="👎 Not for me").click()
        await expect(page.get_by_role("heading", name="less like it")).to_be_visible()
        await _shot(page, "6-thumbs-down", shots)
        async with sessions() as session:
            feedback = (await session.execute(select(Feedback))).scalar_one()
        assert feedback.kind == "down" and feedback.user_id == user.id

        # 6. Unsubscribe from the mail's footer.
        page = await open_mail(html_part(brief))
        await page.get_by_role("link", name="Unsubscribe").click()
        await page.get_by_role("button", name="Unsubscribe").click()
        await expect(page.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
        await _shot(page, "7-unsubscribed", shots)
        async with sessions() as session:
            user = (await session.execute(select(User))).scalar_one()
        assert not user.active and user.inactive_reason == "unsubscribed"
    assert errors == []
    await context.close()
