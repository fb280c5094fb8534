"""WordLlama static embeddings, loaded from the weights inside the installed wheel (no download)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.ports import Vectors

DEFAULT_CONFIG = "l2_supercat"
DEFAULT_DIM = 256


class EmbedderUnavailable(RuntimeError):
    """The embedder's model could not be loaded; the message says why in plain words."""


class WordLlamaEmbedder:
    """Average-pooled token embeddings distilled from an LLM's embedding table.

    The model is loaded lazily, in a worker thread, on the first ``embed`` call, so importing
    or constructing this class costs nothing and never blocks the event loop.
    """

    def __init__(self, config: str = DEFAULT_CONFIG, dim: int = DEFAULT_DIM) -> None:
        self._config = config
        self._dim = dim
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"wordllama:{self._config}_{self._dim}"

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.embed_sync, list(texts))

    def embed_sync(self, texts: list[str]) -> Vectors:
        """Blocking variant, for benchmarks and code already off the event loop."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        model = self._load()
        vectors = np.asarray(model.embed(texts, norm=False), dtype=np.float32)
        return _l2_normalise(vectors)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = _load_bundled(self._config, self._dim)
            return self._model


def _load_bundled(config: str, dim: int) -> Any:
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise EmbedderUnavailable("the wordllama package is not installed") from exc
    # WordLlama.load() looks in the wrong directory for its bundled weights and would try the
    # Hugging Face hub; pointing cache_dir at the package itself loads them offline.
    package_dir = Path(wordllama.__file__).parent
    try:
        return WordLlama.load(config=config, dim=dim, cache_dir=package_dir, disable_download=True)
    except Exception as exc:
        raise EmbedderUnavailable(
            f"could not load the WordLlama model {config!r} (dim {dim}) bundled in {package_dir}: "
            f"{exc}"
        ) from exc


def _l2_normalise(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # An empty or all-unknown text embeds to zeros; leave it zero rather than divide by 0.
    norms[norms == 0] = 1.0
    normalised: Vectors = (vectors / norms).astype(np.float32, copy=False)
    return normalised
