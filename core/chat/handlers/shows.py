"""The shows: list what is followed, and subscribe a chat to a feed URL someone typed."""

from __future__ import annotations

from core.chat.turn import Deps, Refusal, Turn
from core.chat.types import Reply, Text
from core.feeds.errors import FeedError
from core.feeds.service import add_feed, list_feeds
from core.people import users as people
from core.people.settings import subscribed_feeds

SHOWS_SHOWN = 30


async def shows(deps: Deps, turn: Turn) -> Reply:
    feeds = await list_feeds(deps.sessions)
    if not feeds:
        return Reply.text("I don't follow any shows yet. Add one with 'subscribe <feed URL>'.")
    mine = await subscribed_feeds(deps.sessions, turn.user.id)
    lines = []
    for feed in feeds[:SHOWS_SHOWN]:
        mark = "★ " if feed.id in mine else "• "
        problem = " (failing: last fetch did not work)" if feed.error_count else ""
        lines.append(f"{mark}{feed.title or feed.url} — {feed.episodes} episodes{problem}")
    if len(feeds) > SHOWS_SHOWN:
        lines.append(f"… and {len(feeds) - SHOWS_SHOWN} more")
    note = "★ = shows you subscribed to. 'subscribe <feed URL>' adds one."
    return Reply(
        parts=(Text(f"Shows ({len(feeds)})", "heading"), Text("\n".join(lines)), Text(note, "note"))
    )


async def subscribe(deps: Deps, turn: Turn) -> Reply:
    url = turn.intent.arg.strip()
    if not url:
        raise Refusal("Which feed? Say 'subscribe https://example.com/feed.xml'.")
    try:
        added = await add_feed(deps.sessions, deps.clock, url, fetcher=deps.fetcher, untrusted=True)
    except FeedError as exc:
        raise Refusal(f"I couldn't add that feed: {exc}") from exc
    await people.follow_show(deps.sessions, turn.user.id, added.feed.id)
    title = added.feed.title or added.feed.url
    if not added.created:
        return Reply.text(f"I already follow “{title}”; it's now among your shows too.")
    return Reply.text(
        f"Subscribed to “{title}” ({added.new_episodes} episodes found). Insights from it will "
        "show up in your briefs once its transcripts are processed.",
        notice="Subscribed",
    )
