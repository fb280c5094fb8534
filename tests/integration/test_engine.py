"""The conversation engine over a real database (SQLite and PostgreSQL) and a stored library."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.chat.engine import ConversationEngine
from core.chat.intents import Intent
from core.chat.types import (
    Action,
    Buttons,
    ChatRef,
    IncomingMessage,
    InsightCard,
    Reply,
    Sender,
    Text,
)
from core.db import Sessions
from core.models import ChatContext, Feedback, TopicPreference, User
from core.people.status import deactivate_recipient
from core.topics.normalise import normalise_topic
from tests.fakes.chat_library import Library, build_library, related_in_library
from tests.fakes.clock import FakeClock
from tests.fakes.fetcher import FakeFetcher

ALICE = ChatRef(platform="console", chat_id="alice")
BOB = ChatRef(platform="console", chat_id="bob")
GROUP = ChatRef(platform="telegram", chat_id="-100200", is_group=True)


class Chat:
    """One chat talking to the engine."""

    def __init__(self, engine: ConversationEngine, chat: ChatRef, sender: Sender) -> None:
        self.engine, self.chat, self.sender = engine, chat, sender

    async def say(self, text: str, reply_to_brief_id: int | None = None) -> Reply:
        message = IncomingMessage(
            chat=self.chat, sender=self.sender, text=text, reply_to_brief_id=reply_to_brief_id
        )
        return await self.engine.handle(message)

    async def press(self, action: Action) -> Reply:
        payload = action.encode()  # what an adapter round-trips through the platform
        return await self.engine.handle(
            IncomingMessage(chat=self.chat, sender=self.sender, action_data=payload)
        )

    async def press_raw(self, payload: str) -> Reply:
        return await self.engine.handle(
            IncomingMessage(chat=self.chat, sender=self.sender, action_data=payload)
        )


def text_of(reply: Reply) -> str:
    out = []
    for part in reply.parts:
        if isinstance(part, Text):
            out.append(part.text)
        elif isinstance(part, InsightCard):
            out.append(f"{part.headline} | {part.body} | {part.quote} | {part.show_title}")
        elif isinstance(part, Buttons):
            out.append(" ".join(b.label for b in part.buttons))
    return "\n".join(out)


def buttons_of(reply: Reply) -> list[Action]:
    return [b.action for p in reply.parts if isinstance(p, Buttons) for b in p.buttons]


@pytest.fixture
async def lib(sessions: Sessions, clock: FakeClock) -> Library:
    return await build_library(sessions, clock.now())


@pytest.fixture
def fetcher(shared_data: Path) -> FakeFetcher:
    body = (shared_data / "feeds" / "podcastindex__example.xml").read_bytes()
    return FakeFetcher(responses={"https://feeds.example.org/show.xml": body})


@pytest.fixture
def bot(
    sessions: Sessions, clock: FakeClock, lib: Library, fetcher: FakeFetcher
) -> ConversationEngine:
    return ConversationEngine(sessions, clock, embedder=lib.embedder, fetcher=fetcher)


def alice(engine: ConversationEngine) -> Chat:
    return Chat(engine, ALICE, Sender("alice", "Alice"))


async def test_brief_is_five_numbered_cards_with_buttons(bot: ConversationEngine) -> None:
    reply = await alice(bot).say("today's brief")
    assert reply.brief_id is not None
    assert [c.position for c in reply.cards] == [1, 2, 3, 4, 5]
    for card in reply.cards:
        names = [b.action.name for b in card.buttons]
        assert names == ["related", "source", "up", "down"]
        assert all(b.action.insight_id == card.insight_id for b in card.buttons)
        assert all(len(b.action.encode().encode()) <= 64 for b in card.buttons)
    again = await alice(bot).say("/brief")
    assert again.brief_id == reply.brief_id  # the same brief all day
    assert [c.insight_id for c in again.cards] == [c.insight_id for c in reply.cards]


async def test_related_source_and_follow_ups_use_this_chats_brief(
    bot: ConversationEngine, lib: Library
) -> None:
    chat = alice(bot)
    brief = await chat.say("brief")
    second = brief.cards[1].insight_id
    related = await chat.say("related 2")
    assert [c.insight_id for c in related.cards] == related_in_library(lib, second)
    assert brief.cards[1].headline in text_of(related)

    source = await chat.say("where is #1 from?")
    first = brief.cards[0]
    body = text_of(source)
    assert first.show_title in body and first.episode_title in body and first.quote in body
    assert first.speaker is not None and first.speaker in body
    # "show related insights" right after an insight means that insight.
    follow_up = await chat.say("show related insights")
    assert [c.insight_id for c in follow_up.cards] == related_in_library(lib, first.insight_id)
    assert "Related to #1" in text_of(follow_up)  # named by its number in this chat's brief


async def test_more_from_this_episode_lists_its_other_insights(
    bot: ConversationEngine, lib: Library
) -> None:
    chat = alice(bot)
    await chat.say("brief")
    await chat.say("search Usage-based pricing")
    reply = await chat.say("more from this episode")
    assert [c.insight_id for c in reply.cards] == [lib.id_of("Price for the value")]
    assert "Pricing in the age of agents" in text_of(reply)


async def test_numbers_are_per_chat(bot: ConversationEngine) -> None:
    a = await alice(bot).say("brief")
    bob = Chat(bot, BOB, Sender("bob"))
    no_brief = await bob.say("source 2")
    assert "no brief yet" in text_of(no_brief)
    await bob.say("mute pricing")
    b = await bob.say("brief")
    assert b.brief_id != a.brief_id
    b_source = await bob.say("source 2")
    assert b.cards[1].headline in text_of(b_source)
    out_of_range = await bob.say("related 9")
    assert "isn't one of them" in text_of(out_of_range)


async def test_feedback_by_text_and_by_button(bot: ConversationEngine, sessions: Sessions) -> None:
    chat = alice(bot)
    brief = await chat.say("brief")
    up = await chat.say("👍 #2")
    assert "Noted" in text_of(up)
    await chat.say("👎 4")
    more = await chat.say("more like #3")
    assert "more like #3" in text_of(more)
    less = await chat.say("less about crypto")
    assert "crypto" in text_of(less)
    pressed = await chat.press(brief.cards[0].buttons[2].action)  # 👍 on card 1
    assert pressed.parts == () and pressed.notice
    async with sessions() as session:
        rows = (
            await session.execute(select(Feedback.kind, Feedback.insight_id, Feedback.topic))
        ).all()
    kinds = sorted((k, i, t) for k, i, t in rows)
    ids = [c.insight_id for c in brief.cards]
    assert kinds == sorted(
        [("up", ids[1], None), ("down", ids[3], None), ("more_like", ids[2], None),
         ("less_about", None, "crypto"), ("up", ids[0], None)]
    )  # fmt: skip


async def test_topics_follow_mute_and_the_next_brief_respects_the_mute(
    bot: ConversationEngine, sessions: Sessions, clock: FakeClock
) -> None:
    chat = alice(bot)
    listing = await chat.say("topics")
    assert "pricing" in text_of(listing)
    assert any(a.name == "follow" for a in buttons_of(listing))
    await chat.say("follow AI agents")
    muted = await chat.say("mute crypto")
    assert "Muted “crypto”" in text_of(muted)
    async with sessions() as session:
        prefs = dict(
            (await session.execute(select(TopicPreference.topic, TopicPreference.mode))).all()
        )
    assert prefs == {normalise_topic("AI agents"): "follow", "crypto": "mute"}
    brief = await chat.say("brief")
    assert brief.cards and all("crypto" not in c.topics for c in brief.cards)
    undo = await chat.press(buttons_of(muted)[0])
    assert "Unmuted" in text_of(undo)


async def test_search_answers_from_stored_insights(bot: ConversationEngine) -> None:
    chat = alice(bot)
    found = await chat.say("anything about pricing?")
    assert found.cards and all("pric" in text_of(Reply(parts=(c,))).lower() for c in found.cards)
    said = await chat.say("what did they say about stablecoins?")
    assert said.cards[0].headline.startswith("Stablecoins")
    nothing = await chat.say("anything about zebras?")
    assert not nothing.cards and "zebras" in text_of(nothing)


async def test_help_and_unknown_input_suggest_what_works(bot: ConversationEngine) -> None:
    chat = alice(bot)
    assert "related 2" in text_of(await chat.say("help"))
    unknown = await chat.say("purple monkey dishwasher")
    assert "didn't understand" in text_of(unknown) and "brief" in text_of(unknown)
    assert [c for c, _ in bot.commands()][:2] == ["start", "brief"]


async def test_every_card_button_works(bot: ConversationEngine, lib: Library) -> None:
    chat = alice(bot)
    card = (await chat.say("brief")).cards[0]
    related, source, up, down = (b.action for b in card.buttons)
    assert [c.insight_id for c in (await chat.press(related)).cards] == related_in_library(
        lib, card.insight_id
    )
    source_reply = await chat.press(source)
    assert card.quote in text_of(source_reply)
    assert (await chat.press(up)).notice and (await chat.press(down)).notice
    episode = next(a for a in buttons_of(source_reply) if a.name == "more_episode")
    assert "More from" in text_of(await chat.press(episode))


@pytest.mark.parametrize(
    "payload",
    ["", "garbage", "hack|1|x", "related|abc|", "related|999999|", "up||", "a|b|c|d", "x" * 200,
     "confirm_forget||wrongtoken", "source|1|" + "y" * 70],
)  # fmt: skip
async def test_forged_malformed_and_stale_buttons_get_a_polite_reply(
    bot: ConversationEngine, payload: str
) -> None:
    chat = alice(bot)
    await chat.say("brief")
    reply = await chat.press_raw(payload)
    body = text_of(reply)
    assert body and "went wrong" not in body
    assert (await chat.say("source 1")).parts  # the chat still works afterwards


async def test_a_chat_the_platform_refused_gets_its_deliveries_back_when_it_writes(
    bot: ConversationEngine, sessions: Sessions
) -> None:
    chat = alice(bot)
    await chat.say("brief")
    await deactivate_recipient(sessions, "console", "", "alice", "blocked the bot")
    assert (await chat.say("related 1")).parts  # answered, and reachable again
    async with sessions() as session:
        row = (await session.execute(select(User.active, User.inactive_reason))).one()
    assert tuple(row) == (True, None)


async def test_a_forged_button_from_an_unknown_chat_stores_nobody(
    bot: ConversationEngine, sessions: Sessions
) -> None:
    reply = await alice(bot).press_raw("x:forged")
    assert "recognise" in text_of(reply)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_in_groups_only_admins_change_settings(
    bot: ConversationEngine, sessions: Sessions
) -> None:
    member = Chat(bot, GROUP, Sender("u1", "Member", is_admin=False))
    admin = Chat(bot, GROUP, Sender("u2", "Admin", is_admin=True))
    refused = await member.say("mute crypto")
    assert "admins" in text_of(refused)
    assert "admins" in text_of(await member.say("forget"))
    assert "admins" in text_of(await member.say("time 07:00"))
    brief = await member.say("brief")  # reading is for everyone
    assert len(brief.cards) == 5
    assert "Muted" in text_of(await admin.say("mute crypto"))
    async with sessions() as session:
        group = (
            await session.execute(select(User).where(User.external_id == GROUP.chat_id))
        ).scalar_one()
        prefs = (await session.execute(select(TopicPreference.topic))).scalars().all()
    assert group.kind == "group" and prefs == ["crypto"]
    # "#2" in the group is the group's brief, for the admin too.
    assert brief.cards[1].headline in text_of(await admin.say("source 2"))


async def test_forget_needs_a_confirmation(bot: ConversationEngine, sessions: Sessions) -> None:
    chat = alice(bot)
    await chat.say("brief")
    await chat.say("👍 1")
    ask = await chat.say("forget me")
    confirm = next(a for a in buttons_of(ask) if a.name == "confirm_forget")
    assert await _count(sessions, User) == 1  # nothing deleted yet
    forged = await chat.press(Action("confirm_forget", None, "0" * 12))
    assert "expired" in text_of(forged) and await _count(sessions, User) == 1
    done = await chat.press(confirm)
    assert "deleted everything" in text_of(done)
    assert await _count(sessions, User) == 0
    assert await _count(sessions, Feedback) == 0 and await _count(sessions, ChatContext) == 0
    again = await chat.press(confirm)  # a second tap on the old button
    assert "expired" in text_of(again)


async def test_forget_by_typing_yes_and_cancel(bot: ConversationEngine, sessions: Sessions) -> None:
    chat = alice(bot)
    assert "nothing waiting" in text_of(await chat.say("yes"))
    await chat.say("forget")
    assert "Cancelled" in text_of(await chat.say("cancel"))
    assert "nothing waiting" in text_of(await chat.say("yes"))
    await chat.say("/forget")
    await chat.say("yes")
    assert await _count(sessions, User) == 0


async def test_forget_confirmation_expires(
    bot: ConversationEngine, sessions: Sessions, clock: FakeClock
) -> None:
    chat = alice(bot)
    confirm = next(a for a in buttons_of(await chat.say("forget")) if a.name == "confirm_forget")
    clock.advance(timedelta(minutes=11))
    assert "expired" in text_of(await chat.press(confirm))
    assert await _count(sessions, User) == 1


async def test_onboarding_topics_time_and_timezone(
    bot: ConversationEngine, sessions: Sessions
) -> None:
    chat = alice(bot)
    welcome = await chat.say("/start")
    follows = [a for a in buttons_of(welcome) if a.name == "follow"]
    assert "pricing" in [a.value for a in follows]
    assert "Following" in text_of(
        await chat.press(next(a for a in follows if a.value == "pricing"))
    )
    done = await chat.press(Action("onboard_done"))
    assert "All set" in text_of(done)
    assert len(done.cards) == 5 and done.brief_id is not None  # the first brief comes at once
    assert any("pricing" in card.topics for card in done.cards)  # the topic just followed
    assert "07:30" in text_of(await chat.say("time 7:30am"))
    assert "Europe/Berlin" in text_of(await chat.say("timezone Berlin"))
    assert "America/New_York" in text_of(await chat.say("my timezone is America/New_York"))
    shared = await chat.engine.handle(
        IncomingMessage(chat=ALICE, sender=chat.sender, location=(35.68, 139.69))
    )
    assert "Asia/Tokyo" in text_of(shared)
    assert "isn't a time" in text_of(await chat.say("time 25:99"))
    assert "don't know the time zone" in text_of(await chat.say("timezone Atlantis"))
    async with sessions() as session:
        user = (await session.execute(select(User))).scalar_one()
    assert (user.delivery_time, user.timezone, user.onboarded) == ("07:30", "Asia/Tokyo", True)


async def test_pause_resume(bot: ConversationEngine, sessions: Sessions) -> None:
    chat = alice(bot)
    assert "Paused" in text_of(await chat.say("pause"))
    async with sessions() as session:
        assert (await session.execute(select(User.paused))).scalar_one() is True
    assert "Resumed" in text_of(await chat.say("resume"))
    async with sessions() as session:
        assert (await session.execute(select(User.paused))).scalar_one() is False


async def test_reply_to_an_older_brief_refers_to_that_brief(
    bot: ConversationEngine, clock: FakeClock
) -> None:
    chat = alice(bot)
    first = await chat.say("brief")
    clock.advance(timedelta(days=1))
    second = await chat.say("brief")
    assert second.brief_id != first.brief_id
    reply = await chat.say("source 1", reply_to_brief_id=first.brief_id)
    assert first.cards[0].quote in text_of(reply)
    # Someone else's brief id cannot be used to read their items.
    other = Chat(bot, BOB, Sender("bob"))
    assert "isn't one of them" in text_of(
        await other.say("source 1", reply_to_brief_id=first.brief_id)
    )


async def test_shows_and_subscribe(bot: ConversationEngine) -> None:
    chat = alice(bot)
    assert "The Pricing Pod" in text_of(await chat.say("shows"))
    added = await chat.say("subscribe https://feeds.example.org/show.xml")
    assert "Subscribed" in text_of(added)
    assert "★" in text_of(await chat.say("shows"))
    local = await chat.say("subscribe file:///etc/passwd")
    assert "only http and https" in text_of(local)
    missing = await chat.say("subscribe https://feeds.example.org/nope.xml")
    assert "couldn't add that feed" in text_of(missing) and "404" in text_of(missing)


async def test_brief_for_a_chat_is_what_numbers_refer_to(bot: ConversationEngine) -> None:
    reply = await bot.brief_for(BOB)
    assert len(reply.cards) == 5 and reply.brief_id is not None
    chat = Chat(bot, BOB, Sender("bob"))
    assert reply.cards[2].headline in text_of(await chat.say("source 3"))


async def _count(sessions: Sessions, model: type[object]) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_commands_without_their_argument_ask_for_it(bot: ConversationEngine) -> None:
    chat = alice(bot)
    assert "Which topic?" in text_of(await chat.say("/follow"))
    assert "less about pricing" in text_of(await chat.say("/less"))
    assert "time 08:00" in text_of(await chat.say("/time"))
    assert "timezone Europe/Berlin" in text_of(await chat.say("/timezone"))
    assert "Which feed?" in text_of(await chat.say("/subscribe"))
    assert "What should I look for?" in text_of(await chat.say("/search"))


@pytest.mark.parametrize("query", ["100%_off", "a\\b", "'; drop table insights; --", "ünïcødé"])
async def test_search_with_odd_characters_answers_plainly(
    bot: ConversationEngine, query: str
) -> None:
    reply = await alice(bot).say(f"search {query}")
    assert "Nothing in the stored insights" in text_of(reply) or reply.cards
    assert "went wrong" not in text_of(reply)


class _BrokenRouter:
    """The far side of the router port failing, as a remote LLM can."""

    async def route(self, text: str) -> Intent:
        raise TimeoutError("the model did not answer")


class _OddRouter:
    async def route(self, text: str) -> Intent:
        return Intent("launch_rockets")


async def test_a_failing_or_odd_router_falls_back(
    sessions: Sessions, clock: FakeClock, lib: Library
) -> None:
    broken = ConversationEngine(sessions, clock, embedder=lib.embedder, router=_BrokenRouter())
    assert len((await alice(broken).say("brief")).cards) == 5
    odd = ConversationEngine(sessions, clock, router=_OddRouter())
    assert "didn't understand" in text_of(await alice(odd).say("brief"))


async def test_search_syntax_in_the_chat(bot: ConversationEngine) -> None:
    chat = alice(bot)
    narrowed = await chat.say('search pricing -"annual plans"')
    assert narrowed.cards and not any(c.headline.startswith("Annual") for c in narrowed.cards)
    bad = await chat.say("search pricing after:2026-99-01")
    assert not bad.cards and "after:2026-01-01" in text_of(bad)
    assert "went wrong" not in text_of(await chat.say('search NEAR("pricing * headline:'))
