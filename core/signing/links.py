"""Signed tokens for the links in mails and pages: confirm, settings, feedback, unsubscribe.

Each purpose has its own salt, so a token made for one cannot be used for another, and every
payload names the recipient's address, so a link acts only on the person it was sent to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer


class LinkError(ValueError):
    """A token that is malformed, forged, made for another purpose, or expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


# purpose -> how long its links work. Confirmation is short (the address owner acts soon);
# the links in a brief mail stay valid long after the mail arrived.
MAX_AGE: dict[str, timedelta] = {
    "confirm": timedelta(days=2),
    "settings": timedelta(days=60),
    "unsubscribe": timedelta(days=365),
    "feedback": timedelta(days=60),
    "csrf": timedelta(hours=12),
}


class _SignerAt(TimestampSigner):
    """Stamps with a given time: ours comes from the injected clock, so tests can move it."""

    def __init__(self, secret: str, salt: str, at: int) -> None:
        super().__init__(secret, salt=salt)
        self._at = at

    def get_timestamp(self) -> int:
        return self._at


@dataclass(frozen=True, slots=True)
class LinkSigner:
    secret: str

    @staticmethod
    def _salt(purpose: str) -> str:
        if purpose not in MAX_AGE:
            raise ValueError(f"unknown link purpose {purpose!r}")
        return f"podbrief.{purpose}"

    def sign(self, purpose: str, payload: dict[str, Any], *, now: datetime) -> str:
        salt = self._salt(purpose)
        raw = URLSafeSerializer(self.secret, salt=salt).dump_payload(payload)
        return _SignerAt(self.secret, salt, int(now.timestamp())).sign(raw).decode()

    def load(self, purpose: str, token: str, *, now: datetime) -> dict[str, Any]:
        """The payload of a valid token; ``LinkError`` otherwise (never the reason in detail)."""
        salt = self._salt(purpose)
        if not token or len(token) > 4096:
            raise LinkError("this link is not valid")
        try:
            raw, stamped = TimestampSigner(self.secret, salt=salt).unsign(
                token, return_timestamp=True
            )
            payload = URLSafeSerializer(self.secret, salt=salt).load_payload(raw)
        except BadSignature as exc:
            raise LinkError("this link is not valid") from exc
        age = now - stamped
        if age > MAX_AGE[purpose] or age < -timedelta(minutes=5):
            raise LinkError("this link has expired", expired=True)
        if not isinstance(payload, dict):
            raise LinkError("this link is not valid")
        return payload


__all__ = ["MAX_AGE", "LinkError", "LinkSigner"]
