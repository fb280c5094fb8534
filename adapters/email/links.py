"""The signed URLs in mails: confirm, settings, 👍 / 👎 / more like this, unsubscribe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from core.email.signup import Signup
from core.signing.links import LinkSigner

FEEDBACK_KINDS = ("up", "down", "more_like")

# Paths of the pages the links open (adapters/web/signup.py serves them).
CONFIRM_PATH = "/signup/confirm"
SETTINGS_PATH = "/email/settings"
UNSUBSCRIBE_PATH = "/email/unsubscribe"
FEEDBACK_PATH = "/email/feedback"


@dataclass(frozen=True, slots=True)
class MailLinks:
    signer: LinkSigner
    public_url: str  # no trailing slash

    def _url(self, path: str, token: str) -> str:
        return f"{self.public_url}{path}?{urlencode({'t': token})}"

    def insight(self, insight_id: int) -> str:
        return f"{self.public_url}/insights/{insight_id}"

    def confirm(self, signup: Signup, now: datetime) -> str:
        return self._url(CONFIRM_PATH, self.signer.sign("confirm", signup.payload(), now=now))

    def settings(self, address: str, now: datetime) -> str:
        return self._url(SETTINGS_PATH, self.signer.sign("settings", {"a": address}, now=now))

    def unsubscribe(self, address: str, now: datetime) -> str:
        token = self.signer.sign("unsubscribe", {"a": address}, now=now)
        return self._url(UNSUBSCRIBE_PATH, token)

    def feedback(self, address: str, insight_id: int, kind: str, now: datetime) -> str:
        if kind not in FEEDBACK_KINDS:
            raise ValueError(f"unknown feedback kind {kind!r}")
        payload = {"a": address, "i": insight_id, "k": kind}
        return self._url(FEEDBACK_PATH, self.signer.sign("feedback", payload, now=now))
