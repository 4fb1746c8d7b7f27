"""The question path shared by the CLI, the chat and eval: embed, search, answer."""
from __future__ import annotations

import logging
import threading
import time

from . import answer as ans
from . import store
from .config import Settings
from .errors import EmptyQuestionError
from .limits import clean_question
from .question import (asks_list, asks_quantity, asks_which_letters, meta_field, missing_specifics, plan_for_fact,
                       split_parts, states_field, states_quantity, topic_of)
from .records import Answer, Chunk, Hit
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
        engine = cls(settings, embedder, stored)
        engine.ask("山东省2023年有多少家?")  # jieba's dictionaries load lazily: pay for them here, not on a question
        return engine

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
        question = clean_question(question, self.settings.limits)
        if not question:
            raise EmptyQuestionError()
        self.refresh()
        k, mode = k or self.settings.k, mode or self.settings.mode
        with self._lock:
            stored = self.stored
            parts = split_parts(question)
            asked = [question] + (parts if len(parts) > 1 else [])
            qvecs = self.embedder.encode_queries(asked)
            rows = filter_rows(stored, sender, year)
            n = max(k, ans.ANSWER_POOL)
            hits = self.searcher.search(question, qvecs[0], n, mode, rows)
            if asks_which_letters(question):
                picked = self._pick_per_letter(question, qvecs[0], self.searcher.search(
                    question, qvecs[0], max(n, 4 * ans.MAX_LETTERS), mode, rows))
            elif len(asked) > 1:
                picked = ans.merge_parts([self._pick(p, v, self.searcher.search(p, v, n, mode, rows))
                                          for p, v in zip(asked[1:], qvecs[1:])])
            else:
                picked = self._pick(question, qvecs[0], hits)
        unsupported = self._refusal(question, picked, hits) if picked else ""
        answered = unsupported is None
        if not answered:
            log.info("refusing %r: %s", question, unsupported or "nothing retrieved")
        text, citations = ans.compose(question, picked, hits, stored.letters, answered, unsupported)
        latency = (time.perf_counter() - started) * 1000
        return Answer(question, text, answered, citations, tuple(hits[:k]), latency, stored.letters)

    def _pick(self, question: str, qvec, hits: list[Hit]) -> list[ans.Scored]:
        """The sentences that answer one (sub-)question, best first."""
        field = meta_field(question)
        pool = list(hits[: ans.ANSWER_POOL])
        if field and hits:  # facts about the letter sit in its opening and sign-off
            pool += [Hit(c, 0.0) for c in self._ends_of(hits[0].chunk.letter_id) if c not in {h.chunk for h in pool}]
        sentences, vectors = ans.candidate_sentences(pool, self.stored, pool=len(pool))
        letters = self.stored.letters
        states = (lambda s: states_field(s.text, field, letters[s.chunk.letter_id])) if field else None
        bonus = (lambda s: ans.META_BONUS * states(s)) if field else None
        scored = ans.score_sentences(question, qvec, sentences, vectors, self.idf, bonus)
        chosen = ans.choose(scored, question)
        if chosen and field:  # joint signers, a contact line cut at ；
            return ans.extend(chosen, scored, lambda best, s: states(s.sentence))
        if chosen and asks_list(question):  # the items of a list cut at ；
            return ans.extend(chosen, scored, ans.same_sentence)
        return chosen

    def _pick_per_letter(self, question: str, qvec, hits: list[Hit]) -> list[ans.Scored]:
        """The best sentence of each letter among the hits, if it holds most of the topic's wording."""
        by_letter: dict[str, list[Hit]] = {}
        for hit in hits:
            by_letter.setdefault(hit.chunk.letter_id, []).append(hit)
        topic = topic_of(question)
        best = [max(self._pick(topic, qvec, group), key=lambda s: s.score) for group in by_letter.values()]
        best = [s for s in best if s.coverage >= ans.TOPIC_COVERAGE] or best[:1]
        return sorted(best, key=lambda s: -s.score)[: ans.MAX_LETTERS]

    def _ends_of(self, letter_id: str) -> list[Chunk]:
        chunks = (self.stored.chunks[r] for r in self.stored.rows_of(letter_id))
        return [c for c in chunks if c.path[:1] in (("开头",), ("落款",))]

    def _refusal(self, question: str, picked: list[ans.Scored], hits: list[Hit]) -> str | None:
        """Why the picked sentences do not answer the question ("" when only too far in meaning); None if they do."""
        letters = self.stored.letters
        field = meta_field(question)
        if field and any(states_field(s.sentence.text, field, letters[s.sentence.chunk.letter_id]) for s in picked):
            return None  # the letter's own sign-off or opening states it: no closeness in meaning needed
        best = max(picked, key=lambda s: s.score).sentence
        if plan_for_fact(question, [(best.chunk.section, best.text)]):
            return "planned, not done"
        if asks_quantity(question) and not any(states_quantity(s.sentence.text) for s in picked):
            return "no amount"
        floor = self.settings.min_relevance_english if ans.is_english(question) else self.settings.min_relevance
        if max(ans.relevance(s) for s in picked) < floor:
            return ""
        top = hits[:3]
        missing = missing_specifics(question, [h.chunk.text for h in top],
                                    [letters[h.chunk.letter_id].text for h in top])
        return ", ".join(missing) if missing else None


def _check(stored: store.StoredIndex, settings: Settings, fingerprint: str | None) -> None:
    store.check_compatible(stored.manifest, settings.index, model=settings.model, fingerprint=fingerprint,
                           chunker_version=CHUNKER_VERSION, max_chunk_chars=settings.max_chunk_chars)
