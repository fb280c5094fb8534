"""A chat platform's far side for delivery tests: records sends, refuses on request."""

from __future__ import annotations

import asyncio

from core.chat.types import ChatRef, Reply
from core.delivery.errors import RateLimited, RecipientGone, TransientSendError


class ProcessCrash(BaseException):
    """Stands for the process dying mid-run (not an error delivery could catch)."""


class FakeMessenger:
    def __init__(self, platform: str = "telegram") -> None:
        self._platform = platform
        self.sent: list[tuple[ChatRef, Reply]] = []
        self.blocked: dict[str, str] = {}  # chat id -> why the platform refuses it
        self.transient_failures: dict[str, int] = {}  # chat id -> failures still to raise
        self.rate_limited: dict[str, float] = {}  # chat id -> retry_after, raised once
        self.crash_after: int | None = None  # die when this many briefs were sent

    @property
    def platform(self) -> str:
        return self._platform

    def chats(self) -> list[str]:
        return [chat.chat_id for chat, _ in self.sent]

    async def send(self, chat: ChatRef, reply: Reply) -> list[str]:
        await asyncio.sleep(0)  # a real send yields to the loop
        if self.crash_after is not None and len(self.sent) >= self.crash_after:
            raise ProcessCrash
        if chat.chat_id in self.blocked:
            raise RecipientGone(self.blocked[chat.chat_id])
        if self.transient_failures.get(chat.chat_id, 0) > 0:
            self.transient_failures[chat.chat_id] -= 1
            raise TransientSendError("502 Bad Gateway")
        if chat.chat_id in self.rate_limited:
            raise RateLimited(self.rate_limited.pop(chat.chat_id))
        self.sent.append((chat, reply))
        return [f"{chat.chat_id}-{len(self.sent)}"]


class FakeTimer:
    """Monotonic time that sleeping moves forward, so rate limits cost no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)
