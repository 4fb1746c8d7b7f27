"""Route a question to the letters it is about, before any passage is retrieved.

A reader names a letter the way people do: by its issuer (滕州市住建局, "the Ministry of Transport"),
its place (Tengzhou), its topic (水富港) or its number (第085号建议). The catalog holds each letter's
naming text (sender, title, recipient, headings, page title) as CJK character bigrams, and the pinyin
of its place names for English questions. A letter is named when the question shares enough of its
rarer bigrams and clearly more than with any other letter.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .genre import PAGE_LINE, PROPOSAL_NUMBER
from .records import Letter

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[A-Za-z]+")
# English names of the parts of a government, as a reader translates them; each maps to the characters
# the Chinese names use. Vocabulary of the genre, not of any one letter.
GLOSSARY = {
    "transport": "交通运输", "transportation": "交通运输", "agriculture": "农业农村", "agricultural": "农业农村",
    "rural": "农村", "forestry": "林业", "housing": "住房建设住建", "construction": "建设", "science": "科学技术科技",
    "technology": "科学技术科技", "culture": "文化", "cultural": "文化", "tourism": "旅游文旅", "education": "教育",
    "civil": "民政", "affairs": "民政", "health": "卫生健康卫健", "sports": "体育", "industry": "工业产业",
    "information": "信息化", "miit": "工业和信息化部", "city": "城市", "urban": "城市", "management": "管理",
    "ministry": "部", "bureau": "局", "department": "厅", "district": "区", "county": "县", "municipal": "市",
    "province": "省", "provincial": "省", "government": "政府", "commission": "委员会", "zone": "区",
    "high-tech": "高新", "hightech": "高新", "development": "发展", "reform": "改革", "ecological": "生态",
    "environment": "环境", "water": "水利", "resources": "资源", "commerce": "商务", "finance": "财政",
    "people's": "人民", "congress": "人大", "cppcc": "政协",
}
MIN_NAMING = 2.0       # a named letter shares at least this much naming weight (in bigrams only it has)
MAX_NAMED = 8          # letters a cross-letter question may name
MARGIN = 0.5           # …and this much more than the next letter (in the same units)


@dataclass(frozen=True)
class Route:
    """The letters a question is asked of, and why."""

    letter_ids: tuple[str, ...] | None     # None: all letters
    how: str = "all"                       # all | named | scope | previous | filter
    candidates: tuple[str, ...] = ()       # for an unnamed "这份答复" in a collection: the letters it may mean


class Catalog:
    """What each letter is called, for matching the names in a question."""

    def __init__(self, letters: dict[str, Letter], previous: Catalog | None = None):
        """`previous`: the catalog of the index this one replaces; what it read of each letter is reused
        (a reload after adding one letter to thousands reads one letter's names, not all of them)."""
        self.letters = letters
        known = previous._keys if previous is not None else {}
        self._keys = {lid: known.get(lid) or _naming_keys(x) for lid, x in letters.items()}
        self._pinyin_keys = {lid: previous._pinyin_keys[lid] for lid in letters
                             if previous is not None and lid in previous._pinyin_keys}
        # Inverted: each naming bigram, proposal number and pinyin name → the letters that have it, so a
        # question is scored against the letters it shares something with, not against every letter.
        self._by_bigram = _postings((lid, grams) for lid, (grams, _) in self._keys.items())
        self._by_number = _postings((lid, numbers) for lid, (_, numbers) in self._keys.items())
        self._by_pinyin_of: dict[str, list[str]] | None = None
        n = len(letters)
        # A bigram many letters share (会议, 建议, 人大) names none of them: weigh only what stands out.
        self._base = math.log((n + 1) / (max(2.0, n / 4) + 0.5))
        self._idf = {g: max(0.0, math.log((n + 1) / (len(ids) + 0.5)) - self._base) for g, ids in self._by_bigram.items()}

    @property
    def _by_pinyin(self) -> dict[str, list[str]]:
        """Pinyin names → letters, made on the first question that needs them (pinyin is slow to make)."""
        if self._by_pinyin_of is None:
            for lid, letter in self.letters.items():
                if lid not in self._pinyin_keys:
                    self._pinyin_keys[lid] = frozenset(_pinyin_names(naming_text(letter)))
            self._by_pinyin_of = _postings(self._pinyin_keys.items())
        return self._by_pinyin_of

    def scores(self, question: str, lang: str) -> dict[str, float]:
        """How strongly the question names each letter it names at all (letters left out: 0)."""
        grams = _bigrams(question)
        if lang == "en":  # "Ministry of Transport" is 交通运输部: join the translated terms in both orders
            terms = [GLOSSARY[w.lower()] for w in _WORD.findall(question) if w.lower() in GLOSSARY]
            grams |= {g for a in terms for b in terms for g in _bigrams(a + b)}
        capitalised = re.findall(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*", question)  # Li Xue, Yan Xiangqing
        proper = {w.lower() for run in capitalised for w in (run.replace(" ", ""), *run.split()) if len(w) >= 4}
        numbers = set(PROPOSAL_NUMBER.findall(question))
        out: dict[str, float] = {}
        for g in grams:
            weight = self._idf.get(g, 0.0)
            for lid in self._by_bigram.get(g, ()) if weight else ():
                out[lid] = out.get(lid, 0.0) + weight
        # a place name in pinyin, or a proposal number, counts as its Chinese would: two bigrams only one letter has
        matched = [lid for name in proper for lid in self._by_pinyin.get(name, ())] if proper else []
        matched += [lid for number in numbers for lid in self._by_number.get(number, ())]
        for lid in matched:
            out[lid] = out.get(lid, 0.0) + 2 * self._unit
        return out

    @property
    def _unit(self) -> float:
        """The weight of one bigram that only one letter has: what a matched place name counts twice."""
        return math.log((len(self.letters) + 1) / 1.5) - self._base

    def named(self, question: str, lang: str, several: bool = False) -> tuple[str, ...]:
        """The letters the question names, best first: each clearly ahead of those after it.

        With `several` (a question across letters: "A的答复和B的答复分别…") every letter named strongly
        enough counts, however far ahead of it another one is.
        """
        if len(self.letters) < 2:
            return ()
        scores = self.scores(question, lang)
        if not scores:
            return ()
        ranked = sorted(scores, key=lambda lid: -scores[lid])
        top = scores[ranked[0]]
        if top < MIN_NAMING * self._unit:
            return ()
        if several:
            return tuple(lid for lid in ranked if scores[lid] >= MIN_NAMING * self._unit)[:MAX_NAMED]
        named = [ranked[0]]
        for lid in ranked[1:]:
            if scores[named[-1]] - scores[lid] > MARGIN * self._unit:
                break
            named.append(lid)
        return tuple(named) if len(named) <= 3 else ()


def naming_text(letter: Letter) -> str:
    """The words a reader names a letter by: sender, title, recipient, number, headings, page title."""
    # The opening lines hold the letter's heading; a page that runs the body into one line is cut short.
    lines = [line[:80] for line in letter.text.split("\n")[:12] if not PAGE_LINE.match(line)][:4]
    meta = [letter.meta.get(k, "") for k in ("标题", "名称", "发布机构", "发文单位", "来源")]
    return "\n".join([letter.sender, letter.title, letter.recipient, letter.doc_number, *meta, *lines])


def _naming_keys(letter: Letter) -> tuple[frozenset, frozenset]:
    """A letter's naming bigrams and proposal numbers."""
    text = naming_text(letter)
    return frozenset(_bigrams(text)), frozenset(PROPOSAL_NUMBER.findall(text))


def _postings(pairs) -> dict[str, list[str]]:
    """(letter, keys) pairs → key → the letters that have it."""
    out: dict[str, list[str]] = {}
    for lid, keys in pairs:
        for key in set(keys):
            out.setdefault(key, []).append(lid)
    return out


def _bigrams(text: str) -> set[str]:
    out = set()
    for run in _CJK_RUN.findall(text):
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def _pinyin_names(text: str) -> dict[str, float]:
    """Pinyin of each two- and three-character run of the naming text (滕州 → tengzhou): how English writes places."""
    from pypinyin import lazy_pinyin

    out: dict[str, float] = {}
    for run in _CJK_RUN.findall(text):
        syllables = lazy_pinyin(run)
        for size in (2, 3):
            for i in range(len(run) - size + 1):
                out["".join(syllables[i : i + size])] = 1.0
    return out


def route(query, catalog: Catalog, letter: str | None = None, allowed: set[str] | None = None,
          previous_scope: tuple[str, ...] = ()) -> Route:
    """Which letters to ask: the one the user scoped to, the ones the question names, the previous turn's, or all."""
    def keep(ids):  # within the filters; () when they exclude every one (then nothing is searched)
        return tuple(i for i in ids if allowed is None or i in allowed)

    if letter:
        return Route(keep((letter,)), "scope")
    # A letter the filters exclude is not asked: the filters are the user's explicit choice.
    # "哪些答复与文化遗产保护有关" names a kind of letter, not one: a cross-letter question that seems to
    # name a single letter is asked of all of them (two named letters are compared as named).
    if query.named and keep(query.named) and not (query.which_letters and len(query.named) == 1):
        return Route(keep(query.named), "named")
    if previous_scope and not query.cross and keep(previous_scope):
        return Route(keep(previous_scope), "previous")
    if allowed is not None:
        return Route(tuple(sorted(allowed)), "filter")
    return Route(None, "all")
