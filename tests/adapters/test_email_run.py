"""`podbrief run` with PODBRIEF_SMTP_HOST set, as a real process: email alone is a platform,
the signup pages are served on the shared HTTP server and the confirmation mail reaches the
SMTP server; without a sender address it refuses to start in plain words."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx

from tests.cli_process import PODBRIEF, clean_env, free_port
from tests.fakes.email_site import form_field, links_in
from tests.fakes.smtp_server import smtp_sink, text_part


async def _wait_until_started(process: asyncio.subprocess.Process) -> str:
    """Read the log until the email component has started (the server listens before)."""
    assert process.stdout is not None
    seen: list[str] = []
    async with asyncio.timeout(90):
        while "email started" not in "".join(seen):
            line = (await process.stdout.readline()).decode()
            assert line, "".join(seen)
            seen.append(line)
    return "".join(seen)


async def test_run_serves_signup_and_sends_the_confirmation(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with smtp_sink() as sink:
        env = clean_env(
            tmp_path,
            PODBRIEF_HTTP_PORT=str(port),
            PODBRIEF_SMTP_HOST="127.0.0.1",
            PODBRIEF_SMTP_PORT=str(sink.port),
            PODBRIEF_SMTP_SECURITY="none",
            PODBRIEF_SMTP_SENDER="podbrief <brief@podbrief.test>",
            PODBRIEF_PUBLIC_URL=f"{url}/",
        )
        process = await asyncio.create_subprocess_exec(
            str(PODBRIEF), "run", "--role", "chat", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            log = await _wait_until_started(process)
            assert "/signup" in log and "/feeds/{token}.atom" in log
            async with httpx.AsyncClient(base_url=url) as web:
                page = await web.get("/signup")
                assert "Get your free personalized podcast brief" in page.text
                answer = await web.post(
                    "/signup",
                    data={
                        "email": "reader@example.org",
                        "delivery_time": "07:00",
                        "csrf": form_field(page.text),
                    },
                )
                assert answer.status_code == 200
            [mail] = sink.to("reader@example.org")
            [link] = links_in(text_part(mail))
            assert link.startswith(f"{url}/signup/confirm?t=")  # the public URL, no double /
            assert mail["From"] == "podbrief <brief@podbrief.test>"
            assert sink.envelopes == [("brief@podbrief.test", ["reader@example.org"])]
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()


async def test_run_without_a_sender_says_what_to_set(tmp_path: Path) -> None:
    env = clean_env(tmp_path, PODBRIEF_SMTP_HOST="127.0.0.1", PODBRIEF_HTTP_PORT=str(free_port()))
    process = await asyncio.create_subprocess_exec(
        str(PODBRIEF), "run", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    assert process.returncode == 1
    assert "PODBRIEF_SMTP_SENDER" in output.decode()
