"""The question path shared by the CLI, the chat and eval: embed, search, answer."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

import numpy as np

from . import answer as ans
from . import store
from .config import Settings
from .errors import EmptyQuestionError
from .records import Answer
from .search import Searcher, filter_rows
from .sections import CHUNKER_VERSION

log = logging.getLogger(__name__)

SENTENCE_CACHE = 50_000  # sentence vectors kept between questions (384 floats each: ~75 MB at most)


class Engine:
    """A loaded model and index. Picks up a rebuilt index on the next question, without a restart."""

    def __init__(self, settings: Settings, embedder, stored: store.StoredIndex):
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.RLock()
        self._sentence_vectors: OrderedDict = OrderedDict()
        self._use(stored)

    @classmethod
    def open(cls, settings: Settings, embedder=None) -> "Engine":
        """Load the index (checked against the settings) and the model, once."""
        stored = store.load_index(settings.index)
        _check(stored, settings, None)
        if embedder is None:
            from .model import load_embedder

            embedder = load_embedder(settings.model, settings.cache)
        _check(stored, settings, embedder.fingerprint)
        return cls(settings, embedder, stored)

    def _use(self, stored: store.StoredIndex) -> None:
        self.stored = stored
        self.searcher = Searcher(stored)
        self.idf = ans.idf_table(stored.tokens)
        self._sentence_vectors.clear()

    def refresh(self) -> bool:
        """Reload when `letterqa build` or an upload swapped in a new index. True if it did."""
        live = store.live_build(self.settings.index)
        if live is None or live == self.stored.folder:
            return False
        with self._lock:
            if live != self.stored.folder:
                stored = store.load_index(self.settings.index)
                _check(stored, self.settings, self.embedder.fingerprint)
                self._use(stored)
                log.info("loaded the new index %s", live.name)
        return True

    def ask(self, question: str, k: int | None = None, mode: str | None = None,
            sender: str | None = None, year: int | str | None = None) -> Answer:
        """Answer one question from the letters, with citations; or say they do not answer it."""
        started = time.perf_counter()
        question = (question or "").strip()
        if not question:
            raise EmptyQuestionError()
        self.refresh()
        k = k or self.settings.k
        with self._lock:
            stored = self.stored
            qvec = self.embedder.encode_queries([question])[0]
            rows = filter_rows(stored, sender, year)
            hits = self.searcher.search(question, qvec, max(k, ans.ANSWER_POOL), mode or self.settings.mode, rows)
            sentences = ans.candidate_sentences(hits)
            scored = ans.score_sentences(question, qvec, sentences, self._vectors_of(sentences), self.idf)
        picked = ans.choose(scored, question)
        answered = bool(picked) and ans.relevance(picked[0]) >= self.settings.min_relevance
        text, citations = ans.compose(question, picked, hits, stored.letters, answered)
        latency = (time.perf_counter() - started) * 1000
        return Answer(question, text, answered, citations, tuple(hits[:k]), latency, stored.letters)

    def _vectors_of(self, sentences: list[ans.Sentence]) -> np.ndarray:
        """Sentence embeddings, computed once and kept: the same top passages come up often."""
        keys = [(s.chunk.chunk_id, s.start) for s in sentences]
        missing = [i for i, key in enumerate(keys) if key not in self._sentence_vectors]
        if missing:
            fresh = self.embedder.encode_passages([sentences[i].text for i in missing])
            for i, vec in zip(missing, fresh):
                self._sentence_vectors[keys[i]] = vec
        for key in keys:
            self._sentence_vectors.move_to_end(key)
        while len(self._sentence_vectors) > SENTENCE_CACHE:
            self._sentence_vectors.popitem(last=False)
        if not keys:
            return np.zeros((0, self.embedder.dim), "float32")
        return np.stack([self._sentence_vectors[key] for key in keys])


def _check(stored: store.StoredIndex, settings: Settings, fingerprint: str | None) -> None:
    store.check_compatible(stored.manifest, settings.index, model=settings.model, fingerprint=fingerprint,
                           chunker_version=CHUNKER_VERSION, max_chunk_chars=settings.max_chunk_chars)
