"""Every email page parses as strict HTML5 (html5lib) and passes an accessibility smoke check:
labelled fields, headings in order, alt text on images; mails' HTML parses too."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import pairwise

import html5lib
import httpx
import pytest

from core.db import Sessions
from tests.fakes.clock import FakeClock
from tests.fakes.email_site import email_site, links_in, press, sign_up
from tests.fakes.smtp_server import html_part, text_part

NS = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture
def db_url(tmp_path: object) -> str:  # markup, not storage: SQLite is enough here
    return f"sqlite:///{tmp_path}/valid.sqlite3"


def check_page(html: str) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    root = parser.parse(html)  # raises on any parse error
    assert root.find(f".//{NS}title") is not None and html.startswith("<!DOCTYPE html>")
    by_id = {e.get("id") for e in root.iter() if e.get("id")}
    labelled = {e.get("for") for e in root.iter(f"{NS}label")}
    for field in root.iter():
        if field.tag not in {f"{NS}input", f"{NS}select", f"{NS}textarea"}:
            continue
        if field.get("type") in {"hidden", "submit"}:
            continue
        assert field.get("id") in labelled, f"unlabelled field {field.attrib}"
    assert labelled <= by_id
    for image in root.iter(f"{NS}img"):
        assert image.get("alt") is not None
    levels = [
        int(e.tag[-1]) for e in root.iter() if re.fullmatch(rf"{re.escape(NS)}h[1-6]", str(e.tag))
    ]
    assert levels and levels[0] == 1
    for before, after in pairwise(levels):
        assert after <= before + 1, f"heading h{after} after h{before}"
    assert not [e for e in root.iter(f"{NS}script") if (e.text or "").strip()]  # no inline JS


async def test_every_email_page_is_valid_and_accessible(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with email_site(sessions, clock) as site, httpx.AsyncClient(base_url=site.url) as web:
        pages = [await web.get("/signup")]
        pages.append(await sign_up(web, "reader@example.org"))
        pages.append(await sign_up(web, "<script>x</script>"))  # the form with an error
        mail = site.sink.messages[0]
        link = links_in(text_part(mail))[0]
        pages.append(await web.get(link))
        confirmed = await press(web, link)
        pages.append(confirmed)
        settings = re.search(r'href="([^"]*/email/settings[^"]*)"', confirmed.text)
        assert settings
        pages.append(await web.get(settings.group(1).replace("&amp;", "&")))
        pages.append(await web.get("/email/unsubscribe", params={"t": "forged"}))
        for page in pages:
            assert page.headers["content-type"].startswith("text/html")
            check_page(page.text)
        html5lib.HTMLParser(strict=True).parse(html_part(mail))


def test_the_atom_template_is_well_formed_when_empty() -> None:
    from adapters.web.templating import build_environment

    xml = build_environment().get_template("brief_feed.atom").render(
        title="t & <t>", feed_id="urn:x", self_url="http://h/f?a=1&b=2", public_url="http://h",
        updated="2026-01-01T00:00:00Z", entries=[],
    )  # fmt: skip
    assert ET.fromstring(xml).find("{http://www.w3.org/2005/Atom}title").text == "t & <t>"  # type: ignore[union-attr]
