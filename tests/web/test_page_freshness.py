"""A kept rendered page is never shown after its data changed; conditional GET; and the
pages for requests no route takes (unknown paths, methods) carry the same headers."""

from __future__ import annotations

from sqlalchemy import delete, update

from core.db import transaction
from core.models import Episode, Feed, Insight, RelatedEdge
from tests.web.checks import assert_page_ok
from tests.web.conftest import Site

GUARD_HEADERS = (
    "content-security-policy", "x-frame-options", "strict-transport-security",
    "x-content-type-options", "referrer-policy", "permissions-policy",
)  # fmt: skip


async def test_an_edited_insight_shows_at_once_and_its_etag_changes(site: Site) -> None:
    insight_id = site.lib.id_of("Price for the value")
    path = f"/insights/{insight_id}"
    first = await site.get(path)
    assert (await site.get(path)).text == first.text  # the kept page, same bytes
    async with transaction(site.sessions) as session:
        await session.execute(
            update(Insight).where(Insight.id == insight_id).values(headline="Edited headline")
        )
    edited = await site.get(path)
    assert "<h1>Edited headline</h1>" in edited.text
    assert edited.headers["etag"] != first.headers["etag"]


async def test_a_new_related_list_or_a_renamed_show_shows_at_once(site: Site) -> None:
    insight_id = site.lib.id_of("Price for the value")
    evals = site.lib.id_of("Agents need evals")
    path = f"/insights/{insight_id}"
    assert f"/insights/{evals}" in (await site.get(path)).text
    async with transaction(site.sessions) as session:
        await session.execute(
            delete(RelatedEdge).where(
                RelatedEdge.insight_id == insight_id, RelatedEdge.related_id == evals
            )
        )
    assert f"/insights/{evals}" not in (await site.get(path)).text
    # A related insight's show and episode are on the page too.
    annual = site.lib.id_of("Annual plans")
    async with transaction(site.sessions) as session:
        feed_id = (await session.get(Insight, annual)).feed_id  # type: ignore[union-attr]
        await session.execute(update(Feed).where(Feed.id == feed_id).values(title="Renamed Pod"))
        await session.execute(
            update(Episode).where(Episode.feed_id == feed_id).values(title="Renamed episode")
        )
    text = (await site.get(path)).text
    assert "Renamed Pod" in text and "Renamed episode" in text


async def test_a_page_not_changed_since_is_answered_304(site: Site) -> None:
    insight_id = site.lib.id_of("Usage-based pricing")
    path = f"/insights/{insight_id}"
    first = await site.get(path)
    etag = first.headers["etag"]
    again = await site.client.get(path, headers={"if-none-match": f'"other", W/{etag}'})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and "content-security-policy" in again.headers
    async with transaction(site.sessions) as session:
        await session.execute(update(Insight).where(Insight.id == insight_id).values(score=0.01))
    # The score is not shown: the page is rendered again, to the same bytes, the same tag.
    unchanged = await site.client.get(path, headers={"if-none-match": etag})
    assert unchanged.status_code == 304
    async with transaction(site.sessions) as session:
        await session.execute(update(Insight).where(Insight.id == insight_id).values(quote="New"))
    fresh = await site.client.get(path, headers={"if-none-match": etag})
    assert fresh.status_code == 200 and "“New”" in fresh.text


async def test_unknown_paths_and_methods_get_html_pages_with_the_security_headers(
    site: Site,
) -> None:
    pages = await site.get(f"/insights/{site.lib.insight_ids[0]}")
    for method, path, status in [
        ("GET", "/no/such/page", 404),
        ("GET", "/static/no-such-file.css", 404),
        ("POST", f"/insights/{site.lib.insight_ids[0]}", 405),
        ("DELETE", "/", 405),
        ("POST", "/static/site.css", 405),
    ]:
        response = await site.client.request(method, path)
        assert response.status_code == status, (method, path)
        assert response.headers["content-type"].startswith("text/html"), (method, path)
        for header in GUARD_HEADERS:
            assert response.headers[header] == pages.headers[header], (method, path, header)
        assert_page_ok(response.text)
        assert response.headers["cache-control"] == "no-store"
    not_allowed = await site.client.post(f"/insights/{site.lib.insight_ids[0]}")
    assert "<h1>Not allowed</h1>" in not_allowed.text
    assert "GET" in not_allowed.headers["allow"]
    assert "<h1>Not found</h1>" in (await site.get("/no/such/page")).text
