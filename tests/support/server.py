"""Run the real `spinepath serve` as a child process for tests and benchmarks.

The server is the real thing (uvicorn, migrations checked, real database); callers talk to it
over loopback HTTP and may kill it outright to test durability.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SPINEPATH = Path(sys.executable).with_name("spinepath")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    env: dict[str, str]

    def kill(self) -> None:
        """SIGKILL the whole process group (uvicorn supervisor and workers): no clean shutdown."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SPINEPATH), *args], env=env, input=stdin, text=True, capture_output=True,
                          check=True, timeout=120)


def make_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "SPINEPATH_DATABASE_URL": database_url, "SPINEPATH_DATA_DIR": str(data_dir)}


@contextmanager
def running_server(env: dict[str, str], workers: int = 1) -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen([str(SPINEPATH), "serve", "--port", str(port), "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", proc, env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{server.base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"server did not start: {err[-2000:]}")
            time.sleep(0.1)
        yield server
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stderr:
            proc.stderr.close()


def login(base: str, username: str, password: str) -> str:
    r = httpx.post(f"{base}/auth/login", json={"username": username, "password": password}, timeout=10)
    r.raise_for_status()
    return str(r.json()["token"])
