"""What the Telegram side stores, on SQLite and PostgreSQL: message -> brief, and chat moves."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.chat.ids import brief_of_message, move_chat, remember_brief_messages
from core.chat.types import ChatRef
from core.db import Sessions, transaction
from core.models import Brief, ChatContext, SentMessage, User

GROUP = ChatRef("telegram", "-42", is_group=True)


async def _group_with_brief(sessions: Sessions, external_id: str = "-42") -> int:
    async with transaction(sessions) as session:
        user = User(platform="telegram", external_id=external_id, kind="group")
        session.add(user)
        await session.flush()
        brief = Brief(user_id=user.id, local_date=date(2026, 11, 24))
        session.add_all([brief, ChatContext(platform="telegram", chat_id=external_id)])
        await session.flush()
        return brief.id


async def test_a_message_remembers_its_brief_until_the_brief_is_gone(sessions: Sessions) -> None:
    brief_id = await _group_with_brief(sessions)
    await remember_brief_messages(sessions, GROUP, ["10", "11"], brief_id)
    await remember_brief_messages(sessions, GROUP, ["11"], brief_id)  # idempotent
    assert await brief_of_message(sessions, GROUP, "11") == brief_id
    assert await brief_of_message(sessions, GROUP, "12") is None
    other_chat = ChatRef("telegram", "-43", is_group=True)
    assert await brief_of_message(sessions, other_chat, "11") is None
    async with transaction(sessions) as session:
        await session.delete(await session.get(Brief, brief_id))
    assert await brief_of_message(sessions, GROUP, "10") is None


async def test_a_moved_chat_keeps_its_settings_context_and_messages(sessions: Sessions) -> None:
    brief_id = await _group_with_brief(sessions)
    await remember_brief_messages(sessions, GROUP, ["10"], brief_id)
    assert await move_chat(sessions, "telegram", "", "-42", "-10042") is True
    moved = ChatRef("telegram", "-10042", is_group=True)
    assert await brief_of_message(sessions, moved, "10") == brief_id
    async with sessions() as session:
        assert await session.scalar(select(User.external_id)) == "-10042"
        assert await session.scalar(select(ChatContext.chat_id)) == "-10042"
    assert await move_chat(sessions, "telegram", "", "-42", "-10042") is False  # nothing left


async def test_a_move_onto_a_known_chat_deactivates_the_old_one(sessions: Sessions) -> None:
    await _group_with_brief(sessions, "-42")
    await _group_with_brief(sessions, "-10042")
    assert await move_chat(sessions, "telegram", "", "-42", "-10042") is False
    async with sessions() as session:
        rows = (await session.execute(select(User.external_id, User.active))).all()
        messages = await session.scalar(select(func.count()).select_from(SentMessage))
    assert sorted(tuple(r) for r in rows) == [("-10042", True), ("-42", False)]
    assert messages == 0
