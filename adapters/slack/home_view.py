"""The App Home tab as Block Kit: a person's settings as inputs, their last brief below."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from adapters.slack.blocks import render_reply
from adapters.slack.mrkdwn import cut, cut_escaped
from core.chat.types import InsightCard, Reply

HOME_PREFIX = "home:"
VIEW_BLOCKS_MAX = 100
OPTIONS_MAX = 100
DAYS = (("daily", "Every day"), ("weekdays", "Weekdays only"))


@dataclass(frozen=True, slots=True)
class HomeSettings:
    timezone: str
    delivery_time: str
    delivery_days: str
    paused: bool
    followed: tuple[str, ...] = ()
    muted: tuple[str, ...] = ()
    known_topics: tuple[str, ...] = ()
    shows: tuple[tuple[int, str], ...] = ()  # (feed id, title) of every show
    subscribed: frozenset[int] = frozenset()
    inactive_reason: str | None = None
    last_brief: tuple[InsightCard, ...] = field(default=())


def home_view(settings: HomeSettings, notice: str | None = None) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Your podbrief"))]
    if notice:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut_escaped(notice, 2000))]))
    if settings.inactive_reason:
        reason = cut_escaped(settings.inactive_reason, 500)
        blocks.append(_text(f":warning: Deliveries are stopped: {reason}"))
    blocks += _delivery_blocks(settings)
    blocks += _topic_blocks(settings)
    blocks += _show_blocks(settings)
    rendered = [block.to_dict() for block in blocks]
    rendered += _last_brief_blocks(settings.last_brief, VIEW_BLOCKS_MAX - len(rendered))
    result: dict[str, Any] = View(type="home", blocks=rendered).to_dict()
    return result


def _text(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn))


def _option(value: str, label: str) -> Option:
    return Option(value=cut(value, 150), text=PlainTextObject(text=cut(label, 75)))


def _delivery_blocks(s: HomeSettings) -> list[Block]:
    days = [_option(value, label) for value, label in DAYS]
    current = next((o for o in days if o.value == s.delivery_days), days[0])
    state = "paused" if s.paused else "on"
    toggle = "Resume briefs" if s.paused else "Pause briefs"
    return [
        _text(f"*Daily brief* ({state}), delivered in your time zone."),
        ActionsBlock(
            block_id="home_delivery",
            elements=[
                TimePickerElement(action_id=f"{HOME_PREFIX}time", initial_time=s.delivery_time),
                StaticSelectElement(
                    action_id=f"{HOME_PREFIX}days", options=days, initial_option=current
                ),
                ButtonElement(
                    text=PlainTextObject(text=toggle),
                    action_id=f"{HOME_PREFIX}pause",
                    value="resume" if s.paused else "pause",
                ),
            ],
        ),
        InputBlock(
            block_id="home_timezone",
            label=PlainTextObject(text="Time zone (from your Slack profile; change it here)"),
            dispatch_action=True,
            element=PlainTextInputElement(
                action_id=f"{HOME_PREFIX}timezone", initial_value=s.timezone
            ),
        ),
    ]


def _multi(action: str, placeholder: str, options: list[Option], chosen: set[str]) -> Block:
    initial = [o for o in options if o.value in chosen] or None
    return ActionsBlock(
        block_id=f"home_{action}",
        elements=[
            StaticMultiSelectElement(
                action_id=f"{HOME_PREFIX}{action}",
                placeholder=PlainTextObject(text=placeholder),
                options=options,
                initial_options=initial,
            )
        ],
    )


def _topic_options(s: HomeSettings) -> list[Option]:
    names = list(dict.fromkeys([*s.followed, *s.muted, *s.known_topics]))[:OPTIONS_MAX]
    return [_option(name, name) for name in names]


def _topic_blocks(s: HomeSettings) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), _text("*Topics* you follow and mute")]
    options = _topic_options(s)
    if options:
        blocks.append(_multi("topics", "Follow topics", options, set(s.followed)))
        blocks.append(_multi("muted", "Mute topics", options, set(s.muted)))
    blocks.append(
        InputBlock(
            block_id="home_add_topic",
            label=PlainTextObject(text="Follow another topic"),
            dispatch_action=True,
            optional=True,
            element=PlainTextInputElement(action_id=f"{HOME_PREFIX}add_topic"),
        )
    )
    return blocks


def _show_options(s: HomeSettings) -> list[Option]:
    """Subscribed shows first, so a long list never hides (and a save never drops) one."""
    ordered = sorted(s.shows, key=lambda show: show[0] not in s.subscribed)
    return [_option(str(feed_id), title) for feed_id, title in ordered[:OPTIONS_MAX]]


def offered(s: HomeSettings, select: str) -> set[str]:
    """The values the Home's ``topics``/``muted``/``shows`` select offers: a save changes only
    these (what Slack could not show stays as it is)."""
    options = _show_options(s) if select == "shows" else _topic_options(s)
    return {str(option.value) for option in options}


def _show_blocks(s: HomeSettings) -> list[Block]:
    if not s.shows:
        return []
    options = _show_options(s)
    chosen = {str(feed_id) for feed_id in s.subscribed}
    return [DividerBlock(), _text("*Shows* you follow"), _multi("shows", "Shows", options, chosen)]


def _last_brief_blocks(cards: tuple[InsightCard, ...], room: int) -> list[dict[str, Any]]:
    header = [DividerBlock().to_dict(), _text("*Your last brief*").to_dict()]
    if not cards:
        hint = _text("No brief yet: type `brief` in our DM, or use `/podbrief brief`.")
        return [*header, hint.to_dict()]
    rendered = [block for message in render_reply(Reply(parts=cards)) for block in message.blocks]
    return [*header, *rendered][: max(0, room)]
