"""What the default model can do on this machine, and what each speed-up costs in quality.

    .venv/bin/python benchmarks/bench_embed.py [--speed] [--quality] [--texts 600] [--out DIR]

--speed   texts/s for passages and for sentences separately (the texts `build` embeds for the
          development set's letters), for: the build's own slicing (64 texts a call, batch 16),
          one call over texts sorted by length, batch 32, 1 vs 2 torch threads, and torch dynamic
          int8 quantisation of the Linear layers.
--quality hit@5, MRR@10 and keyword accuracy on the development set (/work/shared/devset) for:
          the float32 model (today), int8, retrieval without sentence vectors, IVF forced on, and
          the Milvus Lite backend. Each builds its own index in a temporary folder.

Prints tables, asserts nothing.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import letterqa  # noqa: E402
from letterqa import build, store, vectors  # noqa: E402
from letterqa.config import DEFAULT_MODEL, default_cache_dir  # noqa: E402

DEVSET = Path(os.environ.get("LETTERQA_DEVSET", "/work/shared/devset"))
MAIN_CORPUS = ROOT / "corpus"


class Int8Embedder:
    """The default model with its Linear layers dynamically quantised to int8 (weights int8, activations
    quantised per batch); its own fingerprint, so an index it builds is never mixed with float32 vectors."""

    def __init__(self):
        import torch

        from letterqa.model import load_embedder

        # quantize_dynamic swaps nn.Linear modules: the sentence-transformers path has them (encoder.py
        # calls F.linear on raw weights)
        os.environ["LETTERQA_ENCODER"] = "sentence-transformers"
        try:
            self._base = base = load_embedder(DEFAULT_MODEL, default_cache_dir())
        finally:
            del os.environ["LETTERQA_ENCODER"]
        module = base._model[0]
        # sentence-transformers 5 runs `module.model` (`auto_model` is an older alias): swap the one forward uses
        attr = "model" if isinstance(getattr(module, "model", None), torch.nn.Module) else "auto_model"
        setattr(module, attr, torch.ao.quantization.quantize_dynamic(getattr(module, attr), {torch.nn.Linear},
                                                                    dtype=torch.qint8))
        self.name, self.dim, self.fingerprint = base.name, base.dim, base.fingerprint + "-int8dyn"

    def encode_queries(self, texts):
        return self._base.encode_queries(texts)

    def encode_passages(self, texts, batch_size=16):
        return self._base.encode_passages(texts, batch_size=batch_size)


def corpus_texts(corpus: Path) -> tuple[list[str], list[str]]:
    """The passage texts and the sentence texts `build` embeds for a corpus."""
    from letterqa.read import read_letter
    from letterqa.sections import split_sections

    passages, sentences = [], []
    for path in build.corpus_files(corpus):
        chunks = split_sections(read_letter(path), letterqa.Settings().max_chunk_chars)
        passages += [build.passage_text(c) for c in chunks]
        sentences += [build.sentence_text(chunks[i], a, b) for i, a, b in build.sentence_spans(chunks)]
    return passages, sentences


def make_corpus(folder: Path) -> Path:
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    for path in list((DEVSET / "letters").glob("*.txt")) + list(MAIN_CORPUS.glob("*.txt")):
        shutil.copy(path, corpus / path.name)
    return corpus


def rate(fn, texts: list[str], repeats: int = 2) -> float:
    """Best texts/s of a few runs (other jobs share the cores: the best run is the least disturbed)."""
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        fn(texts)
        best = max(best, len(texts) / (time.perf_counter() - t))
    return best


@contextlib.contextmanager
def torch_threads(n: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def speed(embedder, texts_per_kind: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        passages, sentences = corpus_texts(make_corpus(Path(tmp)))
    rng = np.random.default_rng(0)
    kinds = {"passages": [passages[i] for i in rng.choice(len(passages), min(texts_per_kind, len(passages)), False)],
             "sentences": [sentences[i] for i in rng.choice(len(sentences), min(texts_per_kind, len(sentences)), False)]}
    sliced = lambda e, bs=16: lambda ts: [e.encode_passages(ts[i : i + 64], batch_size=bs)  # noqa: E731
                                          for i in range(0, len(ts), 64)]
    by_length = lambda e, bs=16: lambda ts: e.encode_passages(sorted(ts, key=len), batch_size=bs)  # noqa: E731
    configs = [("build today: 64-text calls, batch 16, 2 threads", sliced, 16, 2),
               ("one call, sorted by length, batch 16", by_length, 16, 2),
               ("one call, sorted by length, batch 32", by_length, 32, 2),
               ("one call, sorted by length, batch 16, 1 thread", by_length, 16, 1)]
    print(f"\n{len(passages)} passages (mean {np.mean([len(t) for t in passages]):.0f} chars), "
          f"{len(sentences)} sentences (mean {np.mean([len(t) for t in sentences]):.0f} chars) in the corpus; "
          f"{texts_per_kind} of each timed\n")
    print("| configuration | passages texts/s | sentences texts/s |\n|---|---:|---:|")
    sliced(embedder)(kinds["sentences"][:32])  # warm up
    for label, how, bs, threads in configs:
        with torch_threads(threads):
            r = [rate(how(embedder, bs), kinds[k]) for k in ("passages", "sentences")]
        print(f"| {label} | {r[0]:.1f} | {r[1]:.1f} |", flush=True)
    int8 = Int8Embedder()
    r = [rate(by_length(int8, 16), kinds[k]) for k in ("passages", "sentences")]
    print(f"| int8 dynamic quantisation, sorted by length, batch 16 | {r[0]:.1f} | {r[1]:.1f} |", flush=True)


VARIANTS = ("today", "no-sentences", "ivf", "milvus", "int8")


def quality(embedder, out: Path, variants=VARIANTS) -> None:
    from letterqa import search
    from letterqa.evaluate import main_eval

    qa = DEVSET / "qa.jsonl"
    rows = []
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        tmp = Path(tmp)
        corpus = make_corpus(tmp)
        base = letterqa.Settings(corpus=corpus, index=tmp / "index")
        letterqa.build_index(base, embedder=embedder)

        def run(label, settings, emb=embedder):
            if label.split(":")[0] not in variants:
                return
            label = label.split(": ", 1)[1]
            t = time.perf_counter()
            ev = main_eval(settings, qa, tmp / "report", mode="hybrid", k=10, progress=False, embedder=emb)
            m = ev.results[0].metrics
            rows.append((label, m, time.perf_counter() - t))
            print(f"{label}: {summary(m)}", flush=True)

        run("today: float32 model, FAISS exact (today)", base)
        no_sentences(search)
        run("no-sentences: retrieval without sentence vectors (answers still use them)", base)
        no_sentences(search, undo=True)
        ivf = copy_index(base, tmp / "ivf")
        force_ivf(ivf.index)
        run("ivf: FAISS with IVF forced on (nlist by size, nprobe 32)", ivf)
        if "milvus" in variants:
            lite = copy_index(base, tmp / "milvus").but(backend="milvus", milvus_uri=str(tmp / "milvus.db"))
            letterqa.build_index(lite, embedder=embedder)  # rewrites the manifest only: nothing is embedded
            run("milvus: Milvus Lite backend", lite)
        if "int8" in variants:
            int8 = Int8Embedder()
            q8 = letterqa.Settings(corpus=corpus, index=tmp / "int8")
            letterqa.build_index(q8, embedder=int8)
            run("int8: int8 dynamic quantisation (index and questions)", q8, int8)
    print("\n| variant | hit@1 | hit@5 | MRR@10 | keyword accuracy | eval time |\n|---|---:|---:|---:|---:|---:|")
    for label, m, seconds in rows:
        print(f"| {label} | {fmt(m, 'hit@1')} | {fmt(m, 'hit@5')} | {fmt(m, 'mrr@10')} | "
              f"{fmt(m, 'keyword_accuracy')} | {seconds:.0f} s |")


def summary(m: dict) -> str:
    return ", ".join(f"{k}={fmt(m, k)}" for k in ("hit@1", "hit@5", "mrr@10", "keyword_accuracy"))


def fmt(m: dict, key: str) -> str:
    v = m.get(key)
    return "—" if v is None else f"{v:.3f}"


def no_sentences(search, undo: bool = False) -> None:
    """Retrieval by the chunk vector alone: the dense score without its best sentence, no sentence candidates."""
    if undo:
        search.Searcher.dense_scores = search.Searcher._with_sentences
        return
    search.Searcher._with_sentences = search.Searcher.dense_scores
    search.Searcher.dense_scores = lambda self, qvec, rows: self.stored.vectors[np.asarray(rows, dtype=np.int64)] @ qvec


def copy_index(settings, folder: Path):
    shutil.copytree(settings.index, folder)
    return settings.but(index=folder)


def force_ivf(index: Path) -> None:
    """Write IVF files into a built index and record them, as a build above ANN_MIN_VECTORS does."""
    import json

    live = store.live_build(index)
    manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
    st = store.load_index(index)
    manifest["ann"] = {"vectors": force(len(st.vectors)), "sentence_vectors": force(len(st.sentence_vectors))}
    for spec in manifest.get("segments") or []:  # a fresh build: one segment, the base
        spec["ann"] = manifest["ann"]
    vectors.write_ann(live, manifest["ann"], {"vectors": np.asarray(st.vectors),
                                              "sentence_vectors": np.asarray(st.sentence_vectors)})
    (live / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def force(n: int) -> dict:
    saved = vectors.ANN_MIN_VECTORS
    vectors.ANN_MIN_VECTORS = 1
    try:
        return vectors.ann_settings(n)
    finally:
        vectors.ANN_MIN_VECTORS = saved


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--texts", type=int, default=600, help="texts of each kind timed")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--variants", default=",".join(VARIANTS), help="quality variants: " + ", ".join(VARIANTS))
    args = parser.parse_args(argv)
    from letterqa.model import load_embedder

    print(f"# bench_embed {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f}")
    embedder = load_embedder(DEFAULT_MODEL, default_cache_dir())
    if args.speed or not args.quality:
        speed(embedder, args.texts)
    if args.quality or not args.speed:
        quality(load_embedder(DEFAULT_MODEL, default_cache_dir()), args.out, args.variants.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
