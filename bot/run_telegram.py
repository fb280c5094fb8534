"""The Telegram side of `podbrief run`, switched on by PODBRIEF_TELEGRAM_TOKEN."""

from __future__ import annotations

from adapters.telegram.app import TelegramConfig, TelegramService
from adapters.telegram.limits import RateLimits
from bot.wiring import Services
from core.ports import ChatEngine


def telegram_config(services: Services) -> TelegramConfig | None:
    token = services.secrets.telegram_token
    if not token:
        return None
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
    return TelegramService(config, engine, services.sessions, services.paid_broadcast)
