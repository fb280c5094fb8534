"""Posting replies to Slack: pacing per channel, 429 retries, permanent errors stop a recipient."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import render_reply
from adapters.slack.errors import error_code, http_header, http_status
from core.chat.ids import remember_brief_messages
from core.chat.types import ChatRef, Reply
from core.db import Sessions
from core.delivery.errors import MaybeSent, RateLimited, RecipientGone, TransientSendError
from core.people.status import deactivate_recipient, deactivate_workspace

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# The chat is gone for us: retrying cannot help until someone acts.
CHAT_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "user_not_found", "cannot_dm_bot"}
)
# The token is dead: every chat of the workspace is unreachable.
WORKSPACE_ERRORS = frozenset(
    {"account_inactive", "invalid_auth", "token_revoked", "not_authed", "team_access_not_granted"}
)
MAX_RETRY_AFTER_SECONDS = 120.0


class RetryAfterHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, waiting exactly Retry-After (capped) with a sleep we can swap."""

    def __init__(self, max_retry_count: int = 2, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("rate limited without a response")
        state.next_attempt_requested = True
        await self._sleep(min(_retry_after(response), MAX_RETRY_AFTER_SECONDS))
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                break
    return 1.0


def retry_handlers(sleep: Sleep = asyncio.sleep) -> list[AsyncRetryHandler]:
    return [AsyncConnectionErrorRetryHandler(), RetryAfterHandler(sleep=sleep)]


def make_client(
    token: str | None, base_url: str = "", *, sleep: Sleep = asyncio.sleep
) -> AsyncWebClient:
    if base_url:
        return AsyncWebClient(token=token, base_url=base_url, retry_handlers=retry_handlers(sleep))
    return AsyncWebClient(token=token, retry_handlers=retry_handlers(sleep))


class ChannelPacer:
    """About one message a second per channel, Slack's posting limit; other channels don't wait."""

    def __init__(
        self,
        interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: dict[tuple[str, str], float] = {}

    async def wait(self, workspace: str, channel: str) -> None:
        key = (workspace, channel)
        now = self._monotonic()
        slot = max(now, self._next.get(key, now))
        # Reserve the slot before sleeping so concurrent senders queue up behind each other.
        self._next[key] = slot + self._interval
        if len(self._next) > 10_000:
            self._forget_old(now)
        if slot > now:
            await self._sleep(slot - now)

    def _forget_old(self, now: float) -> None:
        for key in [k for k, at in self._next.items() if at < now]:
            del self._next[key]


@dataclass(frozen=True, slots=True)
class PostedMessage:
    channel: str  # the channel Slack put it in (a DM's D… id when posted to a user id)
    ts: str


class RecipientUnreachable(RecipientGone):
    """Slack refused a chat for good; the recipient was paused with ``reason``."""


class Poster:
    """Posts a neutral reply as Block Kit messages, paced, handling permanent errors."""

    def __init__(self, sessions: Sessions, pacer: ChannelPacer | None = None) -> None:
        self.sessions = sessions
        self._pacer = pacer or ChannelPacer()

    async def post(
        self,
        client: AsyncWebClient,
        chat: ChatRef,
        reply: Reply,
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> list[PostedMessage]:
        """Post to ``channel`` (default: the chat itself), in ``thread_ts`` if given."""
        target = channel or chat.chat_id
        thread = thread_ts if thread_ts is not None else chat.thread_id
        posted: list[PostedMessage] = []
        for message in render_reply(reply):
            await self._pacer.wait(chat.workspace, target)
            try:
                response = await client.chat_postMessage(
                    channel=target,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=thread,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except SlackApiError as exc:
                await self._handle_error(chat, exc)
                error = _send_error(exc)
                if error is exc:
                    raise
                raise error from exc
            except TimeoutError as exc:  # handed over, answer lost: a retry could post twice
                raise MaybeSent(f"slack did not answer in time: {exc}") from exc
            except aiohttp.ClientError as exc:
                raise TransientSendError(f"could not reach slack: {exc}") from exc
            posted.append(PostedMessage(str(response["channel"]), str(response["ts"])))
        if reply.brief_id is not None and thread is None:
            # A reply in the thread of any of these messages is about this brief.
            ts = [message.ts for message in posted]
            await remember_brief_messages(self.sessions, chat, ts, reply.brief_id)
        return posted

    async def _handle_error(self, chat: ChatRef, exc: SlackApiError) -> None:
        error = error_code(exc)
        if error in CHAT_ERRORS:
            reason = f"slack: {error}"
            await deactivate_recipient(
                self.sessions, chat.platform, chat.workspace, chat.chat_id, reason
            )
        elif error in WORKSPACE_ERRORS:
            reason = f"slack workspace: {error}"
            await deactivate_workspace(self.sessions, chat.platform, chat.workspace, reason)
        else:
            return
        log.warning("slack stopped delivering to %s/%s: %s", chat.workspace, chat.chat_id, error)
        raise RecipientUnreachable(reason) from exc


def _send_error(exc: SlackApiError) -> Exception:
    """What delivery should make of a Slack error that did not stop the recipient."""
    status, error = http_status(exc), error_code(exc)
    if status == 429:  # still limited after slack_sdk's own retries
        retry_after = http_header(exc, "Retry-After") or 1
        return RateLimited(float(retry_after), f"slack rate limit: retry after {retry_after} s")
    if status >= 500:
        return TransientSendError(f"slack answered {status}: a server error")
    if not error:  # no Slack answer at all: a proxy's page, a cut-off body
        return TransientSendError(f"slack answered {status} with something that is not JSON")
    return exc


class TokenSource(Protocol):
    async def bot_token(self, team_id: str) -> str | None:
        """The bot token for a workspace, or None if we are not installed there."""
        ...


class SlackMessenger:
    """``core.ports.Messenger`` for scheduled briefs: posts to a person's DM or a channel."""

    platform = "slack"

    def __init__(
        self, tokens: TokenSource, poster: Poster, base_url: str = "", sleep: Sleep = asyncio.sleep
    ) -> None:
        self._tokens = tokens
        self._poster = poster
        self._base_url = base_url
        self._sleep = sleep
        self._clients: dict[str, AsyncWebClient] = {}

    async def send(self, chat: ChatRef, reply: Reply) -> list[str]:
        """Post ``reply``; raises ``RecipientUnreachable`` (recipient paused) on a refusal."""
        token = await self._tokens.bot_token(chat.workspace)
        if token is None:
            reason = f"slack: not installed in workspace {chat.workspace}"
            await deactivate_recipient(
                self._poster.sessions, chat.platform, chat.workspace, chat.chat_id, reason
            )
            raise RecipientUnreachable(reason)
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = make_client(token, self._base_url, sleep=self._sleep)
        posted = await self._poster.post(client, chat, reply)
        return [message.ts for message in posted]
