"""The console chat loop: one line in, one rendered reply out, until 'quit' or end of input."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from rich.console import Console

from adapters.console.render import pressable, render_reply
from core.chat.types import Button, ChatRef, IncomingMessage, Reply, Sender
from core.ports import ChatEngine

QUIT_WORDS = {"quit", "exit", "bye", ":q", "/quit"}


def console_chat(name: str) -> ChatRef:
    return ChatRef(platform="console", chat_id=name)


async def _read_line(stream: TextIO, console: Console, interactive: bool) -> str | None:
    if interactive:
        try:
            return await asyncio.to_thread(console.input, "[bold green]you>[/] ")
        except EOFError:
            return None
    line = await asyncio.to_thread(stream.readline)
    return None if line == "" else line.rstrip("\r\n")


def message_for(
    chat: ChatRef, sender: Sender, line: str, buttons: dict[str, Button]
) -> IncomingMessage:
    """Typing a button's label presses it; anything else is a chat message."""
    button = buttons.get(line.strip().lower())
    if button is not None:
        return IncomingMessage(chat=chat, sender=sender, action_data=button.action.encode())
    return IncomingMessage(chat=chat, sender=sender, text=line)


async def chat_loop(
    engine: ChatEngine,
    chat: ChatRef,
    console: Console,
    *,
    stream: TextIO | None = None,
    last_reply: Reply | None = None,
) -> int:
    """Answer each line; returns how many lines were answered. Lines come from ``stream`` (stdin
    by default), read line by line when it is not a terminal so piped follow-ups work."""
    source = stream or sys.stdin
    interactive = source.isatty()
    sender = Sender(user_id=chat.chat_id, display_name=chat.chat_id)
    buttons = pressable(last_reply) if last_reply else {}
    answered = 0
    if interactive:
        console.print("[dim]Ask a follow-up ('help' lists them, 'quit' leaves).[/]")
    while True:
        line = await _read_line(source, console, interactive)
        if line is None or line.strip().lower() in QUIT_WORDS:
            break
        if not line.strip():
            continue
        if not interactive:
            console.print(f"[bold green]you>[/] {line}")
        reply = await engine.handle(message_for(chat, sender, line, buttons))
        render_reply(console, reply)
        console.print()
        buttons = pressable(reply)
        answered += 1
    return answered
