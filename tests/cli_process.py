"""Running the real `podbrief` command in a subprocess, isolated from the developer's settings."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

PODBRIEF = Path(sys.executable).parent / "podbrief"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This environment minus any podbrief/Slack/OpenAI settings, with a data dir under
    ``tmp_path``, no user config file, the fast LSA embedder and loopback HTTP."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PODBRIEF_", "SLACK_", "OPENAI_"))}  # fmt: skip
    env.update(
        PODBRIEF_DATA_DIR=str(tmp_path / "data"),
        PODBRIEF_CONFIG=str(tmp_path / "absent.toml"),
        PODBRIEF_EMBEDDER="lsa",
        PODBRIEF_HTTP_HOST="127.0.0.1",
        **extra,
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
