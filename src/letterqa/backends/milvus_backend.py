"""Milvus as the index backend: Milvus Lite (a local .db file) on one machine, a Milvus server or
cluster (http://host:19530) past it. Same candidates as the FAISS backend, same scoring after.

Two collections per model (named by its fingerprint), both keyed by letter so that a letter is
upserted or deleted whole and rows renumbered by a rebuild never matter:

    <prefix>_chunks     pk "<letter_id>:<i>", letter_id, i, sender, year, vec, text (jieba analyzer)
                        and sparse, filled by Milvus's BM25 function from text
    <prefix>_sentences  pk "<letter_id>:<j>", letter_id, chunk (i), sender, year, vec

Opening the backend syncs the collections with the build folder: letters Milvus lacks are inserted,
letters the index no longer holds are deleted; nothing else is touched. The engine's filters
(sender, year, letter) become a `letter_id in [...]` expression, so Milvus filters before it ranks.

Milvus Lite lacks the server's "chinese" analyzer type; its jieba tokenizer is used on both. Its
BM25 idf is per segment, not global, so the idf the answer stage weighs words by comes from the
build folder's bm25s index, as with FAISS. When the server refuses BM25 functions (Milvus before
2.5), lexical search falls back to the build folder's bm25s index.
"""
from __future__ import annotations

import logging
import re

import numpy as np

from ..errors import LetterQAError

log = logging.getLogger(__name__)

TEXT_MAX = 8192         # characters of a passage kept for BM25 (passages are ~300)
BATCH = 512             # rows per insert call
ANALYZER = {"tokenizer": "jieba"}


class MilvusBackend:
    """Candidates from Milvus collections; the local build folder still holds texts and vectors for scoring."""

    concurrent = False  # one client, one request at a time

    def __init__(self, stored, uri: str, prefix: str | None = None):
        from .faiss_backend import open_lexical

        self.stored = stored
        self.client = _connect(uri)
        tag = re.sub(r"\W", "_", prefix or f"letterqa_{stored.manifest.get('model_fingerprint', 'x')[:12]}")
        self.chunks, self.sentences = f"{tag}_chunks", f"{tag}_sentences"
        self.has_bm25 = self._ensure_collections(int(stored.manifest["dim"]))
        self.local_lexical = open_lexical(stored)
        sync(self)

    @property
    def idf(self):
        return self.local_lexical.idf

    def dense_candidates(self, qvec, n, rows) -> np.ndarray:
        expr = self._filter(rows)
        found = self._search(self.chunks, [qvec.tolist()], "vec", n, expr, "i")
        found += self._search(self.sentences, [qvec.tolist()], "vec", 2 * n, expr, "chunk")
        rows_found = np.array(sorted({r for r, _ in found}), dtype=np.int64)
        return rows_found if rows is None else np.intersect1d(rows_found, rows)

    def lexical(self, question, n, rows):
        if not self.has_bm25:
            return self.local_lexical.search(question, n, rows)
        found = self._search(self.chunks, [question], "sparse", n, self._filter(rows), "i",
                             search_params={"metric_type": "BM25"})
        allowed = None if rows is None else set(rows.tolist())
        # Milvus Lite reports BM25 as a negated distance; the order is what fusion uses
        return [(r, abs(s)) for r, s in found if allowed is None or r in allowed]

    def _search(self, collection, data, field, limit, expr, local_field, **kw) -> list[tuple[int, float]]:
        """(row, score) of the hits, best first; hits of letters this index does not hold are dropped."""
        res = self.client.search(collection, data=data, anns_field=field, limit=limit, filter=expr or "",
                                 output_fields=["letter_id", local_field], **kw)
        out = []
        for hit in res[0]:
            entity = hit["entity"]
            first = self._first_row(entity["letter_id"])
            if first is not None:
                out.append((first + int(entity[local_field]), float(hit["distance"])))
        return out

    def _first_row(self, letter_id: str) -> int | None:
        try:
            return self.stored.rows_of(letter_id)[0]
        except (KeyError, IndexError):
            return None

    def _filter(self, rows) -> str:
        """The letters whose rows are allowed, as a Milvus filter expression ("" = all)."""
        if rows is None:
            return ""
        allowed = set(np.asarray(rows).tolist())
        ids = [e["letter_id"] for e in self.stored.manifest["letters"] if e["rows"][0] in allowed]
        return "letter_id in [" + ", ".join(f'"{i}"' for i in ids) + "]" if ids else 'letter_id == ""'

    def _ensure_collections(self, dim: int) -> bool:
        """Create the two collections if missing; True when the chunks one has Milvus's BM25."""
        if not self.client.has_collection(self.sentences):
            self.client.create_collection(self.sentences, schema=_schema(self.client, dim, text=False),
                                          index_params=_index_params(self.client, bm25=False))
        if self.client.has_collection(self.chunks):
            fields = {f["name"] for f in self.client.describe_collection(self.chunks)["fields"]}
            return "sparse" in fields
        try:
            self.client.create_collection(self.chunks, schema=_schema(self.client, dim, text=True),
                                          index_params=_index_params(self.client, bm25=True))
            return True
        except Exception as exc:  # noqa: BLE001 - pymilvus raises one type for every refusal
            log.warning("Milvus refused BM25 full-text search (%s): lexical search uses bm25s", exc)
            self.client.create_collection(self.chunks, schema=_schema(self.client, dim, text=False),
                                          index_params=_index_params(self.client, bm25=False))
            return False


def _connect(uri: str):
    if not uri:
        raise LetterQAError("the milvus backend needs a URI: pass --milvus-uri ./index/milvus.db "
                            "(Milvus Lite) or --milvus-uri http://host:19530")
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise LetterQAError("the milvus backend needs pymilvus: pip install 'letterqa[milvus]'") from exc
    try:
        return MilvusClient(uri)
    except Exception as exc:  # noqa: BLE001 - connection, lock and version errors all come as one type
        raise LetterQAError(f"cannot open Milvus at {uri} ({str(exc).splitlines()[0]}): "
                            "check the URI, or that no other process holds a Milvus Lite file") from exc


def _schema(client, dim: int, text: bool):
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=96)
    schema.add_field("letter_id", DataType.VARCHAR, max_length=64)
    schema.add_field("i" if text else "chunk", DataType.INT64)
    schema.add_field("sender", DataType.VARCHAR, max_length=512)
    schema.add_field("year", DataType.INT64)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dim)
    if text:
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX * 4, enable_analyzer=True,
                         analyzer_params=ANALYZER)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
    return schema


def _index_params(client, bm25: bool):
    params = client.prepare_index_params()
    # AUTOINDEX: exact on Milvus Lite's small segments, HNSW/IVF as the server sees fit on a cluster
    params.add_index("vec", index_type="AUTOINDEX", metric_type="IP")
    params.add_index("letter_id", index_type="INVERTED")
    if bm25:
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    return params


def sync(backend: MilvusBackend) -> tuple[int, int]:
    """Insert the letters Milvus lacks, delete those the index dropped. Returns (inserted, deleted)."""
    client, stored = backend.client, backend.stored
    there = {r["letter_id"] for r in _all_rows(client, backend.chunks, "i == 0", ["letter_id"])}
    here = set(stored.letters)
    gone = sorted(there - here)
    if gone:
        expr = "letter_id in [" + ", ".join(f'"{i}"' for i in gone) + "]"
        client.delete(backend.chunks, filter=expr)
        client.delete(backend.sentences, filter=expr)
    new = [e for e in stored.manifest["letters"] if e["letter_id"] not in there]
    for entry in new:
        _insert_letter(backend, entry)
    if new or gone:
        log.info("Milvus: %d letters inserted, %d deleted", len(new), len(gone))
    return len(new), len(gone)


def _all_rows(client, collection: str, expr: str, fields: list[str]) -> list[dict]:
    it = client.query_iterator(collection, batch_size=1000, filter=expr, output_fields=fields)
    rows = []
    while batch := it.next():
        rows.extend(batch)
    it.close()
    return rows


def _insert_letter(backend: MilvusBackend, entry: dict) -> None:
    from ..build import passage_text

    st = backend.stored
    letter = st.letters[entry["letter_id"]]
    meta = {"letter_id": letter.letter_id, "sender": (letter.sender or "")[:170], "year": _year(letter.date)}
    first, end = entry["rows"]
    chunks = [{"pk": f"{letter.letter_id}:{r - first}", "i": r - first, "vec": st.vectors[r].tolist(),
               "text": passage_text(st.chunks[r])[:TEXT_MAX], **meta} for r in range(first, end)]
    if not backend.has_bm25:
        for c in chunks:
            del c["text"]
    s_first, s_end = int(st.sentence_offsets[first]), int(st.sentence_offsets[end])
    sentences = [{"pk": f"{letter.letter_id}:{j - s_first}", "chunk": int(st.sentences[j, 0]) - first,
                  "vec": st.sentence_vectors[j].tolist(), **meta} for j in range(s_first, s_end)]
    # sentences first and chunk 0 last: a letter counts as present (sync) only once all of it is in
    for collection, rows in ((backend.sentences, sentences), (backend.chunks, chunks[::-1])):
        for i in range(0, len(rows), BATCH):
            backend.client.upsert(collection, rows[i : i + BATCH])


def _year(date: str | None) -> int:
    m = re.match(r"(\d{4})", date or "")
    return int(m.group(1)) if m else 0
