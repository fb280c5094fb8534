"""The fuzz targets' contracts as hypothesis properties, on a small fixed budget (derandomized,
so CI is stable and quick; ``make fuzz`` runs the same targets coverage-guided for longer)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import STRATEGIES
from tests.fuzz.targets import TARGETS

EXAMPLES = 60
# An insights example extracts from a real hour-long transcript; a feed example may parse a
# real 1 MB feed.
FEWER = {"insights": 20, "feed": 25}


def budget(name: str) -> settings:
    return settings(
        max_examples=FEWER.get(name, EXAMPLES),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_structured_inputs_keep_the_contract(name: str) -> None:
    @budget(name)
    @given(STRATEGIES[name])
    def check(data: bytes) -> None:
        TARGETS[name](data)

    check()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_raw_bytes_keep_the_contract(name: str) -> None:
    @budget(name)
    @given(st.binary(max_size=2000))
    def check(data: bytes) -> None:
        TARGETS[name](data)

    check()
