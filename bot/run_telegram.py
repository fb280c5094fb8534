"""The Telegram side of `podbrief run`, switched on by PODBRIEF_TELEGRAM_TOKEN."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.wiring import Services
from core.ports import ChatEngine

if TYPE_CHECKING:
    from adapters.telegram.app import TelegramConfig, TelegramService


def telegram_config(services: Services) -> TelegramConfig | None:
    token = services.secrets.telegram_token
    if not token:
        return None
    # python-telegram-bot is loaded only with a token: half a second of imports otherwise.
    from adapters.telegram.app import TelegramConfig
    from adapters.telegram.limits import RateLimits

    settings = services.settings
    return TelegramConfig(
        token=token,
        base_url=settings.telegram_base_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=services.secrets.telegram_webhook_secret or "",
        limits=RateLimits(paid_per_second=float(settings.telegram_paid_messages_per_second)),
    )


def telegram_component(services: Services, engine: ChatEngine) -> TelegramService | None:
    """Long polling by default; a webhook on the shared HTTP server when a URL is set."""
    config = telegram_config(services)
    if config is None:
        return None
    from adapters.telegram.app import TelegramService

    return TelegramService(config, engine, services.sessions, services.paid_broadcast)
