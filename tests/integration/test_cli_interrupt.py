"""Ctrl-C reaches a command at once, whichever of its threads the kernel hands the signal to."""

from __future__ import annotations

import asyncio
import signal
import sys

# A command whose main thread blocks SIGINT, so the kernel gives the signal to its other
# thread (as it may when aiosqlite's or a to_thread worker's is the one not blocking it), and
# whose event loop has nothing to wake it: no timer, no I/O.
COMMAND = """
import asyncio, signal, threading
from bot.asyncrun import run_async

threading.Thread(target=threading.Event().wait, daemon=True).start()

async def stalled() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    print("ready", flush=True)
    await asyncio.Event().wait()

run_async(stalled())
"""


async def test_ctrl_c_taken_by_another_thread_still_stops_the_command() -> None:
    """asyncio.run's own handler ran only at the loop's next wake-up (never, here; during a
    stalled fetch its 20 s timeout); the command now stops when the signal comes."""
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-c", COMMAND,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert command.stdout is not None
    assert await asyncio.wait_for(command.stdout.readline(), 60) == b"ready\n"
    command.send_signal(signal.SIGINT)
    try:
        _, stderr = await asyncio.wait_for(command.communicate(), 60)
    finally:
        if command.returncode is None:
            command.kill()
            await command.wait()
    assert command.returncode in (130, -signal.SIGINT), stderr.decode()
