"""Render a neutral ``Reply`` as Slack Block Kit messages within Slack's limits."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from adapters.slack.mrkdwn import (
    ACTIONS_ELEMENTS_MAX,
    BUTTON_TEXT_MAX,
    BUTTON_VALUE_MAX,
    CONTEXT_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    MESSAGE_BLOCKS_MAX,
    cut,
    cut_escaped,
    escape,
    link,
    split_text,
)
from core.chat.format import format_timestamp
from core.chat.types import Button, Buttons, InsightCard, InvalidAction, Part, Reply, Text

log = logging.getLogger(__name__)

ACTION_ID_PREFIX = "podbrief:"


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One chat.postMessage worth: fallback text for notifications plus the blocks."""

    text: str
    blocks: list[dict[str, Any]]


def render_reply(reply: Reply) -> list[SlackMessage]:
    """Every part of ``reply`` as blocks, split into messages of at most 50 blocks.

    A card's blocks are never split across two messages.
    """
    counter = itertools.count(1)
    groups = [_part_blocks(part, counter) for part in reply.parts]
    messages: list[SlackMessage] = []
    current: list[Block] = []
    current_parts: list[Part] = []
    for part, group in zip(reply.parts, groups, strict=True):
        for chunk in _chunks(group, MESSAGE_BLOCKS_MAX):
            if current and len(current) + len(chunk) > MESSAGE_BLOCKS_MAX:
                messages.append(_message(current, current_parts))
                current, current_parts = [], []
            current.extend(chunk)
            current_parts.append(part)
    if current:
        messages.append(_message(current, current_parts))
    return messages


def fallback_text(parts: list[Part] | tuple[Part, ...]) -> str:
    """Plain words for notifications and clients without Block Kit."""
    lines: list[str] = []
    for part in parts:
        if isinstance(part, Text):
            lines.append(part.text)
        elif isinstance(part, InsightCard):
            prefix = f"#{part.position} " if part.position is not None else ""
            lines.append(f"{prefix}{part.headline} ({part.show_title})")
    return cut_escaped("\n".join(lines) or "podbrief", FALLBACK_TEXT_MAX)


def _message(blocks: list[Block], parts: list[Part]) -> SlackMessage:
    # Divider blocks never start a message.
    while blocks and isinstance(blocks[0], DividerBlock):
        blocks = blocks[1:]
    return SlackMessage(text=fallback_text(parts), blocks=[b.to_dict() for b in blocks])


def _chunks(blocks: list[Block], size: int) -> Iterator[list[Block]]:
    for start in range(0, len(blocks), size):
        yield blocks[start : start + size]


def _part_blocks(part: Part, counter: Iterator[int]) -> list[Block]:
    if isinstance(part, Text):
        return _text_blocks(part)
    if isinstance(part, InsightCard):
        return _card_blocks(part, counter)
    return _actions_blocks(part.buttons, counter)


def _text_blocks(part: Text) -> list[Block]:
    if part.style == "heading":
        return [HeaderBlock(text=PlainTextObject(text=cut(part.text, HEADER_TEXT_MAX)))]
    if part.style == "note":
        note = MarkdownTextObject(text=cut_escaped(part.text, CONTEXT_TEXT_MAX))
        return [ContextBlock(elements=[note])]
    return [_section(chunk) for chunk in split_text(escape(part.text))]


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn))


def _card_blocks(card: InsightCard, counter: Iterator[int]) -> list[Block]:
    position = f"#{card.position} " if card.position is not None else ""
    older = " _(from the archive)_" if card.is_older else ""
    headline = f"*{position}{cut_escaped(card.headline, 300)}*{older}"
    blocks: list[Block] = [DividerBlock()]
    blocks.extend(_section(chunk) for chunk in split_text(f"{headline}\n{escape(card.body)}"))
    speaker = f" — {escape(card.speaker)}" if card.speaker else ""
    quote = f"> “{cut_escaped(card.quote, 2500)}”{speaker}, {format_timestamp(card.start_seconds)}"
    blocks.append(_section(quote))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_card_source(card))]))
    blocks.extend(_actions_blocks(card.buttons, counter))
    return blocks


def _card_source(card: InsightCard) -> str:
    episode = (
        link(card.episode_url, cut(card.episode_title, 200))
        if card.episode_url
        else cut_escaped(card.episode_title, 200)
    )
    topics = " · " + ", ".join(escape(t) for t in card.topics[:6]) if card.topics else ""
    page = f" · {link(card.page_url, 'Open the insight page')}" if card.page_url else ""
    source = f"{cut_escaped(card.show_title, 200)} · {episode}{topics}"
    # The page link goes first into the limit: cutting it in half would break the link.
    return cut(source, CONTEXT_TEXT_MAX - len(page)) + page


def _actions_blocks(buttons: tuple[Button, ...], counter: Iterator[int]) -> list[Block]:
    elements = [element for b in buttons if (element := _button(b, next(counter))) is not None]
    return [
        ActionsBlock(elements=list(chunk)) for chunk in _chunks_of(elements, ACTIONS_ELEMENTS_MAX)
    ]


def _chunks_of(items: list[ButtonElement], size: int) -> Iterator[list[ButtonElement]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _button(button: Button, number: int) -> ButtonElement | None:
    """The button, or None (logged) when its payload is refused: Slack would refuse the whole
    message over one bad button."""
    try:
        value = button.action.encode()
    except InvalidAction as exc:
        log.warning("button %r left out: %s", button.label, exc)
        return None
    if len(value) > BUTTON_VALUE_MAX:  # never with 64-byte payloads; Slack's own limit
        log.warning("button %r left out: value over %d", button.label, BUTTON_VALUE_MAX)
        return None
    return ButtonElement(
        text=PlainTextObject(text=cut(button.label, BUTTON_TEXT_MAX), emoji=True),
        action_id=f"{ACTION_ID_PREFIX}{button.action.name}:{number}",
        value=value,
    )


def render_buttons_only(buttons: Buttons) -> list[dict[str, Any]]:
    """Just the actions blocks of a ``Buttons`` part (App Home uses it)."""
    return [block.to_dict() for block in _actions_blocks(buttons.buttons, itertools.count(1))]
