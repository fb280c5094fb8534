"""What a ``core.ports.Messenger`` raises so delivery knows whether to retry, wait or stop."""

from __future__ import annotations


class SendError(Exception):
    """Base of the send failures delivery acts on; any other exception counts as transient."""


class RecipientGone(SendError):
    """Permanent: the bot was blocked or removed, the workspace uninstalled the app.

    Delivery marks the recipient inactive with ``reason`` and stops trying.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(SendError):
    """The platform said "too many requests": wait ``retry_after`` seconds, then retry."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"rate limited; retry after {retry_after:g} s")
        self.retry_after = max(0.0, float(retry_after))


class TransientSendError(SendError):
    """A network failure or a 5xx: retried later with backoff."""


class MaybeSent(SendError):
    """The send timed out after it was handed to the platform: it may have arrived.

    Not retried, because a retry could deliver the brief twice.
    """
