"""Coverage-guided fuzzing of one target with atheris (libFuzzer): ``make fuzz`` runs each.

    python -m tests.fuzz.atheris_run TARGET [libFuzzer flags, e.g. -max_total_time=60]

The corpus starts from the shared real feeds and transcripts plus the stored regression cases;
libFuzzer writes a crashing input as ``crash-<sha1>`` in the working directory (``make fuzz`` runs
in build/fuzz/<target>/). Keep it as tests/data/fuzz/<target>/<what-it-is> and fix the code.
Inputs over 1 MB are not tried (-max_len), matching the 2 s / 1 MB property. The per-input
timeout is 60 s, not 2 s: instrumented feedparser is ~30x slower (a 56 KB seed feed that parses
in 0.05 s timed out at 15 s under instrumentation on a loaded machine); the 2 s bound is checked
uninstrumented by tests/fuzz/test_worst_case.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

MAX_LEN = 1_000_000
INSTRUMENTED = ["core", "adapters", "feedparser", "srt", "webvtt"]
SEEDS = {
    "feed": "feeds",
    "transcript": "transcripts",
    "transcript_reader": "transcripts",
    "insights": "transcripts",
}


def _seed_corpus(target: str, corpus: Path) -> None:
    from tests.fuzz.strategies import SHARED

    corpus.mkdir(parents=True, exist_ok=True)
    sources: list[Path] = []
    if target in SEEDS:
        sources += sorted((SHARED / SEEDS[target]).iterdir())
    sources += sorted((Path(__file__).parents[1] / "data" / "fuzz" / target).glob("*"))
    for source in sources:
        if source.is_file():
            (corpus / f"seed-{source.name}").write_bytes(source.read_bytes()[:MAX_LEN])


def main() -> None:
    import atheris

    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m tests.fuzz.atheris_run TARGET [libFuzzer flags]")
    target = sys.argv[1]
    # Coverage of our code and of the parsers we lean on; the big frameworks (telegram, slack_sdk,
    # sqlalchemy) load uninstrumented, or start-up alone would take minutes.
    with atheris.instrument_imports(include=INSTRUMENTED):
        from tests.fuzz.targets import TARGETS
    if target not in TARGETS:
        raise SystemExit(f"unknown target {target!r}; one of: {', '.join(sorted(TARGETS))}")
    corpus = Path("corpus")
    _seed_corpus(target, corpus)
    flags = sys.argv[2:]
    args = [
        sys.argv[0],
        *flags,
        f"-max_len={MAX_LEN}",
        "-timeout=60",
        "-rss_limit_mb=3072",
        str(corpus),
    ]
    atheris.Setup(args, TARGETS[target])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
