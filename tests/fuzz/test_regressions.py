"""Every input fuzzing ever broke a target with, replayed: tests/data/fuzz/<target>/<case>.

A new finding goes in as one file (the raw bytes atheris or hypothesis reported) next to the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.targets import TARGETS

CASES = Path(__file__).resolve().parents[1] / "data" / "fuzz"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.glob("*/*") if p.is_file())


def test_every_case_folder_names_a_target() -> None:
    assert _cases(), "regression cases exist"
    assert {p.parent.name for p in _cases()} <= set(TARGETS)


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_case_fuzzing_found_keeps_the_contract(case: Path) -> None:
    TARGETS[case.parent.name](case.read_bytes())
