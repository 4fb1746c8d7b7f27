"""The question path shared by the CLI, the chat and eval: read → route → retrieve → answer.

The engine only wires the stages together and reloads the index when a build swapped in a new one;
what a question asks is read once (query.py), which letters it is about is decided once (route.py),
and the answer policy lives in the Answerer (answerer.py) and its checks (checks.py).
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path

import numpy as np

from . import answer as ans
from . import store
from .answerer import SCAN_LETTERS, STRICT_FIELDS, Answerer, fields_answer_check
from .checks import Refusal, load_calibration
from .config import Settings
from .errors import EmptyQuestionError, LetterQAError
from .limits import clean_question
from .query import is_english, looks_like_question, read_query
from .records import Answer, Hit
from .route import Catalog, Route, route
from .search import Searcher
from .sections import CHUNKER_VERSION

log = logging.getLogger(__name__)

# A follow-up leans on the previous turn: it opens with 那/那么/还有 or is too short to stand alone.
_LEANS_ON = re.compile(r"^(那么?|那就|还有|另外|此外|其中|and\b|what about|how about)", re.I)
_CJK = re.compile(r"[\u3400-\u9fff]")
_YEAR = re.compile(r"(?:19|20)\d{2}\s*年?")


class Engine:
    """A loaded model and index. Picks up a rebuilt index on the next question, without a restart."""

    def __init__(self, settings: Settings, embedder, stored: store.StoredIndex):
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.RLock()
        self._pointer: tuple | None = None  # CURRENT's (inode, mtime, size) when last read: no reread per question
        self.catalog: Catalog | None = None
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
        if stored.letters:  # jieba's dictionaries load lazily: pay for them here, not on a question
            engine.ask(next(iter(stored.letters.values())).title or "答复")
        return engine

    def _use(self, stored: store.StoredIndex) -> None:
        self.stored = stored
        self.searcher = Searcher(stored)
        self.catalog = Catalog(stored.letters, self.catalog)  # what it read of unchanged letters is kept
        calibration = load_calibration(self.embedder.fingerprint, self.settings.index)
        self.answerer = Answerer(stored, self.searcher.idf, calibration)  # BM25's own idf weighs coverage

    def refresh(self) -> bool:
        """Reload when `letterqa build` or an upload swapped in a new index. True if it did."""
        pointer = _stat(Path(self.settings.index) / store.POINTER)
        if pointer is not None and pointer == self._pointer:  # CURRENT is replaced, never edited in place
            return False
        try:
            live = store.live_build(self.settings.index)
        except LetterQAError as exc:  # a damaged CURRENT: keep answering from the index already loaded
            log.warning("kept the loaded index: %s", exc)
            return False
        if live is None or live == self.stored.folder:
            self._pointer = pointer
            return False
        with self._lock:
            if live != self.stored.folder:
                try:
                    stored = store.load_index(self.settings.index)
                    _check(stored, self.settings, self.embedder.fingerprint)
                except LetterQAError as exc:  # keep answering from the index already loaded
                    log.warning("kept the loaded index: %s", exc)
                    return False
                self._use(stored)
                self._pointer = pointer
                log.info("loaded the new index %s", live.name)
        return True

    def ask(self, question: str, k: int | None = None, mode: str | None = None, sender: str | None = None,
            year: int | str | None = None, letter: str | None = None, previous: Answer | None = None) -> Answer:
        """Answer one question from the letters, with citations; or say they do not answer it.

        `letter` asks one letter only (its id or file name); `previous` is the conversation's last
        answer, whose letter and topic a follow-up leans on.
        """
        started = time.perf_counter()
        question = clean_question(question, self.settings.limits)
        if not question:
            raise EmptyQuestionError()
        self.refresh()
        k, mode = k or self.settings.k, mode or self.settings.mode
        with self._lock:
            stored = self.stored
            allowed = allowed_letters(stored, sender, year)
            text, understood, previous_scope = follow_up(question, previous, self.catalog)
            query = read_query(text, self.catalog)
            rt = route(query, self.catalog, self.letter_id(letter) if letter else None, allowed, previous_scope)
            if rt.how == "previous" and not understood:
                understood = f"{_scope_name(stored, rt.letter_ids)}：{question}"
            picked, hits, refusal, candidates = self._answer(query, rt, k, mode)
        filtered = allowed is not None
        if refusal is None:
            several = len({s.sentence.chunk.letter_id for s in picked}) > 1 and len(stored.letters) > 1
            text_out, citations = ans.compose(picked, hits, stored.letters, label_letters=several)
        else:
            log.info("refusing %r: %s %s", question, refusal.kind, ", ".join(refusal.missing))
            text_out, citations = ans.refusal_text(query, refusal, candidates, filtered), ()
        hits = _evidence_first(hits, citations)
        latency = (time.perf_counter() - started) * 1000
        return Answer(question, text_out, refusal is None, citations, tuple(hits[:k]), latency, stored.letters,
                      understood=understood, scope=rt.letter_ids or (), reason=refusal.kind if refusal else "")

    def _answer(self, query, rt: Route, k: int, mode: str):
        """(picked sentences, hits, refusal or None, letters an unnamed question may mean)."""
        stored, answerer = self.stored, self.answerer
        if not looks_like_question(query.text):
            return [], [], Refusal("not_a_question"), []
        content_rows = self._rows(rt.letter_ids, pages=bool(query.fields))
        asked = [query.text] + (list(query.parts) if len(query.parts) > 1 else [])
        qvecs = self.embedder.encode_queries(asked)
        n = max(k, ans.ANSWER_POOL)
        if content_rows is not None and len(content_rows) == 0:
            return [], [], Refusal("nothing"), []
        hits = self.searcher.search(self._lexical(query, query.text), qvecs[0], n, mode, content_rows)
        if not hits:
            return [], [], Refusal("nothing"), []
        one_letter = rt.letter_ids is not None and len(rt.letter_ids) == 1
        if query.cross and not one_letter:
            def wide():
                return self.searcher.search(self._lexical(query, query.topic or query.text), qvecs[0],
                                            max(n, 4 * ans.MAX_LETTERS), mode, content_rows)
            if query.fields:
                scope = list(rt.letter_ids or stored.letters)
                if len(scope) > SCAN_LETTERS:  # too many to scan: the letters the wider search brings up
                    scope = list(dict.fromkeys(h.chunk.letter_id for h in wide()))
                picked = answerer.fields_per_letter(query, qvecs[0], scope, by_topic=rt.how != "named")
                return picked, hits, fields_answer_check(picked, query.fields), []
            picked = answerer.per_letter(query, qvecs[0], wide(), named=rt.how == "named")
            return picked, hits, answerer.check(query, picked), []
        letter_id = rt.letter_ids[0] if one_letter else self._unnamed_letter(hits)
        if query.fields:
            if letter_id is None:
                return [], hits, Refusal("ambiguous"), self._candidates(hits)
            picked = answerer.letter_fields(query, qvecs[0], letter_id)
            if picked:
                picked += self._content_parts(query, asked, qvecs, letter_id, n, mode, picked)
                return picked, hits, fields_answer_check(picked, query.fields), []
            if set(query.fields) & STRICT_FIELDS:  # a field the letter does not state: no content sentence states it
                return [], hits, Refusal("no_field"), []
        if query.deictic and letter_id is None and rt.letter_ids is None and len(stored.letters) > 1:
            return [], hits, Refusal("ambiguous"), self._candidates(hits)
        if len(asked) > 1:
            parts = [answerer.content(query, p, v,
                                      self.searcher.search(self._lexical(query, p), v, n, mode, content_rows))
                     for p, v in zip(asked[1:], qvecs[1:])]
            picked = ans.merge_parts(parts)
        else:
            picked = answerer.content(query, query.text, qvecs[0], hits)
        return picked, hits, answerer.check(query, picked), []

    def _lexical(self, query, text: str) -> str:
        return ans.lexical_text(query, text, self.searcher.idf)

    def _content_parts(self, query, asked: list[str], qvecs, letter_id: str, n: int, mode: str, fields) -> list:
        """Answers to the parts of a field question that ask about content ("…写给谁？为什么不直接答复代表？").

        A part that points back at the field ("办复类别是哪一类？这一类是什么意思？") is asked with the
        field's line, which says what "这一类" is.
        """
        rows = self._rows((letter_id,), pages=False)
        value = _field_value(fields)
        out = []
        for part, vec in zip(asked[1:], qvecs[1:]):
            if part not in query.content_parts:
                continue
            back = POINTS_BACK.match(part)
            if back and value:  # 这一类是什么意思 → B类是什么意思
                part = value + part[back.end():]
                vec = self.embedder.encode_queries([part])[0]
            hits = self.searcher.search(self._lexical(query, part), vec, n, mode, rows)
            chosen = self.answerer.content(query, part, vec, hits)
            if chosen and self.answerer.check(query, chosen) is None:
                out += [c for c in chosen if not any(ans.overlaps(c.sentence, f.sentence) for f in [*fields, *out])]
        return out

    def _rows(self, letter_ids, pages: bool) -> np.ndarray | None:
        """The chunk rows of these letters (None = all); their page-information block only when asked about.

        Over all letters nothing is filtered: that would read every chunk's path on every question of a
        large index; the answerer skips page blocks when it chooses sentences about content.
        """
        stored = self.stored
        if letter_ids is None:
            return None
        rows = [r for lid in letter_ids if lid in stored.letters for r in stored.rows_of(lid)
                if pages or stored.chunks[r].path[:1] != ("页面信息",)]
        return np.asarray(rows, dtype=int)

    def _unnamed_letter(self, hits: list[Hit]) -> str | None:
        """The letter an unnamed question is about when the best passages agree on one; else None."""
        if len(self.stored.letters) == 1:
            return next(iter(self.stored.letters))
        top = {h.chunk.letter_id for h in hits[:3]}
        return top.pop() if len(top) == 1 else None

    def _candidates(self, hits: list[Hit]):
        seen = []
        for h in hits:
            if h.chunk.letter_id not in seen:
                seen.append(h.chunk.letter_id)
        return [self.stored.letters[lid] for lid in seen[:3]]

    def letter_id(self, letter: str) -> str:
        """A letter's id from its id or its file name; LetterQAError naming the fix when there is none."""
        letters = self.stored.letters
        if letter in letters:
            return letter
        for lid, found in letters.items():
            if found.source == letter or found.source.rsplit(".", 1)[0] == letter:
                return lid
        raise LetterQAError(f"no letter {letter!r} in the index: give an id or file name from `letterqa letters`")


def _evidence_first(hits: list[Hit], citations) -> list[Hit]:
    """The passages the answer cites, in its numbering, then the other retrieved ones: the answerer's choice
    weighs more than retrieval does (the number asked for, the year, the letter's own field lines)."""
    cited = [c.chunk.chunk_id for c in citations]
    score = {h.chunk.chunk_id: h for h in hits}
    first = [score.get(c.chunk.chunk_id) or Hit(c.chunk, c.score) for c in citations]
    return first + [h for h in hits if h.chunk.chunk_id not in cited]


def allowed_letters(stored: store.StoredIndex, sender: str | None = None,
                    year: int | str | None = None) -> set[str] | None:
    """The letters whose sender contains `sender` and whose signing year is `year` ("2023" or "2021-2023"); None = all."""
    if not sender and not year:
        return None
    low, high = year_range(year) if year else (None, None)
    out = set()
    for lid, letter in stored.letters.items():
        if sender and sender not in letter.sender and sender not in letter.meta.get("发布机构", ""):
            continue
        if year:
            signed = int(letter.date[:4]) if letter.date[:4].isdigit() else None
            if signed is None or not low <= signed <= high:
                continue
        out.add(lid)
    return out


def year_range(year: int | str) -> tuple[int, int]:
    """(first, last) year of "2023", 2023 or "2021-2023"; LetterQAError for anything else."""
    m = re.fullmatch(r"\s*((?:19|20)\d{2})\s*(?:[-–~～至到]\s*((?:19|20)\d{2}))?\s*", str(year))
    if not m:
        raise LetterQAError(f"year {year!r} is not a year or a range: give e.g. 2023 or 2021-2023 (落款年份)")
    low, high = int(m.group(1)), int(m.group(2) or m.group(1))
    return (low, high) if low <= high else (high, low)


# A part of a question that points back at what the part before it asked (这一类, 该单位, 其…).
POINTS_BACK = re.compile(r"(这|该|此|其)(一)?(类|个|项|种|条|级|单位|部门|人)?")


def _field_value(fields) -> str:
    """The value of the first field line that has one (`办复类别:B类` → B类)."""
    for s in fields:
        m = re.search(r"[:：]\s*(\S.*)", s.sentence.text)  # a salutation's colon has nothing after it
        if m:
            return m.group(1).strip()
    return ""


def follow_up(question: str, previous: Answer | None, catalog: Catalog) -> tuple[str, str, tuple[str, ...]]:
    """(the text to ask, how it was understood, the letters to stay with) for a question in a conversation.

    A question that names no letter stays with the previous turn's letters; one that leans on the previous
    turn ("那到2025年呢?") is read together with the previous question, its years replaced by the new ones.
    """
    if previous is None or catalog.named(question, "en" if is_english(question) else "zh"):
        return question, "", ()
    scope = previous.scope or tuple(dict.fromkeys(c.chunk.letter_id for c in previous.citations))
    content = len(_CJK.findall(question)) + len(re.findall(r"[A-Za-z]+", question))
    if not (_LEANS_ON.search(question) or content <= 8):
        return question, "", scope
    base = previous.understood.split("：", 1)[-1] if previous.understood else previous.question
    if _YEAR.search(question):
        base = _YEAR.sub("", base)
    tail = _LEANS_ON.sub("", question).strip(" ，,")
    text = f"{base.rstrip('?？。 ')}，{tail}"
    return text, text, scope


def _scope_name(stored, letter_ids) -> str:
    return "、".join(ans.short_name(stored.letters[lid]) for lid in (letter_ids or ())[:2]) or "全部答复"


def _check(stored: store.StoredIndex, settings: Settings, fingerprint: str | None) -> None:
    store.check_compatible(stored.manifest, settings.index, model=settings.model, fingerprint=fingerprint,
                           chunker_version=CHUNKER_VERSION, max_chunk_chars=settings.max_chunk_chars)


def _stat(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size
