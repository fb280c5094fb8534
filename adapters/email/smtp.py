"""Sending one message over SMTP with aiosmtplib, and what a refusal means for delivery.

A 5xx answer to RCPT TO or DATA is a hard bounce: the address is refused for good
(``RecipientGone``). A 4xx is temporary (``TransientSendError``: the delivery engine retries
with backoff). Losing the connection while the server takes the message (after DATA) may have
delivered it (``MaybeSent``: not retried, so nobody gets the brief twice).
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from aiosmtplib.errors import (
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from core.delivery.errors import MaybeSent, RecipientGone, TransientSendError

SECURITIES = ("starttls", "tls", "none")


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | tls (implicit, port 465) | none (a local relay)
    user: str = ""
    password: str = ""
    sender: str = ""  # the From header, e.g. "podbrief <brief@example.org>"
    timeout: float = 30.0
    ca_file: str = ""  # trust this CA (a private one) instead of the system's

    def __post_init__(self) -> None:
        if self.security not in SECURITIES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITIES)}")
        if not self.sender:
            raise ValueError("an SMTP sender (From) address is needed: set smtp_sender")

    @property
    def envelope_sender(self) -> str:
        """The bare address of ``sender`` for MAIL FROM."""
        from email.utils import parseaddr

        return parseaddr(self.sender)[1] or self.sender


class SmtpMailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def _client(self) -> aiosmtplib.SMTP:
        c = self.config
        return aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            username=c.user or None,
            password=c.password or None,
            use_tls=c.security == "tls",
            start_tls=c.security == "starttls",
            timeout=c.timeout,
            cert_bundle=c.ca_file or None,
        )

    async def send(self, message: EmailMessage, recipient: str) -> None:
        """Hand ``message`` to the server for ``recipient``; raises the delivery errors."""
        data = message.as_bytes(policy=email.policy.SMTP)
        client = self._client()
        try:
            await client.connect()
        except (SMTPException, OSError) as exc:
            raise TransientSendError(f"SMTP server unreachable or login refused: {exc}") from exc
        try:
            await self._envelope(client, recipient)
            try:
                await client.data(data)
            except SMTPResponseException as exc:
                raise _refusal(exc, recipient) from exc
            except (SMTPTimeoutError, SMTPServerDisconnected, OSError) as exc:
                raise MaybeSent(f"SMTP connection lost after DATA: {exc}") from exc
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (SMTPException, OSError):
                    client.close()

    async def _envelope(self, client: aiosmtplib.SMTP, recipient: str) -> None:
        try:
            await client.mail(self.config.envelope_sender)
        except SMTPResponseException as exc:  # our sender refused: an operator problem
            raise TransientSendError(f"SMTP server refused the sender: {exc}") from exc
        except (SMTPException, OSError) as exc:
            raise TransientSendError(f"SMTP failed: {exc}") from exc
        try:
            await client.rcpt(recipient)
        except SMTPResponseException as exc:
            raise _refusal(exc, recipient) from exc
        except (SMTPException, OSError) as exc:
            raise TransientSendError(f"SMTP failed: {exc}") from exc


def _refusal(exc: SMTPResponseException, recipient: str) -> Exception:
    text = f"{exc.code} {exc.message}".strip()
    if 500 <= exc.code < 600:
        return RecipientGone(f"hard bounce: {text}")
    what = "recipient" if isinstance(exc, SMTPRecipientRefused) else "message"
    return TransientSendError(f"SMTP server deferred the {what} for {recipient}: {text}")
