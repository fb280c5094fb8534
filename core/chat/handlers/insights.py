"""Follow-ups about insights: show #N, related, more from this episode, source, search."""

from __future__ import annotations

from sqlalchemy import select

from core.chat.cards import cards_for, load_rows, source_text
from core.chat.search import search_insights
from core.chat.turn import Deps, Refusal, Turn, label_for, remember, target_insight
from core.chat.types import Action, Button, Buttons, Reply, Text
from core.insights.service import related_ids as stored_related_ids
from core.models import Insight

RELATED_LIMIT = 5
EPISODE_LIMIT = 5
SEARCH_LIMIT = 5


async def _headline(deps: Deps, insight_id: int) -> str:
    rows = await load_rows(deps.sessions, [insight_id])
    if insight_id not in rows:
        raise Refusal("That insight is no longer stored. Say 'brief' for today's.")
    return rows[insight_id].insight.headline


async def show_item(deps: Deps, turn: Turn) -> Reply:
    insight_id = await target_insight(deps, turn)
    cards = await cards_for(deps.sessions, [insight_id], positions=[turn.intent.position])
    if not cards:
        raise Refusal("That insight is no longer stored. Say 'brief' for today's.")
    await remember(deps, turn, insight_id=insight_id)
    return Reply(parts=(cards[0],))


async def related_ids(deps: Deps, insight_id: int, limit: int = RELATED_LIMIT) -> list[int]:
    """The precomputed related insights, best first (see core.insights)."""
    return await stored_related_ids(deps.sessions, insight_id, limit=limit)


async def related(deps: Deps, turn: Turn) -> Reply:
    insight_id = await target_insight(deps, turn)
    headline = await _headline(deps, insight_id)
    ids = await related_ids(deps, insight_id)
    await remember(deps, turn, insight_id=insight_id, listing=ids)
    cards = await cards_for(deps.sessions, ids)
    label = await label_for(deps, turn, insight_id)
    if not cards:
        return Reply(
            parts=(
                Text(f"I have no related insights for {label} (“{headline}”) yet."),
                Text("Try 'more from this episode', or ask 'anything about <a word>?'.", "note"),
            )
        )
    heading = Text(f"Related to {label}: “{headline}”", "heading")
    return Reply(parts=(heading, *cards), notice="Related insights")


async def more_from_episode(deps: Deps, turn: Turn) -> Reply:
    insight_id = await target_insight(deps, turn)
    rows = await load_rows(deps.sessions, [insight_id])
    if insight_id not in rows:
        raise Refusal("That insight is no longer stored. Say 'brief' for today's.")
    subject = rows[insight_id]
    stmt = (
        select(Insight.id)
        .where(Insight.episode_id == subject.episode.id, Insight.id != insight_id)
        .order_by(Insight.start_seconds)
        .limit(EPISODE_LIMIT)
    )
    async with deps.sessions() as session:
        ids = [row[0] for row in (await session.execute(stmt)).all()]
    await remember(deps, turn, insight_id=insight_id, listing=ids)
    episode = f"“{subject.episode.title}” ({subject.feed.title or 'Untitled show'})"
    if not ids:
        return Reply.text(f"That is the only insight I have from {episode}.")
    cards = await cards_for(deps.sessions, ids)
    return Reply(parts=(Text(f"More from {episode}", "heading"), *cards))


async def source(deps: Deps, turn: Turn) -> Reply:
    insight_id = await target_insight(deps, turn)
    rows = await load_rows(deps.sessions, [insight_id])
    if insight_id not in rows:
        raise Refusal("That insight is no longer stored. Say 'brief' for today's.")
    await remember(deps, turn, insight_id=insight_id)
    row = rows[insight_id]
    more = Buttons(
        (
            Button("Related", Action("related", insight_id)),
            Button("More from episode", Action("more_episode", insight_id)),
        )
    )
    return Reply(
        parts=(
            Text(f"Source of “{row.insight.headline}”", "heading"),
            Text(source_text(row)),
            more,
        ),
        notice="Source",
    )


async def search(deps: Deps, turn: Turn) -> Reply:
    query = turn.intent.arg.strip()
    if not query:
        return Reply.text("What should I look for? Ask like 'anything about pricing?'.")
    result = await search_insights(
        deps.sessions, deps.embedder, query, limit=SEARCH_LIMIT, library=deps.vectors
    )
    if result.problem:
        return Reply.text(result.problem)
    if not result.insight_ids:
        return Reply(
            parts=(
                Text(f"Nothing in the stored insights mentions “{query}”."),
                Text("Try another word, or say 'topics' to see what the shows talk about.", "note"),
            )
        )
    cards = await cards_for(deps.sessions, result.insight_ids)
    await remember(deps, turn, insight_id=cards[0].insight_id, listing=result.insight_ids)
    if result.exact:
        heading = f"What the shows said about “{query}”"
    else:
        heading = f"Nothing mentions “{query}” directly; the closest insights in meaning"
    return Reply(parts=(Text(heading, "heading"), *cards))
