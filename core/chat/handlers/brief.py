"""Today's brief as a reply: a heading, five numbered cards, and how to follow up."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.brief.compose import BRIEF_SIZE, BriefEntry, BriefResult, compose_brief
from core.chat.cards import insight_buttons
from core.chat.context import save_context
from core.chat.turn import Deps, Turn
from core.chat.types import ChatRef, InsightCard, Reply, Text
from core.models import User

FOLLOW_UP_HINT = (
    "Ask 'related 2', 'source 1', 'more like 3', 'more from this episode', "
    "'anything about <a word>?' or 'help'."
)


def card_from_entry(entry: BriefEntry) -> InsightCard:
    return InsightCard(
        insight_id=entry.insight_id,
        position=entry.position,
        headline=entry.headline,
        body=entry.body,
        quote=entry.quote,
        speaker=entry.speaker,
        start_seconds=entry.start_seconds,
        show_title=entry.show_title or "Untitled show",
        episode_title=entry.episode_title,
        episode_url=entry.episode_link or entry.enclosure_url,
        topics=tuple(entry.topics),
        is_older=entry.is_older,
        buttons=insight_buttons(entry.insight_id),
    )


def brief_reply(
    result: BriefResult,
    settings: Mapping[str, Any] | None,
    *,
    compact_default: bool = False,
    parts: Callable[[BriefResult], tuple[Text | InsightCard, ...]] | None = None,
) -> Reply:
    """The brief as a reply: one message per card, or one compact message if the recipient
    (whose ``settings`` these are) chose that (or chose nothing and ``compact_default`` says
    so). ``parts`` makes the reply's parts (``brief_parts``; the delivery run shares the parts
    of briefs made of the same entries)."""
    compact = bool((settings or {}).get("compact", compact_default))
    if result.brief_id is None or not result.items:
        return Reply(
            parts=(
                Text("Nothing new to brief you on yet.", "heading"),
                Text(
                    "No insights are stored that you haven't seen. New episodes are checked "
                    "regularly; 'shows' lists what I follow, 'subscribe <feed URL>' adds one."
                ),
            ),
            compact=compact,
        )
    made = parts(result) if parts is not None else brief_parts(result)
    return Reply(parts=made, brief_id=result.brief_id, compact=compact)


def brief_parts(
    result: BriefResult, card: Callable[[BriefEntry], InsightCard] = card_from_entry
) -> tuple[Text | InsightCard, ...]:
    """A brief with items as parts: a heading, a card per entry (made by ``card``), notes.
    They depend on the day and the entries only."""
    day = f"{result.local_date:%A, %d %B %Y}"
    heading = Text(f"Your brief for {day}: top {len(result.items)}", "heading")
    parts: list[Text | InsightCard] = [heading]
    parts.extend(card(entry) for entry in result.items)
    shortfall = _shortfall_note(result)
    if shortfall:
        parts.append(Text(shortfall, "note"))
    parts.append(Text(FOLLOW_UP_HINT, "note"))
    return tuple(parts)


def _shortfall_note(result: BriefResult) -> str | None:
    """Fewer than a full brief of new insights: say so plainly, and what filled the rest."""
    new, older = result.new_count, result.older_count
    if new >= BRIEF_SIZE or not result.items:
        return None
    only = f"Only {new} new insight{'' if new == 1 else 's'} since your last brief"
    if not older:
        return only + "."
    return (
        f"{only}, so {older} older one{' is' if older == 1 else 's are'} added: "
        "you haven't seen them yet, and they are marked as older."
    )


async def brief_reply_for(deps: Deps, user: User, chat: ChatRef, *, kind: str) -> Reply:
    """Compose (or reuse) today's brief and make it what "#N" means in this chat."""
    result = await compose_brief(deps.sessions, user.id, deps.clock, kind=kind)
    if result.brief_id is not None:
        await save_context(
            deps.sessions,
            chat,
            last_brief_id=result.brief_id,
            last_insight_id=None,
            last_listing=[],
        )
    return brief_reply(result, user.settings)


async def brief(deps: Deps, turn: Turn) -> Reply:
    return await brief_reply_for(deps, turn.user, turn.message.chat, kind="on_demand")
