"""Telegram updates -> neutral ``IncomingMessage`` -> the conversation engine -> the reply.

No product logic here: only who is talking where (private chat or group, admin or not), which
brief a message refers to, and answering every button press, even a forged or stale one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import Chat, ChatMember, Message, Update, User
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram.delivery import PLATFORM, TelegramSender
from core.chat.ids import brief_of_message, move_chat
from core.chat.types import ChatRef, IncomingMessage, Reply, Sender
from core.delivery.errors import RecipientGone
from core.people.status import deactivate_recipient, reactivate_recipient
from core.ports import ChatEngine

log = logging.getLogger(__name__)

OLD_BUTTON = "That message is too old for its buttons. Send /brief for a fresh brief."
APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
ADMIN_TTL_SECONDS = 300.0
ADMIN_STATUSES = {ChatMember.OWNER, ChatMember.ADMINISTRATOR}
GONE_STATUSES = {ChatMember.BANNED, ChatMember.LEFT}
UNREADABLE = (
    filters.Sticker.ALL | filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO
    | filters.VIDEO_NOTE | filters.Document.ALL | filters.ANIMATION | filters.CONTACT
    | filters.POLL
)  # fmt: skip


Context = ContextTypes.DEFAULT_TYPE


def chat_ref(chat: Chat) -> ChatRef:
    return ChatRef(PLATFORM, str(chat.id), is_group=chat.type in (Chat.GROUP, Chat.SUPERGROUP))


def strip_bot_name(text: str, username: str) -> str:
    """ "/follow@podbrief_bot ai" -> "/follow ai"; "@podbrief_bot related" -> "related"."""
    if not username:
        return text.strip()
    return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.IGNORECASE).strip()


class ChatLocks:
    """One update at a time per chat, in arrival order; other chats run concurrently."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class TelegramHandlers:
    def __init__(self, engine: ChatEngine, sender: TelegramSender) -> None:
        self.engine = engine
        self.sender = sender
        self.sessions = sender.sessions
        self.locks = ChatLocks()
        self._admins: dict[tuple[int, int], tuple[bool, float]] = {}

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrate))
        application.add_handler(
            MessageHandler(
                (filters.TEXT | filters.LOCATION) & ~filters.UpdateType.EDITED, self.on_message
            )
        )
        # A sticker, photo or voice note in a private chat gets the engine's "didn't get that"
        # with what it does understand, rather than silence.
        application.add_handler(
            MessageHandler(filters.ChatType.PRIVATE & UNREADABLE & ~filters.UpdateType.EDITED,
                           self.on_message)
        )  # fmt: skip
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(ChatMemberHandler(self.on_membership))
        application.add_error_handler(self.on_error)

    async def on_message(self, update: Update, context: Context) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or chat.type == Chat.CHANNEL:
            return
        username = context.bot.username
        if chat.type != Chat.PRIVATE and not self._addressed(message, context.bot.id, username):
            return  # group chatter not meant for the bot
        ref = chat_ref(chat)
        location = message.location
        async with self.locks.hold(ref.chat_id):  # before any await: keeps arrival order
            incoming = IncomingMessage(
                chat=ref,
                sender=await self._sender(context, chat, update.effective_user, message),
                text=strip_bot_name(message.text, username) if message.text else None,
                reply_to_brief_id=await self._brief_replied_to(ref, message, context.bot.id),
                location=(location.latitude, location.longitude) if location else None,
            )
            reply = await self._ask(incoming)  # the engine lifts an "unreachable" mark
            await self._send(ref, reply)

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        message = query.message
        if message is None or not isinstance(message, Message):
            await self._answer(query.answer(OLD_BUTTON))
            return
        ref = chat_ref(message.chat)
        shown = str(message.message_id)
        async with self.locks.hold(ref.chat_id):  # before any await: keeps arrival order
            incoming = IncomingMessage(
                chat=ref,
                sender=await self._sender(context, message.chat, query.from_user, None),
                action_data=query.data or "",  # the engine decodes it; forged ones get a polite no
                reply_to_brief_id=await brief_of_message(self.sessions, ref, shown),
            )
            reply = await self._ask(incoming)
            await self._answer(query.answer((reply.notice or "")[:200] or None))
            if reply.parts:
                await self._send(ref, reply)

    async def on_migrate(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            await move_chat(self.sessions, PLATFORM, "", str(message.chat.id),
                            str(message.migrate_to_chat_id))  # fmt: skip

    async def on_membership(self, update: Update, context: Context) -> None:
        change = update.my_chat_member
        if change is None:
            return
        ref = chat_ref(change.chat)
        if change.new_chat_member.status in GONE_STATUSES:
            why = "blocked the bot" if change.chat.type == Chat.PRIVATE else "removed the bot"
            await deactivate_recipient(self.sessions, PLATFORM, ref.workspace, ref.chat_id, why)
        else:
            await reactivate_recipient(self.sessions, PLATFORM, ref.workspace, ref.chat_id)

    async def on_error(self, update: object, context: Context) -> None:
        log.error("Telegram update failed: %s", context.error, exc_info=context.error)

    async def _ask(self, incoming: IncomingMessage) -> Reply:
        try:
            return await self.engine.handle(incoming)
        except Exception:
            log.exception("the conversation engine failed on %r", incoming)
            return Reply.text(APOLOGY, notice=APOLOGY)

    async def _send(self, chat: ChatRef, reply: Reply) -> None:
        try:
            await self.sender.send(chat, reply)
        except RecipientGone as exc:  # already marked inactive by the sender
            log.info("Telegram chat %s is gone: %s", chat.chat_id, exc.reason)

    @staticmethod
    async def _answer(call: Any) -> None:
        try:
            await call
        except BadRequest as exc:  # answered too late: the user's spinner has already stopped
            log.info("could not answer a button press: %s", exc)

    @staticmethod
    def _addressed(message: Message, bot_id: int, username: str) -> bool:
        text = message.text or ""
        if text.startswith("/"):
            target = text.split()[0].partition("@")[2]
            return not target or target.lower() == username.lower()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None:
            return replied.from_user.id == bot_id
        return bool(username) and f"@{username.lower()}" in text.lower()

    async def _brief_replied_to(self, ref: ChatRef, message: Message, bot_id: int) -> int | None:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
            return None
        return await brief_of_message(self.sessions, ref, str(replied.message_id))

    async def _sender(
        self, context: Context, chat: Chat, user: User | None, message: Message | None
    ) -> Sender:
        if user is None:
            return Sender(user_id=str(chat.id), is_admin=chat.type == Chat.PRIVATE)
        name = user.full_name
        if chat.type == Chat.PRIVATE:
            return Sender(str(user.id), name, is_admin=True)
        anonymous_admin = message is not None and getattr(message.sender_chat, "id", 0) == chat.id
        is_admin = anonymous_admin or await self._is_admin(context, chat.id, user.id)
        return Sender(str(user.id), name, is_admin=is_admin)

    async def _is_admin(self, context: Context, chat_id: int, user_id: int) -> bool:
        """Whether the user may change the group's settings (cached for a few minutes)."""
        now = time.monotonic()
        cached = self._admins.get((chat_id, user_id))
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await context.bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            log.info("could not check admin rights in %s: %s", chat_id, exc)
            return False
        is_admin = member.status in ADMIN_STATUSES
        if len(self._admins) > 10_000:
            self._admins.clear()
        self._admins[(chat_id, user_id)] = (is_admin, now + ADMIN_TTL_SECONDS)
        return is_admin
