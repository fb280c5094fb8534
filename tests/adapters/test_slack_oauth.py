"""Multi-workspace installs: the OAuth flow, stored installations, uninstall and revocation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.delivery import RecipientUnreachable
from adapters.slack.oauth import installation_store
from adapters.slack.translate import person_chat
from core.chat.types import Reply
from core.db import Sessions
from core.models import User
from core.people import users as people
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import Workspace
from tests.fakes.slack_harness import USER, Stack, slack_stack

TEAM = "T0INSTALL"
TOKEN = "xoxb-installed"
DM = "D" + USER[1:]


@pytest.fixture
async def stack(sessions: Sessions, engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Stack]:
    async with slack_stack(sessions, engine, clock, oauth=True) as built:
        built.fake.oauth_codes["good-code"] = Workspace(team_id=TEAM, bot_token=TOKEN)
        yield built


async def start_install(stack: Stack, http: httpx.AsyncClient) -> tuple[str, str]:
    """Open /slack/install: returns the state in the authorize link and the state cookie."""
    page = await http.get(f"{stack.base_url}/slack/install")
    assert page.status_code == 200
    link = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', page.text)
    assert link is not None
    query = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [stack.fake.client_id]
    assert "chat:write" in query["scope"][0] and "commands" in query["scope"][0]
    cookie = page.headers["set-cookie"].split(";")[0]
    return query["state"][0], cookie


async def test_install_stores_the_workspace_and_its_token_is_used(
    stack: Stack, sessions: Sessions
) -> None:
    async with httpx.AsyncClient() as http:
        state, cookie = await start_install(stack, http)
        forged = await http.get(
            f"{stack.base_url}/slack/oauth_redirect",
            params={"code": "good-code", "state": "forged-state"},
            headers={"Cookie": cookie},
        )
        assert forged.status_code >= 400
        assert stack.fake.calls_to("oauth.v2.access") == []  # a forged state goes no further

        done = await http.get(
            f"{stack.base_url}/slack/oauth_redirect",
            params={"code": "good-code", "state": state},
            headers={"Cookie": cookie},
        )
    assert done.status_code == 200
    assert len(stack.fake.calls_to("oauth.v2.access")) == 1
    assert stack.bot.installations is not None
    bot = await stack.bot.installations.async_find_bot(enterprise_id=None, team_id=TEAM)
    assert bot is not None and bot.bot_token == TOKEN

    await stack.slack.command("brief", team=TEAM, channel=DM)
    await stack.fake.wait_for(lambda: len(stack.fake.messages) >= 1)
    assert stack.fake.calls_to("chat.postMessage")[-1].token == TOKEN

    await uninstall_and_check(stack, sessions)


async def uninstall_and_check(stack: Stack, sessions: Sessions) -> None:
    await people.get_or_create_user(sessions, "slack", TEAM, "C0CHANNEL", kind="channel")
    response = await stack.slack.event({"type": "app_uninstalled"}, team=TEAM)
    assert response.status_code == 200
    assert stack.bot.installations is not None
    assert await stack.bot.installations.async_find_bot(enterprise_id=None, team_id=TEAM) is None
    async with sessions() as session:
        rows = (await session.scalars(select(User).where(User.workspace == TEAM))).all()
    assert len(rows) == 2
    reasons = {(r.active, r.inactive_reason) for r in rows}
    assert reasons == {(False, "slack workspace: app uninstalled")}
    with pytest.raises(RecipientUnreachable, match="not installed"):
        await stack.bot.messenger.send(person_chat(TEAM, USER), Reply.text("still there?"))


async def test_revoked_bot_tokens_are_deleted_and_deliveries_stop(
    stack: Stack, sessions: Sessions
) -> None:
    async with httpx.AsyncClient() as http:
        state, cookie = await start_install(stack, http)
        await http.get(
            f"{stack.base_url}/slack/oauth_redirect",
            params={"code": "good-code", "state": state},
            headers={"Cookie": cookie},
        )
    await people.get_or_create_user(sessions, "slack", TEAM, USER)
    event = {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}
    assert (await stack.slack.event(event, team=TEAM)).status_code == 200
    assert stack.bot.installations is not None
    assert await stack.bot.installations.async_find_bot(enterprise_id=None, team_id=TEAM) is None
    async with sessions() as session:
        row = (await session.execute(select(User).where(User.external_id == USER))).scalar_one()
    assert not row.active and row.inactive_reason == "slack workspace: tokens revoked"


def _store_diff(conn: Connection, metadata: object) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


async def test_the_migration_builds_exactly_slack_sdks_tables(engine: AsyncEngine) -> None:
    store = installation_store("111.222", engine)
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=60, engine=engine)
    for metadata in (store.metadata, states.metadata):
        async with engine.connect() as conn:
            diff = await conn.run_sync(_store_diff, metadata)
        # Every other podbrief table shows up as "remove"; anything else is a mismatch.
        assert [d for d in diff if d[0] not in ("remove_table", "remove_index")] == []
