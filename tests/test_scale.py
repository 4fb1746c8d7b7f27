"""Search at scale: files saved with the index and mapped (not rebuilt), IVF above a size, ID-selector
filters, the vectorised best sentence, BM25's own idf."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import DATA, FIRST_LETTER, make_corpus
from doubles import BigramEmbedder
from letterqa import api, lexical, store, vectors
from letterqa.answer import idf_table
from letterqa.search import Searcher, filter_rows

LETTERS = sorted((DATA / "letters" / "src").glob("*.txt")) + [FIRST_LETTER]


@pytest.fixture(scope="module")
def stored(first_settings):
    return store.load_index(first_settings.index)


def test_the_build_saves_bm25_and_loading_maps_it_without_indexing(stored, monkeypatch):
    assert (stored.folder / "lexical" / "vocab.json").is_file() and (stored.folder / "tokens.jsonl").is_file()
    assert isinstance(stored.vectors.base, np.memmap) and isinstance(stored.sentence_vectors.base, np.memmap)
    monkeypatch.setattr(lexical.Postings, "from_tokens", lambda *a: pytest.fail("BM25 was rebuilt"))
    searcher = Searcher(stored)
    hits = searcher.search("制造业创新中心", None, 3, mode="lexical")
    assert hits and "制造业创新中心" in hits[0].chunk.text


def test_bm25_scores_equal_bm25s_over_the_same_tokens(stored):
    import bm25s

    reference = bm25s.BM25()
    reference.index([t or [""] for t in stored.tokens], show_progress=False)
    ours = Searcher(stored).backend.lexical_index
    for question in ("2023年新认定多少家省制造业创新中心?", "技术改造 专项资金", "no such words"):
        q = [t for t in lexical.tokenize(question) if t in reference.vocab_dict]
        want = reference.get_scores(q) if q else np.zeros(len(stored.chunks))
        got = ours.scores(question)
        assert np.allclose(want, np.zeros(len(want)) if got is None else got, rtol=1e-5, atol=1e-6)


def test_bm25_scores_over_segments_are_the_token_by_token_sums_to_the_bit(stored):
    """Scores are summed in one pass (bincount) from each posting's precomputed tf/(tf+norm); they must
    equal adding each token's postings in turn, and BM25 as written to rounding."""
    tokens = [list(t) for t in stored.tokens]
    half = len(tokens) // 2
    index = lexical.LexicalIndex([lexical.Postings.from_tokens(tokens[:half]),
                                  lexical.Postings.from_tokens(tokens[half:])], [0, half])
    question = "制造业创新中心 制造业 专项资金支持技术改造?"
    got = index.scores(question)
    want, textbook = np.zeros(len(tokens)), np.zeros(len(tokens))
    q = [t for t in lexical.tokenize(question) if t in index.idf]
    assert len(q) > len(set(q))  # a repeated word counts twice
    for t in q:
        for p, offset in zip(index.segments, index.offsets):
            col = p.vocab.get(t)
            if col is not None:
                a, b = p.indptr[col], p.indptr[col + 1]
                tf, rows = p.tf[a:b].astype(np.float64), p.rows[a:b]
                norms = lexical.K1 * (1 - lexical.B + lexical.B * p.lengths[rows].astype(np.float64) / index.avgdl)
                want[offset + rows] += tf / (tf + norms) * index.idf[t]  # each posting's share, precomputed
                textbook[offset + rows] += index.idf[t] * tf / (tf + norms)
    assert np.array_equal(got, want) and np.count_nonzero(got) > 0
    assert np.allclose(got, textbook, rtol=1e-12, atol=0)


def test_idf_is_read_from_the_postings_and_equals_the_table_built_by_hand(stored):
    idf = Searcher(stored).idf
    table = idf_table(list(stored.tokens))
    assert len(idf) == len(table)
    assert all(abs(idf[t] - v) < 1e-9 for t, v in table.items())
    assert idf.max() == pytest.approx(max(table.values()))
    assert idf.get("no-such-token", -1.0) == -1.0


def test_the_vectorised_best_sentence_equals_the_loop(stored, embedder):
    q = embedder.encode_queries(["2023年新认定多少家省制造业创新中心?"])[0]
    rows = np.array([0, 3, 7, len(stored.chunks) - 1])
    by_loop = [(stored.vectors[r] @ q + max(stored.sentence_vectors[stored.sentence_rows(r)] @ q)) / 2 for r in rows]
    assert np.allclose(Searcher(stored).dense_scores(q, rows), by_loop, atol=1e-6)


@pytest.fixture(scope="module")
def six_letters(tmp_path_factory):
    """Six letters embedded by the bigram double, once exact and once with IVF forced on."""
    fake = BigramEmbedder()
    out = {}
    for kind, least in (("exact", vectors.ANN_MIN_VECTORS), ("ivf", 1)):
        settings = make_corpus(tmp_path_factory.mktemp(kind), *LETTERS).but(model=fake.name)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(vectors, "ANN_MIN_VECTORS", least)
            api.build_index(settings, embedder=fake)
            out[kind] = store.load_index(settings.index)
            out[kind].searcher = Searcher(out[kind])
    out["fake"] = fake
    return out


def test_ivf_is_recorded_in_the_manifest_and_loaded(six_letters):
    exact, ivf = six_letters["exact"], six_letters["ivf"]
    assert exact.manifest["ann"] == {"vectors": None, "sentence_vectors": None}
    params = ivf.manifest["ann"]["vectors"]
    assert params["kind"] == "ivf_flat" and params["nlist"] >= 1 and params["nprobe"] == vectors.NPROBE
    assert (ivf.folder / "vectors.ivf.faiss").is_file() and (ivf.folder / "sentence_vectors.ivf.faiss").is_file()
    assert ivf.dense["vectors"].ann.ntotal == len(ivf.chunks)
    assert json.loads((ivf.folder / "manifest.json").read_text())["ann"] == ivf.manifest["ann"]


def test_a_loaded_ivf_index_is_mapped_and_starts_no_prefetch_threads(six_letters):
    """Memory-mapped lists are OnDiskInvertedLists, which otherwise start 32 threads per search (4x slower)."""
    faiss = vectors.faiss_module()
    for name in vectors.NAMES:
        lists = faiss.downcast_InvertedLists(six_letters["ivf"].dense[name].ann.invlists)
        assert type(lists).__name__ == "OnDiskInvertedLists" and lists.prefetch_nthread == 0


def test_ivf_finds_what_exact_search_finds(six_letters):
    fake, exact, ivf = six_letters["fake"], six_letters["exact"], six_letters["ivf"]
    questions = ["2023年新认定多少家省制造业创新中心?", "农村公路建设资金", "乡村教师待遇", "医保报销比例"]
    for question in questions:
        q = fake.encode_queries([question])[0]
        top = [[h.chunk.text for h in s.searcher.search(question, q, 5, mode="dense")] for s in (exact, ivf)]
        assert top[0][:3] == top[1][:3]


@pytest.mark.parametrize("kind", ["exact", "ivf"])
def test_filters_are_id_selectors_on_both_sides(six_letters, kind, monkeypatch):
    from letterqa import search

    # make even a one-letter filter go through the candidate search and its ID selector
    monkeypatch.setattr(vectors, "EXACT_BELOW", 0)
    monkeypatch.setattr(search, "SCORE_ALL_BELOW", 0)
    st, fake = six_letters[kind], six_letters["fake"]
    letter = next(lt for lt in st.letters.values() if lt.sender and "交通" in lt.sender)
    rows = filter_rows(st, sender=letter.sender)
    allowed = {int(r) for r in rows}
    assert 0 < len(allowed) < len(st.chunks)
    question = "2023年新认定多少家省制造业创新中心?"  # asked of a letter that is about something else
    q = fake.encode_queries([question])[0]
    for mode in ("dense", "lexical", "hybrid"):
        hits = st.searcher.search(question, q, 10, mode=mode, rows=rows)
        assert {h.chunk.chunk_id for h in hits} <= allowed
    assert len(st.searcher.search(question, q, 10, mode="dense", rows=rows)) == min(10, len(allowed))
    assert st.searcher.search(question, q, 10, mode="dense", rows=np.zeros(0, int)) == []


def test_dense_index_recall_on_clustered_vectors():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((200, 48)).astype("float32")
    x = centres[rng.integers(0, 200, 20000)] + 0.8 * rng.standard_normal((20000, 48)).astype("float32")
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    params = vectors.ann_settings(len(x)) or {"kind": "ivf_flat", "nlist": 128, "nprobe": vectors.NPROBE}
    dense = vectors.DenseIndex(x, _ivf(x, params["nlist"]), params["nprobe"])
    queries = x[rng.choice(len(x), 50, replace=False)] + 0.05 * rng.standard_normal((50, 48)).astype("float32")
    recall = np.mean([len(set(dense.search(q, 10)) & set(vectors.DenseIndex(x).search(q, 10))) / 10
                      for q in queries])
    assert recall >= 0.99


def _ivf(x, nlist):
    import faiss

    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(x.shape[1]), x.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(x)
    index.add(x)
    return index


def test_an_index_written_before_these_files_still_loads(six_letters, tmp_path):
    import shutil

    old = tmp_path / "index"
    shutil.copytree(six_letters["exact"].folder.parent, old)
    folder = store.live_build(old)
    tokens = [json.loads(line) for line in (folder / "tokens.jsonl").read_text().splitlines()]
    chunks = [json.loads(line) for line in (folder / "chunks.jsonl").read_text().splitlines()]
    (folder / "chunks.jsonl").write_text("".join(json.dumps({**c, "tokens": t}, ensure_ascii=False) + "\n"
                                                 for c, t in zip(chunks, tokens)))
    (folder / "tokens.jsonl").unlink()
    shutil.rmtree(folder / "lexical")
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["segments"]
    (folder / "manifest.json").write_text(json.dumps({**manifest, "format": 1}))
    st = store.load_index(old)
    hits = Searcher(st).search("制造业创新中心", None, 3, mode="lexical")
    assert st.tokens[0] == tokens[0] and "制造业创新中心" in hits[0].chunk.text
