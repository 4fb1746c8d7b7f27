"""Retrieval over a loaded index: dense (passage ⊕ best sentence), lexical (BM25), or both fused.

Where candidates come from is an index backend (backends/): FAISS + bm25s files in the build folder
(the default), or a Milvus collection. Scoring the candidates and fusing the two lists happens here,
the same for both, from the vectors the build folder holds.
"""
from __future__ import annotations

import functools
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .backends import backend_record, open_backend
from .lexical import LEXICAL, Postings
from .records import Hit
from .store import StoredIndex
from .vectors import ann_settings, write_ann

log = logging.getLogger(__name__)

MODES = ("dense", "lexical", "hybrid")
RRF_K = 60  # the usual reciprocal-rank-fusion constant; it damps the weight of rank 1 vs rank 2
SCORE_ALL_BELOW = 2048  # a filter this narrow (a letter, a sender's few) is scored whole, exactly


@functools.cache
def _worker() -> ThreadPoolExecutor:
    """One thread for BM25 beside the dense search; questions are asked one at a time per engine."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="letterqa-bm25")


class Searcher:
    """Both retrievers over one StoredIndex; opened once per loaded index (nothing is rebuilt)."""

    def __init__(self, stored: StoredIndex):
        self.stored = stored
        self.backend = open_backend(stored)

    @property
    def idf(self):
        """token -> BM25 idf over the index's passages (a Mapping; `.max()` is the largest)."""
        return self.backend.idf

    def search(self, question: str, qvec: np.ndarray | None, n: int, mode: str = "hybrid",
               rows: np.ndarray | None = None) -> list[Hit]:
        """The top n hits for a question; `rows` limits the search to some chunks (filters)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        if rows is not None:
            rows = np.unique(np.asarray(rows, dtype=np.int64))
        pool = max(n * 4, 50)  # fuse over deeper lists than we return, so a rank-8 chunk can rise
        if mode == "hybrid" and getattr(self.backend, "concurrent", False):
            # BM25 on the second core while the IVF searches run on this one (measured at 10^5 passages:
            # the engine's own work 5.8-6.3 ms → 4.6 ms a question)
            future = _worker().submit(self.backend.lexical, question, pool, rows)
            dense = self._dense(qvec, pool, rows)
            lexical = future.result()
        else:
            dense = self._dense(qvec, pool, rows) if mode != "lexical" else []
            lexical = self.backend.lexical(question, pool, rows) if mode != "dense" else []
        if mode == "dense":
            return [self._hit(r, s, dense_rank=i) for i, (r, s) in enumerate(dense[:n])]
        if mode == "lexical":
            return [self._hit(r, s, lexical_rank=i) for i, (r, s) in enumerate(lexical[:n])]
        return self._fuse(dense, lexical, n)

    def dense_scores(self, qvec: np.ndarray, rows) -> np.ndarray:
        """A chunk's dense score: the mean of its own cosine and its best sentence's cosine.

        The chunk vector knows the whole passage; the sentence vector matches a single fact
        (a figure, a target) that a long passage dilutes. Measured on the test set, the mean
        beats either alone, most of all on English questions.
        """
        rows = np.asarray(rows, dtype=np.int64)
        st = self.stored
        ids, owner = sentence_ids(st, rows)
        own = st.vectors[rows] @ qvec
        best = own.copy()  # a chunk without sentences (none are written so) counts its own cosine twice
        if len(ids):
            best[np.unique(owner)] = -np.inf
            np.maximum.at(best, owner, st.sentence_vectors[ids] @ qvec)
        return (own + best) / 2

    def _dense(self, qvec, n, rows) -> list[tuple[int, float]]:
        if rows is not None and len(rows) <= max(n, SCORE_ALL_BELOW):
            candidates = rows
        else:
            candidates = self.backend.dense_candidates(qvec, n, rows)
        if len(candidates) == 0:
            return []
        scores = self.dense_scores(qvec, candidates)
        order = np.argsort(-scores, kind="stable")[:n]
        return [(int(candidates[i]), float(scores[i])) for i in order]

    def _fuse(self, dense, lexical, n) -> list[Hit]:
        """Reciprocal-rank fusion: scale-free, so BM25 and cosine need no common calibration."""
        fused: dict[int, float] = {}
        dense_rank = {r: i for i, (r, _) in enumerate(dense)}
        lexical_rank = {r: i for i, (r, _) in enumerate(lexical)}
        for ranks in (dense_rank, lexical_rank):
            for row, i in ranks.items():
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + i + 1)
        best = sorted(fused, key=lambda r: -fused[r])[:n]
        return [self._hit(r, fused[r], dense_rank.get(r), lexical_rank.get(r)) for r in best]

    def _hit(self, row, score, dense_rank=None, lexical_rank=None) -> Hit:
        return Hit(self.stored.chunks[row], float(score), dense_rank, lexical_rank)


def sentence_ids(stored: StoredIndex, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sentence rows of some chunk rows, and for each the position of its chunk in `rows`."""
    starts = stored.sentence_offsets[rows]
    counts = stored.sentence_offsets[rows + 1] - starts
    owner = np.repeat(np.arange(len(rows)), counts)
    first = np.cumsum(counts) - counts  # where each chunk's run begins in the output
    return np.repeat(starts, counts) + np.arange(int(counts.sum())) - np.repeat(first, counts), owner


def search_manifest(settings, n_vectors: int, n_sentence_vectors: int) -> dict:
    """What the manifest records about search: the ANN parameters per vector file, and the backend."""
    return {"ann": segment_ann(n_vectors, n_sentence_vectors), "backend": backend_record(settings)}


def segment_ann(n_vectors: int, n_sentence_vectors: int) -> dict:
    """A segment's ANN parameters per vector file (None = exact search)."""
    return {"vectors": ann_settings(n_vectors), "sentence_vectors": ann_settings(n_sentence_vectors)}


def write_search_files(folder: Path, data, spec: dict, old: StoredIndex | None = None) -> None:
    """A new segment's BM25 postings and, for a large one, IVF files, written with the build so that
    loading never rebuilds them."""
    Postings.from_tokens(data.tokens).save(Path(folder) / LEXICAL)
    write_ann(Path(folder), spec.get("ann"), {"vectors": data.vectors, "sentence_vectors": data.sentence_vectors},
              old)


def filter_rows(stored: StoredIndex, sender: str | None = None, year: int | str | None = None) -> np.ndarray | None:
    """Rows of the letters whose sender contains `sender` and whose date is in `year`; None = all."""
    if not sender and not year:
        return None
    parts = [np.arange(*e["rows"]) for e in stored.manifest["letters"]
             if _wanted(stored.letters[e["letter_id"]], sender, year)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _wanted(letter, sender, year) -> bool:
    if sender and sender not in letter.sender:
        return False
    return not year or bool(re.match(rf"{int(year)}\b", letter.date or ""))
