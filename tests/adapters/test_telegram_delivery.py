"""Delivery over the emulator: blocked users, 429 retry_after, network errors, long texts,
groups that became supergroups, and the flood limits, each message sent exactly once."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from adapters.telegram.limits import RateLimits
from core.chat.types import ChatRef, Reply, Text
from core.db import (
    Sessions,
)
from core.delivery.errors import MaybeSent, RateLimited, RecipientGone, TransientSendError
from core.models import User
from core.people.status import inactive_reason
from tests.adapters.telegram_harness import (  # noqa: F401 (fixtures)
    Harness,
    bot_fixture,
    library_fixture,
    running_bot,
    tg_sessions_fixture,
)
from tests.fakes.chat_library import Library
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import Attempt, utf16_len

ADA = 5001
ADA_CHAT = ChatRef("telegram", str(ADA))
GROUP, SUPERGROUP, ADMIN = -4242, -1004242, 7001


def sends_to(bot: Harness, chat_id: int) -> list[Attempt]:
    return [a for a in bot.api.attempts if a.method == "sendMessage" and a.chat_id == chat_id]


async def test_a_user_who_blocked_the_bot_is_marked_inactive_and_then_skipped(
    bot: Harness, tg_sessions: Sessions
) -> None:
    await bot.say(ADA, "/start")
    brief = await bot.engine.brief_for(ADA_CHAT)
    bot.api.blocked.add(ADA)
    with pytest.raises(RecipientGone, match="blocked"):
        await bot.service.messenger.send(ADA_CHAT, brief)
    assert "blocked" in (await inactive_reason(tg_sessions, "telegram", "", str(ADA)) or "")
    tried = len(sends_to(bot, ADA))
    with pytest.raises(RecipientGone):
        await bot.service.messenger.send(ADA_CHAT, brief)
    assert len(sends_to(bot, ADA)) == tried  # skipped: not even tried again
    # Unblocked and writing again: the chat is reachable again.
    bot.api.blocked.discard(ADA)
    assert await bot.say(ADA, "/help")
    assert await inactive_reason(tg_sessions, "telegram", "", str(ADA)) is None


async def test_a_retried_brief_sends_only_what_did_not_go_out(bot: Harness) -> None:
    await bot.say(ADA, "/start")
    before = len(bot.api.messages_to(ADA))
    brief = await bot.engine.brief_for(ADA_CHAT)
    # The 4th message fails more often than the rate limiter retries.
    bot.api.script("sendMessage", 502, "Bad Gateway", chat_id=ADA, skip=3, times=6)
    with pytest.raises(TransientSendError):
        await bot.service.messenger.send(ADA_CHAT, brief)
    assert len(bot.api.messages_to(ADA)) - before == 3
    rest = await bot.service.messenger.send(ADA_CHAT, brief)
    delivered = bot.api.messages_to(ADA)[before:]
    assert len(rest) == len(delivered) - 3 > 0
    assert len({m.text for m in delivered}) == len(delivered) >= 7  # each once, none lost


async def test_a_send_that_timed_out_is_reported_maybe_sent_not_repeated(
    tg_sessions: Sessions, clock: FakeClock, library: Library
) -> None:
    async with running_bot(tg_sessions, clock, library.embedder, read_timeout=0.3) as bot:
        bot.api.private_chat(ADA)
        bot.api.slow("sendMessage", 1.0, chat_id=ADA)
        with pytest.raises(MaybeSent):
            await bot.service.messenger.send(ADA_CHAT, Reply.text("hello"))
        await bot.api.wait_messages(ADA, 1)  # it did arrive, late
        assert len(sends_to(bot, ADA)) == 1  # and was not sent again


async def test_a_429_beyond_the_retries_is_reported_with_its_wait(
    tg_sessions: Sessions, clock: FakeClock, library: Library
) -> None:
    limits = RateLimits(per_chat_per_second=1000, max_retries=0)
    async with running_bot(tg_sessions, clock, library.embedder, limits=limits) as bot:
        bot.api.private_chat(ADA)
        bot.api.script("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
        with pytest.raises(RateLimited) as caught:
            await bot.service.messenger.send(ADA_CHAT, Reply.text("hello"))
        assert caught.value.retry_after == 7
        assert bot.api.messages_to(ADA) == []


async def test_blocking_the_bot_is_noticed_from_telegrams_update(
    bot: Harness, tg_sessions: Sessions
) -> None:
    await bot.say(ADA, "/start")
    await bot.api.block_bot(ADA)
    await bot.handled(bot.api.last_update_id)
    assert await inactive_reason(tg_sessions, "telegram", "", str(ADA)) == "blocked the bot"


async def test_a_group_that_removed_the_bot_is_marked_inactive(
    bot: Harness, tg_sessions: Sessions
) -> None:
    bot.api.group_chat(GROUP, "Founders", admins={ADMIN})
    await bot.say(GROUP, "/time 09:15", from_id=ADMIN)
    await bot.api.remove_bot(GROUP, by=ADMIN)
    await bot.handled(bot.api.last_update_id)
    assert await inactive_reason(tg_sessions, "telegram", "", str(GROUP)) == "removed the bot"
    group = ChatRef("telegram", str(GROUP), is_group=True)
    with pytest.raises(RecipientGone):
        await bot.service.messenger.send(group, Reply.text("anyone?"))


async def test_429_retry_after_is_honoured_and_the_message_sent_once(bot: Harness) -> None:
    bot.api.private_chat(ADA)
    bot.api.script("sendMessage", 429, "Too Many Requests: retry after 1", chat_id=ADA,
                   retry_after=1)  # fmt: skip
    answer = await bot.say(ADA, "/help")
    assert len(answer) == 1
    tries = sends_to(bot, ADA)
    assert [a.status for a in tries] == [429, 200]
    assert tries[1].at - tries[0].at >= 1.0


async def test_server_errors_are_retried_without_duplicates(bot: Harness) -> None:
    bot.api.private_chat(ADA)
    bot.api.script("sendMessage", 502, "Bad Gateway", chat_id=ADA, times=2)
    ids = await bot.service.messenger.send(ADA_CHAT, Reply.text("hello <you> & me"))
    assert len(ids) == 1
    assert [a.status for a in sends_to(bot, ADA)] == [502, 502, 200]
    assert [m.visible_text for m in bot.api.messages_to(ADA)] == ["hello <you> & me"]


async def test_a_text_over_4096_characters_is_split_at_paragraphs(bot: Harness) -> None:
    bot.api.private_chat(ADA)
    paragraphs = [f"Paragraph {i} 🎧 " + "word & <tag> " * 60 for i in range(12)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert utf16_len(text) > 2 * 4096
    ids = await bot.service.messenger.send(ADA_CHAT, Reply.text(text))
    sent = bot.api.messages_to(ADA)
    assert len(ids) == len(sent) > 1
    assert all(utf16_len(m.visible_text) <= 4096 for m in sent)
    assert all(m.visible_text.startswith("Paragraph") for m in sent)  # cut between paragraphs
    assert "\n\n".join(m.visible_text for m in sent) == text


async def test_one_huge_paragraph_is_cut_at_words_keeping_its_formatting(bot: Harness) -> None:
    bot.api.private_chat(ADA)
    text = "quote " * 1500
    await bot.service.messenger.send(ADA_CHAT, Reply(parts=(Text(text.strip(), "heading"),)))
    sent = bot.api.messages_to(ADA)
    assert len(sent) == 3  # 8,999 characters
    assert all(m.text.startswith("<b>") and m.text.endswith("</b>") for m in sent)
    assert "".join(m.visible_text for m in sent) == text.strip()


async def test_a_group_that_became_a_supergroup_is_followed(
    bot: Harness, tg_sessions: Sessions
) -> None:
    bot.api.group_chat(GROUP, "Founders", admins={ADMIN})
    await bot.say(GROUP, "/time 09:15", from_id=ADMIN)
    bot.api.migrate_group(GROUP, SUPERGROUP)
    group = ChatRef("telegram", str(GROUP), is_group=True)
    ids = await bot.service.messenger.send(group, await bot.engine.brief_for(group))
    assert len(ids) == len(bot.api.messages_to(SUPERGROUP)) >= 5
    async with tg_sessions() as session:
        stored = (await session.execute(select(User.external_id, User.delivery_time))).all()
    assert [tuple(row) for row in stored] == [(str(SUPERGROUP), "09:15")]
    # Follow-ups in the supergroup are the same chat, settings and all.
    assert "09:15" in (await bot.say(SUPERGROUP, "/time@podbrief_bot 9:15", from_id=ADMIN))[0].text


async def test_the_migration_notice_moves_the_chat_too(bot: Harness, tg_sessions: Sessions) -> None:
    bot.api.group_chat(GROUP, "Founders", admins={ADMIN})
    await bot.say(GROUP, "/time 10:45", from_id=ADMIN)
    await bot.api.announce_migration(GROUP, SUPERGROUP)
    await bot.handled(bot.api.last_update_id)
    async with tg_sessions() as session:
        ids = (await session.execute(select(User.external_id))).scalars().all()
    assert ids == [str(SUPERGROUP)]


async def test_messages_to_one_chat_and_to_a_group_are_paced(
    tg_sessions: Sessions, clock: FakeClock, library: Library
) -> None:
    limits = RateLimits(per_chat_per_second=10, group_max=4, group_period_seconds=1)
    async with running_bot(tg_sessions, clock, library.embedder, limits=limits) as bot:
        bot.api.private_chat(ADA)
        bot.api.group_chat(GROUP, "Founders", admins={ADMIN})
        four = Reply(parts=tuple(Text(f"part {i}", "heading") for i in range(4)))
        for chat in (ADA_CHAT, ChatRef("telegram", str(GROUP), is_group=True)):
            for part in four.parts:
                await bot.service.messenger.send(chat, Reply(parts=(part,)))
        private = [m.at for m in bot.api.messages_to(ADA)]
        grouped = [m.at for m in bot.api.messages_to(GROUP)]
    assert min(b - a for a, b in itertools.pairwise(private)) >= 0.09
    assert grouped[-1] - grouped[0] >= 0.9  # 2 at once, then 2 a second
    assert all(sum(1 for t in grouped if 0 <= t - start < 1) <= 4 for start in grouped)
