"""A webhook body to a python-telegram-bot ``Update``, or ``BadUpdate`` saying what is wrong.

Pure (no I/O), so the webhook route stays thin and the translation can be fuzzed on its own."""

from __future__ import annotations

import json
from typing import Any

from telegram import Bot, Update


class BadUpdate(ValueError):
    """A body that is not a Telegram update; the message is the 400's text."""


def update_from_body(body: bytes, bot: Bot) -> Update:
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, undecodable bytes, deep nesting
        raise BadUpdate(f"the body is not JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        raise BadUpdate("not a Telegram update: expected a JSON object with an integer update_id")
    try:
        update = Update.de_json(data, bot)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        raise BadUpdate(f"not a Telegram update: {exc!r}"[:300]) from None
    return update
