"""Where a question's time goes, stage by stage, with the real model's encode in place.

    .venv/bin/python benchmarks/bench_stages.py [--passages 100000] [--questions 30] [--rounds 2]
    .venv/bin/python benchmarks/bench_stages.py --index DIR --corpus DIR    # an index already built

Builds bench_scale's synthetic letters with stand-in vectors in a temporary folder (unless --index
is given), loads the real model and the index as a server does, and asks bench_scale's questions
`--rounds` times. Each stage is timed by wrapping the library function from outside (src is
untouched); "the engine's own work" is a question's time less its encode. Prints a table, asserts
nothing.

Timed in place, not in a loop over cached vectors: after the encode (or any pause) the engine's
data has left the CPU caches, and its stages took 1.5-3x their warm-loop times here.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks")]  # run from a checkout without installing

from bench_scale import PASSAGES_PER_LETTER, StandInEmbedder, questions, write_corpus  # noqa: E402

import letterqa  # noqa: E402
from letterqa import engine as engine_module  # noqa: E402
from letterqa.config import DEFAULT_MODEL, default_cache_dir  # noqa: E402


def timed(owner, name: str, label: str, spent: collections.Counter) -> None:
    """Replace owner.name by a wrapper that adds its wall time (ms) to spent[label]."""
    inner = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] += (time.perf_counter() - started) * 1000

    setattr(owner, name, wrapper)


def stages(corpus: Path, index: Path, n_questions: int, rounds: int) -> dict[str, list[float]]:
    from letterqa.model import load_embedder

    embedder = load_embedder(DEFAULT_MODEL, default_cache_dir())
    engine = letterqa.Engine.open(letterqa.Settings(corpus=corpus, index=index), embedder=embedder)
    spent: collections.Counter = collections.Counter()
    searcher, backend = engine.searcher, engine.searcher.backend
    for owner, name, label in ((engine_module, "read_query", "read the question (jieba, tagger)"),
                               (engine_module, "route", "route to letters"),
                               (embedder, "encode_queries", "query encode (the model)"),
                               (backend, "lexical", "BM25"),
                               (backend, "dense_candidates", "IVF searches (chunks, sentences)"),
                               (searcher, "dense_scores", "dense scores of the candidates"),
                               (engine.answerer, "content", "answer: choose sentences"),
                               (engine.answerer, "check", "answer: check"),
                               (engine_module.ans, "compose", "answer: compose (answered questions)"),
                               (engine, "refresh", "reload check")):
        timed(owner, name, label, spent)
    asked = questions(n_questions, 7)
    for q in asked:  # warm: jieba's caches, the pages of the index
        engine.ask(q)
    out: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(rounds):
        for q in asked:
            spent.clear()
            total = engine.ask(q).latency_ms
            for label, ms in spent.items():
                out[label].append(ms)
            out["question"].append(total)
            out["the engine's own work (question − encode)"].append(total - spent["query encode (the model)"])
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--index", type=Path, help="an index already built (with --corpus)")
    parser.add_argument("--corpus", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index = args.corpus, args.index
        if index is None:
            corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
            write_corpus(corpus, max(1, round(args.passages / PASSAGES_PER_LETTER)), 7)
            letterqa.build_index(letterqa.Settings(corpus=corpus, index=index), embedder=StandInEmbedder())
        print(f"# bench_stages {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · "
              f"load {os.getloadavg()[0]:.1f} · {index}", flush=True)
        out = stages(corpus, index, args.questions, args.rounds)
    print("\n| stage | p50 | mean |\n|---|---:|---:|")
    for label, values in sorted(out.items(), key=lambda kv: -float(np.mean(kv[1]))):
        print(f"| {label} | {np.percentile(values, 50):.2f} ms | {np.mean(values):.2f} ms |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
