"""Offline text embedders (the ``Embedder`` port): WordLlama by default, TF-IDF + LSA too."""

from core.embeddings.lsa import LsaEmbedder
from core.embeddings.wordllama import WordLlamaEmbedder

__all__ = ["LsaEmbedder", "WordLlamaEmbedder"]
