"""What every handler gets: the engine's dependencies and one turn of a conversation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, select

from core.chat.context import Context, brief_insight_at, brief_size, load_context, save_context
from core.chat.intents import Intent
from core.chat.types import IncomingMessage, Reply
from core.db import Sessions, inline_reads
from core.models import BriefItem, Insight, User
from core.ports import Clock, Embedder, Fetcher
from core.search.vectors import VectorLibrary


class Refusal(Exception):
    """A request the engine answers with a polite explanation instead of doing it."""


@dataclass(frozen=True, slots=True)
class Deps:
    sessions: Sessions
    clock: Clock
    embedder: Embedder | None
    fetcher: Fetcher | None
    vectors: VectorLibrary | None = None  # the embeddings' vector index, when one is kept
    public_url: str = ""  # where the web pages and feeds are reached; "" when off


@dataclass(frozen=True, slots=True)
class Turn:
    message: IncomingMessage
    user: User
    context: Context
    intent: Intent

    @property
    def from_button(self) -> bool:
        return self.message.action is not None


Handler = Callable[[Deps, Turn], Awaitable[Reply]]


async def brief_for_numbers(deps: Deps, turn: Turn) -> int | None:
    """The brief a "#N" refers to: the one replied to, else the last one shown in this chat."""
    return turn.message.reply_to_brief_id or turn.context.last_brief_id


async def target_insight(deps: Deps, turn: Turn) -> int:
    """The insight a follow-up is about: a button's, "#N" of the brief, or the last one shown."""
    intent = turn.intent
    if turn.message.action is not None:
        return await _existing(deps, turn.message.action.insight_id)
    if intent.position is not None:
        return await _at_position(deps, turn, intent.position)
    if turn.context.last_insight_id is not None:
        return await _existing(deps, turn.context.last_insight_id)
    if turn.context.last_brief_id is not None:
        raise Refusal(
            f"Which one? Add the number of a brief item, like '{_example(intent.kind)} 2'."
        )
    raise Refusal("There is no brief in this chat yet. Say 'brief' to get today's top 5 first.")


def _example(kind: str) -> str:
    return {"more_like": "more like", "more_episode": "more from episode"}.get(kind, kind)


async def _at_position(deps: Deps, turn: Turn, position: int) -> int:
    brief_id = await brief_for_numbers(deps, turn)
    if brief_id is None:
        raise Refusal(
            f"I can't tell what #{position} is: this chat has no brief yet. Say 'brief' first."
        )
    found = await brief_insight_at(deps.sessions, brief_id, position, turn.user.id)
    if found is None:
        size = await brief_size(deps.sessions, brief_id)
        if size == 0:
            raise Refusal(f"That brief is gone, so I can't find #{position}. Say 'brief'.")
        raise Refusal(f"The brief has items 1–{size}; #{position} isn't one of them.")
    return found


async def _existing(deps: Deps, insight_id: int | None) -> int:
    if insight_id is None:
        raise Refusal("That button doesn't point at an insight. Say 'brief' to start over.")
    if not await inline_reads(deps.sessions).scalars(_insight_query, {"id": insight_id}):
        raise Refusal("That insight is no longer stored. Say 'brief' for today's.")
    return insight_id


def _insight_query() -> Select[Any]:
    return select(Insight.id).where(Insight.id == bindparam("id"))


def _position_query() -> Select[Any]:
    return select(BriefItem.position).where(
        BriefItem.brief_id == bindparam("brief_id"), BriefItem.insight_id == bindparam("insight_id")
    )


async def label_for(deps: Deps, turn: Turn, insight_id: int) -> str:
    """How to name an insight to this chat: "#N" when it is in the brief numbers refer to."""
    if turn.intent.position is not None and turn.message.action is None:
        return f"#{turn.intent.position}"
    brief_id = await brief_for_numbers(deps, turn)
    if brief_id is not None:
        params = {"brief_id": brief_id, "insight_id": insight_id}
        positions = await inline_reads(deps.sessions).scalars(_position_query, params)
        if positions:
            return f"#{positions[0]}"
    return "this"


async def remember(
    deps: Deps,
    turn: Turn,
    *,
    insight_id: int | None = None,
    listing: list[int] | None = None,
) -> None:
    """Note what this turn showed, for follow-ups like "show related insights"."""
    chat = turn.message.chat
    if insight_id is not None and listing is not None:
        await save_context(deps.sessions, chat, last_insight_id=insight_id, last_listing=listing)
    elif insight_id is not None:
        await save_context(deps.sessions, chat, last_insight_id=insight_id)
    elif listing is not None:
        await save_context(deps.sessions, chat, last_listing=listing)


__all__ = [
    "Context",
    "Deps",
    "Handler",
    "Refusal",
    "Sessions",
    "Turn",
    "label_for",
    "load_context",
    "remember",
    "target_insight",
]
