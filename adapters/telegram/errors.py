"""A Telegram setting Telegram would refuse (a module of its own: `podbrief run` names it
without loading python-telegram-bot, half a second of imports, when no token is set)."""

from __future__ import annotations


class TelegramConfigError(ValueError):
    """A Telegram setting Telegram would refuse; the message says which and why."""
