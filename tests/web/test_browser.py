"""The insight page in a real browser: Debian's chromium driven by Playwright for Python.

`make test` installs the `chromium` package when it is missing; no browser build is ever
downloaded. Each step has a fixed time budget, and the whole test one too.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, async_playwright

from tests.fakes.chat_library import INSIGHTS
from tests.web.conftest import Site

CHROMIUM = Path(os.environ.get("PODBRIEF_CHROMIUM", "/usr/bin/chromium"))
STEP_MS = 10_000  # any one browser action
TEST_BUDGET_S = 90  # the whole test, browser start included
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The browser side needs one database, not both: the pages' queries are tested on each."""
    return f"sqlite:///{tmp_path / 'browser.sqlite3'}"


def _chromium() -> str:
    if not CHROMIUM.is_file():
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: `make test` installs it")
    return str(CHROMIUM)


async def test_an_insight_page_in_chromium(site: Site) -> None:
    lib = site.lib
    start = lib.id_of("Price for the value")
    evals = lib.id_of("Agents need evals")
    headline = INSIGHTS[lib.insight_ids.index(start)][1]
    quote = INSIGHTS[lib.insight_ids.index(start)][3]
    async with asyncio.timeout(TEST_BUDGET_S), async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=_chromium(),
            headless=True,
            args=["--no-sandbox"],  # CI runs as root, where chromium's sandbox cannot start
            timeout=STEP_MS * 3,
        )
        try:
            page = await browser.new_page(viewport=PHONE)
            page.set_default_timeout(STEP_MS)
            problems: list[str] = []

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":  # a CSP violation is reported as one
                    problems.append(message.text)

            page.on("console", on_console)
            await page.goto(f"{site.base}/insights/{start}")
            assert await page.title() == headline
            assert await page.locator("h1").inner_text() == headline
            assert quote in await page.locator("figure.quote blockquote").inner_text()
            assert "Tom Reyes" in await page.locator("figure.quote figcaption").inner_text()
            related = page.locator("section.related h3 a")
            assert await related.count() == 2
            assert await related.first.get_attribute("href") == f"/insights/{evals}"
            # Fits a phone: nothing wider than the screen.
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0
            shots = os.environ.get("PODBRIEF_SCREENSHOT_DIR")
            if shots:  # docs/insight-page.png is made this way (see README)
                await page.set_viewport_size({"width": 960, "height": 900})
                await page.screenshot(path=str(Path(shots) / "insight-page.png"), full_page=True)
            await related.first.click()
            await page.wait_for_url(f"{site.base}/insights/{evals}")
            followed = await page.locator("h1").inner_text()
            assert followed == "Agents need evals before they need features"
            assert await page.locator("section.related h3 a").count() == 2
            assert problems == []  # no CSP violation (JSON-LD is data), no failed load
        finally:
            await browser.close()
