"""The PTB ``Application`` for podbrief and its life cycle: long polling, or a webhook route on
the shared Starlette server that checks Telegram's secret token on every request."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder

from adapters.telegram.delivery import TelegramMessenger, TelegramSender
from adapters.telegram.errors import TelegramConfigError
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.limits import FloodAwareRateLimiter, RateLimits
from adapters.telegram.updates import BadUpdate, update_from_body
from core.delivery.paid import PaidBroadcast
from core.ports import ChatEngine

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


App = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    base_url: str = ""  # a local Bot API server (or the tests' emulator)
    webhook_url: str = ""  # set: webhook mode; empty: long polling
    webhook_secret: str = ""  # empty: a fresh random one each start
    poll_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 10.0  # a send unanswered this long may still have arrived
    limits: RateLimits = field(default_factory=RateLimits)


def build_application(
    config: TelegramConfig, *, webhook: bool, paid: PaidBroadcast | None = None
) -> App:
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(config.token)
        .rate_limiter(FloodAwareRateLimiter(config.limits, paid))
        .concurrent_updates(True)  # ChatLocks keeps each chat in order
        .read_timeout(config.read_timeout_seconds)
    )
    if config.base_url:
        builder = builder.base_url(config.base_url)
    if webhook:
        builder = builder.updater(None)
    return builder.build()


def bot_commands(pairs: list[tuple[str, str]]) -> list[BotCommand]:
    """The engine's commands in the form setMyCommands accepts."""
    commands: list[BotCommand] = []
    for name, description in pairs:
        command = name.lstrip("/").lower()
        if _COMMAND.fullmatch(command) and description.strip():
            commands.append(BotCommand(command, description.strip()[:256]))
    return commands


class TelegramService:
    """The Telegram side of `podbrief run` (a ``bot.runtime.Component``)."""

    name = "telegram"

    def __init__(
        self,
        config: TelegramConfig,
        engine: ChatEngine,
        sessions: async_sessionmaker[AsyncSession],
        paid: PaidBroadcast | None = None,
    ) -> None:
        if config.webhook_secret and not _SECRET.fullmatch(config.webhook_secret):
            raise TelegramConfigError(
                "PODBRIEF_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, "
                "_ and - (Telegram's rule)"
            )
        parts = urlsplit(config.webhook_url)
        if config.webhook_url and not (parts.scheme in ("https", "http") and parts.hostname):
            raise TelegramConfigError(
                f"PODBRIEF_TELEGRAM_WEBHOOK_URL must be a full https:// URL such as "
                f"https://bot.example.com/telegram, not {config.webhook_url!r}"
            )
        self.config = config
        self.webhook = bool(config.webhook_url)
        self.secret = config.webhook_secret or secrets.token_urlsafe(32)
        self.application = build_application(config, webhook=self.webhook, paid=paid)
        self.engine = engine
        self.sender = TelegramSender(self.application.bot, sessions, paid)
        self.messenger = TelegramMessenger(self.sender)
        TelegramHandlers(engine, self.sender).install(self.application)

    @property
    def webhook_path(self) -> str:
        path = urlsplit(self.config.webhook_url).path.rstrip("/")
        return path or DEFAULT_WEBHOOK_PATH

    @property
    def webhook_target(self) -> str:
        """The URL Telegram posts to: the configured one, or with the default path when it
        names only a host (it must reach the route we serve)."""
        url = self.config.webhook_url
        if urlsplit(url).path.rstrip("/"):
            return url
        return urlsplit(url)._replace(path=DEFAULT_WEBHOOK_PATH).geturl()

    def routes(self) -> list[BaseRoute]:
        if not self.webhook:
            return []
        return [Route(self.webhook_path, self.receive_update, methods=["POST"])]

    async def start(self) -> None:
        application = self.application
        await application.initialize()  # getMe: a wrong token fails here, loudly
        await application.bot.set_my_commands(bot_commands(self.engine.commands()))
        await application.start()
        if self.webhook:
            await application.bot.set_webhook(
                self.webhook_target, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
            )
        elif application.updater is not None:
            await application.updater.start_polling(
                timeout=timedelta(seconds=self.config.poll_timeout_seconds),
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._polling_error,
            )
        log.info("Telegram bot @%s started (%s)", application.bot.username,
                 "webhook" if self.webhook else "long polling")  # fmt: skip

    async def stop(self) -> None:
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    async def receive_update(self, request: Request) -> Response:
        """Telegram's POST: refuse anything without our secret token, queue the rest."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return PlainTextResponse("wrong or missing secret token", status_code=403)
        try:
            update = update_from_body(await request.body(), self.application.bot)
        except BadUpdate as exc:
            return PlainTextResponse(str(exc), status_code=400)
        await self.application.update_queue.put(update)
        return Response(status_code=200)

    @staticmethod
    def _polling_error(exc: Exception) -> None:
        log.warning("Telegram polling failed, retrying: %s", exc)
