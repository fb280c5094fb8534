import gc

from core.feeds import full_collections


def test_full_collections_wait_until_the_last_overlapping_poll_ends() -> None:
    before = gc.get_threshold()
    first, second = full_collections.deferred(), full_collections.deferred()
    try:
        first.__enter__()
        young, middle, _ = before
        assert gc.get_threshold() == (young, middle, full_collections.DEFERRED)
        second.__enter__()
        first.__exit__(None, None, None)  # the first poll ends while the second runs
        assert gc.get_threshold() == (young, middle, full_collections.DEFERRED)
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
