"""The offline embedders: paraphrases find each other, vectors are normalised and stable."""

from __future__ import annotations

import numpy as np
import pytest

from core.embeddings import LsaEmbedder, WordLlamaEmbedder
from core.embeddings.lsa import LsaNotFitted

# Pairs that say the same thing with no content word in common, plus unrelated distractors.
PAIRS = [
    ("Our servers crashed overnight.", "The machines went down while we slept."),
    ("The startup ran out of money.", "The young company exhausted its funding."),
    ("Physicians recommend daily exercise.", "Doctors advise working out every day."),
    ("Buy cheap tickets early.", "Purchase inexpensive fares well in advance."),
    ("The car is very fast.", "That automobile is extremely quick."),
]
DISTRACTORS = [
    "The recipe needs two cups of flour.",
    "Penguins live in the southern hemisphere.",
    "She painted the fence bright yellow.",
    "The orchestra tuned before the concert.",
]


def rank_of_partner(vectors: np.ndarray, n_pairs: int) -> list[int]:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    ranks = []
    for i in range(n_pairs):
        order = list(np.argsort(-sims[i]))
        ranks.append(order.index(i + n_pairs) + 1)
    return ranks


async def test_wordllama_finds_paraphrases_without_shared_words() -> None:
    texts = [a for a, _ in PAIRS] + [b for _, b in PAIRS] + DISTRACTORS
    vectors = await WordLlamaEmbedder().embed(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    ranks = rank_of_partner(vectors, len(PAIRS))
    assert sum(r == 1 for r in ranks) >= 4, ranks


async def test_wordllama_is_deterministic_and_handles_empty_input() -> None:
    embedder = WordLlamaEmbedder()
    assert embedder.name == "wordllama:l2_supercat_256"
    first = await embedder.embed(["Grounded insights from podcasts."])
    again = await WordLlamaEmbedder().embed(["Grounded insights from podcasts."])
    assert np.array_equal(first, again)
    assert (await embedder.embed([])).shape == (0, 256)


async def test_lsa_is_deterministic_and_named_by_its_corpus() -> None:
    corpus = [a for a, _ in PAIRS] + [b for _, b in PAIRS] + DISTRACTORS
    one, two = LsaEmbedder(corpus, dim=8), LsaEmbedder(list(corpus), dim=8)
    assert one.name == two.name
    texts = ["the servers crashed", "doctors advise exercise"]
    assert np.array_equal(await one.embed(texts), await two.embed(texts))
    assert LsaEmbedder(corpus[:-1], dim=8).name != one.name
    vectors = await one.embed(texts)
    assert vectors.shape == (2, 8)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


async def test_lsa_without_a_corpus_fits_on_first_use() -> None:
    embedder = LsaEmbedder(dim=4)
    with pytest.raises(LsaNotFitted, match="no corpus yet"):
        _ = embedder.name
    await embedder.embed([a for a, _ in PAIRS] + DISTRACTORS)
    assert embedder.name.startswith("lsa:4:")


async def test_lsa_cannot_link_paraphrases_without_shared_words() -> None:
    # The reason WordLlama is the default: LSA only links words it saw co-occur.
    texts = [a for a, _ in PAIRS] + [b for _, b in PAIRS] + DISTRACTORS
    vectors = await LsaEmbedder(texts, dim=16).embed(texts)
    ranks = rank_of_partner(vectors, len(PAIRS))
    assert sum(r == 1 for r in ranks) <= 2, ranks


def test_wiring_builds_the_offline_engines_by_default() -> None:
    from bot.settings import Settings
    from bot.wiring import build_embedder, build_extractor
    from core.insights.offline import OfflineInsightExtractor

    assert isinstance(build_embedder(Settings(embedder="auto")), WordLlamaEmbedder)
    assert isinstance(build_embedder(Settings(embedder="lsa")), LsaEmbedder)
    assert isinstance(build_extractor(Settings(extractor="auto")), OfflineInsightExtractor)
    with pytest.raises(ValueError, match="not available"):
        build_embedder(Settings(embedder="nonsense"))
