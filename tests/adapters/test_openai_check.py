"""`podbrief llm check` against a local OpenAI-compatible server, in plain words."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import build
from bot.llm_check import OFFLINE, run_llm_check
from bot.settings import Secrets, Settings
from bot.wiring import (
    NotConfigured,
    Services,
    build_embedder,
    build_extractor,
    build_transcriber,
    open_services,
)
from core.llm.extractor import LlmInsightExtractor
from tests.fakes.clock import FakeClock
from tests.fakes.openai_server import FakeOpenAI, Hang, Reply, Status, running


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture
async def base_url(fake: FakeOpenAI) -> AsyncIterator[str]:
    async with running(fake) as url:
        yield url


async def services_for(
    tmp_path: Path, key: str | None, base_url: str | None, llm_timeout: float = 120.0
) -> Services:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", llm_timeout_seconds=llm_timeout
    )
    secrets = Secrets(OPENAI_API_KEY=key, OPENAI_BASE_URL=base_url)
    return await open_services(settings, secrets, FakeClock())


async def test_a_working_server_passes_every_check(
    tmp_path: Path, fake: FakeOpenAI, base_url: str
) -> None:
    fake.script.append(Reply(content='{"ok": true, "word": "ready"}'))
    services = await services_for(tmp_path, "sk-test", base_url)
    try:
        lines = await run_llm_check(services)
    finally:
        await services.aclose()
    assert all(line.ok for line in lines), lines
    texts = "\n".join(line.text for line in lines)
    assert f"Connected to {base_url}: it offers 2 models." in texts
    assert "The chat model gpt-4o-mini is available." in texts
    assert "Structured output (JSON schema) works" in texts
    assert "Embeddings work (openai:text-embedding-3-small, 64 dimensions)." in texts
    assert "Spent today:" in texts


async def test_missing_structured_output_and_models_are_said_plainly(
    tmp_path: Path, fake: FakeOpenAI, base_url: str
) -> None:
    fake.models = ["llama3"]
    fake.supports_json_schema = False
    services = await services_for(tmp_path, "sk-test", base_url)
    try:
        lines = await run_llm_check(services)
    finally:
        await services.aclose()
    failed = [line.text for line in lines if not line.ok]
    assert any("does not list the chat model gpt-4o-mini" in t for t in failed)
    assert any("PODBRIEF_EMBEDDING_MODEL" in t for t in failed)
    assert any(
        t.startswith("Structured output (JSON schema) does not work") and "(400)" in t
        for t in failed
    )


async def test_without_a_key_everything_stays_offline(tmp_path: Path) -> None:
    services = await services_for(tmp_path, None, None)
    try:
        lines = await run_llm_check(services)
        extractor = build_extractor(services.settings, services)
        embedder = build_embedder(services.settings, services)
    finally:
        await services.aclose()
    assert [(line.ok, line.text) for line in lines] == [(False, OFFLINE)]
    assert extractor.name == "offline" and not embedder.name.startswith("openai")


async def test_with_a_key_auto_chooses_the_llm_and_the_api_embeddings(
    tmp_path: Path, base_url: str
) -> None:
    services = await services_for(tmp_path, "sk-test", base_url)
    try:
        extractor = build_extractor(services.settings, services)
        embedder = build_embedder(services.settings, services)
    finally:
        await services.aclose()
    assert isinstance(extractor, LlmInsightExtractor) and extractor.name == "llm:gpt-4o-mini"
    assert embedder.name == "openai:text-embedding-3-small"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


async def test_an_unreachable_server_is_said_plainly_and_at_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    services = await services_for(tmp_path, "sk-test", url, llm_timeout=2.0)
    started = time.monotonic()
    try:
        lines = await run_llm_check(services)
    finally:
        await services.aclose()
    # Extraction's retries (1+2+4+8+16 s of backoff) would take over half a minute.
    assert time.monotonic() - started < 10
    assert [(line.ok, line.text) for line in lines] == [
        (False, f"Could not talk to {url}: listing the models failed: the server could not be "
         "reached; try again later.")
    ]  # fmt: skip


async def test_a_hanging_or_failing_server_is_asked_once_within_the_timeout(
    tmp_path: Path, fake: FakeOpenAI, base_url: str
) -> None:
    fake.script += [Hang(), Status(503, retry_after="30")]  # the probe hangs; embeddings fail
    services = await services_for(tmp_path, "sk-test", base_url, llm_timeout=0.5)
    try:
        lines = await run_llm_check(services)
    finally:
        await services.aclose()
    failed = [line.text for line in lines if not line.ok]
    assert failed == [
        "Structured output (JSON schema) does not work: the structured completion failed: "
        "the server did not answer in time; try again later.",
        "Embeddings do not work: embedding failed: the server answered with an error (503); "
        "try again later.",
    ]
    assert len(fake.chat_requests()) == 1 and fake.embedding_calls == 0


async def test_transcription_stays_off_with_a_key_until_it_is_switched_on(
    tmp_path: Path, base_url: str
) -> None:
    assert Settings().transcription_enabled is False  # the shipped default
    services = await services_for(tmp_path, "sk-test", base_url)
    try:
        off = build_transcriber(services)
        services.settings.transcription_enabled = True
        on = build_transcriber(services)
    finally:
        await services.aclose()
    assert off is None and on is not None and on.model == "whisper-1"


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("PODBRIEF_EXTRACTOR", "llm", 'extractor "llm" needs OPENAI_API_KEY'),
        ("PODBRIEF_EMBEDDER", "openai", 'embedder "openai" needs OPENAI_API_KEY'),
        ("PODBRIEF_EMBEDDER", "bert", "embedder 'bert' is not available"),
    ],
)
def test_asking_for_the_model_without_a_key_is_one_plain_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, value: str, said: str
) -> None:
    monkeypatch.setenv("PODBRIEF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PODBRIEF_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("PODBRIEF_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv(setting, value)
    result = CliRunner().invoke(build(), ["ingest"])
    assert result.exit_code == 2 and not isinstance(result.exception, NotConfigured)
    assert said in " ".join(result.output.replace("│", " ").split())
