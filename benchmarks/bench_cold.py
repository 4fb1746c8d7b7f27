"""A cold `letterqa ask`: a new process, a one-letter index, the real model; seconds to the first answer.

    .venv/bin/python benchmarks/bench_cold.py [--runs 3] [--question "…"]

Prints, per run, the wall time from starting `letterqa ask` to its first answer on stdout and the
process's peak RSS; then, measured inside one more fresh process, where a cold start spends its
time (imports, index, model, first question). Asserts nothing. The index is built once, into a
temporary folder, from the first letter of corpus/ (with the real model: about 10 s).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_LETTER = ROOT / "corpus" / "000_04222e28d1224f39.txt"
QUESTION = "2023年新认定多少家省制造业创新中心?"
CLI = [sys.executable, "-c", "import sys; from letterqa.cli import main; sys.exit(main())"]

STAGES = """
import json, sys, time
t0 = time.perf_counter(); marks = {}
from letterqa.config import Settings
from letterqa.engine import Engine
marks["import letterqa.engine"] = time.perf_counter()
from letterqa import store
settings = Settings(corpus=sys.argv[1], index=sys.argv[2])
stored = store.load_index(settings.index)
marks["load the index"] = time.perf_counter()
from letterqa.model import load_embedder
embedder = load_embedder(settings.model, settings.cache)
marks["load the model"] = time.perf_counter()
engine = Engine.open(settings, embedder=embedder)
marks["Engine.open (search files, warm-up question)"] = time.perf_counter()
engine.ask(sys.argv[3])
marks["the question"] = time.perf_counter()
last, out = t0, {}
for name, t in marks.items():
    out[name], last = t - last, t
print(json.dumps(out))
"""


def build_index(tmp: Path) -> tuple[Path, Path]:
    corpus, index = tmp / "corpus", tmp / "index"
    corpus.mkdir()
    (corpus / FIRST_LETTER.name).write_bytes(FIRST_LETTER.read_bytes())
    subprocess.run(CLI + ["build", "--corpus", str(corpus), "--index", str(index)], check=True,
                   capture_output=True, env={**os.environ, "TQDM_DISABLE": "1"})
    return corpus, index


def cold_ask(corpus: Path, index: Path, question: str) -> tuple[float, float]:
    """(seconds to the first line of the answer, seconds to exit) of one `letterqa ask` process."""
    started = time.perf_counter()
    proc = subprocess.Popen(CLI + ["ask", question, "--corpus", str(corpus), "--index", str(index)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = proc.stdout.readline()
    answered = time.perf_counter() - started
    proc.stdout.read()
    if proc.wait() != 0 or not first.strip():
        raise SystemExit(f"letterqa ask failed (exit {proc.returncode})")
    return answered, time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    print(f"# bench_cold {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index = build_index(Path(tmp))
        cold_ask(corpus, index, args.question)  # once to fill the page cache: "cold" is a new process, not a cold disk
        print("\n| run | first answer | process exit | peak RSS of the run |\n|---:|---:|---:|---:|")
        for run in range(1, args.runs + 1):
            answered, ended = cold_ask(corpus, index, args.question)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
            print(f"| {run} | {answered:.2f} s | {ended:.2f} s | {peak:.0f} MB |", flush=True)
        out = subprocess.run([sys.executable, "-c", STAGES, str(corpus), str(index), args.question], check=True,
                             capture_output=True, text=True)
        stages = json.loads(out.stdout.strip().splitlines()[-1])
    print("\n| where a cold start spends its time (one more process) | seconds |\n|---|---:|")
    for name, seconds in stages.items():
        print(f"| {name} | {seconds:.2f} |")
    print(f"| total | {sum(stages.values()):.2f} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
