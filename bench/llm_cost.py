"""Benchmark: LLM tokens per audio hour of the extraction's chunking strategy.

Every shared transcript (../shared/data/transcripts) goes through ``LlmInsightExtractor`` with
the real openai client, against the tests' local OpenAI-compatible server (a model that quotes
the transcript it is sent; usage counted as characters / 4, near the real tokenizers). Spend is
read back from the ``llm_calls`` table, as `podbrief stats` does. Every insight is re-checked
against its transcript. Lower tokens per audio hour is better for the same insights.

Usage: .venv/bin/python bench/llm_cost.py [--chunk-tokens N]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.openai_llm import OpenAILLM
from core.db import create_engine, migrate, session_factory
from core.domain import EpisodeInfo
from core.insights.offline.extractor import OfflineInsightExtractor
from core.llm.budget import LlmBudget, spend_between
from core.llm.cache import ExtractionStore
from core.llm.chunking import audio_seconds
from core.llm.extractor import LlmExtractorConfig, LlmInsightExtractor
from core.llm.grounding import TranscriptIndex
from core.transcripts.parse import parse_transcript
from tests.fakes.clock import FakeClock
from tests.fakes.llm_stack import add_episode
from tests.fakes.openai_server import FakeOpenAI, running

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PODBRIEF_SHARED_DATA", ROOT.parent / "shared" / "data"))


async def run(chunk_tokens: int) -> dict[str, object]:
    fake = FakeOpenAI()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/bench.sqlite3")
        await migrate(engine)
        sessions = session_factory(engine)
        clock = FakeClock()
        async with running(fake) as url:
            llm = OpenAILLM(api_key="sk-bench", base_url=url, model="gpt-4o-mini")
            extractor = LlmInsightExtractor(
                llm,
                LlmBudget(sessions, clock),
                ExtractionStore(sessions, clock),
                OfflineInsightExtractor(),
                LlmExtractorConfig(chunk_tokens=chunk_tokens),
            )
            seconds = 0.0
            insights = ungrounded = 0
            for n, path in enumerate(sorted((SHARED / "transcripts").iterdir()), start=1):
                segments = parse_transcript(path.read_bytes(), url=path.name).segments
                show = path.stem.split("__")[0]
                episode_id = await add_episode(sessions, f"{show}-{n}", path.name, segments)
                info = EpisodeInfo(episode_id, 1, show, path.stem, None, None, None)
                sent_before = len(fake.chat_requests())
                drafts = await extractor.extract(info, segments)
                chunks = len(fake.chat_requests()) - sent_before
                if chunks:
                    seconds += audio_seconds(segments)
                index = TranscriptIndex(segments)
                ungrounded += sum(1 for d in drafts if index.ground(d.quote) is None)
                insights += len(drafts)
                print(f"{path.name}: {audio_seconds(segments) / 60:.0f} min, "
                      f"{chunks} request(s), {len(drafts)} insights")  # fmt: skip
            await llm.aclose()
        spend = await spend_between(sessions, None, None)
        await engine.dispose()
    hours = seconds / 3600
    return {
        "tokens_per_audio_hour": round(spend.tokens / hours) if hours else None,
        "prompt_tokens": spend.prompt_tokens,
        "completion_tokens": spend.completion_tokens,
        "requests": spend.calls,
        "audio_hours": round(hours, 2),
        "insights": insights,
        "ungrounded_insights": ungrounded,
        "quotes_dropped": extractor.stats.quotes_dropped,
        "chunk_tokens": chunk_tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-tokens", type=int, default=LlmExtractorConfig().chunk_tokens)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.chunk_tokens))))


if __name__ == "__main__":
    main()
