"""Insight quality benchmark: the offline engine over every shared transcript, read and measured.

    python bench/quality.py [--data DIR] [--gold DIR] [--out bench/out/quality.md]

Per transcript it prints the number of insights stored (after the shared quality gate), the
share passing each automatic check, and insights per audio hour; then precision and recall
against the hand-labelled gold set (``tests/data/quality/*.toml``: passages an editor would
turn into insights, labelled by reading the transcripts). An insight counts as a hit when its
quote's time span overlaps a gold passage (widened by ``--slack`` seconds on each side: the
Markdown and plain-text files only have interpolated times). It also writes a Markdown report,
headline beside body, quote and time, for a person to read. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.domain import EpisodeInfo, InsightDraft, SegmentData  # noqa: E402
from core.insights.errors import ExtractionSkipped  # noqa: E402
from core.insights.offline import OfflineInsightExtractor  # noqa: E402
from core.insights.quality import (  # noqa: E402
    Gate,
    has_markup,
    headline_problem,
    quote_is_sentence_bounded,
)
from core.transcripts.errors import TranscriptParseError  # noqa: E402
from core.transcripts.parse import parse_transcript  # noqa: E402

CHECKS = ("standalone_subject", "no_markup", "sentence_bounded_quote", "no_meta_or_biography")
_NOT_STANDALONE = {"leans_on_context", "question"}
_META_OR_BIOGRAPHY = {"meta_talk", "biography", "promotion", "greeting"}


@dataclass
class Result:
    name: str
    hours: float
    insights: list[InsightDraft] = field(default_factory=list)
    checks: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    note: str = ""


def default_data() -> Path:
    """$PODBRIEF_SHARED_DATA, else ../shared/data beside the repository (or beside the
    directory holding it, for a git worktree)."""
    if "PODBRIEF_SHARED_DATA" in os.environ:
        return Path(os.environ["PODBRIEF_SHARED_DATA"]) / "transcripts"
    near = [ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"]
    return next((p for p in near if p.is_dir()), near[0]) / "transcripts"


def checks_of(draft: InsightDraft, transcript: str) -> dict[str, bool]:
    problem = headline_problem(draft.headline)
    return {
        "standalone_subject": problem not in _NOT_STANDALONE,
        "no_markup": not any(has_markup(t) for t in (draft.headline, draft.body, draft.quote)),
        "sentence_bounded_quote": quote_is_sentence_bounded(draft.quote, transcript),
        "no_meta_or_biography": problem not in _META_OR_BIOGRAPHY,
    }


def run_one(path: Path) -> Result:
    try:
        segments = parse_transcript(path.read_bytes(), url=path.name).segments
    except TranscriptParseError as exc:
        return Result(path.name, 0.0, note=f"unreadable: {exc}")
    duration = max(s.end for s in segments)
    info = EpisodeInfo(1, 1, path.name.split("__")[0], path.stem, None, duration, None)
    result = Result(path.name, duration / 3600)
    try:
        drafts = OfflineInsightExtractor().extract_sync(info, segments)
    except ExtractionSkipped as exc:
        result.note = str(exc)
        return result
    transcript = _joined(segments)
    gate = Gate()
    # The checks are counted on what the engine wrote; the gate then decides what is stored.
    for draft in drafts:
        result.checks.update(k for k, ok in checks_of(draft, transcript).items() if ok)
    result.insights = gate.admit(drafts, segments)
    result.rejected = gate.total_rejected
    result.checks["_drafts"] = len(drafts)
    return result


def _joined(segments: list[SegmentData]) -> str:
    return " ".join(" ".join(s.text.split()) for s in segments)


def _seconds(clock: str) -> float:
    parts = [float(p) for p in clock.split(":")]
    total = 0.0
    for part in parts:
        total = total * 60 + part
    return total


def load_gold(gold_dir: Path) -> dict[str, list[tuple[float, float, str]]]:
    gold: dict[str, list[tuple[float, float, str]]] = {}
    for path in sorted(gold_dir.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        spans = [
            (_seconds(p["span"][0]), _seconds(p["span"][1]), p["note"]) for p in data["passage"]
        ]
        for name in data["files"]:
            gold[name] = spans
    return gold


def hits(draft: InsightDraft, spans: list[tuple[float, float, str]], slack: float) -> set[int]:
    """The one gold passage the insight's quote overlaps most (within ``slack``), if any."""
    start = draft.start_seconds
    end = max(start + 1.0, draft.end_seconds or start)
    best: tuple[float, int] | None = None
    for k, (a, b, _) in enumerate(spans):
        overlap = min(end, b + slack) - max(start, a - slack)
        if overlap > 0 and (best is None or overlap > best[0]):
            best = (overlap, k)
    return {best[1]} if best else set()


def clock(seconds: float) -> str:
    s = int(seconds)
    return (
        f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def report(
    results: list[Result], gold: dict[str, list[tuple[float, float, str]]], slack: float
) -> str:
    lines = ["# Offline insights on the shared transcripts", ""]
    lines.append(
        "Written by `bench/quality.py`. Each row is one stored insight; **gold** says which "
        "hand-labelled passage it falls in (blank: none, i.e. a miss for precision)."
    )
    for r in results:
        lines += ["", f"## {r.name}", ""]
        if r.note:
            lines += [f"_{r.note}_", ""]
        if not r.insights:
            lines.append("_No insight._")
            continue
        lines += ["| time | headline | body | quote | gold |", "|---|---|---|---|---|"]
        spans = gold.get(r.name, [])
        for d in r.insights:
            matched = "; ".join(spans[k][2] for k in sorted(hits(d, spans, slack))) or (
                "" if spans else "n/a"
            )
            quote = f"“{cell(d.quote)}” ({d.speaker or 'unnamed speaker'})"
            lines.append(
                f"| {clock(d.start_seconds)} | **{cell(d.headline)}** | {cell(d.body)} | "
                f"{quote} | {cell(matched)} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--gold", type=Path, default=ROOT / "tests" / "data" / "quality")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "quality.md")
    parser.add_argument("--slack", type=float, default=15.0, help="seconds around gold spans")
    args = parser.parse_args()

    began = time.perf_counter()
    results = [run_one(p) for p in sorted(args.data.iterdir()) if p.is_file()]
    elapsed = time.perf_counter() - began
    gold = load_gold(args.gold)

    print(f"{'transcript':44} {'ins':>4} {'/hour':>6} " + " ".join(f"{c[:12]:>12}" for c in CHECKS))
    totals: Counter[str] = Counter()
    for r in results:
        drafts = r.checks["_drafts"]
        totals.update(r.checks)
        shares = " ".join(f"{(r.checks[c] / drafts if drafts else 1.0):>12.2f}" for c in CHECKS)
        per_hour = len(r.insights) / r.hours if r.hours else 0.0
        note = f"  ({r.note})" if r.note else ""
        print(f"{r.name[:44]:44} {len(r.insights):>4} {per_hour:>6.1f} {shares}{note}")

    hit_insights = labelled_insights = 0
    found = passages = 0
    for r in results:
        spans = gold.get(r.name)
        if spans is None:
            continue
        covered: set[int] = set()
        for d in r.insights:
            matched = hits(d, spans, args.slack)
            covered |= matched
            hit_insights += bool(matched)
            labelled_insights += 1
        found += len(covered)
        passages += len(spans)
    precision = hit_insights / labelled_insights if labelled_insights else 0.0
    recall = found / passages if passages else 0.0
    insights = sum(len(r.insights) for r in results)
    hours = sum(r.hours for r in results)
    drafts = totals["_drafts"]
    pass_share = {c: round(totals[c] / drafts, 3) if drafts else 1.0 for c in CHECKS}
    print(
        f"gold: {len(gold)} files, {passages} passages; precision {precision:.2f} "
        f"({hit_insights}/{labelled_insights}), recall {recall:.2f} ({found}/{passages})"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(results, gold, args.slack), encoding="utf-8")
    print(f"report: {args.out}")
    print(
        json.dumps(
            {
                "transcripts": len(results),
                "insights": insights,
                "audio_hours": round(hours, 2),
                "insights_per_hour": round(insights / hours, 2) if hours else 0.0,
                "pass_share": pass_share,
                "gate_rejected": sum(r.rejected for r in results),
                "precision": round(precision, 3),
                "recall": round(recall, 3),
                "gold_passages": passages,
                "seconds": round(elapsed, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
