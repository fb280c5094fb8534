"""Rich rendering of a neutral ``Reply`` for the terminal."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text as RichText

from core.chat.format import format_timestamp
from core.chat.types import Button, Buttons, InsightCard, Reply, Text


def card_renderable(card: InsightCard) -> RenderableType:
    """Numbered headline in bold, the body, the quote with speaker and time, topics, source."""
    number = f"#{card.position} " if card.position is not None else ""
    title = RichText.assemble((number, "bold cyan"), (card.headline, "bold"))
    if card.is_older:
        title.append("  (older)", style="dim")
    speaker = card.speaker or "Unknown speaker"
    quote = RichText.assemble(
        ("“", "italic"),
        (card.quote, "italic"),
        ("”", "italic"),
        (f"  — {speaker}, {format_timestamp(card.start_seconds)}", "magenta"),
    )
    lines: list[RenderableType] = [title, RichText(card.body), quote]
    if card.topics:
        lines.append(RichText("  ".join(f"#{t.replace(' ', '-')}" for t in card.topics), "green"))
    source = f"{card.show_title} · {card.episode_title}"
    lines.append(RichText(source, "dim"))
    if card.episode_url:
        lines.append(RichText(card.episode_url, "dim underline"))
    if card.page_url:
        lines.append(RichText(f"Page: {card.page_url}", "cyan underline"))
    return Panel(Group(*lines), border_style="cyan" if card.position else "blue", expand=True)


def buttons_renderable(buttons: Buttons) -> RenderableType:
    labels = "  ".join(f"[{escape(b.label)}]" for b in buttons.buttons)
    return RichText.from_markup(f"[yellow]{escape(labels)}[/yellow]")


def text_renderable(part: Text) -> RenderableType:
    style = {"heading": "bold underline", "note": "dim italic"}.get(part.style, "")
    return RichText(part.text, style)


def render_reply(console: Console, reply: Reply) -> None:
    if not reply.parts and reply.notice:
        console.print(RichText(reply.notice, "dim"))
        return
    for part in reply.parts:
        if isinstance(part, InsightCard):
            console.print(card_renderable(part))
        elif isinstance(part, Buttons):
            console.print(buttons_renderable(part))
        else:
            console.print(text_renderable(part))


def pressable(reply: Reply) -> dict[str, Button]:
    """Buttons a console user can press by typing their label (card buttons are left out:
    every card has the same four, and 'related 2' says which)."""
    out: dict[str, Button] = {}
    for part in reply.parts:
        if isinstance(part, Buttons):
            for button in part.buttons:
                out.setdefault(button.label.strip().lower(), button)
    return out
