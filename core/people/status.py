"""Whether a recipient can still be reached: platforms refuse us, and we stop trying.

A chat platform adapter calls these when the platform says a chat is gone for good (the bot
was removed, the account deactivated, the app uninstalled); the delivery schedule skips
inactive recipients, and the reason stays on the row so people can see why.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select, update

from core.db import Sessions, inline_reads, transaction
from core.models import User

_REASON_MAX = 500


def _chat(platform: str, workspace: str, external_id: str) -> tuple[ColumnElement[bool], ...]:
    """The conditions naming one chat's recipient row."""
    return (
        User.platform == platform,
        User.workspace == workspace,
        User.external_id == external_id,
    )


async def deactivate_recipient(
    sessions: Sessions, platform: str, workspace: str, external_id: str, reason: str
) -> bool:
    """Stop deliveries to one chat and keep why; False if we never knew that chat."""
    async with transaction(sessions) as session:
        result = await session.execute(
            update(User)
            .where(*_chat(platform, workspace, external_id))
            .values(active=False, inactive_reason=reason[:_REASON_MAX])
        )
    return bool(getattr(result, "rowcount", 0))


async def deactivate_workspace(
    sessions: Sessions, platform: str, workspace: str, reason: str
) -> int:
    """Stop deliveries to every chat of a workspace (e.g. the app was uninstalled)."""
    async with transaction(sessions) as session:
        result = await session.execute(
            update(User)
            .where(User.platform == platform, User.workspace == workspace, User.active.is_(True))
            .values(active=False, inactive_reason=reason[:_REASON_MAX])
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def reactivate_recipient(
    sessions: Sessions, platform: str, workspace: str, external_id: str
) -> bool:
    """The chat talks to us again: deliveries may resume. False if it was not inactive."""
    # Called on every incoming message: read first, so the usual case (active) takes no
    # write transaction (on SQLite that would queue every chat turn behind the one writer).
    # Inline (see ``InlineReads``): no session for the usual case.
    params = {"platform": platform, "workspace": workspace, "external_id": external_id}
    if not await inline_reads(sessions).scalars(_inactive_query, params):
        return False
    async with transaction(sessions) as session:
        result = await session.execute(
            update(User)
            .where(*_chat(platform, workspace, external_id), User.active.is_(False))
            .values(active=True, inactive_reason=None)
        )
    return bool(getattr(result, "rowcount", 0))


def _inactive_query() -> Select[Any]:
    return select(User.id).where(
        User.platform == bindparam("platform"),
        User.workspace == bindparam("workspace"),
        User.external_id == bindparam("external_id"),
        User.active.is_(False),
    )


async def inactive_reason(
    sessions: Sessions, platform: str, workspace: str, external_id: str
) -> str | None:
    """Why a chat is not receiving briefs, or None if it is active (or unknown)."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(User.active, User.inactive_reason).where(
                    *_chat(platform, workspace, external_id)
                )
            )
        ).one_or_none()
    if row is None or row.active:
        return None
    return row.inactive_reason or "inactive"


async def reactivate_workspace(
    sessions: Sessions, platform: str, workspace: str, *, reason_prefix: str
) -> int:
    """Lift a workspace-wide stop (e.g. the app was installed again): only the chats whose
    reason starts with ``reason_prefix``, so a chat that left for its own reason stays off."""
    async with transaction(sessions) as session:
        result = await session.execute(
            update(User)
            .where(
                User.platform == platform,
                User.workspace == workspace,
                User.active.is_(False),
                User.inactive_reason.startswith(reason_prefix, autoescape=True),
            )
            .values(active=True, inactive_reason=None)
        )
    return int(getattr(result, "rowcount", 0) or 0)
