"""`podbrief llm check`: is the configured model server usable, said in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from adapters.openai_retry import RetryPolicy
from bot.wiring import Services, build_llm, build_llm_budget, build_openai_embedder
from core.llm.types import LlmError

# A check says what is wrong now, at once: one try each, no backoff (extraction retries).
ONE_TRY = RetryPolicy(attempts=1)


@dataclass(frozen=True, slots=True)
class CheckLine:
    ok: bool
    text: str


class _Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    word: str


OFFLINE = (
    "No OPENAI_API_KEY is set, so podbrief runs offline (offline insight engine, local "
    "embeddings). Set OPENAI_API_KEY, and OPENAI_BASE_URL for Ollama, vLLM, LM Studio or "
    "Azure OpenAI, to use a model."
)


async def run_llm_check(services: Services) -> list[CheckLine]:
    llm = build_llm(services, ONE_TRY)
    if llm is None:
        return [CheckLine(False, OFFLINE)]
    settings = services.settings
    where = services.secrets.openai_base_url or "api.openai.com"
    lines: list[CheckLine] = []
    try:
        models = await llm.list_models()
    except LlmError as exc:
        return [CheckLine(False, f"Could not talk to {where}: {exc}.")]
    lines.append(CheckLine(True, f"Connected to {where}: it offers {len(models)} models."))
    for kind, name in (("chat", settings.llm_model), ("embedding", settings.embedding_model)):
        if name in models:
            lines.append(CheckLine(True, f"The {kind} model {name} is available."))
        else:
            lines.append(
                CheckLine(False, f"The server does not list the {kind} model {name}; check "
                          f"PODBRIEF_{'LLM' if kind == 'chat' else 'EMBEDDING'}_MODEL.")
            )  # fmt: skip
    lines.append(await _structured(services))
    lines.append(await _embeddings(services))
    lines.append(await _budget(services))
    return lines


async def _structured(services: Services) -> CheckLine:
    llm = build_llm(services, ONE_TRY)
    assert llm is not None
    budget = build_llm_budget(services)
    try:
        answer = await budget.metered(
            "check",
            llm.model,
            lambda: llm.complete_structured(
                system="Answer in the JSON asked for.",
                user='Set ok to true and word to "ready".',
                output=_Probe,
                schema_name="probe",
            ),
        )
    except LlmError as exc:
        return CheckLine(False, f"Structured output (JSON schema) does not work: {exc}.")
    tokens = answer.usage.total
    return CheckLine(True, f"Structured output (JSON schema) works ({tokens} tokens used).")


async def _embeddings(services: Services) -> CheckLine:
    embedder = build_openai_embedder(services, ONE_TRY)
    assert embedder is not None
    try:
        vectors = await embedder.embed(["podbrief check"])
    except LlmError as exc:
        return CheckLine(False, f"Embeddings do not work: {exc}.")
    return CheckLine(True, f"Embeddings work ({embedder.name}, {vectors.shape[1]} dimensions).")


async def _budget(services: Services) -> CheckLine:
    settings = services.settings
    spent = await build_llm_budget(services).today()
    limits = []
    if settings.llm_daily_token_budget:
        limits.append(f"{spent.tokens:,} of {settings.llm_daily_token_budget:,} tokens")
    if settings.llm_daily_cost_budget_usd:
        limits.append(f"${spent.cost_usd:.4f} of ${settings.llm_daily_cost_budget_usd:.2f}")
    if not limits:
        return CheckLine(True, f"No daily budget is set; {spent.tokens:,} tokens used today.")
    return CheckLine(True, "Spent today: " + " and ".join(limits) + ".")
