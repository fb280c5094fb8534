"""A worker process that builds the vector index of a database, for the kill test.

    python -m tests.fakes.index_worker DB_URL DIRECTORY STOP_AT

Prints "indexed N" after each batch of 50 rows (a checkpoint every 100); on reaching STOP_AT
rows it waits for a line on stdin, so the test can SIGKILL it mid-build at a known point.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core.db import create_engine, session_factory
from core.search.exact_index import ExactVectorIndexFactory
from core.search.vectors import VectorLibrary
from tests.fakes.clock import FakeClock


async def main(url: str, directory: Path, stop_at: int) -> None:
    engine = create_engine(url)
    library = VectorLibrary(
        session_factory(engine),
        ExactVectorIndexFactory(),
        "scale-test",
        FakeClock(),
        directory=directory,
        batch_rows=50,
        checkpoint_rows=100,
    )

    def progress(done: int, total: int) -> None:
        print(f"indexed {done} of {total}", flush=True)
        if done >= stop_at:
            sys.stdin.readline()  # the test kills us here

    await library.open(progress)
    await library.close()
    await engine.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])))
