"""Email recipients: a confirmed signup becomes a ``users`` row on platform "email" like any
chat, with its consent record; settings, unsubscribing and hard bounces change that row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, select

from core.db import Sessions, transaction
from core.email.signup import Signup
from core.models import EmailSubscription, TopicPreference, User
from core.people import users as people

PLATFORM = "email"
UNSUBSCRIBED = "unsubscribed"
BOUNCE_PREFIX = "hard bounce"


@dataclass(frozen=True, slots=True)
class Subscriber:
    user: User
    subscription: EmailSubscription
    topics: tuple[str, ...]

    @property
    def receiving(self) -> bool:
        return self.user.active and not self.user.paused


async def confirm_signup(sessions: Sessions, signup: Signup, now: datetime) -> User:
    """The address proved it is theirs: (re)subscribe it with the signup's choices. Confirming
    again, e.g. after unsubscribing, resumes and takes the new choices."""
    user = await people.get_or_create_user(
        sessions, PLATFORM, "", signup.address, timezone=signup.timezone
    )
    async with transaction(sessions) as session:
        row = await session.get(User, user.id)
        assert row is not None  # created above; a concurrent forget would raise later anyway
        row.timezone, row.delivery_time = signup.timezone, signup.delivery_time
        row.active, row.inactive_reason, row.paused, row.onboarded = True, None, False, True
        sub = await session.get(EmailSubscription, user.id)
        if sub is None:  # a new recipient: joined now, by the injected clock
            row.created_at = now
            session.add(
                EmailSubscription(user_id=user.id, address=signup.address, confirmed_at=now)
            )
        else:
            sub.confirmed_at, sub.unsubscribed_at = now, None
            sub.bounced_at, sub.bounce_reason = None, None
    await set_topics(sessions, user.id, signup.topics)
    return await people.get_user(sessions, user.id)


async def set_topics(sessions: Sessions, user_id: int, topics: tuple[str, ...]) -> None:
    """Follow exactly ``topics`` (mutes, set in a chat, are kept)."""
    async with transaction(sessions) as session:
        await session.execute(
            delete(TopicPreference).where(
                TopicPreference.user_id == user_id, TopicPreference.mode == "follow"
            )
        )
    for topic in topics:
        await people.follow_topic(sessions, user_id, topic)


def _subscription_of(address: str) -> Select[User, EmailSubscription]:
    """The email recipient of ``address`` with its consent record."""
    return (
        select(User, EmailSubscription)
        .join(EmailSubscription, EmailSubscription.user_id == User.id)
        .where(User.platform == PLATFORM, User.external_id == address)
    )


async def find_subscriber(sessions: Sessions, address: str) -> Subscriber | None:
    """The confirmed recipient of ``address`` (normalised), or None."""
    async with sessions() as session:
        row = (await session.execute(_subscription_of(address))).one_or_none()
        if row is None:
            return None
        user, sub = row
        topics = (
            await session.execute(
                select(TopicPreference.topic)
                .where(TopicPreference.user_id == user.id, TopicPreference.mode == "follow")
                .order_by(TopicPreference.topic)
            )
        ).scalars()
        return Subscriber(user, sub, tuple(topics))


async def update_settings(
    sessions: Sessions,
    address: str,
    *,
    topics: tuple[str, ...],
    delivery_time: str,
    timezone: str,
    paused: bool,
) -> Subscriber | None:
    """Change what a confirmed subscriber gets; None if the address is not subscribed."""
    found = await find_subscriber(sessions, address)
    if found is None:
        return None
    user_id = found.user.id
    await people.set_delivery_time(sessions, user_id, delivery_time)
    await people.set_timezone(sessions, user_id, timezone)
    if paused:
        await people.pause(sessions, user_id)
    else:
        await people.resume(sessions, user_id)
    await set_topics(sessions, user_id, topics)
    return await find_subscriber(sessions, address)


async def unsubscribe(sessions: Sessions, address: str, now: datetime) -> bool:
    """Stop every mail to ``address`` at once; False if it was not subscribed (the page says
    the same either way)."""
    async with transaction(sessions) as session:
        row = (await session.execute(_subscription_of(address))).one_or_none()
        if row is None:
            return False
        user, sub = row
        user.active, user.inactive_reason = False, UNSUBSCRIBED
        if sub.unsubscribed_at is None:
            sub.unsubscribed_at = now
    return True


async def record_bounce(sessions: Sessions, address: str, reason: str, now: datetime) -> None:
    """The server refused the address for good (5xx): keep when and why; delivery stops
    through the engine's ``RecipientGone`` handling."""
    async with transaction(sessions) as session:
        sub = (
            await session.execute(
                select(EmailSubscription).where(EmailSubscription.address == address)
            )
        ).scalar_one_or_none()
        if sub is not None:
            sub.bounced_at, sub.bounce_reason = now, reason[:500]


async def record_email_feedback(
    sessions: Sessions, address: str, insight_id: int, kind: str, now: datetime
) -> bool:
    """👍 / 👎 / more like this from a mail's link: the same feedback a chat's buttons give."""
    found = await find_subscriber(sessions, address)
    if found is None:
        return False
    await people.record_feedback(sessions, found.user.id, kind, insight_id=insight_id, now=now)
    return True
