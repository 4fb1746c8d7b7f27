"""The embedded backend: the build folder's FAISS indexes (exact or IVF) and its saved BM25 postings, per segment."""
from __future__ import annotations

import logging

import numpy as np

from ..lexical import LEXICAL, LexicalIndex, Postings
from ..vectors import DenseIndex, faiss_module

log = logging.getLogger(__name__)


class FaissBackend:
    """Opens what the build wrote (memory-mapped), every segment of it; an index written before
    BM25 postings were saved has its tokens counted once."""

    # faiss and numpy release the GIL while they work: BM25 on a second core beside the IVF searches
    # (the model, which uses one core, is done by then)
    concurrent = True

    def __init__(self, stored):
        faiss = faiss_module()
        # One thread, for the model too: faiss and torch share one OpenMP runtime, so this sets torch's.
        # With two threads the query encode took 19 ms on an idle 2-core machine but 850-950 ms while
        # other processes held a core (each op waits for a descheduled thread); with one, 27-29 ms
        # (measured). A search of one query runs on one thread either way.
        faiss.omp_set_num_threads(1)
        self.stored = stored
        self._parts = [(seg.first, seg.first_sentence, seg.dense["vectors"], seg.dense["sentence_vectors"])
                       for seg in stored.segments] or [(0, 0, DenseIndex(stored.vectors),
                                                        DenseIndex(stored.sentence_vectors))]
        self._sentence_chunk = np.asarray(stored.sentences[:, 0], dtype=np.int64)
        self.lexical_index = open_lexical(stored)

    @property
    def idf(self):
        return self.lexical_index.idf

    def dense_candidates(self, qvec, n, rows) -> np.ndarray:
        """Each segment's top n chunks and top 2n sentences: the index's own top n are among them."""
        from ..search import sentence_ids

        allowed = None if rows is None else sentence_ids(self.stored, rows)[0]
        found = []
        for first, first_sentence, chunks, sentences in self._parts:
            found.append(chunks.search(qvec, n, _within(rows, first, len(chunks))) + first)
            near = sentences.search(qvec, 2 * n, _within(allowed, first_sentence, len(sentences)))
            found.append(self._sentence_chunk[near + first_sentence])
        return np.unique(np.concatenate(found))

    def lexical(self, question, n, rows):
        return self.lexical_index.search(question, n, rows)


def _within(ids: np.ndarray | None, first: int, n: int) -> np.ndarray | None:
    """The sorted ids that fall in [first, first + n), as ids within that range (None = all)."""
    if ids is None:
        return None
    a, b = np.searchsorted(ids, [first, first + n])
    return ids[a:b] - first


def open_lexical(stored) -> LexicalIndex:
    """BM25 over every segment's saved postings, memory-mapped; a segment without them (a format-1
    index) is counted from its tokens."""
    if not stored.segments:
        return LexicalIndex.from_tokens(list(stored.tokens))
    postings = []
    for seg in stored.segments:
        saved = seg.folder / LEXICAL
        if saved.is_dir():
            postings.append(Postings.load(saved))
        else:
            log.info("no saved BM25 postings in %s: counting its tokens (run `letterqa build` to save them)",
                     seg.folder)
            postings.append(Postings.from_tokens(list(seg.tokens)))
    return LexicalIndex(postings, [seg.first for seg in stored.segments])
