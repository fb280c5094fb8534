"""Platform chat and message ids in storage.

Which brief a message the bot sent showed (a reply to it refers to that brief), and a chat
whose id changed (a Telegram group upgraded to a supergroup) followed to its new id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.sql.dml import UpdateBase

from core.chat.types import ChatRef
from core.db import Sessions, inline_reads, single_writes, transaction, upsert_into
from core.models import ChatContext, SentMessage, User
from core.models.base import utcnow


async def remember_brief_messages(
    sessions: Sessions, chat: ChatRef, message_ids: Sequence[str], brief_id: int
) -> None:
    """Record that these messages showed ``brief_id``."""
    # One INSERT-or-UPDATE per message through ``SingleWrites``: a brief's every message
    # lands here, and as an ORM merge it held SQLite's one write lock over several
    # hand-offs to its thread.
    writes = single_writes(sessions)
    for message_id in message_ids:
        params = {
            "platform": chat.platform,
            "workspace": chat.workspace,
            "chat_id": chat.chat_id,
            "message_id": str(message_id),
            "brief_id": brief_id,
            "created_at": utcnow(),
        }
        await writes.execute("remember_brief_message", lambda: _remember(sessions), params)


def _remember(sessions: Sessions) -> UpdateBase:
    insert = upsert_into(sessions, SentMessage)
    columns = ("platform", "workspace", "chat_id", "message_id", "brief_id", "created_at")
    insert = insert.values({name: bindparam(name) for name in columns})
    keys = ["platform", "workspace", "chat_id", "message_id"]
    changed = {"brief_id": insert.excluded.brief_id}
    return cast(UpdateBase, insert.on_conflict_do_update(index_elements=keys, set_=changed))


async def count_brief_messages(sessions: Sessions, chat: ChatRef, brief_id: int) -> int:
    """How many messages showing ``brief_id`` this chat has been sent."""
    async with sessions() as session:
        stmt = select(func.count()).where(
            SentMessage.platform == chat.platform,
            SentMessage.workspace == chat.workspace,
            SentMessage.chat_id == chat.chat_id,
            SentMessage.brief_id == brief_id,
        )
        return int(await session.scalar(stmt) or 0)


async def brief_of_message(sessions: Sessions, chat: ChatRef, message_id: str) -> int | None:
    """The brief a message we sent showed, or None if it showed none (or is forgotten)."""
    # Inline (see ``InlineReads``): read for every reply in a thread and every button press.
    params = {
        "platform": chat.platform,
        "workspace": chat.workspace,
        "chat_id": chat.chat_id,
        "message_id": str(message_id),
    }
    found = await inline_reads(sessions).scalars(_brief_of_message_query, params)
    return int(found[0]) if found and found[0] is not None else None


def _brief_of_message_query() -> Select[Any]:
    return select(SentMessage.brief_id).where(
        SentMessage.platform == bindparam("platform"),
        SentMessage.workspace == bindparam("workspace"),
        SentMessage.chat_id == bindparam("chat_id"),
        SentMessage.message_id == bindparam("message_id"),
    )


async def move_chat(
    sessions: Sessions, platform: str, workspace: str, old_id: str, new_id: str
) -> bool:
    """The chat now lives at ``new_id``: its settings, context and messages follow it.

    False when nothing was stored under ``old_id``, or ``new_id`` is already a known chat
    (then the old one is left as it is, marked inactive, rather than merging two histories).
    """
    async with transaction(sessions) as session:
        taken = await session.scalar(
            select(User.id).where(
                User.platform == platform,
                User.workspace == workspace,
                User.external_id == new_id,
            )
        )
        users = update(User).where(
            User.platform == platform, User.workspace == workspace, User.external_id == old_id
        )
        if taken is not None:
            await session.execute(
                users.values(active=False, inactive_reason=f"moved to chat {new_id}")
            )
            return False
        moved = await session.execute(users.values(external_id=new_id))
        await session.execute(
            update(ChatContext)
            .where(
                ChatContext.platform == platform,
                ChatContext.workspace == workspace,
                ChatContext.chat_id == old_id,
            )
            .values(chat_id=new_id)
        )
        await session.execute(
            update(SentMessage)
            .where(
                SentMessage.platform == platform,
                SentMessage.workspace == workspace,
                SentMessage.chat_id == old_id,
            )
            .values(chat_id=new_id)
        )
    return bool(getattr(moved, "rowcount", 0))
