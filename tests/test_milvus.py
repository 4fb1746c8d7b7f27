"""The Milvus backend on Milvus Lite (a local .db file): same candidates as FAISS, BM25 with jieba,
filters as expressions, letters upserted and deleted incrementally."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("milvus_lite", reason="milvus-lite is not installed (pip install 'letterqa[milvus]')")

from conftest import DATA, FIRST_LETTER, make_corpus  # noqa: E402
from doubles import BigramEmbedder  # noqa: E402
from letterqa import api, store  # noqa: E402
from letterqa.backends.milvus_backend import MilvusBackend, sync  # noqa: E402
from letterqa.errors import LetterQAError  # noqa: E402
from letterqa.search import Searcher, filter_rows  # noqa: E402

LETTERS = sorted((DATA / "letters" / "src").glob("*.txt")) + [FIRST_LETTER]
QUESTIONS = ["2023年新认定多少家省制造业创新中心?", "农村公路建设资金", "乡村教师待遇", "医保报销比例", "噪声污染防治"]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same six letters, embedded by the bigram double, served by FAISS and by Milvus Lite."""
    fake = BigramEmbedder()
    out = {"fake": fake}
    for kind in ("faiss", "milvus"):
        root = tmp_path_factory.mktemp(kind)
        settings = make_corpus(root, *LETTERS).but(model=fake.name, backend=kind, milvus_uri=str(root / "lite.db"))
        api.build_index(settings, embedder=fake)
        out[kind] = Searcher(store.load_index(settings.index))
        out[kind + "_settings"] = settings
    return out


def test_the_manifest_names_the_backend(both):
    assert both["milvus"].stored.manifest["backend"]["kind"] == "milvus"
    assert isinstance(both["milvus"].backend, MilvusBackend) and both["milvus"].backend.has_bm25
    assert both["faiss"].stored.manifest["backend"] == {"kind": "faiss", "uri": ""}


def test_milvus_finds_what_faiss_finds(both):
    fake = both["fake"]
    for question in QUESTIONS:
        q = fake.encode_queries([question])[0]
        tops = [[h.chunk.chunk_id for h in both[k].search(question, q, 5, mode="dense")] for k in ("faiss", "milvus")]
        assert tops[0] == tops[1]


def test_milvus_bm25_with_jieba_finds_the_words(both):
    hits = both["milvus"].search("制造业创新中心", None, 3, mode="lexical")
    assert hits and "制造业创新中心" in hits[0].chunk.text
    faiss_top = both["faiss"].search("制造业创新中心", None, 3, mode="lexical")[0].chunk.chunk_id
    assert faiss_top in {h.chunk.chunk_id for h in hits}
    assert both["milvus"].idf.get("制造业") == both["faiss"].idf.get("制造业")


def test_filters_run_in_milvus(both):
    searcher, fake = both["milvus"], both["fake"]
    st = searcher.stored
    sender = next(lt.sender for lt in st.letters.values() if lt.sender and "交通" in lt.sender)
    rows = filter_rows(st, sender=sender)
    allowed = set(rows.tolist())
    expr = searcher.backend._filter(rows)
    assert expr.startswith("letter_id in [") and expr.count('"') == 2
    q = fake.encode_queries([QUESTIONS[0]])[0]
    assert set(searcher.backend.dense_candidates(q, 10, rows).tolist()) <= allowed
    assert {r for r, _ in searcher.backend.lexical("制造业 公路", 10, rows)} <= allowed
    assert len(searcher.backend.dense_candidates(q, 10, rows)) > 0


def test_a_rebuild_upserts_and_deletes_only_what_changed(both, monkeypatch):
    from letterqa import build

    monkeypatch.setattr(build, "DELTA_SHARE", 10.0)  # the re-added letter goes to a delta segment
    settings, fake = both["milvus_settings"], both["fake"]
    gone = LETTERS[0].name
    (settings.corpus / gone).unlink()
    api.build_index(settings, embedder=fake)
    stored = store.load_index(settings.index)
    backend = MilvusBackend.__new__(MilvusBackend)  # reuse the open client: one process per Lite file
    backend.__dict__.update(both["milvus"].backend.__dict__, stored=stored)
    assert sync(backend) == (0, 1)
    assert sync(backend) == (0, 0)
    shutil.copy(LETTERS[0], settings.corpus / gone)
    api.build_index(settings, embedder=fake)
    backend.stored = store.load_index(settings.index)
    assert sync(backend) == (1, 0)
    ids = {r["letter_id"] for r in backend.client.query(backend.chunks, filter="i == 0", output_fields=["letter_id"])}
    assert ids == set(backend.stored.letters)
    # the re-added letter sits in a delta segment; Milvus's hits map to its rows there
    assert len(backend.stored.segments) == 2
    back = next(lid for lid, x in backend.stored.letters.items() if x.source == gone)
    rows = np.asarray(backend.stored.rows_of(back))
    assert rows[0] == backend.stored.segments[1].first
    text = backend.stored.chunks[int(rows[1])].text
    found = backend.dense_candidates(fake.encode_queries([text])[0], 3, None)
    assert int(rows[1]) in found.tolist()
    assert {r for r, _ in backend.lexical(text[:40], 5, rows)} <= set(rows.tolist())


def test_a_milvus_index_without_a_uri_says_how_to_fix_it(both):
    stored = both["milvus"].stored
    with pytest.raises(LetterQAError, match="--milvus-uri"):
        MilvusBackend(stored, "")
    assert np.all(stored.vectors[0] == both["faiss"].stored.vectors[0])
