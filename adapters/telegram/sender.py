"""Sends a rendered ``Reply`` to a Telegram chat, and is the ``Messenger`` for scheduled briefs.

Platform refusals become stored facts: a user who blocked the bot (403) is marked inactive and
skipped from then on; a group upgraded to a supergroup is followed to its new id. Every message
of a brief is remembered so a reply to it refers to that brief.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import ChatMigrated, Forbidden

from adapters.telegram.render import OutMessage, render_reply
from core.chat.types import ChatRef, Reply
from core.chat_ids import move_chat, remember_brief_messages
from core.people_status import deactivate_recipient, inactive_reason

log = logging.getLogger(__name__)

PLATFORM = "telegram"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def telegram_chat_id(chat: ChatRef) -> int | str:
    return int(chat.chat_id) if chat.chat_id.lstrip("-").isdigit() else chat.chat_id


class TelegramSender:
    def __init__(self, bot: Bot, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.bot = bot
        self.sessions = sessions

    async def send(self, chat: ChatRef, reply: Reply) -> list[str]:
        """Send every message of ``reply``; returns the Telegram ids of those sent.

        Stops early (and says so in the log) when the chat refuses us for good.
        """
        sent: list[str] = []
        for out in render_reply(reply):
            message, chat = await self._send_following_moves(chat, out)
            if message is None:
                break
            sent.append(str(message.message_id))
        if reply.brief_id is not None and sent:
            await remember_brief_messages(self.sessions, chat, sent, reply.brief_id)
        return sent

    async def _send_following_moves(
        self, chat: ChatRef, out: OutMessage
    ) -> tuple[Message | None, ChatRef]:
        for _ in range(3):  # a chat moves at most once; the bound only guards a loop
            try:
                return await self._send_one(chat, out), chat
            except ChatMigrated as exc:
                chat = await self._follow_migration(chat, str(exc.new_chat_id))
            except Forbidden as exc:
                await self.mark_unreachable(chat, str(exc))
                return None, chat
        return None, chat

    async def _send_one(self, chat: ChatRef, out: OutMessage) -> Message:
        return await self.bot.send_message(
            chat_id=telegram_chat_id(chat),
            text=out.html,
            parse_mode=ParseMode.HTML,
            reply_markup=out.keyboard,
            link_preview_options=NO_PREVIEW,
        )

    async def _follow_migration(self, chat: ChatRef, new_id: str) -> ChatRef:
        log.info("Telegram chat %s moved to %s", chat.chat_id, new_id)
        await move_chat(self.sessions, PLATFORM, chat.workspace, chat.chat_id, new_id)
        return ChatRef(PLATFORM, new_id, chat.workspace, is_group=True, thread_id=chat.thread_id)

    async def mark_unreachable(self, chat: ChatRef, why: str) -> None:
        log.info("Telegram chat %s refuses messages: %s", chat.chat_id, why)
        await deactivate_recipient(self.sessions, PLATFORM, chat.workspace, chat.chat_id, why)


class TelegramMessenger:
    """``core.ports.Messenger`` for Telegram: scheduled delivery skips unreachable chats."""

    def __init__(self, sender: TelegramSender) -> None:
        self.sender = sender

    @property
    def platform(self) -> str:
        return PLATFORM

    async def send(self, chat: ChatRef, reply: Reply) -> list[str]:
        why = await inactive_reason(self.sender.sessions, PLATFORM, chat.workspace, chat.chat_id)
        if why is not None:
            log.info("skipping Telegram chat %s: %s", chat.chat_id, why)
            return []
        return await self.sender.send(chat, reply)
