"""Cards that link to their insight's public web page (when ``public_url`` is set).

The URL scheme of the pages lives in ``core.web.urls``; the insight page's address is defined
here because the chat (and delivery) fill it into cards and must not depend on the web package.
"""

from __future__ import annotations

from dataclasses import replace

from core.chat.types import InsightCard, Reply


def insight_page_url(public_url: str, insight_id: int) -> str:
    return f"{public_url.rstrip('/')}/insights/{insight_id}"


def with_page_urls(reply: Reply, public_url: str) -> Reply:
    """The reply with each card's ``page_url`` set (unchanged when there are no public pages)."""
    if not public_url or not reply.cards:
        return reply
    parts = tuple(
        replace(part, page_url=insight_page_url(public_url, part.insight_id))
        if isinstance(part, InsightCard)
        else part
        for part in reply.parts
    )
    return replace(reply, parts=parts)
