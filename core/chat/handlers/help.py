"""Help, the command list adapters register, and the answer to input nobody understood."""

from __future__ import annotations

from core.chat.turn import Deps, Turn
from core.chat.types import Action, Button, Buttons, Reply, Text

COMMANDS: list[tuple[str, str]] = [
    ("start", "Set up: pick topics, delivery time and time zone"),
    ("brief", "Today's top 5 insights"),
    ("related", "Related insights for an item: /related 2"),
    ("source", "Show, episode, link and quote of an item: /source 1"),
    ("more", "More from the same episode: /more 3"),
    ("topics", "Topics you follow or muted, and what there is"),
    ("follow", "Follow a topic: /follow pricing"),
    ("mute", "Mute a topic: /mute crypto"),
    ("search", "Search the insights: /search pricing"),
    ("shows", "The shows I follow"),
    ("subscribe", "Add a podcast by its feed URL"),
    ("time", "Delivery time: /time 08:00"),
    ("timezone", "Your time zone: /timezone Europe/Berlin"),
    ("feed", "Your briefs as a private Atom feed: /feed (feed reset: a new URL)"),
    ("compact", "Briefs and lists as one compact message, or one per insight: /compact on|off"),
    ("pause", "Pause daily briefs"),
    ("resume", "Resume daily briefs"),
    ("forget", "Delete everything about this chat"),
    ("help", "What you can say"),
]

EXAMPLES = [
    ("brief", "today's top 5"),
    ("related 2 / show related insights", "insights related to #2 / to the last one"),
    ("source 1 / where is this from?", "show, episode, link, quote and timestamp"),
    ("more from this episode", "other insights from the same episode"),
    ("👍 2 / 👎 4 / more like 3", "feedback that shapes your next briefs"),
    ("less about crypto", "fewer insights on a topic"),
    ("topics / follow pricing / mute crypto", "your topics"),
    ("anything about pricing?", "search what the shows said"),
    ("shows / subscribe <feed URL>", "the shows, and adding one"),
    ("time 07:30 / timezone Berlin", "when your daily brief arrives"),
    ("pause / resume / forget", "stop, restart, or delete this chat's data"),
]


def help_reply() -> Reply:
    lines = [f"• {say} — {what}" for say, what in EXAMPLES]
    return Reply(
        parts=(
            Text("What you can say", "heading"),
            Text("\n".join(lines)),
            Text("“#2” means item 2 of the last brief shown in this chat.", "note"),
            Buttons((Button("Today's brief", Action("brief")), Button("Topics", Action("topics")))),
        )
    )


async def show_help(deps: Deps, turn: Turn) -> Reply:
    return help_reply()


async def not_understood(deps: Deps, turn: Turn) -> Reply:
    said = turn.intent.arg or (turn.message.text or "").strip()
    opener = f"Sorry, I didn't understand “{said[:80]}”." if said else "Sorry, I didn't get that."
    return Reply(
        parts=(
            Text(opener),
            Text(
                "Try 'brief', 'related 2', 'source 1', 'more like 3', 'mute crypto', "
                "'anything about pricing?' or 'help' for everything I understand."
            ),
        )
    )


def refused_by_group(action: str) -> Reply:
    return Reply.text(
        f"Only this group's admins can {action}. Everyone can ask for the brief, related "
        "insights, sources and search.",
        notice="Admins only",
    )
