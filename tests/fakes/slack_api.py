"""A fake Slack Web API over real HTTP: records every call and keeps the posted messages.

It answers the methods podbrief uses (auth.test, chat.postMessage, chat.postEphemeral,
conversations.open, conversations.info, views.publish, users.info, oauth.v2.access) plus the
``response_url`` endpoint, checks bearer tokens, and can be scripted to answer one call with a
429 + Retry-After or with a Slack error code, or to hold a call until the test releases it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[["Call"], Awaitable[dict[str, Any]]]


@dataclass
class Call:
    method: str
    token: str | None
    params: dict[str, Any]


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    user: str | None = None  # for ephemeral messages

    def block_text(self) -> str:
        """All text in the blocks, flattened (for assertions)."""
        return json.dumps(self.blocks, ensure_ascii=False)

    def buttons(self) -> list[dict[str, Any]]:
        return [
            element
            for block in self.blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
        ]


@dataclass
class Workspace:
    team_id: str
    bot_token: str
    bot_user_id: str = "UBOT"
    team_name: str = "Test Team"


# What Slack (or a proxy in front of it) answers during an outage: status, body, type, headers.
OUTAGES = {
    "429": (429, '{"ok":false,"error":"ratelimited"}', "application/json",
            {"Retry-After": "30"}),
    "500": (500, '{"ok":false,"error":"internal_error"}', "application/json", {}),
    "html": (200, "<html><body><h1>Service Temporarily Unavailable</h1></body></html>",
             "text/html", {}),
    "truncated": (200, '{"ok":true,"channel":"D0ADA","ts":"17', "application/json", {}),
}  # fmt: skip


@dataclass
class FakeSlack:
    """State and scripting of the fake; ``app()`` is the aiohttp application."""

    workspaces: dict[str, Workspace] = field(default_factory=dict)  # by bot token
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    oauth_codes: dict[str, Workspace] = field(default_factory=dict)
    app_token: str = "xapp-1-test"
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _socket: web.WebSocketResponse | None = None
    client_id: str = "111.222"
    client_secret: str = "oauth-secret"
    calls: list[Call] = field(default_factory=list)
    messages: list[Posted] = field(default_factory=list)
    ephemeral: list[Posted] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # via response_url
    views: list[dict[str, Any]] = field(default_factory=list)
    _scripted: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(
        default_factory=dict
    )
    base_url: str = ""  # set by the test once the fake is served (for the socket URL)
    _holds: dict[str, asyncio.Event] = field(default_factory=dict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _outage: tuple[str, str] | None = None  # method, kind: until recover()

    # --- scripting ------------------------------------------------------------------------

    def add_workspace(self, team_id: str, bot_token: str) -> Workspace:
        workspace = Workspace(team_id=team_id, bot_token=bot_token)
        self.workspaces[bot_token] = workspace
        return workspace

    def add_user(self, user_id: str, *, tz: str = "Europe/Berlin", name: str = "Ada") -> None:
        self.users[user_id] = {"id": user_id, "name": name, "tz": tz, "real_name": name}

    def rate_limit_next(self, method: str, retry_after: int) -> None:
        self._script(method, 429, {"ok": False, "error": "ratelimited"}, retry_after)

    def server_error_next(self, method: str) -> None:
        self._script(method, 503, {"ok": False, "error": "service_unavailable"})

    def fail_next(self, method: str, error: str) -> None:
        self._script(method, 200, {"ok": False, "error": error})

    def _script(self, method: str, status: int, body: dict[str, Any], retry: int = 0) -> None:
        headers = {"Retry-After": str(retry)} if status == 429 else {}
        self._scripted.setdefault(method, []).append((status, body, headers))

    def outage(self, method: str, kind: str) -> None:
        """Every ``method`` call fails, not carried out, until ``recover()``: ``kind`` is "429"
        (Retry-After 30), "500", "html" (a 200 whose body is a proxy's HTML page) or
        "truncated" (a 200 whose JSON is cut off)."""
        if kind not in OUTAGES:
            raise ValueError(f"unknown outage {kind!r}")
        self._outage = (method, kind)

    def recover(self) -> None:
        self._outage = None

    def hold(self, method: str) -> asyncio.Event:
        """Calls to ``method`` wait until the returned event is set."""
        gate = asyncio.Event()
        self._holds[method] = gate
        return gate

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def in_channel(self, channel: str, thread_ts: str | None = None) -> list[Posted]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts == thread_ts]

    async def wait_for(self, predicate: Callable[[], bool], within: float = 20) -> None:
        """Wait (no polling) until ``predicate`` holds after some call."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_calls(self, method: str, count: int = 1, within: float = 20) -> list[Call]:
        await self.wait_for(lambda: len(self.calls_to(method)) >= count, within)
        return self.calls_to(method)

    # --- HTTP -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_route("*", "/api/{method}", self._api)
        application.router.add_post("/respond/{key}", self._respond)
        application.router.add_get("/socket", self._socket_mode)
        return application

    # --- Socket Mode ------------------------------------------------------------------------

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A0PODBRIEF"}})  # fmt: skip
        await self._notify()
        async for frame in ws:
            if frame.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(frame.data))
                await self._notify()
        self._socket = None
        await self._notify()
        return ws

    @property
    def socket_connected(self) -> bool:
        return self._socket is not None and not self._socket.closed

    async def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver one Socket Mode envelope (slash_commands, events_api, interactive)."""
        if self._socket is None:
            raise RuntimeError("no Socket Mode client is connected")
        envelope_id = f"env-{next(self._ts)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": True}  # fmt: skip
        await self._socket.send_json(envelope)
        return envelope_id

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, _bearer(request), await _params(request))
        if method == "oauth.v2.access":
            call.params["_basic"] = request.headers.get("Authorization", "")
        self.calls.append(call)
        gate = self._holds.get(method)
        if gate is not None:
            await gate.wait()
        if self._outage is not None and self._outage[0] == method:
            status, text, content_type, headers = OUTAGES[self._outage[1]]
            await self._notify()
            return web.Response(status=status, text=text, content_type=content_type,
                                headers=headers)  # fmt: skip
        scripted = self._scripted.get(method)
        if scripted:
            status, body, headers = scripted.pop(0)
            await self._notify()
            return web.json_response(body, status=status, headers=headers)
        body = await self._answer(call)
        await self._notify()
        return web.json_response(body)

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        await self._notify()
        return web.Response(text="ok")

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _answer(self, call: Call) -> dict[str, Any]:
        if call.method == "oauth.v2.access":
            return self._oauth(call)
        if call.method == "apps.connections.open":
            if call.token != self.app_token:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": f"{self.base_url}/socket".replace("http", "ws", 1)}
        workspace = self.workspaces.get(call.token or "")
        if workspace is None:
            return {"ok": False, "error": "invalid_auth"}
        handler = getattr(self, "_" + call.method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        answer: dict[str, Any] = handler(call, workspace)
        return answer

    # --- methods --------------------------------------------------------------------------

    def _auth_test(self, call: Call, ws: Workspace) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": ws.team_name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": "BBOT",
            "is_enterprise_install": False,
        }

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _chat_postMessage(self, call: Call, ws: Workspace) -> dict[str, Any]:
        channel = _dm_channel(str(call.params.get("channel", "")))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        posted = Posted(
            channel=channel,
            ts=self._next_ts(),
            text=str(call.params.get("text", "")),
            blocks=list(call.params.get("blocks") or []),
            thread_ts=call.params.get("thread_ts"),
        )
        self.messages.append(posted)
        return {"ok": True, "channel": channel, "ts": posted.ts, "message": {"text": posted.text}}

    def _chat_postEphemeral(self, call: Call, ws: Workspace) -> dict[str, Any]:
        posted = Posted(
            channel=str(call.params.get("channel", "")),
            ts=self._next_ts(),
            text=str(call.params.get("text", "")),
            blocks=list(call.params.get("blocks") or []),
            user=call.params.get("user"),
        )
        self.ephemeral.append(posted)
        return {"ok": True, "message_ts": posted.ts}

    def _conversations_open(self, call: Call, ws: Workspace) -> dict[str, Any]:
        users = str(call.params.get("users", ""))
        return {"ok": True, "channel": {"id": _dm_channel(users)}}

    def _conversations_info(self, call: Call, ws: Workspace) -> dict[str, Any]:
        channel = str(call.params.get("channel", ""))
        return {"ok": True, "channel": {"id": channel, "is_im": channel.startswith("D")}}

    def _views_publish(self, call: Call, ws: Workspace) -> dict[str, Any]:
        view = call.params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        record = {"user_id": call.params.get("user_id"), "view": view}
        self.views.append(record)
        return {"ok": True, "view": {"id": f"V{len(self.views)}", **(view or {})}}

    def _users_info(self, call: Call, ws: Workspace) -> dict[str, Any]:
        user = self.users.get(str(call.params.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _oauth(self, call: Call) -> dict[str, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if call.params.get("_basic") != f"Basic {expected}":
            return {"ok": False, "error": "invalid_client_id"}
        workspace = self.oauth_codes.pop(str(call.params.get("code", "")), None)
        if workspace is None:
            return {"ok": False, "error": "invalid_code"}
        self.workspaces[workspace.bot_token] = workspace
        return {
            "ok": True,
            "app_id": "A0PODBRIEF",
            "authed_user": {"id": "UINSTALLER"},
            "scope": "chat:write,commands",
            "token_type": "bot",
            "access_token": workspace.bot_token,
            "bot_user_id": workspace.bot_user_id,
            "team": {"id": workspace.team_id, "name": workspace.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }


def _dm_channel(channel: str) -> str:
    # Posting to a user id lands in the app's DM with that user, as on real Slack.
    return "D" + channel[1:] if channel.startswith(("U", "W")) else channel


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ") if header.startswith("Bearer ") else None


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        form = await request.post()
        params.update({key: str(value) for key, value in form.items()})
    token = params.pop("token", None)
    if token and "Authorization" not in request.headers:
        params["_form_token"] = token
    return params
