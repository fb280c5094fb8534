"""Telegram's rules as the Bot API emulator applies them: HTML entities, lengths, button
payloads, how PTB posts parameters, and the records of what the bot sent."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

JSON_PARAMS = {"reply_markup", "reply_parameters", "commands", "allowed_updates", "scope",
               "link_preview_options", "entities"}  # fmt: skip
INT_PARAMS = {"message_id", "offset", "limit", "timeout", "user_id", "reply_to_message_id"}
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "blockquote", "tg-spoiler", "span"}  # fmt: skip
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)((?:\s+[a-z-]+(?:=\"[^\"<>]*\")?)*)\s*>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class ApiError(Exception):
    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


@dataclass
class Sent:
    """One message the bot sent (or edited)."""

    method: str
    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    reply_to: int | None
    at: float
    paid: bool = False  # sent with allow_paid_broadcast

    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def button(self, label_part: str) -> dict[str, Any]:
        for button in self.buttons():
            if label_part.lower() in button["text"].lower():
                return button
        raise AssertionError(f"no button {label_part!r} on {self.buttons()}")

    @property
    def visible_text(self) -> str:
        return visible_text(self.text) if self.parse_mode == "HTML" else self.text


@dataclass
class Attempt:
    method: str
    chat_id: int | None
    status: int
    at: float


def visible_text(html_text: str) -> str:
    """What a user sees of an HTML message (tags gone, entities decoded)."""
    plain = _TAG.sub("", html_text)
    return (
        plain.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_html(text: str) -> None:
    """Telegram's HTML rules: known tags, balanced, and every bare <, > or & escaped."""
    stack: list[str] = []
    for match in _TAG.finditer(text):
        closing, tag = match.group(1) == "/", match.group(2).lower()
        if tag not in ALLOWED_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported tag {tag!r}")
        if not closing:
            stack.append(tag)
        elif not stack or stack.pop() != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unmatched end tag {tag!r}")
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed tag {stack[-1]!r}")
    rest = _ENTITY.sub("", _TAG.sub("", text))
    if any(ch in rest for ch in "<>&"):
        raise ApiError(400, "Bad Request: can't parse entities: unescaped <, > or &")


@dataclass
class Scripted:
    """A failure (or, with status 200, a slow success) for the next matching request(s)."""

    method: str
    chat_id: int | None
    status: int
    description: str
    parameters: dict[str, Any]
    times: int
    skip: int = 0  # matching requests let through first
    delay: float = 0.0  # seconds before answering


def admin_member(user: dict[str, Any]) -> dict[str, Any]:
    rights = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
              "can_manage_video_chats", "can_restrict_members", "can_promote_members",
              "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
              "can_delete_stories")  # fmt: skip
    return {"user": user, "status": "administrator", **{right: False for right in rights}}


def check_markup(markup: dict[str, Any] | None) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise ApiError(400, "Bad Request: inline keyboard button text is empty")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def parse_params(raw: dict[str, Any]) -> dict[str, Any]:
    """PTB posts form fields; objects are JSON strings, ids and numbers are decimal strings."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        text = str(value)
        if key in JSON_PARAMS:
            params[key] = json.loads(text)
        elif key in INT_PARAMS or (key == "chat_id" and re.fullmatch(r"-?\d+", text)):
            params[key] = int(text)
        else:
            params[key] = text
    return params
