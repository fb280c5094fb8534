"""The roles a `podbrief run` process can take (its own module: the CLI checks the option
without loading what the roles run)."""

from __future__ import annotations

# all: chat + scheduler; chat: the chat side only; worker: the scheduler and sending only.
ROLES = ("all", "chat", "worker")
