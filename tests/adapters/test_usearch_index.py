"""The usearch adapter of the VectorIndex port: replace, search, save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from usearch.index import Index

from adapters.vectors.usearch_index import UsearchIndexFactory, expansion
from core.search.exact_index import ExactVectorIndex


def unit(rows: int, dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_agrees_with_exact_search_and_survives_save_and_load(tmp_path: Path) -> None:
    factory = UsearchIndexFactory()
    vectors = unit(2000, 32, 1)
    ids = np.arange(10, 2010, dtype=np.int64)
    ann, exact = factory.create(32), ExactVectorIndex(32)
    ann.add(ids, vectors)
    exact.add(ids, vectors)
    queries = unit(50, 32, 2)
    found, sims = ann.search(queries, 10)
    truth, _ = exact.search(queries, 10)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
    assert overlap >= 0.95
    assert np.all(np.diff(sims, axis=1) <= 1e-6)  # best first
    ann.save(tmp_path / "i.usearch")
    loaded = factory.load(tmp_path / "i.usearch", 32)
    assert len(loaded) == 2000
    assert np.array_equal(loaded.search(queries, 10)[0], found)


def test_the_search_beam_grows_with_the_index_from_half_a_million_vectors() -> None:
    """With M 32, ef 128 gave recall@10 0.904 with a million vectors and ef 256 0.960: the
    beam a query needs grows with the index."""
    assert [expansion(n) for n in (0, 10_000, 250_000, 500_000, 1_000_000, 2_000_000)] == [
        128, 128, 128, 128, 256, 512,
    ]  # fmt: skip
    index = UsearchIndexFactory().create(8)
    index.add(np.arange(1, 301, dtype=np.int64), unit(300, 8, 4))
    index.search(unit(1, 8, 5), 5)
    assert index._index.expansion_search == 128


def test_an_id_added_again_is_replaced_and_short_results_are_padded() -> None:
    index = UsearchIndexFactory().create(4)
    index.add(np.array([7]), np.array([[1, 0, 0, 0]], dtype=np.float32))
    index.add(np.array([7]), np.array([[0, 1, 0, 0]], dtype=np.float32))
    ids, sims = index.search(np.array([[0, 1, 0, 0]], dtype=np.float32), 3)
    assert ids.tolist() == [[7, -1, -1]]
    assert sims[0, 0] == pytest.approx(1.0, abs=1e-5)


def test_a_file_that_is_no_index_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad").write_bytes(b"nope")
    with pytest.raises(ValueError):
        UsearchIndexFactory().load(tmp_path / "bad", 4)


@pytest.mark.parametrize(
    ("dtype", "metric", "degree"), [("f32", "ip", 32), ("f16", "cos", 32), ("f16", "ip", 16)]
)
def test_a_file_built_with_other_settings_is_refused(
    tmp_path: Path, dtype: str, metric: str, degree: int
) -> None:
    """An older or foreign index file is rebuilt from the database, not loaded as it was."""
    other = Index(ndim=8, metric=metric, dtype=dtype, connectivity=degree)
    other.add(np.arange(1, 11, dtype=np.uint64), unit(10, 8, 6))
    other.save(str(tmp_path / "other"))
    with pytest.raises(ValueError, match="other settings"):
        UsearchIndexFactory().load(tmp_path / "other", 8)


@pytest.mark.parametrize(
    ("make", "tolerance"), [(UsearchIndexFactory().create, 1e-3), (ExactVectorIndex, 0.0)]
)
def test_stored_vectors_come_back_as_stored_and_absent_ids_are_left_out(
    make: object, tolerance: float
) -> None:
    """Linking scores index neighbours on the index's copies of their vectors: the last one
    added for an id, as float32; usearch's in half precision (a component moves by at most
    2**-11 of itself), the exact index's bit for bit."""
    index = make(16)  # type: ignore[operator]
    vectors = unit(50, 16, 3)
    index.add(np.arange(1, 51, dtype=np.int64), vectors)
    index.add(np.array([5], dtype=np.int64), vectors[:1])  # 5 replaced by 1's vector
    found, got = index.vectors(np.array([9, 999, 5, 1], dtype=np.int64))
    assert found.tolist() == [9, 5, 1]
    assert got.dtype == np.float32
    assert np.allclose(got, vectors[[8, 0, 0]], rtol=tolerance, atol=0.0)
    assert np.array_equal(got[1], got[2])
    none, empty = index.vectors(np.array([], dtype=np.int64))
    assert len(none) == 0 and empty.shape == (0, 16)
