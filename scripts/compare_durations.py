"""Compare two pytest ``--durations=0`` outputs: which tests got slower by more than a share.

    python scripts/compare_durations.py BEFORE.txt AFTER.txt [--share 0.10] [--floor 0.1]
    python scripts/compare_durations.py BEFORE.json AFTER.json --kind cpu

The inputs are ``pytest --durations=0`` outputs or the JSON of ``scripts/test_cpu_times.py``
(each test's CPU or wall time in the pytest process; ``--kind``, default cpu).

A test's time is the sum of its setup, call and teardown lines. Tests under ``--floor``
seconds in both runs are left out (their timing is mostly noise), and so are tests only one
run has. A test counts as slower when it took more than ``1 + share`` times as long AND at
least ``floor`` seconds more. On a shared machine both runs carry its load, so the median
ratio is printed too: a slowdown across the board is the machine, not one test. The last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^\s*([0-9.]+)s (setup|call|teardown)\s+(\S+)")


def durations(path: Path, kind: str = "cpu") -> dict[str, float]:
    if path.suffix == ".json":
        times: dict[str, float] = json.loads(path.read_text())[kind]
        return times
    found: dict[str, float] = defaultdict(float)
    for line in path.read_text(errors="replace").splitlines():
        match = LINE.match(line)
        if match:
            found[match.group(3)] += float(match.group(1))
    return dict(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--share", type=float, default=0.10)
    parser.add_argument("--floor", type=float, default=0.1)
    parser.add_argument("--show", type=int, default=25, help="slower tests to list")
    parser.add_argument("--kind", choices=("cpu", "wall"), default="cpu", help="for .json")
    args = parser.parse_args()
    before, after = durations(args.before, args.kind), durations(args.after, args.kind)
    both = sorted(set(before) & set(after))
    compared = [t for t in both if max(before[t], after[t]) >= args.floor]
    ratios = {t: after[t] / before[t] for t in compared if before[t] > 0}
    slower = [
        t
        for t in compared
        if after[t] > before[t] * (1 + args.share) and after[t] - before[t] >= args.floor
    ]
    slower.sort(key=lambda t: after[t] - before[t], reverse=True)
    for t in slower[: args.show]:
        times = f"{before[t]:8.2f}s -> {after[t]:8.2f}s"
        print(f"{times}  x{after[t] / max(before[t], 1e-9):5.2f}  {t}")
    total_before = sum(before[t] for t in compared)
    total_after = sum(after[t] for t in compared)
    print(
        f"{len(slower)} of {len(compared)} tests (>= {args.floor}s) slower by more than "
        f"{args.share:.0%}; median ratio {statistics.median(ratios.values()):.2f}; "
        f"total {total_before:.0f}s -> {total_after:.0f}s"
    )
    print(
        json.dumps(
            {
                "compared": len(compared),
                "slower": len(slower),
                "median_ratio": round(statistics.median(ratios.values()), 3),
                "total_before_seconds": round(total_before, 1),
                "total_after_seconds": round(total_after, 1),
                "only_before": len(set(before) - set(after)),
                "only_after": len(set(after) - set(before)),
            }
        )
    )


if __name__ == "__main__":
    main()
