"""The mails as ``EmailMessage``s: the daily brief (HTML and plain text, RFC 8058 one-click
unsubscribe headers) and the signup confirmation. Jinja2 renders both parts; HTML autoescapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from adapters.email.links import MailLinks
from core.chat.format import format_timestamp
from core.chat.handlers.brief import FOLLOW_UP_HINT
from core.chat.types import InsightCard, Reply, Text
from core.email.signup import Signup

TEMPLATES = Path(__file__).resolve().parent / "templates"


def mail_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True, slots=True)
class MailCard:
    card: InsightCard
    url: str
    up: str
    down: str
    more_like: str

    @property
    def when(self) -> str:
        return format_timestamp(self.card.start_seconds)


class MailRenderer:
    def __init__(self, links: MailLinks, sender: str, env: Environment | None = None) -> None:
        self.links, self.sender = links, sender
        self.env = env or mail_environment()
        self.domain = (parseaddr(sender)[1].rpartition("@")[2] or "podbrief.invalid").lower()

    def _message(self, to: str, subject: str, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain=self.domain)
        return message

    def brief(self, address: str, reply: Reply, now: datetime) -> EmailMessage:
        """Reply (a brief) -> the mail: heading, the cards with their links, notes, footer."""
        links = self.links
        headings = [p.text for p in reply.parts if isinstance(p, Text) and p.style == "heading"]
        notes = [
            p.text
            for p in reply.parts
            if isinstance(p, Text) and p.style != "heading" and p.text != FOLLOW_UP_HINT
        ]
        cards = [
            MailCard(
                card,
                links.insight(card.insight_id),
                links.feedback(address, card.insight_id, "up", now),
                links.feedback(address, card.insight_id, "down", now),
                links.feedback(address, card.insight_id, "more_like", now),
            )
            for card in reply.cards
        ]
        unsubscribe = links.unsubscribe(address, now)
        context = {
            "heading": headings[0] if headings else "Your podcast brief",
            "cards": cards,
            "notes": notes,
            "settings_url": links.settings(address, now),
            "unsubscribe_url": unsubscribe,
            "public_url": links.public_url,
        }
        message = self._message(address, context["heading"], now)  # type: ignore[arg-type]
        # RFC 8058: a mail client may unsubscribe with one POST, without opening a page.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(self.env.get_template("brief.txt").render(context))
        message.add_alternative(self.env.get_template("brief.html").render(context), subtype="html")
        return message

    def confirmation(self, signup: Signup, now: datetime) -> EmailMessage:
        """The double opt-in mail: one signed link that expires; nothing else is ever sent
        to the address before it is opened."""
        context = {
            "confirm_url": self.links.confirm(signup, now),
            "topics": signup.topics,
            "delivery_time": signup.delivery_time,
            "timezone": signup.timezone,
            "public_url": self.links.public_url,
        }
        message = self._message(signup.address, "Confirm your podcast brief", now)
        message.set_content(self.env.get_template("confirm.txt").render(context))
        message.add_alternative(
            self.env.get_template("confirm.html").render(context), subtype="html"
        )
        return message
