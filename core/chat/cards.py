"""Stored insights become neutral ``InsightCard``s (with their buttons) and source texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select

from core.chat.format import format_timestamp
from core.chat.types import Action, Button, InsightCard
from core.db import Sessions, detached_from_row, inline_reads, mapped_columns
from core.models import Episode, Feed, Insight


@lru_cache(maxsize=4096)  # immutable; a delivery run makes the same ones for 1000s of cards
def insight_buttons(insight_id: int) -> tuple[Button, ...]:
    """The buttons every card carries: Related, Source, 👍, 👎."""
    return (
        Button("Related", Action("related", insight_id)),
        Button("Source", Action("source", insight_id)),
        Button("👍", Action("up", insight_id)),
        Button("👎", Action("down", insight_id)),
    )


@dataclass(frozen=True, slots=True)
class InsightRow:
    """An insight with the show and episode it came from."""

    insight: Insight
    episode: Episode
    feed: Feed


async def load_rows(sessions: Sessions, insight_ids: Sequence[int]) -> dict[int, InsightRow]:
    """Insights by id with their episode and show; missing ids are simply absent."""
    if not insight_ids:
        return {}
    # Inline (see ``InlineReads``): most chat replies show cards, so this is read every turn.
    rows = await inline_reads(sessions).rows(_rows_query, {"ids": list(insight_ids)})
    n_insight, n_episode = len(mapped_columns(Insight)), len(mapped_columns(Episode))
    found = {}
    for row in rows:
        insight = detached_from_row(Insight, row[:n_insight])
        episode = detached_from_row(Episode, row[n_insight : n_insight + n_episode])
        feed = detached_from_row(Feed, row[n_insight + n_episode :])
        found[insight.id] = InsightRow(insight, episode, feed)
    return found


def _rows_query() -> Select[Any]:
    return (
        select(*mapped_columns(Insight), *mapped_columns(Episode), *mapped_columns(Feed))
        .join(Episode, Episode.id == Insight.episode_id)
        .join(Feed, Feed.id == Insight.feed_id)
        .where(Insight.id.in_(bindparam("ids", expanding=True)))
    )


def episode_link(episode: Episode) -> str | None:
    return episode.link or episode.enclosure_url


def card_from_row(row: InsightRow, position: int | None, *, is_older: bool = False) -> InsightCard:
    ins = row.insight
    return InsightCard(
        insight_id=ins.id,
        position=position,
        headline=ins.headline,
        body=ins.body,
        quote=ins.quote,
        speaker=ins.speaker,
        start_seconds=ins.start_seconds,
        show_title=row.feed.title or "Untitled show",
        episode_title=row.episode.title,
        episode_url=episode_link(row.episode),
        topics=tuple(ins.topics or ()),
        is_older=is_older,
        buttons=insight_buttons(ins.id),
    )


async def cards_for(
    sessions: Sessions,
    insight_ids: Sequence[int],
    *,
    positions: Sequence[int | None] | None = None,
    older: Sequence[bool] | None = None,
) -> list[InsightCard]:
    """Cards in the order of ``insight_ids`` (ids no longer stored are skipped)."""
    rows = await load_rows(sessions, insight_ids)
    cards: list[InsightCard] = []
    for index, insight_id in enumerate(insight_ids):
        row = rows.get(insight_id)
        if row is None:
            continue
        position = positions[index] if positions is not None else None
        is_older = older[index] if older is not None else False
        cards.append(card_from_row(row, position, is_older=is_older))
    return cards


def source_text(row: InsightRow) -> str:
    """Where an insight comes from: show, episode, date, link, quote with speaker and time."""
    ins, ep = row.insight, row.episode
    lines = [f"Show: {row.feed.title or 'Untitled show'}", f"Episode: {ep.title}"]
    if ep.published_at is not None:
        lines.append(f"Published: {ep.published_at:%Y-%m-%d}")
    when = format_timestamp(ins.start_seconds)
    if ins.end_seconds is not None and ins.end_seconds > ins.start_seconds:
        when = f"{when}–{format_timestamp(ins.end_seconds)}"
    lines.append(f"At: {when}")
    link = episode_link(ep)
    if link:
        lines.append(f"Link: {link}")
    speaker = ins.speaker or "Unknown speaker"
    lines.append(f'Quote: "{ins.quote}" ({speaker}, {format_timestamp(ins.start_seconds)})')
    return "\n".join(lines)
