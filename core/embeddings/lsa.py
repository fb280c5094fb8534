"""TF-IDF + LSA (truncated SVD) embeddings: the classical baseline, fitted on a given corpus.

LSA has to be fitted, and its vector space is only as good as (and only valid for) the corpus it
was fitted on. The embedder's ``name`` therefore carries a fingerprint of that corpus and of the
parameters, so vectors of two differently fitted models are never compared. Fitting is
deterministic: same corpus and parameters, same vectors.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.ports import Vectors

DEFAULT_DIM = 128


class LsaNotFitted(RuntimeError):
    """Raised when the name of an embedder without a corpus is asked before its first use."""


class LsaEmbedder:
    """``corpus`` fits the model; without one, the first texts embedded are the corpus."""

    def __init__(self, corpus: Sequence[str] | None = None, dim: int = DEFAULT_DIM) -> None:
        self._corpus = list(corpus) if corpus is not None else None
        self._dim = dim
        self._model: tuple[Any, Any] | None = None
        self._fingerprint = _fingerprint(self._corpus, dim) if self._corpus else None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        if self._fingerprint is None:
            raise LsaNotFitted("the LSA embedder has no corpus yet: embed some texts first")
        return f"lsa:{self._dim}:{self._fingerprint}"

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embed_sync, list(texts))

    def embed_sync(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        vectorizer, svd = self._fitted(texts)
        reduced = svd.transform(vectorizer.transform(texts))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        out[:, : reduced.shape[1]] = reduced
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        normalised: Vectors = (out / norms).astype(np.float32, copy=False)
        return normalised

    def _fitted(self, first_texts: list[str]) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                corpus = self._corpus if self._corpus else first_texts
                self._fingerprint = _fingerprint(corpus, self._dim)
                self._model = _fit(corpus, self._dim)
            return self._model


def _fit(corpus: list[str], dim: int) -> tuple[Any, Any]:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, ngram_range=(1, 1), min_df=1, dtype=np.float32
    )
    matrix = vectorizer.fit_transform(corpus)
    # SVD rank is bounded by the corpus; a tiny corpus gets fewer dimensions (padded with 0).
    components = max(1, min(dim, matrix.shape[0] - 1, matrix.shape[1] - 1))
    svd = TruncatedSVD(n_components=components, algorithm="randomized", random_state=0)
    svd.fit(matrix)
    return vectorizer, svd


def _fingerprint(corpus: Sequence[str], dim: int) -> str:
    digest = hashlib.sha256(str(dim).encode())
    for text in corpus:
        digest.update(text.encode("utf-8", "replace"))
        digest.update(b"\x00")
    return digest.hexdigest()[:12]
