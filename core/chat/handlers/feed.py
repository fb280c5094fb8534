"""`feed`: the private Atom feed of this chat's briefs; `feed reset`: a new secret URL."""

from __future__ import annotations

from core.brief_feed.tokens import feed_path, feed_token, reset_feed_token
from core.chat.turn import Deps, Refusal, Turn
from core.chat.types import Reply, Text

NO_PUBLIC_URL = (
    "Feeds need the web pages to be on: the operator sets public_url (PODBRIEF_PUBLIC_URL) "
    "to the address podbrief is reached at."
)


def _url(deps: Deps, token: str) -> str:
    if not deps.public_url:
        raise Refusal(NO_PUBLIC_URL)
    return deps.public_url.rstrip("/") + feed_path(token)


async def feed(deps: Deps, turn: Turn) -> Reply:
    url = _url(deps, await feed_token(deps.sessions, turn.user.id))
    return Reply(
        parts=(
            Text("Your brief as a feed", "heading"),
            Text(f"Add this private URL to your feed reader: {url}"),
            Text("Anyone with the URL can read your briefs. 'feed reset' makes a new one.", "note"),
        )
    )


async def feed_reset(deps: Deps, turn: Turn) -> Reply:
    _url(deps, "")  # refuse before changing anything when there is no URL to give
    url = _url(deps, await reset_feed_token(deps.sessions, turn.user.id))
    return Reply(
        parts=(Text(f"Done: the old feed URL no longer works. Your new one: {url}"),),
        notice="New feed URL",
    )
