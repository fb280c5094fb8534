"""The neutral conversation types every platform adapter translates to and from."""

from __future__ import annotations

from dataclasses import dataclass, field

ACTION_MAX_BYTES = 64  # Telegram's callback_data limit; Slack's 2,000 is looser


class InvalidAction(ValueError):
    """A button payload that is malformed, forged or too long."""


@dataclass(frozen=True, slots=True)
class Action:
    """What a button does. Encodes to a compact string for callback_data / button values."""

    name: str  # related | source | up | down | more_episode | follow | mute | confirm_forget | …
    insight_id: int | None = None
    value: str = ""

    def encode(self) -> str:
        data = f"{self.name}|{self.insight_id if self.insight_id is not None else ''}|{self.value}"
        if len(data.encode()) > ACTION_MAX_BYTES:
            raise InvalidAction(f"button payload over {ACTION_MAX_BYTES} bytes: {data[:80]!r}")
        return data

    @classmethod
    def decode(cls, data: str) -> Action:
        if not data or len(data.encode()) > ACTION_MAX_BYTES or data.count("|") != 2:
            raise InvalidAction("malformed button payload")
        name, raw_id, value = data.split("|")
        # isascii() too: str.isdigit() and isalnum() accept "¹" and "٣", which int() refuses.
        if not (name.isascii() and name.replace("_", "").isalnum()):
            raise InvalidAction("malformed button name")
        if raw_id and not (raw_id.isascii() and raw_id.isdigit()):
            raise InvalidAction("malformed insight id")
        return cls(name=name, insight_id=int(raw_id) if raw_id else None, value=value)


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a conversation happens (and where replies go)."""

    platform: str  # console | telegram | slack
    chat_id: str  # Telegram chat id, Slack channel or DM id, console user name
    workspace: str = ""  # Slack team id
    is_group: bool = False
    thread_id: str | None = None  # Slack thread ts a follow-up belongs to


@dataclass(frozen=True, slots=True)
class Sender:
    user_id: str
    display_name: str | None = None
    is_admin: bool = True  # in a group: may change the group's settings


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    chat: ChatRef
    sender: Sender
    text: str | None = None
    action: Action | None = None  # a button press
    reply_to_brief_id: int | None = None  # the user replied to a brief message
    location: tuple[float, float] | None = None  # (latitude, longitude) a user shared
    timezone_hint: str | None = None  # e.g. Slack's users.info tz
    # A raw button payload the adapter did not decode: the engine decodes it and answers a
    # malformed or forged one politely.
    action_data: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: Action


@dataclass(frozen=True, slots=True)
class Text:
    text: str  # plain text: adapters escape it for their markup
    style: str = "plain"  # plain | heading | note


@dataclass(frozen=True, slots=True)
class InsightCard:
    insight_id: int
    position: int | None  # the "#N" a user can refer to, or None
    headline: str
    body: str
    quote: str
    speaker: str | None
    start_seconds: float
    show_title: str
    episode_title: str
    episode_url: str | None
    topics: tuple[str, ...] = ()
    is_older: bool = False  # filled from the backlog, not new today
    buttons: tuple[Button, ...] = ()
    page_url: str | None = None  # the insight's public web page, when pages are served


@dataclass(frozen=True, slots=True)
class Buttons:
    buttons: tuple[Button, ...]


Part = Text | InsightCard | Buttons


@dataclass(frozen=True, slots=True)
class Reply:
    parts: tuple[Part, ...] = ()
    brief_id: int | None = None  # set when this reply shows a brief
    notice: str | None = None  # short acknowledgement for a button press (toast)
    compact: bool = False  # the chat prefers one compact message over one per card
    cards: tuple[InsightCard, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "cards", tuple(p for p in self.parts if isinstance(p, InsightCard))
        )

    @classmethod
    def text(cls, text: str, *, notice: str | None = None) -> Reply:
        return cls(parts=(Text(text),), notice=notice)
