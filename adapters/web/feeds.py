"""`/feeds/{token}.atom`: a recipient's briefs as a private Atom feed (RFC 4287).

The token is the only key: unguessable, never logged in full, reset by "feed reset".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.web.security import TOKEN_PAGE_HEADERS as SECURITY_HEADERS
from adapters.web.templating import build_environment
from core.brief_feed.entries import FeedBrief, recent_briefs
from core.brief_feed.tokens import feed_path, user_for_token
from core.chat.cards import cards_for
from core.db import Sessions
from core.ports import Clock

ATOM = "application/atom+xml; charset=utf-8"
# Entry ids are stable URNs: the same brief keeps its id whatever the public URL becomes.
_NAMESPACE = uuid.UUID("6f1c3c1e-3f7a-4f57-9f0e-6b1e0a6f2c11")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class FeedCard:
    card: object
    url: str


@dataclass
class BriefFeedPages:
    sessions: Sessions
    clock: Clock
    public_url: str
    env: Environment = field(default_factory=build_environment)

    def routes(self) -> list[BaseRoute]:
        return [Route("/feeds/{token}.atom", self.feed, methods=["GET", "HEAD"])]

    async def _entry(self, brief: FeedBrief) -> dict[str, object]:
        found = await cards_for(
            self.sessions,
            [item.insight_id for item in brief.items],
            positions=[item.position for item in brief.items],
            older=[item.is_older for item in brief.items],
        )
        cards = [FeedCard(card, f"{self.public_url}/insights/{card.insight_id}") for card in found]
        html = self.env.get_template("brief_feed_entry.html").render(cards=cards)
        headlines = "; ".join(card.headline for card in found)
        return {
            "title": f"Your brief for {brief.local_date:%A, %d %B %Y}",
            "id": f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'brief:{brief.brief_id}')}",
            "updated": _stamp(brief.created_at),
            "summary": headlines,
            "html": html,
            "cards": cards,
        }

    async def feed(self, request: Request) -> Response:
        token = request.path_params.get("token", "")
        user = await user_for_token(self.sessions, token)
        if user is None:
            return PlainTextResponse("no such feed", status_code=404, headers=SECURITY_HEADERS)
        briefs = await recent_briefs(self.sessions, user.id)
        entries = [await self._entry(brief) for brief in briefs]
        updated = _stamp(briefs[0].created_at if briefs else user.created_at)
        xml = self.env.get_template("brief_feed.atom").render(
            title="Your podcast brief",
            feed_id=f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'feed:{user.id}')}",
            self_url=f"{self.public_url}{feed_path(token)}",
            public_url=self.public_url,
            updated=updated,
            entries=entries,
        )
        headers = {
            **SECURITY_HEADERS,
            "Cache-Control": "private, max-age=300",
            "X-Robots-Tag": "noindex",
        }
        return Response(xml, media_type=ATOM, headers=headers)
