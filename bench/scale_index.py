"""Build a scale library's vector index and seeded lists straight from its vectors, beside
``bench/scale.py``.

The library's vectors are known before they are stored (``bench/scale_data.py``, seed 1, ids
1..N in storing order), so the index of a large library and its seeded top-10 lists can be
made while the database is still being loaded; ``bench/scale.py --keep DIR`` (started before or
after) then loads them instead of making them again: the index's manifest says it holds every
row up to N, and the lists are ``edges-N.npy``. Start it once ``bench/scale.py`` has begun
loading (a fresh build of the same size clears the index directory first). Prints the build
time and size.

    python bench/scale_index.py SIZE DIR/vectors-sqlite-SIZE
"""

from __future__ import annotations

import json
import sys
import time
from hashlib import sha1
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.vectors.usearch_index import UsearchIndexFactory
from bench.scale import seed_edges
from bench.scale_data import library_vectors
from core.embeddings import WordLlamaEmbedder

BATCH = 50_000


def main() -> None:
    size, directory = int(sys.argv[1]), Path(sys.argv[2])
    model = WordLlamaEmbedder().name
    directory.mkdir(parents=True, exist_ok=True)
    # Says "being made here" to bench/scale.py, which waits instead of making them too.
    (directory / ".building").touch()
    vectors = library_vectors(size, seed=1)
    factory = UsearchIndexFactory()
    index = factory.create(int(vectors.shape[1]))
    t = time.perf_counter()
    for start in range(0, size, BATCH):
        ids = np.arange(start + 1, min(size, start + BATCH) + 1, dtype=np.int64)
        index.add(ids, vectors[start : start + BATCH])
        print(f"{start + len(ids)} vectors, {time.perf_counter() - t:.0f} s", flush=True)
    build_s = time.perf_counter() - t
    stem = f"vectors-{factory.kind}-{sha1(model.encode(), usedforsecurity=False).hexdigest()[:12]}"
    name = f"{stem}-{size}.idx"
    index.save(directory / name)
    meta = {"model": model, "kind": factory.kind, "dim": index.dim, "file": name,
            "high_water": size, "vectors": len(index), "gaps": []}  # fmt: skip
    (directory / f"{stem}.json").write_text(json.dumps(meta))
    result = {"insights": size, "index_build_s": round(build_s, 1),
              "index_mb": round((directory / name).stat().st_size / 1e6, 1)}  # fmt: skip
    (directory / ".complete").touch()  # a PostgreSQL build of this size may copy it now
    t = time.perf_counter()
    edges = seed_edges(directory, vectors)
    np.save(directory.parent / "edges.tmp.npy", edges)
    (directory.parent / "edges.tmp.npy").replace(directory.parent / f"edges-{size}.npy")
    result["seed_edges_s"] = round(time.perf_counter() - t, 1)
    (directory / ".building").unlink()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
