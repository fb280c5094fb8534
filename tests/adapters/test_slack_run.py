"""`podbrief run` as a real process: Bolt's variables switch Slack on in HTTP mode."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx

from tests.cli_process import PODBRIEF, clean_env, free_port
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import BOT_TOKEN, SIGNING_SECRET, TEAM, USER, SlackSide
from tests.fakes.telegram_api import TelegramApiEmulator
from tests.http_server import serve

DM = "D" + USER[1:]


async def until_listening(port: int) -> None:
    """Wait until the shared server accepts connections (it listens before Slack starts)."""
    async with asyncio.timeout(30):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0)  # refused at once; just yield to the loop
                continue
            writer.close()
            await writer.wait_closed()
            return


async def start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(PODBRIEF), "run", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def test_run_serves_slack_events_over_http_and_stops_on_sigterm(tmp_path: Path) -> None:
    fake = FakeSlack()
    fake.add_workspace(TEAM, BOT_TOKEN)
    fake.add_user(USER)
    port = free_port()
    async with serve(fake.app()) as url:
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            PODBRIEF_SLACK_API_URL=f"{url}/api/",
            PODBRIEF_HTTP_PORT=str(port),
        )
        process = await start(env)
        try:
            await fake.wait_calls("auth.test", within=90)  # the token is checked at start
            await until_listening(port)
            async with httpx.AsyncClient() as http:
                side = SlackSide(http, f"http://127.0.0.1:{port}", url)
                assert (await side.command("help", channel=DM)).status_code == 200
                body, form = side.command_body("help"), "application/x-www-form-urlencoded"
                assert (await side.send(body, form, secret="wrong")).status_code == 401
            await fake.wait_for(lambda: len(fake.in_channel(DM)) >= 1, within=60)
            assert "brief" in fake.in_channel(DM)[0].block_text().lower()
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()


async def test_run_with_a_refused_token_says_so(tmp_path: Path) -> None:
    fake = FakeSlack()  # knows no workspace: every token is invalid_auth
    async with serve(fake.app()) as url:
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-revoked",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            PODBRIEF_SLACK_API_URL=f"{url}/api/",
            PODBRIEF_HTTP_PORT=str(free_port()),
        )
        process = await start(env)
        async with asyncio.timeout(90):
            output, _ = await process.communicate()
    assert process.returncode == 1
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in output.decode()


async def test_run_with_half_a_slack_setup_names_what_is_missing(tmp_path: Path) -> None:
    process = await start(clean_env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN))
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    assert process.returncode == 1
    assert "SLACK_APP_TOKEN" in output.decode() and "SLACK_SIGNING_SECRET" in output.decode()


async def test_slack_and_telegram_share_one_http_server(tmp_path: Path) -> None:
    fake, telegram = FakeSlack(), TelegramApiEmulator()
    fake.add_workspace(TEAM, BOT_TOKEN)
    fake.add_user(USER)
    port = free_port()
    async with serve(fake.app()) as url, serve(telegram.app()) as telegram_url:
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            PODBRIEF_SLACK_API_URL=f"{url}/api/",
            PODBRIEF_TELEGRAM_TOKEN=telegram.token,
            PODBRIEF_TELEGRAM_BASE_URL=telegram.base_url(telegram_url),
            PODBRIEF_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook/telegram",
            PODBRIEF_TELEGRAM_WEBHOOK_SECRET="s3cret-token_for-the-webhook",
            PODBRIEF_HTTP_PORT=str(port),
        )
        process = await start(env)
        try:
            await telegram.wait_for(lambda: bool(telegram.webhook_url), within=90)
            await until_listening(port)
            async with httpx.AsyncClient() as http:
                side = SlackSide(http, f"http://127.0.0.1:{port}", url)
                assert (await side.command("help", channel=DM)).status_code == 200
            await fake.wait_for(lambda: len(fake.in_channel(DM)) >= 1, within=60)
            await telegram.send_text(9003, "/help")
            [answer] = await telegram.wait_messages(9003, 1, within=60)
            assert "brief" in answer.visible_text.lower()
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                output, _ = await process.communicate()
            await telegram.close()
    assert process.returncode == 0, output.decode()
