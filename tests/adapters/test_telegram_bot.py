"""The Telegram side end to end: PTB polling a Bot API emulator over HTTP, the real engine, a
stored library in a real database. Onboarding, the brief, every button, follow-ups, groups."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.chat.types import Action
from core.db import Sessions
from core.models import SentMessage, User
from tests.adapters.telegram_harness import (  # noqa: F401 (fixtures)
    Harness,
    bot_fixture,
    library_fixture,
    tg_sessions_fixture,
)
from tests.fakes.chat_library import EPISODES, INSIGHTS
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import Sent

ADA = 5001
GROUP, ADMIN, MEMBER = -4242, 7001, 7002
CARD_BUTTONS = ["Related", "Source", "👍", "👎"]


def episode_of(headline_html: str) -> str:
    for episode_key, headline, *_ in INSIGHTS:
        if headline in headline_html:
            return EPISODES[episode_key][1]
    raise AssertionError(f"no stored insight in {headline_html!r}")


def headline_of(card: Sent) -> str:
    return card.visible_text.split("\n")[0].split(" · ", 1)[1]


def cards(messages: list[Sent]) -> list[Sent]:
    return [m for m in messages if "<blockquote>" in m.text]


async def onboard(bot: Harness, chat_id: int = ADA) -> list[Sent]:
    """/start, follow "pricing", a bare time, a bare city, Done; the first brief's messages."""
    welcome = (await bot.say(chat_id, "/start"))[0]
    answer, followed = await bot.press(chat_id, welcome, "pricing")
    assert "pricing" in followed[0].visible_text.lower()
    assert "07:30" in (await bot.say(chat_id, "07:30"))[0].visible_text
    assert "Europe/Berlin" in (await bot.say(chat_id, "Berlin"))[0].visible_text  # a bare city
    answer, brief = await bot.press(chat_id, welcome, "Done")
    assert answer.get("text") == "All set"
    assert "07:30 (Europe/Berlin)" in brief[0].visible_text
    return brief  # the first brief comes at once


async def test_acceptance_start_topics_time_brief_buttons_and_related(bot: Harness) -> None:
    brief = await onboard(bot)
    insight_cards = cards(brief)
    assert len(insight_cards) == 5
    for number, card in enumerate(insight_cards, start=1):
        assert card.parse_mode == "HTML"
        assert card.text.startswith(f"<b>#{number} · ")
        assert [b["text"] for b in card.buttons()] == CARD_BUTTONS
        assert all(len(b["callback_data"].encode()) <= 64 for b in card.buttons())
    first = insight_cards[0]
    answer, related = await bot.press(ADA, first, "Related")
    assert answer.get("text") == "Related insights"
    related_cards = cards(related)
    assert related_cards, "no related insights came back"
    subject_episode = episode_of(first.text)
    assert all(episode_of(card.text) != subject_episode for card in related_cards)
    # The same in words, right after an insight.
    typed = await bot.say(ADA, "show related insights")
    assert "Related to" in typed[0].visible_text
    assert all(episode_of(c.text) != subject_episode for c in cards(typed))


async def test_commands_are_registered_and_the_card_buttons_work(
    bot: Harness, tg_sessions: Sessions
) -> None:
    names = {c["command"] for c in bot.api.commands}
    expected = {"brief", "topics", "follow", "mute", "shows", "subscribe", "time", "timezone",
                "pause", "resume", "forget", "help"}  # fmt: skip
    assert expected <= names
    brief = await bot.say(ADA, "/brief")
    card = cards(brief)[1]
    answer, source = await bot.press(ADA, card, "Source")
    assert answer.get("text") == "Source"
    assert headline_of(card) in source[0].visible_text
    up, _ = await bot.press(ADA, card, "👍")
    down, _ = await bot.press(ADA, cards(brief)[2], "👎")
    assert up.get("text") and down.get("text")
    async with tg_sessions() as session:
        count = await session.scalar(select(func.count()).select_from(SentMessage))
    assert count == len(brief)  # every message of the brief remembers it


async def test_free_text_follow_ups(bot: Harness) -> None:
    brief = await bot.say(ADA, "/brief")
    second = cards(brief)[1]
    where = await bot.say(ADA, "where is #2 from?")
    assert headline_of(second) in where[0].visible_text
    search = await bot.say(ADA, "what did they say about pricing?")
    assert "pricing" in " ".join(m.visible_text.lower() for m in search)
    more_like = await bot.say(ADA, "more like #3")
    assert more_like and "went wrong" not in more_like[0].visible_text


async def test_a_reply_to_a_brief_message_refers_to_that_brief(
    bot: Harness, clock: FakeClock
) -> None:
    yesterday = await bot.say(ADA, "/brief")
    clock.advance(timedelta(days=1))
    today = await bot.say(ADA, "/brief")
    assert headline_of(cards(today)[1]) != headline_of(cards(yesterday)[1])
    replied = await bot.say(ADA, "source #2", reply_to=cards(yesterday)[0].message_id)
    assert headline_of(cards(yesterday)[1]) in replied[0].visible_text
    plain = await bot.say(ADA, "source #2")
    assert headline_of(cards(today)[1]) in plain[0].visible_text


async def test_forged_malformed_and_stale_buttons_get_a_polite_answer(bot: Harness) -> None:
    brief = await bot.say(ADA, "/brief")
    card = cards(brief)[0]
    for data in ("nonsense", "drop_tables|1|", "related|999999|", "x" * 100, "related|abc|"):
        answer, said = await bot.press_data(ADA, card, data)
        assert answer.get("text"), f"no toast for {data!r}"
        assert "went wrong" not in said[0].visible_text
    # The bot is still fine afterwards.
    assert "brief" in (await bot.say(ADA, "/help"))[0].visible_text.lower()


async def test_groups_have_their_own_settings_only_admins_change(
    bot: Harness, tg_sessions: Sessions
) -> None:
    bot.api.group_chat(GROUP, "Founders", admins={ADMIN})
    refused = await bot.say(GROUP, "/time 09:15", from_id=MEMBER)
    assert "admin" in refused[0].visible_text.lower()
    ok = await bot.say(GROUP, "/time@podbrief_bot 09:15", from_id=ADMIN)
    assert "09:15" in ok[0].visible_text
    brief = await bot.say(GROUP, "/brief", from_id=MEMBER)
    assert len(cards(brief)) == 5
    # Chatter not meant for the bot gets no answer; a mention does.
    assert await bot.say(GROUP, "lunch at noon?", from_id=MEMBER) == []
    mention = await bot.say(GROUP, "@podbrief_bot help", from_id=MEMBER)
    assert "brief" in mention[0].visible_text.lower()
    assert len(bot.api.messages_to(GROUP)) == 1 + 1 + len(brief) + 1
    async with tg_sessions() as session:
        group = (
            await session.execute(select(User).where(User.external_id == str(GROUP)))
        ).scalar_one()
        person = await session.scalar(select(User).where(User.external_id == str(MEMBER)))
    assert (group.kind, group.delivery_time) == ("group", "09:15")
    assert person is None  # the group's settings are the group's, not a member's


async def test_forget_deletes_the_chat_after_the_confirmation_button(
    bot: Harness, tg_sessions: Sessions
) -> None:
    await bot.say(ADA, "/brief")
    asked = await bot.say(ADA, "/forget")
    _, gone = await bot.press(ADA, asked[0], "Yes, forget")
    assert gone[0].visible_text
    async with tg_sessions() as session:
        users = await session.scalar(select(func.count()).select_from(User))
        remembered = await session.scalar(select(func.count()).select_from(SentMessage))
    assert (users, remembered) == (0, 0)


async def test_a_stale_action_for_a_deleted_insight_is_answered(bot: Harness) -> None:
    brief = await bot.say(ADA, "/brief")
    stale = Action("related", 10_000).encode()
    answer, said = await bot.press_data(ADA, cards(brief)[0], stale)
    assert answer.get("text")
    assert said[0].visible_text


async def test_a_shared_location_sets_the_time_zone(bot: Harness, tg_sessions: Sessions) -> None:
    await bot.say(ADA, "/start")
    await bot.api.send_location(ADA, 52.52, 13.405)
    await bot.handled(bot.api.last_update_id)
    assert "Europe/Berlin" in bot.api.messages_to(ADA)[-1].visible_text
    async with tg_sessions() as session:
        zone = await session.scalar(select(User.timezone).where(User.external_id == str(ADA)))
    assert zone == "Europe/Berlin"


async def test_the_compact_setting_makes_the_brief_one_message(bot: Harness) -> None:
    assert "compact" in {c["command"] for c in bot.api.commands}  # in Telegram's command menu
    await bot.say(ADA, "/compact on")
    [brief] = await bot.say(ADA, "/brief")
    assert all(f"#{n} · " in brief.visible_text for n in range(1, 6))
    rows = brief.reply_markup["inline_keyboard"] if brief.reply_markup else []
    assert [row[0]["text"] for row in rows] == [f"Related #{n}" for n in range(1, 6)]
    # A list of insights comes compact too: one message, not a heading and one per card
    # (each of which would take a second of the chat's Telegram pace).
    _, [related] = await bot.press(ADA, brief, "Related #2")
    assert "Related to" in related.visible_text and "① · " in related.visible_text
    rows = related.reply_markup["inline_keyboard"] if related.reply_markup else []
    assert rows and rows[0][0]["text"] == "Related ①"
    await bot.say(ADA, "compact off")  # and back to one message per insight
    brief_cards = cards(await bot.say(ADA, "/brief"))
    assert len(brief_cards) == 5
    _, listed = await bot.press(ADA, brief_cards[1], "Related")
    assert len(listed) > 1 and "Related to" in listed[0].visible_text


async def test_a_sticker_in_a_private_chat_gets_words_not_silence(bot: Harness) -> None:
    before = len(bot.api.messages_to(ADA))
    await bot.api.send_sticker(ADA)
    await bot.handled(bot.api.last_update_id)
    [answer] = bot.api.messages_to(ADA)[before:]
    assert "didn't get that" in answer.visible_text and "help" in answer.visible_text
