"""The question path shared by the CLI, the chat and eval: embed, search, answer."""
from __future__ import annotations

import logging
import threading
import time

from . import answer as ans
from . import store
from .config import Settings
from .errors import EmptyQuestionError
from .records import Answer
from .search import Searcher, filter_rows
from .sections import CHUNKER_VERSION

log = logging.getLogger(__name__)

class Engine:
    """A loaded model and index. Picks up a rebuilt index on the next question, without a restart."""

    def __init__(self, settings: Settings, embedder, stored: store.StoredIndex):
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.RLock()
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
            sentences, vectors = ans.candidate_sentences(hits, stored)
            scored = ans.score_sentences(question, qvec, sentences, vectors, self.idf)
        picked = ans.choose(scored, question)
        answered = bool(picked) and ans.relevance(picked[0]) >= self.settings.min_relevance
        text, citations = ans.compose(question, picked, hits, stored.letters, answered)
        latency = (time.perf_counter() - started) * 1000
        return Answer(question, text, answered, citations, tuple(hits[:k]), latency, stored.letters)


def _check(stored: store.StoredIndex, settings: Settings, fingerprint: str | None) -> None:
    store.check_compatible(stored.manifest, settings.index, model=settings.model, fingerprint=fingerprint,
                           chunker_version=CHUNKER_VERSION, max_chunk_chars=settings.max_chunk_chars)
