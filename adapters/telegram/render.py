"""A neutral ``Reply`` as Telegram HTML messages: escaped, with inline keyboards, split to fit.

Every dynamic string goes through ``escape``. Messages are built from paragraphs of spans so a
text over Telegram's 4,096 characters can be split at paragraph boundaries (and, for a single
huge paragraph, at line and word boundaries) without ever cutting through a tag.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.chat.format import format_timestamp
from core.chat.types import Action, Button, Buttons, InsightCard, InvalidAction, Reply, Text

log = logging.getLogger(__name__)

MAX_CHARS = 4096  # Telegram's limit, counted in UTF-16 units after entity parsing
PARAGRAPH_GAP = "\n\n"
BUTTON_ROW = 4


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    tag: str | None = None  # b | i | a
    href: str | None = None

    def html(self) -> str:
        body = escape(self.text)
        if self.tag == "a" and self.href:
            return f'<a href="{html.escape(self.href, quote=True)}">{body}</a>'
        return f"<{self.tag}>{body}</{self.tag}>" if self.tag else body


@dataclass(frozen=True, slots=True)
class Paragraph:
    spans: tuple[Span, ...]
    wrap: str | None = None  # blockquote

    def html(self) -> str:
        inner = "".join(span.html() for span in self.spans)
        return f"<{self.wrap}>{inner}</{self.wrap}>" if self.wrap else inner

    @property
    def size(self) -> int:
        return sum(utf16_len(span.text) for span in self.spans)


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One Telegram message to send."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(slots=True)
class Draft:
    paragraphs: list[Paragraph]
    rows: list[list[Button]]
    is_card: bool = False


def render_reply(reply: Reply, *, limit: int = MAX_CHARS) -> list[OutMessage]:
    """The messages for a reply, in order: one per card, or one compact message."""
    drafts = _compact_draft(reply) if reply.compact else _card_drafts(reply)
    messages: list[OutMessage] = []
    for draft in drafts:
        chunks = split_paragraphs(draft.paragraphs or [Paragraph((Span("…"),))], limit)
        messages.extend(OutMessage(chunk) for chunk in chunks[:-1])
        messages.append(OutMessage(chunks[-1], keyboard(draft.rows)))
    return messages


def _card_drafts(reply: Reply) -> list[Draft]:
    """Text runs become one message, each card its own; buttons go under what precedes them."""
    drafts: list[Draft] = []
    for part in reply.parts:
        last = drafts[-1] if drafts else None
        if isinstance(part, Text):
            if last is not None and not last.rows and not last.is_card:
                last.paragraphs.extend(text_paragraphs(part))
            else:
                drafts.append(Draft(text_paragraphs(part), []))
        elif isinstance(part, InsightCard):
            drafts.append(Draft(card_paragraphs(part), _rows(card_buttons(part)), is_card=True))
        elif isinstance(part, Buttons):
            if last is not None:
                last.rows.extend(_rows(part.buttons))
            else:
                drafts.append(Draft([], _rows(part.buttons)))
    return drafts


def _compact_draft(reply: Reply) -> list[Draft]:
    paragraphs: list[Paragraph] = []
    rows: list[list[Button]] = []
    shown = 0
    for part in reply.parts:
        if isinstance(part, Text):
            paragraphs.extend(text_paragraphs(part))
        elif isinstance(part, InsightCard):
            shown += 1
            mark = list_mark(part, shown)
            paragraphs.extend(compact_card(part, mark))
            rows.append(list(card_buttons(part, mark=mark)))
        elif isinstance(part, Buttons):
            rows.extend(_rows(part.buttons))
    return [Draft(paragraphs, rows)]


def text_paragraphs(part: Text) -> list[Paragraph]:
    """A text's paragraphs (split at blank lines), styled alike."""
    tag = {"heading": "b", "note": "i"}.get(part.style)
    return [Paragraph((Span(chunk, tag),)) for chunk in part.text.split(PARAGRAPH_GAP) if chunk]


def _number(card: InsightCard) -> str:
    return f"#{card.position} · " if card.position is not None else ""


def time_span(card: InsightCard) -> Span:
    stamp = format_timestamp(card.start_seconds)
    url = card.episode_url or ""
    if not url.startswith(("https://", "http://")):
        return Span(stamp)
    return Span(stamp, "a", f"{url.split('#')[0]}#t={int(card.start_seconds)}")


def source_line(card: InsightCard) -> Paragraph:
    older = " (from the archive)" if card.is_older else ""
    source = Span(f"{card.show_title} — {card.episode_title}{older}", "i")
    return Paragraph((source, *page_spans(card)))


def page_spans(card: InsightCard) -> tuple[Span, ...]:
    """The " · Open the page" span, linking the insight's web page, when it has one."""
    if not card.page_url or not card.page_url.startswith(("https://", "http://")):
        return ()
    return (Span(" · "), Span("Open the page", "a", card.page_url))


def card_paragraphs(card: InsightCard) -> list[Paragraph]:
    """Headline in bold, the body, the quote as a blockquote with speaker and a time link."""
    speaker = f"— {card.speaker}, " if card.speaker else "— "
    quote = Paragraph((Span(f"“{card.quote}”\n{speaker}"), time_span(card)), wrap="blockquote")
    paragraphs = [Paragraph((Span(_number(card) + card.headline, "b"),))]
    if card.body:
        paragraphs.append(Paragraph((Span(card.body),)))
    if card.quote:
        paragraphs.append(quote)
    paragraphs.append(source_line(card))
    return paragraphs


def list_mark(card: InsightCard, shown: int) -> str:
    """What ties a compact paragraph to its row of buttons: a brief's "#N", or for a list
    (related, search) its place as a circled digit, which "#N" (a brief's item) cannot be
    mistaken for."""
    if card.position is not None:
        return f"#{card.position}"
    return chr(0x245F + shown) if 1 <= shown <= 20 else f"({shown})"  # ① is U+2460


def compact_card(card: InsightCard, mark: str) -> list[Paragraph]:
    """One short paragraph per insight for a compact brief or list."""
    return [
        Paragraph(
            (
                Span(f"{mark} · {card.headline}", "b"),
                Span(f"\n{card.body}\n"),
                Span(f"{card.show_title} · ", "i"),
                time_span(card),
                *page_spans(card),
            )
        )
    ]


def card_buttons(card: InsightCard, *, mark: str | None = None) -> tuple[Button, ...]:
    """The engine's buttons for a card, or the standard four when it gave none."""
    buttons = card.buttons or (
        Button("Related", Action("related", card.insight_id)),
        Button("Source", Action("source", card.insight_id)),
        Button("👍", Action("up", card.insight_id)),
        Button("👎", Action("down", card.insight_id)),
    )
    if mark is None:
        return buttons
    return tuple(Button(f"{b.label} {mark}", b.action) for b in buttons)


def _rows(buttons: tuple[Button, ...]) -> list[list[Button]]:
    return [list(buttons[i : i + BUTTON_ROW]) for i in range(0, len(buttons), BUTTON_ROW)]


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard. A button whose payload ``Action.encode`` refuses (over Telegram's 64
    bytes) is left out, logged: Telegram would refuse the whole message over it."""
    built = [[button for b in row if (button := _inline_button(b)) is not None] for row in rows]
    built = [row for row in built if row]
    return InlineKeyboardMarkup(built) if built else None


def _inline_button(button: Button) -> InlineKeyboardButton | None:
    try:
        return InlineKeyboardButton(button.label, callback_data=button.action.encode())
    except InvalidAction as exc:
        log.warning("button %r left out: %s", button.label, exc)
        return None


def split_paragraphs(paragraphs: list[Paragraph], limit: int = MAX_CHARS) -> list[str]:
    """HTML chunks of at most ``limit`` visible characters, split between paragraphs."""
    gap = utf16_len(PARAGRAPH_GAP)
    chunks: list[list[Paragraph]] = [[]]
    size = 0
    for paragraph in (piece for p in paragraphs for piece in _fit(p, limit)):
        extra = paragraph.size + (gap if chunks[-1] else 0)
        if chunks[-1] and size + extra > limit:
            chunks.append([])
            size, extra = 0, paragraph.size
        chunks[-1].append(paragraph)
        size += extra
    return [PARAGRAPH_GAP.join(p.html() for p in chunk) for chunk in chunks if chunk]


def _fit(paragraph: Paragraph, limit: int) -> list[Paragraph]:
    """A paragraph too long for one message, cut into pieces that keep its formatting."""
    if paragraph.size <= limit:
        return [paragraph]
    pieces: list[list[Span]] = [[]]
    size = 0
    for span in paragraph.spans:
        for text in _cut_text(span.text, limit):
            if pieces[-1] and size + utf16_len(text) > limit:
                pieces.append([])
                size = 0
            pieces[-1].append(Span(text, span.tag, span.href))
            size += utf16_len(text)
    return [Paragraph(tuple(spans), paragraph.wrap) for spans in pieces if spans]


def _cut_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` UTF-16 units, preferring line, then word boundaries."""
    pieces: list[str] = []
    while utf16_len(text) > limit:
        head = _prefix_within(text, limit)
        cut = max(head.rfind("\n"), head.rfind(" "))
        cut = cut + 1 if cut > limit // 2 else len(head)
        pieces.append(text[:cut])
        text = text[cut:]
    if text:
        pieces.append(text)
    return pieces


def _prefix_within(text: str, limit: int) -> str:
    size = 0
    for index, char in enumerate(text):
        size += 2 if ord(char) > 0xFFFF else 1
        if size > limit:
            return text[:index]
    return text
