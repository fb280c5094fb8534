"""The VectorIndex port on usearch's HNSW (chosen by measurement: see bench/ann_compare.py and
the README). Cosine similarity, in half precision, as the inner product of unit vectors
(every vector is normalised on the way in): the same neighbours as usearch's "cos" metric,
which computes both norms on every comparison, at two thirds of the CPU (measured: 1,500 adds
a second per core instead of 1,060, 1.0 instead of 1.3 ms a query). An id added again
replaces its vector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from usearch.compiled import MetricKind, ScalarKind
from usearch.index import Index

from core.ports import Ids, Vectors

# Half precision: the same recall as float32 at about two thirds of its build and search CPU
# on an AMD EPYC (a third to a half on an Intel CPU with AVX-512 FP16) and half the memory
# (measured, docs/search-at-scale.md). Linking scores neighbours on the index's copies of
# their vectors: a cosine with a half-precision copy is within 1e-4 of the stored float32
# row's (largest seen 7.4e-5 over 3.9 million real pairs).
DTYPE = "f16"
_SCALAR = {"f32": ScalarKind.F32, "f16": ScalarKind.F16, "bf16": ScalarKind.BF16,
           "i8": ScalarKind.I8}  # fmt: skip
# Graph degree M. At a million of the scale bench's vectors (f16, efConstruction 128, 1,000
# queries, k 10), M 16 needed ef 512 for recall@10 0.957 (0.918 at 256); M 32 gives 0.960 at
# ef 256, and there linking's 10 searches of 114 took 18.6 against 31.8 ms of CPU (adding 10
# vectors 11.4 against 8.9 ms; the file 788 against 661 MB).
CONNECTIVITY = 32
EXPANSION_ADD = 128  # efConstruction
EXPANSION_SEARCH = 128  # ef at query time up to 500,000 vectors (at least k is used)
# The beam a query needs grows with the index: from 500,000 vectors in proportion, 256 at a
# million (M 32 above: recall@10 0.904 at ef 128, 0.939 at 192, 0.960 at 256, 0.974 at 384).
EXPANSION_PER_MILLION = 256
# A few rows (an episode's insights, a query) are added or searched on the calling thread:
# usearch's pool for 10 rows cost 1.5x the CPU and 2x the wall time on a busy machine
# (measured: add 2.4 against 3.9 ms, search of k 114 2.5 against 3.2 ms, at load 12). Bulk
# builds and catch-ups use every core.
POOL_FROM = 256


class UsearchVectorIndex:
    def __init__(self, index: Index) -> None:
        self._index = index

    @property
    def dim(self) -> int:
        return int(self._index.ndim)

    def __len__(self) -> int:
        return len(self._index)

    def add(self, ids: Ids, vectors: Vectors) -> None:
        keys = ids.astype(np.uint64)
        present = np.asarray(self._index.contains(keys), dtype=bool).reshape(-1)
        if present.any():
            self._index.remove(keys[present])
        self._index.add(keys, _unit(vectors), threads=_threads(len(keys)))

    def search(self, queries: Vectors, k: int) -> tuple[Ids, Vectors]:
        n = len(queries)
        out_ids = np.full((n, k), -1, dtype=np.int64)
        out_sims = np.full((n, k), -np.inf, dtype=np.float32)
        if not len(self._index) or k <= 0:
            return out_ids, out_sims
        # usearch has the setter; its stub's order hides it from mypy.
        self._index.expansion_search = expansion(len(self._index))  # type: ignore[misc]
        matches: Any = self._index.search(_unit(queries), k, threads=_threads(n))
        keys = np.asarray(matches.keys).reshape(n, -1)
        distances = np.asarray(matches.distances).reshape(n, -1)
        counts = np.asarray(getattr(matches, "counts", [keys.shape[1]])).reshape(n)
        for row in range(n):
            c = int(counts[row])
            out_ids[row, :c] = keys[row, :c].astype(np.int64)
            out_sims[row, :c] = 1.0 - distances[row, :c]
        return out_ids, out_sims

    def vectors(self, ids: Ids) -> tuple[Ids, Vectors]:
        keys = ids.astype(np.uint64)
        # Only the present keys are asked for, so every answer is a row of the index's own
        # precision: their bytes joined in C and widened once, instead of a Python test and
        # cast per key and a vstack that makes each row 2-D first (1,100 rows: 2.6 -> 1.6 ms).
        present = np.asarray(self._index.contains(keys), dtype=bool).reshape(-1)
        if not present.any():
            return ids[:0].astype(np.int64), np.zeros((0, self.dim), dtype=np.float32)
        got: Any = self._index.get(keys[present])
        rows = np.frombuffer(b"".join(got), dtype=got[0].dtype).reshape(len(got), self.dim)
        return ids[present].astype(np.int64), rows.astype(np.float32)

    def save(self, path: Path) -> None:
        self._index.save(str(path))


def expansion(vectors: int) -> int:
    """The search beam (ef) for an index of ``vectors``."""
    return max(EXPANSION_SEARCH, vectors * EXPANSION_PER_MILLION // 1_000_000)


def _threads(rows: int) -> int:
    """usearch's thread count: 0 is every core."""
    return 1 if rows < POOL_FROM else 0


def _unit(vectors: Vectors) -> Vectors:
    rows = np.array(vectors, dtype=np.float32, ndmin=2)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.ascontiguousarray(rows / np.where(norms > 0, norms, 1.0), dtype=np.float32)


class UsearchIndexFactory:
    kind = "usearch"

    def create(self, dim: int) -> UsearchVectorIndex:
        return UsearchVectorIndex(
            Index(
                ndim=dim,
                metric="ip",
                dtype=DTYPE,
                connectivity=CONNECTIVITY,
                expansion_add=EXPANSION_ADD,
                expansion_search=EXPANSION_SEARCH,
            )
        )

    def load(self, path: Path, dim: int) -> UsearchVectorIndex:
        """A file of another precision, metric, graph degree or size is refused (and so rebuilt
        from the database): usearch would load it as it was saved, whatever this index is set to."""
        header: Any = Index.metadata(str(path))
        if header is None:
            raise ValueError(f"{path} is not a usearch index")
        if header["kind_scalar"] != _SCALAR[DTYPE] or header["kind_metric"] != MetricKind.IP:
            raise ValueError(f"{path} was built with other settings ({header['kind_scalar']})")
        index = self.create(dim)
        try:
            index._index.load(str(path))
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"{path} is not a usearch index: {exc}") from exc
        if index._index.connectivity != CONNECTIVITY:
            # Its degree is the file's own: a sparser graph would lose recall at this beam.
            raise ValueError(
                f"{path} was built with other settings (M {index._index.connectivity})"
            )
        if index.dim != dim:
            raise ValueError(f"{path} holds vectors of another size")
        return index
