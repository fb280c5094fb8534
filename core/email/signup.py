"""A signup as the form sends it, checked: a valid address, known topics, a time, a zone.

Nothing is stored for a signup: the confirmation link carries it, signed, so an address that
never confirms leaves no trace and gets no other mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from core.insights.topic_vocabulary import VOCABULARY
from core.people.users import PeopleError, validate_delivery_time, validate_timezone

# The address is the recipient's id on the platform (users.external_id, 100 characters).
# RFC 5321 allows 254, but real addresses are far shorter.
MAX_ADDRESS = 100
MAX_TOPICS = 20

# The tags insights are filed under: what the chat's "topics" and "follow" offer too.
SIGNUP_TOPICS: tuple[str, ...] = tuple(sorted(VOCABULARY))


class SignupError(ValueError):
    """A field the form must ask again for; the message is for the person."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Signup:
    address: str
    topics: tuple[str, ...]
    delivery_time: str
    timezone: str

    def payload(self) -> dict[str, Any]:
        return {
            "a": self.address,
            "t": list(self.topics),
            "d": self.delivery_time,
            "z": self.timezone,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Signup:
        """A signup from a (signed) link's payload, checked again all the same."""
        topics = payload.get("t", [])
        return parse_signup(
            str(payload.get("a", "")),
            [str(t) for t in topics] if isinstance(topics, list) else [],
            str(payload.get("d", "")),
            str(payload.get("z", "")),
        )


def normalise_address(raw: str) -> str:
    """The address in its normal form (domain lower-case, IDNA), or ``SignupError``.

    Only the syntax is checked (no DNS lookup): the confirmation mail proves the rest.
    """
    text = raw.strip()
    if not text:
        raise SignupError("email", "Please enter your email address.")
    if len(text) > MAX_ADDRESS:
        raise SignupError("email", f"That address is too long (at most {MAX_ADDRESS} characters).")
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise SignupError("email", f"That is not a valid email address: {exc}") from exc
    # One recipient per mailbox whatever the case typed: local parts are case-insensitive in
    # practice, though RFC 5321 allows otherwise.
    return valid.normalized.lower()


def clean_topics(raw: Iterable[str]) -> tuple[str, ...]:
    chosen: list[str] = []
    for topic in raw:
        if topic not in VOCABULARY:
            raise SignupError("topics", "Please choose topics from the list.")
        if topic not in chosen:
            chosen.append(topic)
    if len(chosen) > MAX_TOPICS:
        raise SignupError("topics", f"Please choose at most {MAX_TOPICS} topics.")
    return tuple(chosen)


def clean_time(raw: str) -> str:
    try:
        return validate_delivery_time(raw[:10])
    except PeopleError as exc:
        raise SignupError("delivery_time", "Please give a time of day like 07:30.") from exc


def clean_timezone(raw: str) -> str:
    """The browser's zone; UTC when it sent none (no JavaScript)."""
    if not raw.strip():
        return "UTC"
    try:
        return validate_timezone(raw[:64])
    except PeopleError as exc:
        raise SignupError("timezone", "Your time zone was not recognised.") from exc


def parse_signup(address: str, topics: Iterable[str], delivery_time: str, timezone: str) -> Signup:
    return Signup(
        address=normalise_address(address),
        topics=clean_topics(topics),
        delivery_time=clean_time(delivery_time),
        timezone=clean_timezone(timezone),
    )
