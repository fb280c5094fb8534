"""An exact vector index: brute-force cosine in numpy. The reference the ANN index is measured
against, and the fake of the VectorIndex port in unit tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.ports import Ids, Vectors
from core.search.similarity import pairwise


class ExactVectorIndex:
    def __init__(self, dim: int) -> None:
        self._dim = dim
        self._ids = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, dim), dtype=np.float32)

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: Ids, vectors: Vectors) -> None:
        keep = ~np.isin(self._ids, ids)
        self._ids = np.concatenate([self._ids[keep], ids.astype(np.int64)])
        self._vectors = np.concatenate([self._vectors[keep], vectors.astype(np.float32)])

    def search(self, queries: Vectors, k: int) -> tuple[Ids, Vectors]:
        n = len(queries)
        out_ids = np.full((n, k), -1, dtype=np.int64)
        out_sims = np.full((n, k), -np.inf, dtype=np.float32)
        if not len(self._ids) or k <= 0:
            return out_ids, out_sims
        sims = pairwise(queries.astype(np.float32), self._vectors)
        width = min(k, sims.shape[1])
        top = np.argpartition(-sims, width - 1, axis=1)[:, :width]
        top_sims = np.take_along_axis(sims, top, axis=1)
        # Best first; equal cosines by id, so every run answers the same.
        order = np.lexsort((self._ids[top], -top_sims), axis=1)
        out_ids[:, :width] = self._ids[np.take_along_axis(top, order, axis=1)]
        out_sims[:, :width] = np.take_along_axis(top_sims, order, axis=1)
        return out_ids, out_sims

    def vectors(self, ids: Ids) -> tuple[Ids, Vectors]:
        rows = {int(i): k for k, i in enumerate(self._ids.tolist())}
        found = [int(i) for i in ids.tolist() if int(i) in rows]
        return (
            np.array(found, dtype=np.int64),
            self._vectors[[rows[i] for i in found]].reshape(len(found), self._dim),
        )

    def save(self, path: Path) -> None:
        with path.open("wb") as fh:
            np.savez(fh, ids=self._ids, vectors=self._vectors)


class ExactVectorIndexFactory:
    kind = "exact"

    def create(self, dim: int) -> ExactVectorIndex:
        return ExactVectorIndex(dim)

    def load(self, path: Path, dim: int) -> ExactVectorIndex:
        with np.load(path) as data:
            ids, vectors = data["ids"], data["vectors"]
        if vectors.ndim != 2 or vectors.shape[1] != dim:
            raise ValueError(f"{path} holds vectors of another size")
        index = ExactVectorIndex(dim)
        index.add(ids, vectors)
        return index
