"""Compare ANN libraries for related insights: usearch, hnswlib, faiss-cpu (HNSW, M=16,
efConstruction=128, ef=128), against exact search on the same vectors.

Vectors: WordLlama embeddings of real transcript sentences from ../shared/data/transcripts,
varied by mixing (so N can exceed the sentences available). Prints build time, size, query
latency (k=10, one query at a time, as linking and search do) and recall@10 on 1,000 queries.
Last line: one JSON object. Libraries not installed are reported as such.

    python bench/ann_compare.py [--n 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.scale_data import library_vectors

M, EF_ADD, EF_SEARCH, K = 16, 128, 128, 10


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    out = []
    for start in range(0, len(queries), 100):
        sims = queries[start : start + 100] @ vectors.T
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        out.append(top)
    return np.concatenate(out)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def run_usearch(vectors: np.ndarray, queries: np.ndarray, tmp: Path) -> dict[str, float]:
    from usearch.index import Index

    t = time.perf_counter()
    index = Index(ndim=vectors.shape[1], metric="cos", dtype="f32", connectivity=M,
                  expansion_add=EF_ADD, expansion_search=EF_SEARCH)  # fmt: skip
    index.add(np.arange(len(vectors)), vectors)
    build = time.perf_counter() - t
    path = tmp / "u.usearch"
    index.save(str(path))
    lat, found = [], []
    for q in queries:
        t = time.perf_counter()
        m = index.search(q, K)
        lat.append(time.perf_counter() - t)
        found.append(np.asarray(m.keys))
    return {"build_s": build, "size_mb": path.stat().st_size / 1e6, "lat": lat, "found": found}


def run_hnswlib(vectors: np.ndarray, queries: np.ndarray, tmp: Path) -> dict[str, float]:
    import hnswlib

    t = time.perf_counter()
    index = hnswlib.Index(space="cosine", dim=vectors.shape[1])
    index.init_index(max_elements=len(vectors), ef_construction=EF_ADD, M=M)
    index.add_items(vectors, np.arange(len(vectors)))
    index.set_ef(EF_SEARCH)
    build = time.perf_counter() - t
    path = tmp / "h.bin"
    index.save_index(str(path))
    lat, found = [], []
    for q in queries:
        t = time.perf_counter()
        labels, _ = index.knn_query(q, k=K)
        lat.append(time.perf_counter() - t)
        found.append(labels[0])
    return {"build_s": build, "size_mb": path.stat().st_size / 1e6, "lat": lat, "found": found}


def run_faiss(vectors: np.ndarray, queries: np.ndarray, tmp: Path) -> dict[str, float]:
    import faiss

    t = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_ADD
    index.add(vectors)
    index.hnsw.efSearch = EF_SEARCH
    build = time.perf_counter() - t
    path = tmp / "f.faiss"
    faiss.write_index(index, str(path))
    lat, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, labels = index.search(q[None, :], K)
        lat.append(time.perf_counter() - t)
        found.append(labels[0])
    return {"build_s": build, "size_mb": path.stat().st_size / 1e6, "lat": lat, "found": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    t = time.perf_counter()
    vectors = library_vectors(args.n + args.queries, seed=7)
    vectors, queries = vectors[: args.n], vectors[args.n :]
    truth = exact_top(vectors, queries, K)
    print(f"{args.n:,} vectors and exact answers in {time.perf_counter() - t:.1f} s", flush=True)
    results: dict[str, object] = {"n": args.n, "dim": int(vectors.shape[1])}
    with tempfile.TemporaryDirectory() as tmp:
        for name, run in (("usearch", run_usearch), ("hnswlib", run_hnswlib),
                          ("faiss-cpu", run_faiss)):  # fmt: skip
            try:
                r = run(vectors, queries, Path(tmp))
            except ImportError:
                print(f"{name:10} not installed")
                results[name] = None
                continue
            lat = np.array(r["lat"]) * 1000
            row = {
                "build_s": round(float(r["build_s"]), 2),
                "size_mb": round(float(r["size_mb"]), 1),
                "query_p50_ms": round(float(np.percentile(lat, 50)), 3),
                "query_p99_ms": round(float(np.percentile(lat, 99)), 3),
                "recall_at_10": round(recall(np.array(r["found"]), truth), 4),
            }
            print(f"{name:10} " + "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            results[name] = row
    print(json.dumps(results))


if __name__ == "__main__":
    main()
