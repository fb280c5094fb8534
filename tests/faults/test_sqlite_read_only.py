"""A read-only SQLite database, made real with the immutable attribute (`chattr +i`: even root
cannot write the file, unlike after chmod): a command that writes fails with a plain message,
no traceback, the database is unchanged, and the same command succeeds once it is writable."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.faults.test_sqlite_disk_full import _count, _podbrief, subscribed


@contextmanager
def _immutable(path: Path) -> Iterator[None]:
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr is not installed")
    made = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True, check=False)
    if made.returncode != 0:  # not root, or a file system without the attribute
        pytest.skip(f"cannot make the database immutable here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_read_only_database_fails_plainly_and_works_again_when_writable(
    tmp_path: Path, shared_data: Path
) -> None:
    feeds = shared_data / "feeds"
    db = subscribed(tmp_path, feeds / "podcastindex__example.xml")
    before = _count(db, "episodes")
    other = feeds / "partytime__dk-podcast.xml"
    with _immutable(db):
        refused = _podbrief(tmp_path, "feeds", "add", str(other))
        assert refused.returncode != 0
        assert "Traceback" not in refused.stderr + refused.stdout
        assert "the database cannot be used" in refused.stderr, refused.stderr
    assert (_count(db, "feeds"), _count(db, "episodes")) == (1, before)
    again = _podbrief(tmp_path, "feeds", "add", str(other))
    assert again.returncode == 0, again.stderr
    assert _count(db, "feeds") == 2
