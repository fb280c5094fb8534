"""The key links are signed with: from the environment, else generated once and kept in the
database so that every process (and every restart) signs and checks with the same key."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from core.db import Sessions, transaction
from core.models import AppSecret

LINK_KEY = "link_signing_key"


async def stored_secret(sessions: Sessions, name: str = LINK_KEY) -> str:
    """The secret called ``name``, created (random, 256 bits) the first time it is asked for."""
    async with sessions() as session:
        found = await session.get(AppSecret, name)
    if found is not None:
        return found.value
    try:
        async with transaction(sessions) as session:
            session.add(AppSecret(name=name, value=secrets.token_urlsafe(32)))
    except IntegrityError:
        pass  # another process created it a moment ago: use theirs
    async with sessions() as session:
        again = await session.get(AppSecret, name)
    if again is None:  # pragma: no cover - the insert above either worked or lost a race
        raise RuntimeError(f"could not store the secret {name!r}")
    return again.value
