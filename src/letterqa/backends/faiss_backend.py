"""The embedded backend: the build folder's FAISS indexes (exact or IVF) and its saved bm25s index."""
from __future__ import annotations

import logging

import numpy as np

from ..lexical import LexicalIndex
from ..vectors import DenseIndex, faiss_module

log = logging.getLogger(__name__)


class FaissBackend:
    """Opens what the build wrote (memory-mapped); an index written before bm25/ existed is indexed once."""

    def __init__(self, stored):
        faiss = faiss_module()
        # One question at a time is searched: threads only fight the model's on a few cores.
        faiss.omp_set_num_threads(1)
        self.stored = stored
        dense = stored.dense or {}
        self._chunks = dense.get("vectors") or DenseIndex(stored.vectors)
        self._sentences = dense.get("sentence_vectors") or DenseIndex(stored.sentence_vectors)
        self._sentence_chunk = np.asarray(stored.sentences[:, 0], dtype=np.int64)
        self.lexical_index = open_lexical(stored)

    @property
    def idf(self):
        return self.lexical_index.idf

    def dense_candidates(self, qvec, n, rows) -> np.ndarray:
        from ..search import sentence_ids

        allowed = None if rows is None else sentence_ids(self.stored, rows)[0]
        by_chunk = self._chunks.search(qvec, n, rows)
        by_sentence = self._sentence_chunk[self._sentences.search(qvec, 2 * n, allowed)]
        return np.union1d(by_chunk, by_sentence)

    def lexical(self, question, n, rows):
        return self.lexical_index.search(question, n, rows)


def open_lexical(stored) -> LexicalIndex:
    """The saved BM25 index, memory-mapped; or, for an older index folder, one built from its tokens."""
    saved = stored.folder / "bm25"
    if saved.is_dir():
        return LexicalIndex.load(saved, len(stored.chunks))
    log.info("no saved BM25 in %s: indexing its tokens (run `letterqa build` to save one)", stored.folder)
    return LexicalIndex.from_tokens(list(stored.tokens))
