"""Sends a rendered ``Reply`` to a Telegram chat, and is the ``Messenger`` for scheduled briefs.

Platform refusals become stored facts: a user who blocked the bot (403) is marked inactive and
skipped from then on; a group upgraded to a supergroup is followed to its new id. Every message
of a brief is remembered as soon as it is sent, so a reply to it refers to that brief and a
retried delivery sends only the messages that did not go out the first time.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from adapters.telegram.limits import retry_after_seconds
from adapters.telegram.render import OutMessage, render_reply
from core.chat.ids import count_brief_messages, move_chat, remember_brief_messages
from core.chat.types import ChatRef, Reply
from core.delivery.errors import MaybeSent, RateLimited, RecipientGone, TransientSendError
from core.delivery.paid import PaidBroadcast
from core.people.status import deactivate_recipient, inactive_reason

log = logging.getLogger(__name__)

PLATFORM = "telegram"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
NOT_JSON = "Invalid server response"  # what PTB raises when a 2xx body does not parse
GONE_MESSAGES = ("chat not found", "user is deactivated", "bot was kicked")


def telegram_chat_id(chat: ChatRef) -> int | str:
    return int(chat.chat_id) if chat.chat_id.lstrip("-").isdigit() else chat.chat_id


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        paid: PaidBroadcast | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.paid = paid  # paid broadcasts (opt-in; the rate limiter keeps the budget)

    async def send(self, chat: ChatRef, reply: Reply, *, skip: int = 0) -> list[str]:
        """Send the messages of ``reply`` (after the first ``skip``); their Telegram ids.

        Raises ``RecipientGone`` once the chat refuses us for good (it is marked inactive).
        """
        sent: list[str] = []
        for out in render_reply(reply)[skip:]:
            message, chat = await self._send_following_moves(chat, out)
            sent.append(str(message.message_id))
            if reply.brief_id is not None:
                await remember_brief_messages(self.sessions, chat, sent[-1:], reply.brief_id)
        return sent

    async def _send_following_moves(
        self, chat: ChatRef, out: OutMessage
    ) -> tuple[Message, ChatRef]:
        for _ in range(3):  # a chat moves at most once; the bound only guards a loop
            try:
                return await self._send_one(chat, out), chat
            except ChatMigrated as exc:
                chat = await self._follow_migration(chat, str(exc.new_chat_id))
            except Forbidden as exc:
                raise await self.mark_unreachable(chat, str(exc)) from exc
            except BadRequest as exc:
                if any(gone in str(exc).lower() for gone in GONE_MESSAGES):
                    raise await self.mark_unreachable(chat, str(exc)) from exc
                raise
        raise TransientSendError(f"chat {chat.chat_id} keeps moving")

    async def _send_one(self, chat: ChatRef, out: OutMessage) -> Message:
        return await self.bot.send_message(
            chat_id=telegram_chat_id(chat),
            text=out.html,
            parse_mode=ParseMode.HTML,
            reply_markup=out.keyboard,
            link_preview_options=NO_PREVIEW,
            # Asked for when paid broadcasts are on; the rate limiter keeps it only while
            # the budget lasts, at the moment the message leaves.
            allow_paid_broadcast=True if self.paid is not None else None,
        )

    async def _follow_migration(self, chat: ChatRef, new_id: str) -> ChatRef:
        log.info("Telegram chat %s moved to %s", chat.chat_id, new_id)
        await move_chat(self.sessions, PLATFORM, chat.workspace, chat.chat_id, new_id)
        return ChatRef(PLATFORM, new_id, chat.workspace, is_group=True, thread_id=chat.thread_id)

    async def mark_unreachable(self, chat: ChatRef, why: str) -> RecipientGone:
        log.info("Telegram chat %s refuses messages: %s", chat.chat_id, why)
        await deactivate_recipient(self.sessions, PLATFORM, chat.workspace, chat.chat_id, why)
        return RecipientGone(why)


class TelegramMessenger:
    """``core.ports.Messenger`` for Telegram, raising ``core.delivery.errors`` as delivery needs.

    An inactive chat is not tried at all. A retried brief resumes after the messages that
    already went out (they are remembered), so no message of it arrives twice.
    """

    def __init__(self, sender: TelegramSender) -> None:
        self.sender = sender

    @property
    def platform(self) -> str:
        return PLATFORM

    async def send(self, chat: ChatRef, reply: Reply) -> list[str]:
        sessions = self.sender.sessions
        why = await inactive_reason(sessions, PLATFORM, chat.workspace, chat.chat_id)
        if why is not None:
            raise RecipientGone(why)
        done = 0
        if reply.brief_id is not None:
            done = await count_brief_messages(sessions, chat, reply.brief_id)
        try:
            return await self.sender.send(chat, reply, skip=done)
        except RetryAfter as exc:  # still limited after the rate limiter's own retries
            raise RateLimited(retry_after_seconds(exc), str(exc)) from exc
        except TimedOut as exc:
            if str(exc).startswith("Pool timeout"):  # PTB: "Request was *not* sent"
                raise TransientSendError(str(exc)) from exc
            raise MaybeSent(f"Telegram did not answer in time: {exc}") from exc
        except BadRequest:
            raise
        except NetworkError as exc:
            raise TransientSendError(f"Telegram unreachable: {exc}") from exc
        except TelegramError as exc:
            if str(exc) != NOT_JSON:
                raise
            # A 2xx whose body is not JSON (a proxy's page, a cut-off answer): retried like a
            # 5xx. Had Telegram carried the message out, it arrives twice (see README).
            raise TransientSendError("Telegram answered with something that is not JSON") from exc
