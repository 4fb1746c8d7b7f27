"""Retrieval over a loaded index: dense (FAISS inner product), lexical (BM25), or both fused."""
from __future__ import annotations

import logging
import re

import numpy as np

from .lexical import LexicalIndex
from .records import Hit
from .store import StoredIndex

log = logging.getLogger(__name__)

MODES = ("dense", "lexical", "hybrid")
RRF_K = 60  # the usual reciprocal-rank-fusion constant; it damps the weight of rank 1 vs rank 2


class Searcher:
    """Both retrievers over one StoredIndex; built once per loaded index."""

    def __init__(self, stored: StoredIndex):
        import faiss

        self.stored = stored
        self._faiss = faiss.IndexFlatIP(stored.vectors.shape[1])
        if len(stored.vectors):
            self._faiss.add(stored.vectors)
        self._lexical = LexicalIndex(stored.tokens)

    def search(self, question: str, qvec: np.ndarray | None, n: int, mode: str = "hybrid",
               rows: np.ndarray | None = None) -> list[Hit]:
        """The top n hits for a question; `rows` limits the search to some chunks (filters)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        pool = max(n * 4, 50)  # fuse over deeper lists than we return, so a rank-8 chunk can rise
        dense = self._dense(qvec, pool, rows) if mode != "lexical" else []
        lexical = self._lexical_hits(question, pool, rows) if mode != "dense" else []
        if mode == "dense":
            return [self._hit(r, s, dense_rank=i) for i, (r, s) in enumerate(dense[:n])]
        if mode == "lexical":
            return [self._hit(r, s, lexical_rank=i) for i, (r, s) in enumerate(lexical[:n])]
        return self._fuse(dense, lexical, n)

    def dense_scores(self, qvec: np.ndarray, rows) -> np.ndarray:
        """Cosine similarity of the question to some chunks (vectors are L2-normalised)."""
        return self.stored.vectors[np.asarray(rows, dtype=int)] @ qvec

    def _dense(self, qvec, n, rows) -> list[tuple[int, float]]:
        if rows is not None:
            scores = self.dense_scores(qvec, rows)
            order = np.argsort(-scores)[:n]
            return [(int(rows[i]), float(scores[i])) for i in order]
        if not self._faiss.ntotal:
            return []
        scores, ids = self._faiss.search(qvec.reshape(1, -1).astype("float32"), min(n, self._faiss.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _lexical_hits(self, question, n, rows) -> list[tuple[int, float]]:
        if rows is None:
            return self._lexical.search(question, n)
        allowed = set(int(r) for r in rows)
        return [(r, s) for r, s in self._lexical.search(question, self._lexical.size) if r in allowed][:n]

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


def filter_rows(stored: StoredIndex, sender: str | None = None, year: int | str | None = None) -> np.ndarray | None:
    """Rows of the letters whose sender contains `sender` and whose date is in `year`; None = all."""
    if not sender and not year:
        return None
    wanted = set()
    for lid, letter in stored.letters.items():
        if sender and sender not in letter.sender:
            continue
        if year and not re.match(rf"{int(year)}\b", letter.date or ""):
            continue
        wanted.add(lid)
    return np.array([c.chunk_id for c in stored.chunks if c.letter_id in wanted], dtype=int)
