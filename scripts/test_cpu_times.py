"""A pytest plugin: each test's CPU time (setup + call + teardown) in the pytest process.

    PYTHONPATH=scripts PODBRIEF_TEST_TIMES=cpu.json python -m pytest -p test_cpu_times

Writes {"cpu": {nodeid: seconds}, "wall": {nodeid: seconds}} at the end, for
``scripts/compare_durations.py BEFORE.json AFTER.json --kind cpu``. CPU time counts the work a
test makes this process do (every thread: aiosqlite's, the event loop's), not the time it
waits for a core, so two runs on a loaded machine compare far better than by their wall
times. It leaves out the work of other processes (servers a test starts, PostgreSQL).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

_TIMES: dict[str, dict[str, float]] = {"cpu": {}, "wall": {}}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    cpu, wall = time.process_time(), time.perf_counter()
    yield
    _TIMES["cpu"][item.nodeid] = time.process_time() - cpu
    _TIMES["wall"][item.nodeid] = time.perf_counter() - wall


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get("PODBRIEF_TEST_TIMES")
    if out:
        with open(out, "w") as f:
            json.dump(_TIMES, f)
