"""`podbrief run` as a real process: the token switches Telegram on, it long-polls the Bot API
(the emulator via PODBRIEF_TELEGRAM_BASE_URL), answers, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

from tests.cli_process import PODBRIEF, clean_env, free_port
from tests.fakes.telegram_api import TelegramApiEmulator
from tests.http_server import serve


async def test_run_polls_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    api = TelegramApiEmulator()
    async with serve(api.app()) as url:
        env = clean_env(
            tmp_path,
            PODBRIEF_TELEGRAM_TOKEN=api.token,
            PODBRIEF_TELEGRAM_BASE_URL=api.base_url(url),
        )
        process = await asyncio.create_subprocess_exec(
            str(PODBRIEF), "run", env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            await api.wait_for(lambda: bool(api.called("getUpdates")), within=60)
            assert {c["command"] for c in api.commands} >= {"brief", "forget", "help"}
            await api.send_text(9001, "/help")
            [answer] = await api.wait_messages(9001, 1, within=30)
            assert "brief" in answer.visible_text.lower()
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                output, _ = await process.communicate()
            await api.close()
    assert process.returncode == 0, output.decode()


async def test_run_serves_the_webhook_on_the_shared_http_server(tmp_path: Path) -> None:
    api = TelegramApiEmulator()
    port = free_port()
    async with serve(api.app()) as url:
        env = clean_env(
            tmp_path,
            PODBRIEF_TELEGRAM_TOKEN=api.token,
            PODBRIEF_TELEGRAM_BASE_URL=api.base_url(url),
            PODBRIEF_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook/telegram",
            PODBRIEF_TELEGRAM_WEBHOOK_SECRET="s3cret-token_for-the-webhook",
            PODBRIEF_HTTP_PORT=str(port),
        )
        # Written before the bot started: Telegram POSTs it the moment setWebhook is called.
        await api.send_text(9001, "/help")
        process = await asyncio.create_subprocess_exec(
            str(PODBRIEF), "run", env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            await api.wait_for(lambda: bool(api.webhook_url), within=60)
            assert api.webhook_secret == "s3cret-token_for-the-webhook"
            [early] = await api.wait_messages(9001, 1, within=30)
            assert "brief" in early.visible_text.lower()
            await api.send_text(9002, "/help")
            [answer] = await api.wait_messages(9002, 1, within=30)
            assert "brief" in answer.visible_text.lower()
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                output, _ = await process.communicate()
            await api.close()
    assert process.returncode == 0, output.decode()
    assert api.called("getUpdates") == []
    # The server listened before setWebhook: no POST was ever refused or retried.
    assert api.webhook_statuses == [200, 200]


async def test_run_without_any_token_says_what_to_set(tmp_path: Path) -> None:
    code, output = await run_to_exit(clean_env(tmp_path))
    assert code == 2
    assert "PODBRIEF_TELEGRAM_TOKEN" in output


async def run_to_exit(env: dict[str, str]) -> tuple[int | None, str]:
    process = await asyncio.create_subprocess_exec(
        str(PODBRIEF), "run", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    return process.returncode, output.decode()


async def test_a_refused_token_or_a_bad_secret_stop_run_with_the_reason(tmp_path: Path) -> None:
    api = TelegramApiEmulator()
    async with serve(api.app()) as url:
        wrong = clean_env(tmp_path, PODBRIEF_TELEGRAM_TOKEN="999:WRONG",
                          PODBRIEF_TELEGRAM_BASE_URL=api.base_url(url))  # fmt: skip
        code, output = await run_to_exit(wrong)
        assert code == 1 and "refused PODBRIEF_TELEGRAM_TOKEN" in output
        bad_secret = dict(wrong, PODBRIEF_TELEGRAM_TOKEN=api.token,
                          PODBRIEF_TELEGRAM_WEBHOOK_URL="https://bot.example/telegram",
                          PODBRIEF_TELEGRAM_WEBHOOK_SECRET="not allowed!")  # fmt: skip
        code, output = await run_to_exit(bad_secret)
        assert code == 1 and "PODBRIEF_TELEGRAM_WEBHOOK_SECRET" in output
        await api.close()


async def test_a_taken_http_port_stops_run_with_the_reason(tmp_path: Path) -> None:
    api = TelegramApiEmulator()
    async with serve(api.app()) as url:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = int(taken.getsockname()[1])
            env = clean_env(
                tmp_path,
                PODBRIEF_TELEGRAM_TOKEN=api.token,
                PODBRIEF_TELEGRAM_BASE_URL=api.base_url(url),
                PODBRIEF_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook/telegram",
                PODBRIEF_HTTP_PORT=str(port),
            )
            code, output = await run_to_exit(env)
        await api.close()
    assert code == 1, output
    assert f"cannot listen on 127.0.0.1:{port}" in output and "PODBRIEF_HTTP_PORT" in output
    assert api.webhook_url == ""  # never told Telegram to post to a server that is not ours
