"""`podbrief web --workers 2` as a real process: the pages from two processes on one port,
connections spread over both, a clear refusal without public_url, and a clean stop on
SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from core.db import create_engine, migrate, session_factory
from tests.cli_process import PODBRIEF, clean_env, free_port
from tests.fakes.chat_library import Library, build_library
from tests.fakes.clock import FakeClock


async def _seed(url: str) -> Library:
    engine = create_engine(url)
    await migrate(engine)
    lib = await build_library(session_factory(engine), FakeClock().now())
    await engine.dispose()
    return lib


def test_the_pages_are_served_by_several_processes(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    url = f"sqlite:///{tmp_path / 'data' / 'podbrief.sqlite3'}"
    lib = asyncio.run(_seed(url))
    port = free_port()
    env = clean_env(
        tmp_path,
        PODBRIEF_DATABASE_URL=url,
        PODBRIEF_PUBLIC_URL="https://brief.example.org",
        PODBRIEF_HTTP_PORT=str(port),
    )
    web = subprocess.Popen(
        [str(PODBRIEF), "web", "--workers", "2"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert web.stderr is not None
        # The socket listens before this line is printed: requests queue from then on.
        assert "Serving the pages of https://brief.example.org" in web.stderr.readline()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            page = client.get(f"/insights/{lib.insight_ids[0]}")
            assert page.status_code == 200
            assert "Usage-based pricing beats per-seat pricing" in page.text
            answers = [client.get("/").status_code for _ in range(20)]
            assert answers == [200] * 20
        if sys.platform == "linux":
            assert min(_connections_per_worker(web.pid, port, 24)) > 0
        web.send_signal(signal.SIGTERM)
        assert web.wait(timeout=30) == 0
    finally:
        if web.poll() is None:  # a failed check: SIGTERM first, so the workers end too
            web.terminate()
            try:
                web.wait(timeout=30)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()


def _connections_per_worker(parent: int, port: int, count: int) -> list[int]:
    """Open ``count`` connections at once, each answered once, and count how many each worker
    process holds (Linux /proc). One socket shared by the workers gave nearly all to one; with
    a socket each the kernel spreads them (all 24 on one of two: a chance of 1 in 8 million)."""
    conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
    try:
        for conn in conns:
            conn.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for conn in conns:
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        inodes = _established_inodes(port)
        workers = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        assert len(workers) == 2
        return [len(_socket_inodes(int(pid)) & inodes) for pid in workers]
    finally:
        for conn in conns:
            conn.close()


def _established_inodes(port: int) -> set[str]:
    """Inodes of the server's ends of established TCP connections on ``port``."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            found.add(fields[9])
    return found


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            found.add(target[len("socket:[") : -1])
    return found


def test_without_a_public_url_it_says_what_to_set(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(PODBRIEF), "web"], env=clean_env(tmp_path), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "PODBRIEF_PUBLIC_URL" in done.stderr


def test_podbrief_run_serves_the_pages_when_public_url_is_set(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    url = f"sqlite:///{tmp_path / 'data' / 'podbrief.sqlite3'}"
    lib = asyncio.run(_seed(url))
    port = free_port()
    env = clean_env(
        tmp_path,
        PODBRIEF_DATABASE_URL=url,
        PODBRIEF_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PODBRIEF_HTTP_PORT=str(port),
    )
    run = subprocess.Popen(
        [str(PODBRIEF), "run", "--role", "chat"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert run.stderr is not None
        seen = []
        for line in run.stderr:  # no chat platform set up: the pages alone are enough to run
            seen.append(line)
            if "web started" in line:
                break
        assert any("web started" in line for line in seen), "".join(seen)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            page = client.get(f"/insights/{lib.insight_ids[3]}")
            assert page.status_code == 200
            assert f'href="http://127.0.0.1:{port}/insights/{lib.insight_ids[3]}"' in page.text
            assert client.get("/sitemap.xml").status_code == 200
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == 0
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
