"""Topics and feedback: list / follow / mute topics, 👍 👎, "more like #N", "less about X"."""

from __future__ import annotations

from sqlalchemy import func, select

from core.chat.cards import load_rows
from core.chat.turn import Deps, Refusal, Turn, label_for, remember, target_insight
from core.chat.types import Action, Button, Buttons, Reply, Text
from core.models import InsightTopic
from core.people import users as people
from core.people.settings import topic_preferences
from core.topics.normalise import normalise_topic

POPULAR_LIMIT = 12


async def popular_topics(deps: Deps, limit: int = POPULAR_LIMIT) -> list[tuple[str, int]]:
    """The topics most insights are tagged with: what there is to follow."""
    count = func.count(InsightTopic.insight_id)
    stmt = (
        select(InsightTopic.topic, count)
        .group_by(InsightTopic.topic)
        .order_by(count.desc(), InsightTopic.topic)
        .limit(limit)
    )
    async with deps.sessions() as session:
        return [(topic, int(n)) for topic, n in (await session.execute(stmt)).all()]


def topic_button(label: str, name: str, topic: str) -> Button | None:
    """A button carrying a topic, or None when the topic would not fit in 64 bytes."""
    try:
        action = Action(name, None, topic)
        action.encode()
    except ValueError:
        return None
    return Button(label, action)


async def topics(deps: Deps, turn: Turn) -> Reply:
    prefs = await topic_preferences(deps.sessions, turn.user.id)
    popular = await popular_topics(deps)
    lines = [
        "You follow: " + (", ".join(prefs["follow"]) or "nothing yet"),
        "You muted: " + (", ".join(prefs["mute"]) or "nothing"),
    ]
    parts: list[Text | Buttons] = [Text("Topics", "heading"), Text("\n".join(lines))]
    if popular:
        parts.append(Text("In the shows: " + ", ".join(f"{t} ({n})" for t, n in popular)))
        chosen = set(prefs["follow"]) | set(prefs["mute"])
        buttons = [
            b
            for t, _ in popular
            if t not in chosen and (b := topic_button(f"Follow {t}", "follow", t)) is not None
        ]
        if buttons:
            parts.append(Buttons(tuple(buttons[:8])))
    parts.append(Text("Say 'follow <topic>', 'mute <topic>' or 'unfollow <topic>'.", "note"))
    return Reply(parts=tuple(parts))


async def _tagged_count(deps: Deps, topic: str) -> int:
    stmt = select(func.count()).select_from(InsightTopic).where(InsightTopic.topic == topic)
    async with deps.sessions() as session:
        return int((await session.execute(stmt)).scalar_one())


def _topic_arg(turn: Turn) -> str:
    topic = turn.message.action.value if turn.message.action else turn.intent.arg
    if not topic.strip():
        example = {"less_about": "less about", "unmute": "unmute"}.get(turn.intent.kind)
        raise Refusal(f"Which topic? Say it like '{example or turn.intent.kind} pricing'.")
    return topic


async def follow(deps: Deps, turn: Turn) -> Reply:
    topic = await people.follow_topic(deps.sessions, turn.user.id, _topic_arg(turn))
    tagged = await _tagged_count(deps, topic)
    note = (
        f"{tagged} stored insight{'s' if tagged != 1 else ''} carry it."
        if tagged
        else "No stored insight carries it yet; I'll watch for it."
    )
    return Reply.text(
        f"Following “{topic}”: your briefs will favour it. {note}", notice=f"Following {topic}"
    )


async def mute(deps: Deps, turn: Turn) -> Reply:
    topic = await people.mute_topic(deps.sessions, turn.user.id, _topic_arg(turn))
    undo = topic_button("Undo", "unmute", topic)
    parts: list[Text | Buttons] = [
        Text(f"Muted “{topic}”: insights tagged with it won't be in your briefs.")
    ]
    if undo is not None:
        parts.append(Buttons((undo,)))
    return Reply(parts=tuple(parts), notice=f"Muted {topic}")


async def unfollow(deps: Deps, turn: Turn) -> Reply:
    raw = _topic_arg(turn)
    topic = normalise_topic(raw)
    if await people.unfollow(deps.sessions, turn.user.id, raw):
        word = "Unmuted" if turn.intent.kind == "unmute" else "Stopped following"
        return Reply.text(f"{word} “{topic}”.", notice=f"{word} {topic}")
    return Reply.text(f"You neither follow nor mute “{topic}”. Say 'topics' to see yours.")


async def _feedback_on_insight(deps: Deps, turn: Turn, kind: str) -> tuple[int, str, str]:
    insight_id = await target_insight(deps, turn)
    rows = await load_rows(deps.sessions, [insight_id])
    if insight_id not in rows:
        raise Refusal("That insight is no longer stored. Say 'brief' for today's.")
    await people.record_feedback(
        deps.sessions, turn.user.id, kind, insight_id=insight_id, now=deps.clock.now()
    )
    await remember(deps, turn, insight_id=insight_id)
    label = await label_for(deps, turn, insight_id)
    return insight_id, rows[insight_id].insight.headline, label


async def thumbs_up(deps: Deps, turn: Turn) -> Reply:
    _, headline, which = await _feedback_on_insight(deps, turn, "up")
    if turn.from_button:  # a toast is enough for a tap; a chat message would be noise
        return Reply(notice="👍 Thanks, noted")
    return Reply.text(f"👍 Noted for {which} (“{headline}”).", notice="👍 Thanks, noted")


async def thumbs_down(deps: Deps, turn: Turn) -> Reply:
    _, headline, which = await _feedback_on_insight(deps, turn, "down")
    if turn.from_button:
        return Reply(notice="👎 Thanks, you'll see less like it")
    return Reply.text(
        f"👎 Noted for {which} (“{headline}”): you'll see less like it.",
        notice="👎 Thanks, noted",
    )


async def more_like(deps: Deps, turn: Turn) -> Reply:
    insight_id, headline, which = await _feedback_on_insight(deps, turn, "more_like")
    rows = await load_rows(deps.sessions, [insight_id])
    topics = rows[insight_id].insight.topics if insight_id in rows else []
    about = f" Topics: {', '.join(topics)}." if topics else ""
    return Reply.text(
        f"Got it: more like {which} (“{headline}”) in your next briefs.{about}",
        notice="More like this",
    )


async def less_about(deps: Deps, turn: Turn) -> Reply:
    raw = _topic_arg(turn)
    feedback = await people.record_feedback(
        deps.sessions, turn.user.id, "less_about", topic=raw, now=deps.clock.now()
    )
    topic = feedback.topic or raw
    mute_button = topic_button(f"Mute {topic} entirely", "mute", topic)
    parts: list[Text | Buttons] = [Text(f"Okay, less about “{topic}” from now on.")]
    if mute_button is not None:
        parts.append(Buttons((mute_button,)))
    return Reply(parts=tuple(parts), notice=f"Less about {topic}")
