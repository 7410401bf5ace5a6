"""Benchmark: single-case assess latency, population screening throughput, and the ZEN peer.

    .venv/bin/python bench/bench_engine.py [--cases 1000000] [--latency-cases 5000] [--zen-cases 20000]

All three run in the same process on the same generated cases (seed 2026) and the same
knowledge snapshot, so the ratios compare like with like. Results are printed and written to
bench/out/engine.json; docs/performance.md records method and figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from zen_peer import graph_json  # noqa: E402

from spinepath import assess, load_knowledge  # noqa: E402
from spinepath.case.synthetic import generate_cases  # noqa: E402
from spinepath.case.validate import parse_case  # noqa: E402
from spinepath.rules.batch import read_source_sql, screen_to_file  # noqa: E402
from spinepath.rules.engine import evaluate_facts  # noqa: E402
from spinepath.rules.plan import compile_plan  # noqa: E402

NOW = date(2026, 3, 1)
SEED = 2026
OUT = Path(__file__).resolve().parent / "out"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def bench_latency(kb, n: int) -> dict:
    cases = list(generate_cases(n, seed=SEED + 1))
    for c in cases[:300]:  # warm-up: plan compilation and caches
        assess(c, kb, now=NOW)
    times = []
    for c in cases:
        t0 = time.perf_counter()
        a = assess(c, kb, now=NOW)  # validation + facts + rules + trace + gaps
        times.append((time.perf_counter() - t0) * 1000)
        assert a.trace
    return {"cases": n, "p50_ms": round(pct(times, 0.50), 3), "p99_ms": round(pct(times, 0.99), 3),
            "max_ms": round(max(times), 3), "mean_ms": round(statistics.fmean(times), 3)}


def make_case_file(n: int, path: Path) -> float:
    jsonl = path.with_suffix(".jsonl")
    t0 = time.perf_counter()
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    with jsonl.open("w", encoding="utf-8") as fh:
        buf = []
        for c in generate_cases(n, seed=SEED):
            buf.append(dumps(c))
            if len(buf) == 50_000:
                fh.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            fh.write("\n".join(buf) + "\n")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM {read_source_sql(str(jsonl), 'jsonl')}) TO '{path}' (FORMAT parquet)")
    jsonl.unlink()
    return time.perf_counter() - t0


def bench_screen(kb, path: Path, n: int, repeats: int = 3) -> dict:
    plan = compile_plan(kb)
    runs = []
    for i in range(repeats):
        out = OUT / f"screen_{i}.parquet"
        con = duckdb.connect()
        t0 = time.perf_counter()
        rows = screen_to_file(con, plan, str(path), "parquet", str(out), NOW)
        runs.append(time.perf_counter() - t0)
        assert rows == n
        out.unlink()
    best = min(runs)
    return {"cases": n, "seconds_best": round(best, 3), "seconds_all": [round(r, 3) for r in runs],
            "cases_per_s": round(n / best), "threads": duckdb.connect().execute(
                "SELECT current_setting('threads')").fetchone()[0]}


def bench_zen(kb, n: int) -> dict:
    import zen

    plan = compile_plan(kb)
    decision = zen.ZenEngine().create_decision(graph_json(plan))
    cases = [parse_case(c) for c in generate_cases(n, seed=SEED + 2)]
    base_names = [name for name, _ in plan.base]
    inputs = []
    for c in cases:
        env = evaluate_facts(plan, c, NOW)
        inputs.append({k: env[k] for k in base_names})
    for inp in inputs[:200]:
        decision.evaluate(inp)
    t0 = time.perf_counter()
    results = [decision.evaluate(inp)["result"] for inp in inputs]
    zen_s = time.perf_counter() - t0
    agree = total = 0
    for c, res in zip(cases[:3000], results[:3000], strict=True):
        a = assess(c, kb, now=NOW)
        for o in a.options:
            total += 1
            agree += res.get(o.procedure) == o.status
    return {"cases": n, "seconds": round(zen_s, 3), "cases_per_s": round(n / zen_s),
            "agreement_pct": round(100 * agree / total, 3), "agreement_checked_options": total,
            "note": "base facts extracted in Python beforehand (not timed); ZEN evaluates derived facts, "
                    "every criterion and every procedure's decision table"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--latency-cases", type=int, default=5000)
    ap.add_argument("--zen-cases", type=int, default=20_000)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    kb = load_knowledge(use_env=False)
    print("single-case latency ...", flush=True)
    latency = bench_latency(kb, args.latency_cases)
    print(latency, flush=True)
    path = OUT / f"cases_{args.cases}.parquet"
    gen_s = None
    if not path.exists():
        print(f"generating {args.cases:,} cases ...", flush=True)
        gen_s = round(make_case_file(args.cases, path), 2)
    print("screening ...", flush=True)
    screen = bench_screen(kb, path, args.cases)
    print(screen, flush=True)
    print("zen-engine peer ...", flush=True)
    peer = bench_zen(kb, args.zen_cases)
    print(peer, flush=True)
    result = {
        "date": date.today().isoformat(), "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                       "duckdb": duckdb.__version__},
        "knowledge_hash": kb.hash, "single_case": latency, "generation_seconds": gen_s,
        "screening": screen, "zen_peer": peer,
        "screening_vs_zen": round(screen["cases_per_s"] / peer["cases_per_s"], 1),
        "targets": {"single_case_p99_ms": 5, "screening_cases_per_s": 200_000, "screening_vs_zen_x": 10},
    }
    (OUT / "engine.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
