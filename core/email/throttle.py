"""Rate limits for signups, per client address and per email address, shared by every process.

Keys are keyed hashes, so neither an unconfirmed email address nor a client IP is stored.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from core.db import Sessions, transaction
from core.models import SignupAttempt


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str  # client | address
    count: int
    per: timedelta


DEFAULT_LIMITS = (
    Limit("client", 10, timedelta(hours=1)),
    Limit("address", 3, timedelta(hours=1)),
)


def throttle_key(secret: str, kind: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:64]}"


async def allow_signup(
    sessions: Sessions,
    secret: str,
    now: datetime,
    *,
    client: str,
    address: str,
    limits: tuple[Limit, ...] = DEFAULT_LIMITS,
) -> bool:
    """Count one signup attempt; False when the client or the address is over its limit (an
    attempt over the limit is not counted, so waiting is enough to be let in again)."""
    values = {"client": client, "address": address}
    keys = {limit.kind: throttle_key(secret, limit.kind, values[limit.kind]) for limit in limits}
    longest = max((limit.per for limit in limits), default=timedelta(0))
    async with transaction(sessions) as session:
        await session.execute(delete(SignupAttempt).where(SignupAttempt.at < now - longest))
        for limit in limits:
            stmt = select(func.count()).where(
                SignupAttempt.key == keys[limit.kind], SignupAttempt.at > now - limit.per
            )
            if int((await session.execute(stmt)).scalar_one()) >= limit.count:
                return False
        for key in keys.values():
            session.add(SignupAttempt(key=key, at=now))
    return True
