import gc

from core.feeds import full_collections


def test_full_collections_wait_until_the_last_overlapping_poll_ends() -> None:
    before = gc.get_threshold()
    first, second = full_collections.deferred(), full_collections.deferred()
    try:
        first.__enter__()
        _, middle, _ = before
        during = (full_collections.YOUNG, middle, full_collections.DEFERRED)
        assert gc.get_threshold() == during
        second.__enter__()
        first.__exit__(None, None, None)  # the first poll ends while the second runs
        assert gc.get_threshold() == during
    finally:
        second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_the_thresholds_come_back_when_a_poll_fails() -> None:
    before = gc.get_threshold()
    try:
        with full_collections.deferred():
            raise RuntimeError("a poll that failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before


def test_collection_left_off_stays_off() -> None:
    before = gc.get_threshold()
    gc.set_threshold(0)
    try:
        with full_collections.deferred():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)
