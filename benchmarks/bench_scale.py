"""Question latency, load time, memory, disk and add-one-letter time at 10^3, 10^4 and 10^5 passages,
with two peers measured in the same run: a plain LangChain-style pipeline and bm25s alone.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1000,10000,100000] [--questions 40] [--seed 7]

Prints tables, asserts nothing. See benchmarks/README.md for what each figure means.

The base letters are bench_add's synthetic ones; their vectors are STAND-INS (each character bigram
adds a fixed random direction, so texts that share wording get near vectors and an IVF index sees
clusters as it would with a real model), because embedding 10^5 passages with the real model takes
hours here. Questions are embedded by the REAL model, so the question path's model share is real;
each size is served in a fresh process, so load time and memory are a server's own.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks")]  # run from a checkout without installing

from bench_add import NEW_LETTER, PLACES, DEPARTMENTS, folder_bytes, write_corpus  # noqa: E402

import letterqa  # noqa: E402
from letterqa import store, vectors  # noqa: E402
from letterqa.build import passage_text, sentence_spans, sentence_text  # noqa: E402
from letterqa.config import DEFAULT_MODEL, default_cache_dir  # noqa: E402

PASSAGES_PER_LETTER = 24.4  # bench_add's letters: 24,427 chunks for 1,000


class StandInEmbedder:
    """Bigram random projections: deterministic, about 20,000 texts/s, and clustered like real text."""

    name = DEFAULT_MODEL
    dim = 384
    buckets = 1 << 15

    def __init__(self):
        # the default model's fingerprint, so that a later build with the real model reuses these rows
        from letterqa.model import fingerprint_of

        self.fingerprint = fingerprint_of(DEFAULT_MODEL, default_cache_dir())
        self._directions = np.random.default_rng(0).standard_normal((self.buckets, self.dim)).astype("float32")

    def encode_passages(self, texts, batch_size=16):
        return self._encode(texts)

    def encode_queries(self, texts):
        return self._encode(texts)

    def _encode(self, texts):
        from scipy.sparse import csr_matrix

        rows, cols = [], []
        for i, text in enumerate(texts):
            c = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
            ids = (c[:-1] * 1_000_003 + c[1:]) % self.buckets if len(c) > 1 else c % self.buckets
            rows.append(np.full(len(ids), i))
            cols.append(ids)
        counts = csr_matrix((np.ones(sum(map(len, cols)), "float32"), (np.concatenate(rows), np.concatenate(cols))),
                            shape=(len(texts), self.buckets))
        x = np.asarray(counts @ self._directions, dtype="float32")
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def questions(n: int, seed: int) -> list[str]:
    """Questions in the synthetic letters' vocabulary: amounts, targets, documents, money."""
    rng = np.random.default_rng(seed)
    forms = ["{y}年全省{p}达到多少{u}?", "到{y}年{p}的目标是多少?", "{p}试点地区群众满意度是多少?",
             "关于{t}的实施意见文号是什么?", "安排了多少专项资金支持{p}建设?", "{place}{p}有哪些下一步打算?"]
    out = []
    for i in range(n):
        _, _, topics = DEPARTMENTS[rng.integers(len(DEPARTMENTS))]
        t, p, u = topics[rng.integers(len(topics))]
        out.append(forms[i % len(forms)].format(y=int(rng.integers(2019, 2026)), p=p, u=u.lstrip("个家名座条套所"),
                                                t=t, place=PLACES[rng.integers(len(PLACES))]))
    return out


def pct(values, q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# ---------------------------------------------------------------- in the serving process

def serve(index: Path, corpus: Path, n_questions: int, seed: int, throughput: bool) -> dict:
    """Load the model and the index as a server does, answer questions, add one letter."""
    from letterqa.model import load_embedder

    out = {}
    started = time.perf_counter()
    embedder = load_embedder(DEFAULT_MODEL, default_cache_dir())
    out["model_load_s"] = time.perf_counter() - started
    settings = letterqa.Settings(corpus=corpus, index=index)
    started = time.perf_counter()
    stored = store.load_index(index)
    from letterqa.search import Searcher

    Searcher(stored)
    out["index_load_s"] = time.perf_counter() - started
    del stored
    engine = letterqa.Engine.open(settings, embedder=embedder)
    asked = questions(n_questions, seed)
    encode, ask, ask_filtered = [], [], []
    for q in asked:  # the model's own share, the same questions
        t = time.perf_counter()
        embedder.encode_queries([q])
        encode.append((time.perf_counter() - t) * 1000)
    for q in asked:
        ask.append(engine.ask(q).latency_ms)
    for i, q in enumerate(asked):
        ask_filtered.append(engine.ask(q, year=2019 + i % 6, sender=PLACES[i % len(PLACES)][:2]).latency_ms)
    out.update(encode_p50=pct(encode, 50), encode_p95=pct(encode, 95), ask_p50=pct(ask, 50),
               ask_p95=pct(ask, 95), filtered_p50=pct(ask_filtered, 50), filtered_p95=pct(ask_filtered, 95))
    out["rss_mb"], out["peak_rss_mb"] = rss_mb()
    out.update(add_one(settings, embedder))
    t = time.perf_counter()
    engine.ask(asked[0])  # the engine picks up the new build: its load, then one question
    out["reload_s"] = time.perf_counter() - t
    if throughput:
        out.update(build_throughput(embedder))
    return out


def add_one(settings, embedder) -> dict:
    """`letterqa add` of one real letter with the real model loaded: embeds only its own texts
    (a delta segment; the base is linked from the live build)."""
    started = time.perf_counter()
    report = letterqa.add_letters(settings, [NEW_LETTER], embedder=embedder)
    total = time.perf_counter() - started
    segments = len(store.load_manifest(settings.index).get("segments") or [None])
    texts = own_texts(NEW_LETTER)
    embedder.encode_passages(texts[:4])  # warm
    t = time.perf_counter()
    embedder.encode_passages(texts)
    return {"add_s": total, "add_embedded": report.embedded_chunks, "add_texts": len(texts),
            "add_encode_s": time.perf_counter() - t, "add_segments": segments}


def own_texts(path: Path) -> list[str]:
    """The passage and sentence texts a build embeds for one letter."""
    from letterqa.read import read_letter
    from letterqa.sections import split_sections

    chunks = split_sections(read_letter(path), letterqa.Settings().max_chunk_chars)
    return [passage_text(c) for c in chunks] + [sentence_text(chunks[i], a, b) for i, a, b in sentence_spans(chunks)]


def build_throughput(embedder, letters: int = 8) -> dict:
    """A real-model build of a few letters vs raw encode_passages of exactly the texts it embeds."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        write_corpus(corpus, letters, seed=99)
        texts = [t for p in sorted(corpus.iterdir()) for t in own_texts(p)]
        t = time.perf_counter()
        embedder.encode_passages(texts, batch_size=letterqa.Settings().batch_size)
        raw = time.perf_counter() - t
        t = time.perf_counter()
        letterqa.build_index(letterqa.Settings(corpus=corpus, index=Path(tmp) / "index"), embedder=embedder)
        built = time.perf_counter() - t
    return {"tp_texts": len(texts), "tp_raw_per_s": len(texts) / raw, "tp_build_per_s": len(texts) / built}


def peers(corpus: Path, n_questions: int, seed: int) -> dict:
    """The same questions through a plain LangChain-style pipeline and through bm25s alone."""
    import bm25s

    from letterqa.lexical import tokenize
    from letterqa.model import load_embedder

    embedder = load_embedder(DEFAULT_MODEL, default_cache_dir())
    faiss = vectors.faiss_module()  # after torch, as letterqa does (see faiss_module)
    faiss.omp_set_num_threads(1)  # as letterqa's search does: threads only fight the model's on 2 cores
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))]
    pieces = [t[i : i + 300] for t in texts for i in range(0, len(t), 300)]  # fixed 300-character chunks
    flat = faiss.IndexFlatIP(384)
    flat.add(StandInEmbedder().encode_passages(pieces))
    t = time.perf_counter()
    bm25 = bm25s.BM25()
    bm25.index([tokenize(p) or [""] for p in pieces], show_progress=False)
    bm25_build = time.perf_counter() - t
    lc, lexical = [], []
    asked = questions(n_questions, seed)
    for q in asked:
        t = time.perf_counter()
        top = int(flat.search(embedder.encode_queries([q]), 1)[1][0][0])
        _ = pieces[top]  # the top passage is the answer
        lc.append((time.perf_counter() - t) * 1000)
    for q in asked:
        t = time.perf_counter()
        words = [w for w in tokenize(q) if w in bm25.vocab_dict]
        int(np.argmax(bm25.get_scores(words))) if words else None  # the top passage
        lexical.append((time.perf_counter() - t) * 1000)
    return {"lc_chunks": len(pieces), "lc_p50": pct(lc, 50), "lc_p95": pct(lc, 95), "bm25_p50": pct(lexical, 50),
            "bm25_p95": pct(lexical, 95), "bm25_build_s": bm25_build, "peers_rss_mb": rss_mb()[0]}


# ---------------------------------------------------------------- in the driving process

def ann_check(index: Path, seed: int) -> dict:
    """Exact vs IVF on the index's sentence vectors: time per query and recall@10 of IVF."""
    stored = store.load_index(index)
    x = np.asarray(stored.sentence_vectors)
    exact = vectors.DenseIndex(x)
    params = vectors.ann_settings(len(x)) or {"nlist": max(1, min(1 << round(math.log2(4 * math.sqrt(len(x)))),
                                                                  len(x) // 39)), "nprobe": vectors.NPROBE}
    ivf = stored.dense["sentence_vectors"].ann
    built_here = ivf is None
    if built_here:  # below the size the build uses IVF at: build one here to compare
        faiss = vectors.faiss_module()
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(x.shape[1]), x.shape[1], params["nlist"], faiss.METRIC_INNER_PRODUCT)
        ivf.train(x[np.random.default_rng(seed).choice(len(x), min(len(x), 64 * params["nlist"]), replace=False)])
        ivf.add(x)
    approx = vectors.DenseIndex(x, ivf, params["nprobe"])
    qs = StandInEmbedder().encode_queries(questions(200, seed + 1))
    timed = {}
    for name, index_ in (("exact", exact), ("ivf", approx)):
        t = time.perf_counter()
        found = [index_.search(q, 10) for q in qs]
        timed[name] = ((time.perf_counter() - t) / len(qs) * 1000, found)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(timed["exact"][1], timed["ivf"][1])])
    return {"sentence_vectors": len(x), "nlist": params["nlist"], "nprobe": params["nprobe"],
            "exact_ms": timed["exact"][0], "ivf_ms": timed["ivf"][0], "recall10": float(recall),
            "ivf_in_index": not built_here}


def run_size(passages: int, args, first: bool) -> dict:
    letters = max(1, round(passages / PASSAGES_PER_LETTER))
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        write_corpus(corpus, letters, args.seed)
        t = time.perf_counter()
        report = letterqa.build_index(letterqa.Settings(corpus=corpus, index=index), embedder=StandInEmbedder())
        row = {"letters": letters, "chunks": report.chunks, "base_build_s": time.perf_counter() - t}
        manifest = store.load_manifest(index)
        row["sentences"] = manifest["sentences"]
        row["disk_mb"] = folder_bytes(store.live_build(index)) / 2**20
        row["ann"] = manifest.get("ann", {}).get("sentence_vectors")
        row.update(ann_check(index, args.seed))
        row.update(child("--serve", index, corpus, args, first))
        row.update(child("--peers", index, corpus, args, False))
        return row


def child(flag: str, index: Path, corpus: Path, args, throughput: bool) -> dict:
    cmd = [sys.executable, __file__, flag, str(index), "--corpus", str(corpus), "--questions", str(args.questions),
           "--seed", str(args.seed)] + (["--throughput"] if throughput else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_tables(rows: list[dict]) -> None:
    print("\n| passages (sentences) | letters | question p50 / p95 | query encode p50 / p95 | ratio p50 / p95 "
          "| filtered p50 / p95 | index load | serve RSS (peak) | disk | dense index |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        dense = f"IVF nlist={r['ann']['nlist']} nprobe={r['ann']['nprobe']}" if r["ann"] else "exact"
        print(f"| {r['chunks']:,} ({r['sentences']:,}) | {r['letters']:,} | {r['ask_p50']:.1f} / {r['ask_p95']:.1f} ms "
              f"| {r['encode_p50']:.1f} / {r['encode_p95']:.1f} ms | {r['ask_p50'] / r['encode_p50']:.2f} / "
              f"{r['ask_p95'] / r['encode_p50']:.2f} | {r['filtered_p50']:.1f} / {r['filtered_p95']:.1f} ms "
              f"| {r['index_load_s']:.2f} s | {r['rss_mb']:.0f} MB ({r['peak_rss_mb']:.0f}) | {r['disk_mb']:.0f} MB "
              f"| {dense} |")
    print("\n| passages | base build (stand-in vectors) | add one letter, real model | of which its own encode "
          "| add − encode | texts embedded | segments after | next question (reload) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['chunks']:,} | {r['base_build_s']:.1f} s | {r['add_s']:.2f} s | {r['add_encode_s']:.2f} s "
              f"| {r['add_s'] - r['add_encode_s']:.2f} s | {r['add_texts']} ({r['add_embedded']} chunks) "
              f"| {r['add_segments']} | {r['reload_s']:.2f} s |")
    print("\n| sentence vectors | exact search | IVF search | IVF recall@10 vs exact | IVF nlist / nprobe |")
    print("|---|---:|---:|---:|---|")
    for r in rows:
        where = "" if r["ivf_in_index"] else " (built for the comparison; the index is exact)"
        print(f"| {r['sentence_vectors']:,} | {r['exact_ms']:.2f} ms | {r['ivf_ms']:.2f} ms | {r['recall10']:.3f} "
              f"| {r['nlist']} / {r['nprobe']}{where} |")
    print("\n| passages | letterqa p50 / p95 | LangChain-style (300-char chunks, FAISS flat, top passage) p50 / p95 "
          "| bm25s alone p50 / p95 | peers' process RSS |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['chunks']:,} | {r['ask_p50']:.1f} / {r['ask_p95']:.1f} ms | {r['lc_p50']:.1f} / {r['lc_p95']:.1f} ms "
              f"({r['lc_chunks']:,} chunks) | {r['bm25_p50']:.2f} / {r['bm25_p95']:.2f} ms | {r['peers_rss_mb']:.0f} MB |")
    tp = next((r for r in rows if "tp_texts" in r), None)
    if tp:
        print(f"\nbuild throughput, real model, {tp['tp_texts']} texts: build {tp['tp_build_per_s']:.1f} texts/s, "
              f"raw encode_passages {tp['tp_raw_per_s']:.1f} texts/s, ratio {tp['tp_build_per_s'] / tp['tp_raw_per_s']:.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="passages, comma-separated")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tmp", default=None, help="where the temporary corpora and indexes go")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--peers", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--throughput", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        print(json.dumps(serve(args.serve, args.corpus, args.questions, args.seed, args.throughput)))
        return 0
    if args.peers:
        print(json.dumps(peers(args.corpus, args.questions, args.seed)))
        return 0
    print(f"# bench_scale {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f} "
          f"· python {sys.version.split()[0]}", flush=True)
    rows = []
    for i, size in enumerate(int(s) for s in args.sizes.split(",")):
        t = time.perf_counter()
        rows.append(run_size(size, args, first=i == 0))
        print(f"size {size:,}: done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    print_tables(rows)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
