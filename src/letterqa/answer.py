"""Extractive answers: the smallest set of the letters' own sentences that answers the question.

Every sentence of the top passages is scored by its meaning (cosine to the question), by how much
of the question's rarer wording it holds (IDF-weighted), and by whether it has what the question
asks for (a number for 多少/how many, the year asked about). The best one answers; close runners-up
from other passages join it when the question asks about several things. When even the best
sentence is too far from the question, the answer is a refusal and the nearest passages are shown.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from . import lexicon
from .checks import Refusal, is_plan, states_amount
from .genre import CONTACT, COPY_TO, YEAR, is_acknowledgement, is_boilerplate, item_level, item_number
from .lexical import STOPWORDS, tokenize
from .records import Answer, Chunk, Citation, Hit, Letter

ANSWER_POOL = 5        # passages whose sentences may answer
MAX_SENTENCES = 3
MAX_LETTERS = 5        # letters cited at most for "哪些答复提到了…"
TOPIC_COVERAGE = 0.3   # …and each must hold some of the topic's rarer wording (IDF-weighted share)
LEXICAL_WEIGHT = 0.15  # cosines of e5 sit in a narrow band (~0.75-0.92); coverage spans 0-1
RUNNER_UP_GAP = 0.02   # a second sentence must score within this of the best
META_BONUS = 0.2       # for a sentence that states the letter fact asked about (sender, date, …)

MAX_ITEMS = 8          # a list answer gives at most this many items
MIN_ITEMS = 2

MULTI = re.compile(r"和|与|及|以及|分别|各|哪些|哪几|both|and|respectively|which", re.I)
_FRAME = {("开头",), ("落款",), ("页面信息",)}
# A sign-off's own lines (联系单位及电话:…, 抄报:…, 签发人:…), also where a page repeats them in its body
_SIGNOFF_LINE = re.compile(CONTACT.pattern + "|" + COPY_TO.pattern)
_FULL_STOP = re.compile(r"[。；;！？!?]\s*$")
_CITE_MARK = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a retrieved passage; start/end index into chunk.text."""

    chunk: Chunk
    start: int
    end: int
    rank: int                 # the passage's rank in retrieval

    @property
    def text(self) -> str:
        return self.chunk.text[self.start : self.end]


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    dense: float
    coverage: float
    score: float


def candidate_sentences(hits: list[Hit], stored, pool: int = ANSWER_POOL) -> tuple[list[Sentence], np.ndarray]:
    """Every sentence of the top `pool` passages, in rank order, with its stored vector."""
    out, rows = [], []
    for rank, hit in enumerate(hits[:pool]):
        for row in stored.sentence_rows(hit.chunk.chunk_id):
            _, start, end = stored.sentences[row]
            out.append(Sentence(hit.chunk, int(start), int(end), rank))
            rows.append(row)
    return out, stored.sentence_vectors[np.asarray(rows, dtype=int)]


def coverage(question_tokens: list[str], sentence_tokens: set[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of the question's tokens that the sentence holds (0..1).

    A word no letter uses gets the highest weight: it is the most specific thing asked about.
    An unseen character bigram gets none: most straddle a word boundary ("年的", "的目").
    """
    unseen = largest(idf)
    weights = {t: idf.get(t, 0.0 if t.startswith("#") else unseen) for t in dict.fromkeys(question_tokens)}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in sentence_tokens) / total


def bilingual_coverage(translated: dict[str, tuple[str, ...]], text: str, idf) -> float:
    """IDF-weighted share of an English question's words that the sentence states in Chinese (0..1).

    An English word weighs as its most common translation in the letters: "plan" (方案, 安排) counts
    little, "sculpture" (雕塑) much.
    """
    weights = {e: min(idf.get(c, 0.0) for c in cs) for e, cs in translated.items()}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for e, w in weights.items() if any(c in text for c in translated[e])) / total


def lexical_text(query, text: str, idf) -> str:
    """What BM25 searches for: the question, and for an English one its words' Chinese translations."""
    if not query.english:
        return text
    return " ".join([text] + [c for cs in lexicon.translations(text, known=idf).values() for c in cs])


def score_sentences(query, asked: str, qvec: np.ndarray, sentences: list[Sentence], vectors: np.ndarray,
                    idf: dict[str, float], bonus_of=None) -> list[Scored]:
    """Score each candidate sentence for how well it answers `asked` (the query's text or one of its parts)."""
    q_tokens = tokenize(asked)
    years = set(YEAR.findall(asked))
    # An English question is held against the letters' Chinese words through the dictionary.
    bilingual = lexicon.translations(asked, known=idf) if query.english else None
    out = []
    for sent, vec in zip(sentences, vectors):
        text = sent.text
        dense = float(vec @ qvec)
        cov = bilingual_coverage(bilingual, text, idf) if bilingual is not None else \
            coverage(q_tokens, set(tokenize(text)), idf)
        bonus = 0.0
        if query.quantity:
            bonus += 0.04 if states_amount(text, query.unit) else -0.05
        if query.done and is_plan(text, sent.chunk.section):  # what was done is not answered by a plan
            bonus -= 0.05
        if query.must_show:  # 几月份 wants a month, 哪所大学 a university: a sentence that shows it comes first
            bonus += 0.04 if all(p.search(text) for p in query.must_show) else -0.05
        restates = query.about_proposal and is_acknowledgement(text)  # 您提出的关于…的建议收悉: what was proposed
        frame = sent.chunk.path[:1] in _FRAME and (len(text) < 30 or not _FULL_STOP.search(text)) and not restates
        if bonus_of is None and (frame or _SIGNOFF_LINE.match(text.strip())):
            bonus -= 0.1  # a salutation, title, signer or contact line says nothing about content, wherever it stands
        if years:
            bonus += 0.02 * len(years & set(YEAR.findall(text)))
        if bonus_of is None and is_boilerplate(text) and not restates:
            bonus -= 0.5  # 感谢…支持 answers no question about content; 您提出的…建议收悉 may tell what was proposed
        extra = bonus_of(sent) if bonus_of is not None else 0.0
        if not extra and (len(text) < 12 or _is_heading(sent)):  # headings and fragments say little alone
            bonus -= 0.05
        bonus += extra - 0.002 * sent.rank
        out.append(Scored(sent, dense, cov, dense + LEXICAL_WEIGHT * cov + bonus))
    return out


def choose(scored: list[Scored], several: bool = False) -> list[Scored]:
    """The best sentence, plus close runners-up (more of them when the question asks for several things)."""
    if not scored:
        return []
    ranked = sorted(scored, key=lambda s: -s.score)
    best = ranked[0]
    gap = RUNNER_UP_GAP * (2 if several else 1)
    picked = [best]
    for s in ranked[1:]:
        if len(picked) >= MAX_SENTENCES or s.score < best.score - 2 * gap:
            break
        close = s.score >= best.score - gap or any(_adjacent(s.sentence, p.sentence) for p in picked)
        # a page that holds the letter twice gives each sentence twice: once is enough
        repeated = any(s.sentence.text.strip() == p.sentence.text.strip() for p in picked)
        if close and not repeated and not any(overlaps(s.sentence, p.sentence) for p in picked):
            picked.append(s)
    return _reading_order(picked)


def _reading_order(picked: list[Scored]) -> list[Scored]:
    """Best passage first; within a passage, the letter's own order (clauses cut at ； read on)."""
    top: dict[int, float] = {}
    for s in picked:
        top[s.sentence.chunk.chunk_id] = max(top.get(s.sentence.chunk.chunk_id, s.score), s.score)
    return sorted(picked, key=lambda s: (-top[s.sentence.chunk.chunk_id], s.sentence.start))


def extend(picked: list[Scored], scored: list[Scored], keep) -> list[Scored]:
    """The picks plus every other sentence of the best pick's passage that `keep(best, s)` accepts."""
    best = max(picked, key=lambda s: s.score)
    extra = [s for s in scored if s.sentence.chunk.chunk_id == best.sentence.chunk.chunk_id and keep(best, s)
             and not any(overlaps(s.sentence, p.sentence) for p in picked)]
    return _reading_order(picked + extra)


def list_items(stored, pivot: Scored, siblings: bool = True) -> list[Scored]:
    """The items of the list the pivot sentence introduces (…以下几个方面：) or belongs to (二是…).

    Items are the sentences that open with numbering of one level (一是/二是, (一)/(二), 1./2.) counting
    up, in the letter's order around the pivot; the list ends where a higher level starts (the next 二、
    heading), where the count starts again, or at the letter's closing. Each item is its first
    sentence: the heading of what it says. Without `siblings`, an item answers with what it says, not
    with the others (巩固优势产业要聚焦哪些产业 asks what item 二 holds).
    """
    sentences = [Sentence(stored.chunks[row], int(start), int(end), pivot.sentence.rank)
                 for row in stored.rows_of(pivot.sentence.chunk.letter_id)
                 if stored.chunks[row].path[:1] not in _FRAME | {("结语",)}
                 for _, start, end in (stored.sentences[r] for r in stored.sentence_rows(row))]
    at = next((i for i, s in enumerate(sentences) if overlaps(s, pivot.sentence)), None)
    if at is None:
        return []
    level = item_level(sentences[at].text)
    if level and not siblings:
        return []
    if level:  # one of the items: back to the first, then on
        first = at
        while first > 0 and item_number(sentences[first].text) != 1:
            before = _step(sentences, first, level, -1)
            if before is None:
                break
            first = before
    elif _introduces(sentences[at].text) and at + 1 < len(sentences):
        first, level = at + 1, item_level(sentences[at + 1].text)  # an introduction: the list follows it
    else:
        return []
    if not level or item_number(sentences[first].text) != 1:
        return []
    items, i = [sentences[first]], first
    while len(items) < MAX_ITEMS:
        i = _step(sentences, i, level, 1)
        if i is None or item_number(sentences[i].text) != len(items) + 1:
            break
        items.append(sentences[i])
    return [Scored(s, pivot.dense, pivot.coverage, pivot.score - 0.001 * n) for n, s in enumerate(items, 1)] \
        if len(items) >= MIN_ITEMS else []


def _introduces(text: str) -> bool:
    """A sentence that ends in a colon announces what follows (…做好以下几个方面的工作：)."""
    return text.rstrip().endswith(("：", ":"))


def _step(sentences: list[Sentence], i: int, level: int, step: int) -> int | None:
    """The next sentence from i (step +1 or -1) that opens an item of `level`; None past a higher level."""
    i += step
    while 0 <= i < len(sentences):
        found = item_level(sentences[i].text)
        if found and found < level:
            return None
        if found == level:
            return i
        i += step
    return None


def merge_items(chosen: list[Scored], items: list[Scored]) -> list[Scored]:
    """A list answer: the sentence that introduces the list (when one was chosen), then its items."""
    intro = [s for s in chosen if not item_level(s.sentence.text) and _introduces(s.sentence.text)]
    merged = intro[:1] + [s for s in items if not any(overlaps(s.sentence, i.sentence) for i in intro[:1])]
    return sorted(merged, key=lambda s: (s.sentence.chunk.chunk_id, s.sentence.start))


def same_sentence(best: Scored, other: Scored) -> bool:
    """True for the other clauses of the best one's sentence (a list cut at ； into items)."""
    a, b = sorted((best.sentence, other.sentence), key=lambda x: x.start)
    between = a.chunk.text[a.start : b.start]
    # Clauses of one sentence: nothing but ；-ended clauses lie between them.
    return "。" not in between and not any(ch in between for ch in "！？!?\n") and between.rstrip().endswith(("；", ";"))


def merge_parts(picks: list[list[Scored]]) -> list[Scored]:
    """The best sentence for each part of a question, once each, in the letters' order."""
    merged: list[Scored] = []
    for part in picks:
        best = max(part, key=lambda s: s.score, default=None)
        if best is not None and not any(overlaps(best.sentence, m.sentence) for m in merged):
            merged.append(best)
    return sorted(merged, key=lambda s: (s.sentence.chunk.chunk_id, s.sentence.start))


def _is_heading(sent: Sentence) -> bool:
    """A sentence that only repeats its passage's heading (`二是巩固优势产业领先地位。`)."""
    core = sent.text.strip().rstrip("。；;：:")
    return bool(sent.chunk.path) and core == sent.chunk.path[-1].rstrip("。；;：:")


def _adjacent(a: Sentence, b: Sentence) -> bool:
    """Two clauses of one sentence cut at ；: a fact often sits in the second."""
    same = a.chunk.chunk_id == b.chunk.chunk_id
    return same and (a.end == b.start or b.end == a.start or
                     a.chunk.text[min(a.end, b.end):max(a.start, b.start)].strip() == "")


def overlaps(a: Sentence, b: Sentence) -> bool:
    """Two sentences sharing text of one passage."""
    return a.chunk.chunk_id == b.chunk.chunk_id and a.start < b.end and b.start < a.end


def relevance(best: Scored) -> float:
    """The number compared with the refusal threshold: meaning plus wording of the best sentence."""
    return best.dense + LEXICAL_WEIGHT * best.coverage


def compose(picked: list[Scored], hits: list[Hit], letters: dict[str, Letter],
            label_letters: bool = False) -> tuple[str, tuple[Citation, ...]]:
    """The answer text with [n] marks, and its citations (one per cited passage).

    With `label_letters` (an answer drawn from several letters) each line starts with its letter's name.
    """
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    for s in picked:
        chunk = s.sentence.chunk
        if chunk.chunk_id not in numbers:
            numbers[chunk.chunk_id] = len(numbers) + 1
            score = next((h.score for h in hits if h.chunk.chunk_id == chunk.chunk_id), s.score)
            used = [p.sentence for p in picked if p.sentence.chunk.chunk_id == chunk.chunk_id]
            citations.append(Citation(numbers[chunk.chunk_id], letters[chunk.letter_id], chunk,
                                      _quote(used), float(score)))
    lines: list[list[Sentence]] = []
    for s in picked:  # clauses that follow each other in a passage read as one line, with one mark
        last = lines[-1][-1] if lines else None
        if last and last.chunk.chunk_id == s.sentence.chunk.chunk_id and \
                not last.chunk.text[last.end : s.sentence.start].strip() and last.end <= s.sentence.start:
            lines[-1].append(s.sentence)
        else:
            lines.append([s.sentence])

    def label(line):
        return f"{short_name(letters[line[0].chunk.letter_id])}：" if label_letters else ""

    text = "\n".join(f"{label(line)}{_quote(line)}[{numbers[line[0].chunk.chunk_id]}]" for line in lines)
    return text, tuple(citations)


def short_name(letter: Letter) -> str:
    """A letter's name in one short phrase: its sender (or page publisher), else its title, else its file."""
    return letter.sender or letter.meta.get("发布机构", "") or (f"《{letter.title}》" if letter.title else letter.source)


def _quote(used: list[Sentence]) -> str:
    """What a citation marks in its passage: the used sentences, as one span when they are contiguous."""
    used = sorted(used, key=lambda x: x.start)
    text = used[0].chunk.text
    if all(not text[a.end : b.start].strip() for a, b in zip(used, used[1:])):
        return text[used[0].start : used[-1].end].strip()
    return used[0].text.strip()


_REASONS = {  # Refusal.kind -> (Chinese, English)
    "planned": ("答复函只写了计划，没有写已完成的情况", "the letters state plans, not what was done"),
    "no_amount": ("答复函没有写相应的数字", "the letters state no such figure"),
    "not_a_question": ("这不像是关于答复函的问题", "this does not look like a question about the letters"),
    "not_relevant": ("答复函里没有与问题足够相关的内容", "nothing in the letters is close enough to the question"),
    "kind_not_shown": ("答复函没有写问题所问的时间、机构或地点", "the letters do not state the time, body or place asked for"),
    "no_field": ("这封答复函没有写这一项", "this letter does not state it"),
}
_SPECIFICS = {"money": ("资金金额", "an amount of money")}


def refusal_text(query, refusal: Refusal, candidates=(), filtered: bool = False) -> str:
    """What a refusal says, in the question's language, with its reason."""
    english = query.english
    if refusal.kind == "ambiguous":
        names = "；".join(letter.name for letter in candidates)
        if english:
            return ("The question does not say which letter it means; it could be: " + names
                    + ". Name the department or topic, or ask one letter only.")
        return f"问题没有说明是哪一封答复，可能是：{names}。请在问题里写明发文单位或主题，或选择“只问这封”。"
    if refusal.kind == "unstated" and refusal.missing:
        named = [_SPECIFICS.get(x, (x, x))[english] for x in refusal.missing]
        because = "the letters never mention: " + ", ".join(named) if english else "答复函未提及：" + "、".join(named)
    elif refusal.kind == "no_amount" and refusal.missing:
        because = (f"the letters state no figure in {refusal.missing[0]}" if english
                   else f"答复函没有写以“{refusal.missing[0]}”计的数字")
    else:
        because = _REASONS.get(refusal.kind, ("", ""))[english]
    note = ""
    if filtered:
        note = " (only the letters your filters allow were searched)" if english else "（只在筛选条件内的答复函中查找）"
    if english:
        return f"The letters do not answer this question{f' ({because})' if because else ''}{note}. " \
               "The nearest passages are shown below."
    return f"答复函中没有找到这个问题的答案{f'（{because}）' if because else ''}{note}。下面是最接近的段落，仅供参考。"


def strip_marks(text: str) -> str:
    """The answer text without its [n] citation marks."""
    return _CITE_MARK.sub("", text)


def answer_to_dict(answer: Answer) -> dict:
    """The `ask --json` record. Other tools read these names: keep them."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "answered": answer.answered,
        "citations": [
            {"n": c.n, "letter_id": c.letter.letter_id, "letter_title": c.letter.title,
             "sender": c.letter.sender, "date": c.letter.date, "section": c.chunk.section,
             "quote": c.quote, "text": c.chunk.text, "score": round(c.score, 4)}
            for c in answer.citations
        ],
        "hits": [
            {"letter_id": h.chunk.letter_id, "section": h.chunk.section, "text": h.chunk.text,
             "score": round(h.score, 4)}
            for h in answer.hits
        ],
        "latency_ms": round(answer.latency_ms, 1),
    }


def largest(idf) -> float:
    """The largest idf: the weight of a word no passage uses (Searcher.idf knows it; a plain dict is scanned)."""
    return idf.max() if hasattr(idf, "max") else max(idf.values(), default=1.0)


# Pieces of a stopword that jieba's search mode also yields (没有 from 有没有): no more content than it
_STOPWORD_PIECES = frozenset(w[i:j] for w in STOPWORDS for i in range(len(w)) for j in range(i + 1, len(w) + 1))


def rarest(tokens, idf, n: int = 3) -> list[str]:
    """The question's `n` rarest words (no #markers, no piece of a stopword). Ties, such as words no
    letter uses, keep the question's word order: a set's order changes with the hash seed, and so
    would the answer."""
    words = dict.fromkeys(t for t in tokens if not t.startswith("#") and t not in _STOPWORD_PIECES)
    unseen = largest(idf)
    return sorted(words, key=lambda t: -idf.get(t, unseen))[:n]


def idf_table(tokens: list[list[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of each token over the index's chunks."""
    df: dict[str, int] = {}
    for doc in tokens:
        for t in set(doc):
            df[t] = df.get(t, 0) + 1
    n = len(tokens)
    return {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
