"""SECURITY.md names a test for every threat it lists; each one must exist (so the document
cannot drift from the suite)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.security.test_secrets import secret_settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_security_md_names_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text()
    files = set(re.findall(r"tests/[\w/]+\.py", text))
    names = set(re.findall(r"\btest_\w+\b(?!\.py)", text)) - {Path(f).stem for f in files}
    assert len(files) > 10 and len(names) > 15
    sources = ""
    for file in files:
        assert (ROOT / file).is_file(), file
    for path in (ROOT / "tests").rglob("test_*.py"):
        sources += path.read_text()
    missing = sorted(n for n in names if f"def {n}(" not in sources)
    assert not missing, missing


def test_every_secret_setting_is_listed_here() -> None:
    text = (ROOT / "SECURITY.md").read_text()
    section = text[text.index("## Secrets") : text.index("## Fetching untrusted URLs")]
    missing = sorted(name for name in secret_settings() if f"`{name}`" not in section)
    assert not missing, missing
