"""Per-chat conversation context: what "#2" and "show related insights" refer to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Select, and_, bindparam, select, update
from sqlalchemy.sql.dml import UpdateBase

from core.chat.types import ChatRef
from core.db import (
    Sessions,
    detached_from_row,
    inline_reads,
    mapped_columns,
    single_writes,
    upsert_into,
)
from core.models import BriefItem, ChatContext, User
from core.models.base import utcnow

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


def _context_query() -> Select[Any]:
    return select(
        ChatContext.last_brief_id,
        ChatContext.last_insight_id,
        ChatContext.last_listing,
        ChatContext.pending,
    ).where(
        ChatContext.platform == bindparam("platform"),
        ChatContext.workspace == bindparam("workspace"),
        ChatContext.chat_id == bindparam("chat_id"),
    )


async def load_context(sessions: Sessions, chat: ChatRef) -> Context:
    """Read on every turn: inline (see ``InlineReads``), not through a session."""
    params = {"platform": chat.platform, "workspace": chat.workspace, "chat_id": chat.chat_id}
    rows = await inline_reads(sessions).rows(_context_query, params)
    if not rows:
        return Context()
    return _context_of(*rows[0])


def _user_and_context_query() -> Select[Any]:
    user_columns = mapped_columns(User)
    return (
        select(
            *user_columns,
            ChatContext.last_brief_id,
            ChatContext.last_insight_id,
            ChatContext.last_listing,
            ChatContext.pending,
        )
        .outerjoin(
            ChatContext,
            and_(
                ChatContext.platform == User.platform,
                ChatContext.workspace == User.workspace,
                ChatContext.chat_id == User.external_id,
            ),
        )
        .where(
            User.platform == bindparam("platform"),
            User.workspace == bindparam("workspace"),
            User.external_id == bindparam("chat_id"),
        )
    )


async def user_and_context(sessions: Sessions, chat: ChatRef) -> tuple[User | None, Context]:
    """The chat's recipient (None before its first message) and its context, in ONE read:
    every turn starts here (one round trip on PostgreSQL instead of two)."""
    params = {"platform": chat.platform, "workspace": chat.workspace, "chat_id": chat.chat_id}
    rows = await inline_reads(sessions).rows(_user_and_context_query, params)
    if not rows:
        return None, await load_context(sessions, chat)  # a context may outlive its user
    width = len(mapped_columns(User))
    user = detached_from_row(User, rows[0][:width])
    return user, _context_of(*rows[0][width:])


def _context_of(
    last_brief_id: int | None, last_insight_id: int | None, last_listing: Any, pending: Any
) -> Context:
    listing = [int(x) for x in (last_listing or []) if str(x).isdigit()]
    return Context(last_brief_id, last_insight_id, listing, dict(pending or {}))


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
    if not values:
        return
    if await _update_existing(sessions, chat, values):
        return
    await _upsert(sessions, chat, values)


async def _update_existing(sessions: Sessions, chat: ChatRef, values: dict[str, Any]) -> bool:
    """The usual save (the chat's row exists): one UPDATE without a session (see
    ``SingleWrites``). False when there is no row yet: ``_upsert`` inserts it."""
    fields = tuple(sorted(values))

    def statement() -> UpdateBase:
        return (
            update(ChatContext)
            .where(
                ChatContext.platform == bindparam("of_platform"),
                ChatContext.workspace == bindparam("of_workspace"),
                ChatContext.chat_id == bindparam("of_chat_id"),
            )
            .values({name: bindparam(f"new_{name}") for name in (*fields, "updated_at")})
        )

    params = {f"new_{name}": value for name, value in values.items()}
    params |= {
        "new_updated_at": utcnow(),
        # Not the column names: on an UPDATE those are SQLAlchemy's own (PostgreSQL refuses).
        "of_platform": chat.platform,
        "of_workspace": chat.workspace,
        "of_chat_id": chat.chat_id,
    }
    changed = await single_writes(sessions).execute(("save_context", fields), statement, params)
    return bool(changed)


_NEW_ROW: dict[str, Any] = {
    "last_brief_id": None,
    "last_insight_id": None,
    "last_listing": [],
    "pending": {},
}


async def _upsert(sessions: Sessions, chat: ChatRef, values: dict[str, Any]) -> None:
    """The chat's first save: one INSERT, or an UPDATE of the row a concurrent first message
    created, in one statement through ``SingleWrites``. (As an ORM transaction it took
    several hand-offs to SQLite's thread while holding the one write lock, which the other
    writers then polled for.)"""
    fields = tuple(sorted(values))

    def statement() -> UpdateBase:
        insert = upsert_into(sessions, ChatContext)
        columns = ("platform", "workspace", "chat_id", *_NEW_ROW, "updated_at")
        insert = insert.values({name: bindparam(f"new_{name}") for name in columns})
        changed = {name: insert.excluded[name] for name in (*fields, "updated_at")}
        return cast(
            UpdateBase,
            insert.on_conflict_do_update(
                index_elements=["platform", "workspace", "chat_id"], set_=changed
            ),
        )

    row = (
        _NEW_ROW
        | values
        | {
            "platform": chat.platform,
            "workspace": chat.workspace,
            "chat_id": chat.chat_id,
            "updated_at": utcnow(),
        }
    )
    params = {f"new_{name}": value for name, value in row.items()}
    await single_writes(sessions).execute(("insert_context", fields), statement, params)


async def brief_insight_at(
    sessions: Sessions, brief_id: int, position: int, user_id: int
) -> int | None:
    """The insight at "#position" of a brief, only if that brief belongs to this chat's user."""
    params = {"brief_id": brief_id, "position": position, "user_id": user_id}
    found = await inline_reads(sessions).scalars(_insight_at_query, params)
    return int(found[0]) if found else None


def _insight_at_query() -> Select[Any]:
    return select(BriefItem.insight_id).where(
        BriefItem.brief_id == bindparam("brief_id"),
        BriefItem.position == bindparam("position"),
        BriefItem.user_id == bindparam("user_id"),
    )


async def brief_size(sessions: Sessions, brief_id: int) -> int:
    stmt = select(BriefItem.position).where(BriefItem.brief_id == brief_id)
    async with sessions() as session:
        return len((await session.execute(stmt)).all())
