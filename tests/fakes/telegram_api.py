"""A Telegram Bot API emulator on 127.0.0.1: the far side of the Telegram adapter in tests.

It answers the methods the adapter uses, validates what the bot sends the way Telegram does
(HTML entities, 4,096 characters, 64-byte callback_data), records every request, and lets a
test inject user messages, commands, locations and button presses, delivered through
getUpdates (long polling) or POSTed to the bot's webhook with its secret token. Tests script
429 retry_after, 5xx, blocked users (403) and groups migrated to supergroups.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.telegram_rules import (
    ApiError,
    Attempt,
    Scripted,
    Sent,
    admin_member,
    check_html,
    check_markup,
    parse_params,
    utf16_len,
    visible_text,
)

__all__ = ["Attempt", "Sent", "TelegramApiEmulator", "check_html", "utf16_len", "visible_text"]


# What the Bot API (or a proxy in front of it) answers during an outage: status, body, type.
OUTAGES = {
    "429": (429, '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 30",'
                 '"parameters":{"retry_after":30}}', "application/json"),
    "500": (500, '{"ok":false,"error_code":500,"description":"Internal Server Error"}',
            "application/json"),
    "html": (200, "<html><body><h1>Service Temporarily Unavailable</h1></body></html>",
             "text/html"),
    "truncated": (200, '{"ok":true,"result":{"message_id":', "application/json"),
}  # fmt: skip


@dataclass
class TelegramApiEmulator:
    token: str = "123456:TEST-TOKEN"
    bot_username: str = "podbrief_bot"
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: list[dict[str, str]] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str | None = None
    webhook_statuses: list[int] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    migrated: dict[int, int] = field(default_factory=dict)
    admins: dict[int, set[int]] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Telegram's overall flood limit, when a test sets it: beyond this many messages in any
    # second a message is refused with 429, unless sent with allow_paid_broadcast (then up
    # to paid_per_second, charged stars_per_message each above the free rate).
    free_per_second: int | None = None
    paid_per_second: int = 1000
    stars_per_message: float = 0.1
    stars_charged: float = 0.0

    def __post_init__(self) -> None:
        self.bot_id = int(self.token.split(":")[0])
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._scripted: list[Scripted] = []
        self._changed = asyncio.Condition()
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.confirmed_offset = 0
        self.last_update_id = 0
        self._hold: tuple[str, int, int] | None = None  # method, after this many, held so far
        self.held = 0  # requests being held open right now
        self._let_go = asyncio.Event()
        self._carry_out = False
        self._outage: tuple[str, str, int] | None = None  # method, kind, good ones still due

    # --- wiring ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_route("*", "/bot{token}/{method}", self._handle)
        return application

    def base_url(self, server_url: str) -> str:
        return f"{server_url}/bot"

    async def close(self) -> None:
        """Release long polls and finish webhook deliveries before the server stops."""
        self._closing = True
        self.let_go()
        await self._notify()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "podbrief",
                "username": self.bot_username}  # fmt: skip

    # --- what a test injects --------------------------------------------------------------

    def private_chat(self, user_id: int, first_name: str = "Ada") -> dict[str, Any]:
        chat = {"id": user_id, "type": "private", "first_name": first_name}
        self.chats[user_id] = chat
        return chat

    def group_chat(self, chat_id: int, title: str, admins: set[int]) -> dict[str, Any]:
        chat = {"id": chat_id, "type": "group", "title": title}
        self.chats[chat_id] = chat
        self.admins[chat_id] = set(admins)
        return chat

    @staticmethod
    def user(user_id: int, first_name: str = "Ada") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name}

    async def send_text(
        self, chat_id: int, text: str, *, from_id: int | None = None, reply_to: int | None = None
    ) -> int:
        """A user writes ``text`` (a command if it starts with "/"); returns its message id."""
        message = self._user_message(chat_id, from_id)
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            message["reply_to_message"] = self._messages[(chat_id, reply_to)]
        await self._push({"message": message})
        return int(message["message_id"])

    async def send_location(self, chat_id: int, latitude: float, longitude: float) -> int:
        message = self._user_message(chat_id, None)
        message["location"] = {"latitude": latitude, "longitude": longitude}
        await self._push({"message": message})
        return int(message["message_id"])

    async def send_sticker(self, chat_id: int) -> int:
        message = self._user_message(chat_id, None)
        message["sticker"] = {"file_id": "CAAC1", "file_unique_id": "u1", "width": 512,
                              "height": 512, "is_animated": False, "is_video": False,
                              "type": "regular", "emoji": "👍"}  # fmt: skip
        await self._push({"message": message})
        return int(message["message_id"])

    async def press(self, chat_id: int, message_id: int, data: str, *, from_id: int | None = None
                    ) -> str:  # fmt: skip
        """A user presses a button carrying ``data`` under one of the bot's messages."""
        query_id = f"cq{next(self._query_ids)}"
        query = {"id": query_id, "from": self.user(from_id or chat_id),
                 "chat_instance": f"ci{chat_id}", "data": data,
                 "message": self._messages[(chat_id, message_id)]}  # fmt: skip
        await self._push({"callback_query": query})
        return query_id

    async def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sends now fail with 403, and Telegram tells the bot."""
        await self.remove_bot(user_id, by=user_id)

    async def remove_bot(self, chat_id: int, *, by: int) -> None:
        """Blocked in a private chat, or removed from a group: 403 from now on."""
        self.blocked.add(chat_id)
        status = {"chat": self.chats[chat_id], "from": self.user(by), "date": int(time.time()),
                  "old_chat_member": {"user": self.bot_user, "status": "member"},
                  "new_chat_member": {"user": self.bot_user, "status": "kicked",
                                      "until_date": 0}}  # fmt: skip
        await self._push({"my_chat_member": status})

    def migrate_group(self, old_id: int, new_id: int) -> None:
        self.migrated[old_id] = new_id
        chat = dict(self.chats[old_id], id=new_id, type="supergroup")
        self.chats[new_id] = chat
        self.admins[new_id] = self.admins.get(old_id, set())

    async def announce_migration(self, old_id: int, new_id: int) -> None:
        """The service message Telegram posts in a group that became a supergroup."""
        self.migrate_group(old_id, new_id)
        message = self._user_message(old_id, None)
        message["migrate_to_chat_id"] = new_id
        await self._push({"message": message})

    def script(self, method: str, status: int, description: str, *, chat_id: int | None = None,
               times: int = 1, skip: int = 0, **parameters: Any) -> None:  # fmt: skip
        """Answer ``times`` matching requests, after ``skip`` good ones, with this error."""
        self._scripted.append(
            Scripted(method, chat_id, status, description, parameters, times, skip)
        )

    def hold(self, method: str, *, after: int) -> None:
        """Every ``method`` request after the first ``after`` is held open, unanswered and not
        carried out, until ``let_go()``: the test can kill the bot with requests in flight."""
        self._hold = (method, after, 0)

    def let_go(self, *, carry_out: bool = False) -> None:
        """Held requests end with a 502 and were never carried out (nobody is listening);
        with ``carry_out``, they go on and are answered as usual instead."""
        self._hold = None
        self._carry_out = carry_out
        self._let_go.set()

    def outage(self, method: str, kind: str, *, after: int = 0) -> None:
        """From the ``after``-th next ``method`` request on, until ``recover()``, every one
        fails without being carried out: ``kind`` is "429" (retry_after 30 s), "500", "html"
        (a 200 whose body is a proxy's HTML page) or "truncated" (a 200 whose JSON is cut off)."""
        if kind not in OUTAGES:
            raise ValueError(f"unknown outage {kind!r}")
        self._outage = (method, kind, after)

    def recover(self) -> None:
        self._outage = None

    def slow(self, method: str, seconds: float, *, chat_id: int | None = None) -> None:
        """The next matching request succeeds, but only after ``seconds``."""
        self._scripted.append(Scripted(method, chat_id, 200, "", {}, 1, delay=seconds))

    # --- what a test waits on -------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], bool], within: float = 15.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_messages(self, chat_id: int, count: int, within: float = 15.0) -> list[Sent]:
        """Wait until the bot has sent ``count`` new messages to the chat; returns all of them."""
        await self.wait_for(lambda: len(self.messages_to(chat_id)) >= count, within)
        return self.messages_to(chat_id)

    def messages_to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id and s.method == "sendMessage"]

    async def wait_answer(self, query_id: str, within: float = 15.0) -> dict[str, Any]:
        await self.wait_for(lambda: query_id in self.answers, within)
        return self.answers[query_id]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # --- the HTTP side --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = parse_params(dict(await request.post()))
        self.calls.append((method, params))
        await self._notify()  # a test may wait for a call that is still in progress
        chat_id = params.get("chat_id")
        if await self._held(method):
            return web.json_response({"ok": False, "error_code": 502,
                                      "description": "Bad Gateway"}, status=502)  # fmt: skip
        broken = self._broken(method)
        if broken is not None:
            self.attempts.append(Attempt(method, chat_id, broken.status, time.monotonic()))
            await self._notify()
            return broken
        try:
            await self._apply_scripted(method, chat_id)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as exc:
            self.attempts.append(Attempt(method, chat_id, exc.status, time.monotonic()))
            await self._notify()
            body: dict[str, Any] = {"ok": False, "error_code": exc.status,
                                    "description": exc.description}  # fmt: skip
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.status)
        self.attempts.append(Attempt(method, chat_id, 200, time.monotonic()))
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    def _broken(self, method: str) -> web.Response | None:
        if self._outage is None or self._outage[0] != method:
            return None
        name, kind, good = self._outage
        if good > 0:
            self._outage = (name, kind, good - 1)
            return None
        status, body, content_type = OUTAGES[kind]
        return web.Response(status=status, text=body, content_type=content_type)

    async def _held(self, method: str) -> bool:
        if self._hold is None or self._hold[0] != method:
            return False
        name, after, seen = self._hold
        self._hold = (name, after, seen + 1)
        if seen < after:
            return False
        self.held += 1
        await self._notify()
        try:
            await self._let_go.wait()
        finally:
            self.held -= 1
        return not self._carry_out

    async def _apply_scripted(self, method: str, chat_id: int | None) -> None:
        for item in self._scripted:
            if item.method != method or item.chat_id not in (None, chat_id) or item.times <= 0:
                continue
            if item.skip > 0:
                item.skip -= 1
                continue
            item.times -= 1
            if item.delay:
                await asyncio.sleep(item.delay)  # Telegram being slow: the far side's time
            if item.status != 200:
                raise ApiError(item.status, item.description, **item.parameters)
            return

    def _check_chat(self, chat_id: int) -> None:
        if chat_id in self.migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           migrate_to_chat_id=self.migrated[chat_id])  # fmt: skip
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")

    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self.bot_user, can_join_groups=True, can_read_all_group_messages=False,
                    supports_inline_queries=False)  # fmt: skip

    async def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        for command in params["commands"]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands = list(params["commands"])
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url, self.webhook_secret = "", None
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = params["url"]
        self.webhook_secret = params.get("secret_token")
        # Like Telegram: updates waiting since before are POSTed to the new webhook at once.
        pending, self._updates = self._updates, []
        for update in pending:
            self._start_delivery(update)
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = params.get("offset", 0)
        if offset:
            self.confirmed_offset = offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout", 0))
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(lambda: bool(self._updates) or self._closing)
            except TimeoutError:
                pass
        return list(self._updates[: params.get("limit", 100)])

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params["chat_id"]
        self._check_chat(chat_id)
        text = params.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if params.get("parse_mode") == "HTML":
            check_html(text)
        shown = visible_text(text) if params.get("parse_mode") == "HTML" else text
        if utf16_len(shown) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        check_markup(params.get("reply_markup"))
        paid = str(params.get("allow_paid_broadcast", "")).lower() == "true"
        self._keep_flood_limit(paid)
        reply = params.get("reply_parameters") or {}
        message = self._bot_message(chat_id, text, params.get("reply_markup"))
        self.sent.append(Sent("sendMessage", chat_id, message["message_id"], text,
                              params.get("parse_mode"), params.get("reply_markup"),
                              reply.get("message_id"), time.monotonic(), paid))  # fmt: skip
        return message

    def _keep_flood_limit(self, paid: bool) -> None:
        if self.free_per_second is None:
            return
        now = time.monotonic()
        in_last_second = sum(1 for s in self.sent if now - s.at < 1.0)
        if in_last_second >= (self.paid_per_second if paid else self.free_per_second):
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        if paid and in_last_second >= self.free_per_second:
            self.stars_charged += self.stars_per_message

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = params["chat_id"], params["message_id"]
        self._check_chat(chat_id)
        if (chat_id, message_id) not in self._messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        if params.get("parse_mode") == "HTML":
            check_html(params["text"])
        check_markup(params.get("reply_markup"))
        message = self._messages[(chat_id, message_id)]
        message["text"] = params["text"]
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.sent.append(Sent("editMessageText", chat_id, message_id, params["text"],
                              params.get("parse_mode"), params.get("reply_markup"), None,
                              time.monotonic()))  # fmt: skip
        return message

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = params["callback_query_id"]
        if query_id in self.answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        self.answers[query_id] = params
        return True

    async def _m_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = params["chat_id"], params["user_id"]
        self._check_chat(chat_id)
        if user_id in self.admins.get(chat_id, set()):
            return admin_member(self.user(user_id))
        return {"user": self.user(user_id), "status": "member"}

    async def _m_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self._check_chat(params["chat_id"])
        return [
            admin_member(self.user(uid)) for uid in sorted(self.admins.get(params["chat_id"], ()))
        ]

    # --- internals ------------------------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _user_message(self, chat_id: int, from_id: int | None) -> dict[str, Any]:
        chat = self.chats.get(chat_id) or self.private_chat(chat_id)
        message = {"message_id": self._next_message_id(chat_id), "date": int(time.time()),
                   "chat": chat, "from": self.user(from_id or chat_id)}  # fmt: skip
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def _bot_message(self, chat_id: int, text: str, markup: Any) -> dict[str, Any]:
        message = {"message_id": self._next_message_id(chat_id), "date": int(time.time()),
                   "chat": self.chats[chat_id], "from": self.bot_user, "text": text}  # fmt: skip
        if markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        return message

    async def _push(self, payload: dict[str, Any]) -> None:
        update = {"update_id": next(self._update_ids), **payload}
        self.last_update_id = update["update_id"]
        if self.webhook_url:
            self._start_delivery(update)
            return
        self._updates.append(update)
        await self._notify()

    def _start_delivery(self, update: dict[str, Any]) -> None:
        task = asyncio.create_task(self._deliver(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, update: dict[str, Any]) -> None:
        """POST the update like Telegram: retried until the bot's server answers 2xx."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret or ""}
        for attempt in range(50):
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(self.webhook_url, json=update, headers=headers) as response,
                ):
                    status = response.status
            except aiohttp.ClientConnectionError:
                status = 0  # the bot's server is not listening (yet)
            self.webhook_statuses.append(status)
            await self._notify()
            if 200 <= status < 300 or self._closing:
                return
            await asyncio.sleep(0.05 * (attempt + 1))  # Telegram's own backoff, much shortened

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
