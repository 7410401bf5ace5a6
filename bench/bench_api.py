"""Benchmark: POST /assess under 32 concurrent clients, server and load generator on one machine.

    .venv/bin/python bench/bench_api.py [--duration 20] [--connections 32] [--workers 2]

Starts `spinepath serve` on a fresh migrated SQLite database (a clinician user, a real token),
warms it up, then runs wrk (Debian package `wrk`; installed with apt-get if missing) with a
Lua script that POSTs a realistic case. Reports requests/s and latency percentiles from wrk's
own histogram, and writes bench/out/api.json. docs/performance.md records the method and figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CASE = ROOT / "examples" / "cases" / "lumbar-disc-herniation.json"
SPINEPATH = Path(sys.executable).with_name("spinepath")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk") or "wrk"


def to_ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    assert m, value
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    wrk = ensure_wrk()
    OUT.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="spinepath-bench-"))
    env = {**os.environ, "SPINEPATH_DATA_DIR": str(tmp)}
    subprocess.run([str(SPINEPATH), "db", "upgrade"], check=True, env=env, capture_output=True)
    subprocess.run([str(SPINEPATH), "user", "add", "bench", "--role", "clinician", "--password-stdin"],
                   input="bench-password-123\n", text=True, check=True, env=env, capture_output=True)
    port = free_port()
    server = subprocess.Popen([str(SPINEPATH), "serve", "--port", str(port), "--workers", str(args.workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        token = httpx.post(f"{base}/auth/login", json={"username": "bench", "password": "bench-password-123"}).json()["token"]
        body = CASE.read_text(encoding="utf-8")
        check = httpx.post(f"{base}/assess?now=2026-03-01", content=body,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert check.status_code == 200, check.text
        response_bytes = len(check.content)
        lua = tmp / "post.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(body)}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n', encoding="utf-8")
        url = f"{base}/assess?now=2026-03-01"
        subprocess.run([wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", "5s", "-s", str(lua), url],
                       check=True, capture_output=True)  # warm-up
        run = subprocess.run([wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
                              "--latency", "-s", str(lua), url], check=True, capture_output=True, text=True)
        text = run.stdout
        lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
        errors = re.search(r"Socket errors:.*", text)
        result = {
            "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "workers": args.workers,
            "connections": args.connections, "threads": args.threads, "duration_s": args.duration,
            "requests_per_s": rps, "latency_ms": {k: round(to_ms(v), 2) for k, v in lat.items()},
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(0) if errors else None,
            "response_bytes": response_bytes, "targets": {"p99_ms": 50, "requests_per_s": 400},
            "cds_hooks_budget_ms": 500, "wrk_output": text,
        }
        (OUT / "api.json").write_text(json.dumps(result, indent=2))
        print(text)
        print(json.dumps({k: v for k, v in result.items() if k != "wrk_output"}, indent=2))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
