"""The secret feed token of a recipient: made on first ask, replaced by "feed reset"."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.db import Sessions, transaction
from core.models import BriefFeed, User

TOKEN_BYTES = 24  # 192 bits: unguessable, and short enough for a URL


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def feed_path(token: str) -> str:
    return f"/feeds/{token}.atom"


async def feed_token(sessions: Sessions, user_id: int) -> str:
    """The recipient's feed token, created the first time."""
    async with sessions() as session:
        found = await session.get(BriefFeed, user_id)
    if found is not None:
        return found.token
    try:
        async with transaction(sessions) as session:
            session.add(BriefFeed(user_id=user_id, token=new_token()))
    except IntegrityError:
        pass  # created concurrently
    async with sessions() as session:
        again = await session.get(BriefFeed, user_id)
    assert again is not None
    return again.token


async def reset_feed_token(sessions: Sessions, user_id: int) -> str:
    """A new token: the old feed URL stops working at once."""
    token = new_token()
    async with transaction(sessions) as session:
        found = await session.get(BriefFeed, user_id)
        if found is None:
            session.add(BriefFeed(user_id=user_id, token=token))
        else:
            found.token = token
    return token


async def user_for_token(sessions: Sessions, token: str) -> User | None:
    if not token or len(token) > 64:
        return None
    async with sessions() as session:
        stmt = select(User).join(BriefFeed, BriefFeed.user_id == User.id)
        return (await session.execute(stmt.where(BriefFeed.token == token))).scalar_one_or_none()
