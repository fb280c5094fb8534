"""Per-chat conversation context: what "#2" and "show related insights" refer to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.chat.types import ChatRef
from core.db import Sessions, transaction
from core.models import BriefItem, ChatContext

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Context:
    last_brief_id: int | None = None
    last_insight_id: int | None = None
    last_listing: list[int] = field(default_factory=list)
    pending: dict[str, Any] = field(default_factory=dict)


def _where(chat: ChatRef) -> tuple[Any, ...]:
    return (
        ChatContext.platform == chat.platform,
        ChatContext.workspace == chat.workspace,
        ChatContext.chat_id == chat.chat_id,
    )


async def load_context(sessions: Sessions, chat: ChatRef) -> Context:
    async with sessions() as session:
        row = (await session.execute(select(ChatContext).where(*_where(chat)))).scalar_one_or_none()
    if row is None:
        return Context()
    listing = [int(x) for x in (row.last_listing or []) if str(x).isdigit()]
    return Context(row.last_brief_id, row.last_insight_id, listing, dict(row.pending or {}))


async def save_context(
    sessions: Sessions,
    chat: ChatRef,
    *,
    last_brief_id: int | None = _UNSET,
    last_insight_id: int | None = _UNSET,
    last_listing: list[int] = _UNSET,
    pending: dict[str, Any] = _UNSET,
) -> None:
    """Change only the given fields, creating the chat's row on first use."""
    values: dict[str, Any] = {
        name: value
        for name, value in (
            ("last_brief_id", last_brief_id),
            ("last_insight_id", last_insight_id),
            (
                "last_listing",
                [str(i) for i in last_listing] if last_listing is not _UNSET else _UNSET,
            ),
            ("pending", pending),
        )
        if value is not _UNSET
    }
    for attempt in range(2):
        try:
            await _upsert(sessions, chat, values)
            return
        except IntegrityError:
            if attempt:  # a concurrent first message created the row: update it instead
                raise


async def _upsert(sessions: Sessions, chat: ChatRef, values: dict[str, Any]) -> None:
    async with transaction(sessions) as session:
        row = (await session.execute(select(ChatContext).where(*_where(chat)))).scalar_one_or_none()
        if row is None:
            row = ChatContext(
                platform=chat.platform, workspace=chat.workspace, chat_id=chat.chat_id
            )
            session.add(row)
        for name, value in values.items():
            setattr(row, name, value)


async def brief_insight_at(
    sessions: Sessions, brief_id: int, position: int, user_id: int
) -> int | None:
    """The insight at "#position" of a brief, only if that brief belongs to this chat's user."""
    stmt = select(BriefItem.insight_id).where(
        BriefItem.brief_id == brief_id,
        BriefItem.position == position,
        BriefItem.user_id == user_id,
    )
    async with sessions() as session:
        return (await session.execute(stmt)).scalar_one_or_none()


async def brief_size(sessions: Sessions, brief_id: int) -> int:
    stmt = select(BriefItem.position).where(BriefItem.brief_id == brief_id)
    async with sessions() as session:
        return len((await session.execute(stmt)).all())
