"""A fake Embedder whose space is a handful of concepts: words of one concept ("burnout",
"exhaustion") embed alike, as a real model's synonyms do."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from core.ports import Vectors

CONCEPTS = {
    "fatigue": {"burnout", "exhaustion", "exhausted", "tired", "fatigue"},
    "price": {"pricing", "price", "prices", "priced", "seat", "seats"},
    "crypto": {"bitcoin", "stablecoins", "stablecoin", "crypto", "usdc"},
    "data": {"postgres", "database", "databases", "queue", "kafka"},
    "model": {"model", "models", "latency", "agents", "evals"},
}
_NAMES = sorted(CONCEPTS)


class ConceptEmbedder:
    name = "concepts-v1"

    async def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), len(_NAMES) + 1), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                for col, name in enumerate(_NAMES):
                    if word in CONCEPTS[name]:
                        out[row, col] += 1.0
            out[row, -1] = 0.05  # never a zero vector
            out[row] /= np.linalg.norm(out[row])
        return out
