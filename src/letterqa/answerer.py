"""The one answer path: a Query and its retrieved hits in, an Answer (or a typed refusal) out.

Three kinds of question are answered three ways:
- about the letter itself (who replied, to whom, when, 文号, 抄送): the line of the letter that states
  the field, found by the genre's rules in its page block, opening and sign-off;
- about several letters ("哪些答复提到了…", 分别, 比较): the best sentence of each letter, one line each;
- about content: the best sentences of the retrieved passages, scored by meaning, wording and what is
  asked (a number in the asked unit, the year), never a formula of the genre.
Then the checks decide whether the sentences answer it (checks.py).
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from . import answer as ans, lexicon
from .checks import RULES, Calibration, Evidence, Refusal, features
from .lexical import tokenize
from .query import topic_alternatives
from .genre import (CONTACT, COPY_TO, DATE, DOC_NUMBER, HANDLER, ISO_DATE, PROPOSAL_NUMBER, PROPOSER, SALUTATION,
                    is_boilerplate, item_level)
from .records import Chunk, Hit, Letter

MIN_RELEVANCE = 0.86          # without a calibration: the old measured floors (Chinese, English)
MIN_RELEVANCE_ENGLISH = 0.735
MAX_FIELD_LETTERS = 8        # letters listed at most for "哪几份答复写明了联系人"
SCAN_LETTERS = 300           # a field is looked for in every letter of a scope up to this size, else in the hits'
CROSS_COVERAGE = 0.3          # a letter joins a which-letters answer when it holds this share of the topic

# Fields only the letter's own lines state: when none does, no sentence of its content answers either.
STRICT_FIELDS = {"date", "published", "doc_number", "number", "contact", "copy_to", "signer", "category", "proposer"}
_PAGE = ("页面信息",)
_OPENING = ("开头",)
_SIGNOFF = ("落款",)
_PUBLISHED = re.compile(r"^(发布|发文|公开|成文)(日期|时间)")
_CATEGORY = re.compile(r"(办复|答复|办理)类别|[A-C]类")
_KIND = re.compile(r"建议|提案|议案")
# The letter's own labels for who proposed it: a proposal table's cell, or a page field.
PROPOSER_LABEL = re.compile(r"(提建议代表|提案人|建议人|提出人|领衔(代表|委员|人)|代表姓名|委员姓名)[^:：]{0,6}[:：]")
CONTACT_PERSON = re.compile(r"联\s*系\s*人")  # "联系人" asks for a person; a page may space the label (联 系 人)
_CONTACT_OTHER = re.compile(r"电话|号码|联系单位|联系方式")  # …unless the question asks for the number or unit as well
LABELLED = re.compile(r"([\u4e00-\u9fff][\u4e00-\u9fff ]{1,9})[:：]\s*\S")  # `承办单位:东洲区人民政府`
_PHONE = re.compile(r"\d{3,4}-\d{6,8}|1\d{10}")


def field_states(field: str, text: str, chunk: Chunk, letter: Letter) -> bool:
    """True when a sentence of the letter states the asked field of the letter itself."""
    zone = chunk.path[:1]
    line = text.strip()
    if field == "recipient":
        if is_boilerplate(line) or "如下" in line:
            return False
        return bool(SALUTATION.fullmatch(line)) and len(line) <= 40 or \
            bool(letter.recipient and letter.recipient in line and len(line) <= 60)
    if field == "date":
        return zone != _PAGE and len(line) <= 40 and bool(DATE.search(line) or ISO_DATE.search(line))
    if field == "published":
        return zone == _PAGE and bool(_PUBLISHED.match(line))
    if field == "sender":
        short = len(line) <= 40
        return (zone == _SIGNOFF and short and not DATE.fullmatch(line) and not CONTACT.search(line)) or \
            (zone == _PAGE and line.startswith(("发布机构", "发文机关", "发文单位"))) or bool(HANDLER.match(line)) or \
            bool(letter.sender and letter.sender in line and short)
    if field == "proposer":
        if PROPOSER.search(line) and zone in (_OPENING, _PAGE):  # 杨旭博代表提出的…收悉，现答复如下
            return True
        return bool(PROPOSER_LABEL.match(line)) or (bool(PROPOSER.search(line)) and len(line) <= 60)
    if field == "number":
        return zone in (_PAGE, _OPENING) and bool(PROPOSAL_NUMBER.search(line)) and bool(_KIND.search(line))
    if field == "title":
        numbered = PROPOSAL_NUMBER.search(line) and _KIND.search(line) and "号" in line
        return zone in (_PAGE, _OPENING) and bool(numbered or (letter.title and letter.title in line)) or \
            (zone == _PAGE and line.startswith(("标题", "名称")))
    if field == "doc_number":
        return bool(DOC_NUMBER.search(line)) or (zone == _PAGE and line.startswith(("文号", "发文字号")))
    if field == "contact":
        return bool(CONTACT.search(line) or _PHONE.search(line))
    if field == "copy_to":
        return bool(COPY_TO.search(line)) and ("抄" in line)
    if field == "signer":
        return bool(re.search(r"签\s*发\s*人|审签|签发", line))
    if field == "category":
        return bool(_CATEGORY.search(line)) and len(line) <= 120
    if field == "feedback":
        return bool(re.search(r"回执|征询意见|满意度|(有何|有什么)意见|反馈", line)) and zone != _PAGE
    if field == "kind":
        return zone == _OPENING and bool(_KIND.search(line))
    return False


# Where each field is looked for first: a field stated in several places is taken from its own zone.
_ZONES = {"recipient": (_OPENING,), "proposer": (_OPENING,), "number": (_OPENING, _PAGE), "title": (_PAGE, _OPENING), "date": (_SIGNOFF, _PAGE), "published": (_PAGE,),
          "sender": (_SIGNOFF, _PAGE, _OPENING), "doc_number": (_PAGE, _OPENING), "contact": (_SIGNOFF,),
          "copy_to": (_SIGNOFF,), "signer": (_SIGNOFF,), "category": (_PAGE, _SIGNOFF), "kind": (_OPENING,)}


class Answerer:
    """Chooses the sentences that answer a Query from its hits, and decides whether they do."""

    def __init__(self, stored, idf: dict[str, float], calibration: Calibration | None):
        self.stored = stored
        self.idf = idf
        self.calibration = calibration
        self.trace: list | None = None   # `letterqa calibrate` collects the features of each decision here

    # ------------------------------------------------------------ letter fields
    def letter_fields(self, query, qvec: np.ndarray, letter_id: str) -> list[ans.Scored]:
        """For each asked field, the sentence of the letter that states it (nearest in meaning when several do)."""
        letter = self.stored.letters[letter_id]
        hits = [Hit(self.stored.chunks[r], 0.0) for r in self.stored.rows_of(letter_id)]
        sentences, vectors = ans.candidate_sentences(hits, self.stored, pool=len(hits))
        every = [ans.Scored(s, float(v @ qvec), 0.0, float(v @ qvec)) for s, v in zip(sentences, vectors)]
        picked: list[ans.Scored] = []
        for field in query.fields:
            if field == "outline":
                picked += self.outline(letter_id)
                continue
            found = [(s, v) for s, v in zip(sentences, vectors) if field_states(field, s.text, s.chunk, letter)]
            if not found:
                continue
            if field == "proposer":  # a labelled cell (提案人:…) names them, else the salutation
                found = [(s, v) for s, v in found if PROPOSER_LABEL.match(s.text.strip())] or \
                    [(s, v) for s, v in found if _is_salutation(s.text)] or found
            if field == "sender" and letter.sender:  # a line that names the sender the letter was read to have
                found = [(s, v) for s, v in found if letter.sender in s.text] or found
            if field == "recipient":  # the salutation names them; a title line only mentions 代表
                found = [(s, v) for s, v in found if _is_salutation(s.text)] or found
            if field == "contact" and CONTACT_PERSON.search(query.text) and not _CONTACT_OTHER.search(query.text):
                # 联系人 asks for a person: a line with only a unit or a phone number names none. Asked of
                # one letter it is still the nearest thing; asked which letters name one, the letter does not.
                person = [(s, v) for s, v in found if CONTACT_PERSON.search(s.text)]
                found = person or ([] if query.which_letters else found)
                if not found:
                    continue
            zones = _ZONES.get(field, ())
            rank = {z: i for i, z in enumerate(zones)}
            best_zone = min(rank.get(s.chunk.path[:1], len(zones)) for s, _ in found)
            found = [(s, v) for s, v in found if rank.get(s.chunk.path[:1], len(zones)) == best_zone]
            scored = [ans.Scored(s, float(v @ qvec), 0.0, float(v @ qvec)) for s, v in found]
            best = max(scored, key=lambda x: x.score)
            if field == "date":  # the signed date is the last one of the sign-off
                best = max(scored, key=lambda x: (x.sentence.chunk.chunk_id, x.sentence.start))
            for s in [best] + _rest_of_line(best, every) + _value_below(best, every):
                if not any(_same(s, p) for p in picked):
                    picked.append(s)
        for s in every:  # a line under the very label the question uses (承办单位是谁 → 承办单位:…)
            label = LABELLED.match(s.sentence.text.strip())
            name = re.sub(r"\s+", "", label.group(1)) if label else ""
            if len(name) >= 3 and name in query.text and not any(_same(s, p) for p in picked):
                picked.append(s)
        return sorted(picked, key=lambda s: (s.sentence.chunk.chunk_id, s.sentence.start))

    def outline(self, letter_id: str) -> list[ans.Scored]:
        """The letter's top-level numbered headings (一、…二、…), each cited to the first passage under it.

        A heading is the passage's section path, not its text: each is given as the head of a copy of
        that passage, so the answer and its citation show it.
        """
        heads: dict[str, Chunk] = {}
        for row in self.stored.rows_of(letter_id):
            chunk = self.stored.chunks[row]
            top = chunk.path[0] if chunk.path else ""
            if top and item_level(top) and top not in heads:
                heads[top] = chunk
        if len(heads) < 2:
            return []
        out = []
        for i, (heading, chunk) in enumerate(heads.items()):
            headed = replace(chunk, text=f"{heading}\n{chunk.text}")
            out.append(ans.Scored(ans.Sentence(headed, 0, len(heading), 0), 1.0, 1.0, 1.0 - 0.001 * i))
        return out

    # ------------------------------------------------------------ content
    def content(self, query, asked: str, qvec: np.ndarray, hits: list[Hit]) -> list[ans.Scored]:
        """The sentences that answer one (sub-)question from the hits, best passage first."""
        pool = [h for h in hits[: ans.ANSWER_POOL] if h.chunk.path[:1] != _PAGE]
        sentences, vectors = ans.candidate_sentences(pool, self.stored, pool=len(pool))
        scored = ans.score_sentences(query, asked, qvec, sentences, vectors, self.idf)
        several = query.wants_list or bool(ans.MULTI.search(asked))
        chosen = ans.choose(scored, several)
        if chosen and query.wants_list:
            items = ans.list_items(self.stored, max(chosen, key=lambda s: s.score), siblings=query.wants_items)
            if items:  # the items of the list the best sentence opens or belongs to (一是…二是…三是)
                return ans.merge_items(chosen, items)
            chosen = ans.extend(chosen, scored, ans.same_sentence)  # the items of a list cut at ；
        return chosen

    def per_letter(self, query, qvec: np.ndarray, hits: list[Hit], named: bool = False) -> list[ans.Scored]:
        """The best sentence of each letter among the hits, if it holds enough of the topic's wording.

        Letters the question names ("比较兴庆区住建局…与平原代表答复…") each answer, however they word it.
        """
        by_letter: dict[str, list[Hit]] = {}
        for hit in hits:
            by_letter.setdefault(hit.chunk.letter_id, []).append(hit)
        best = []
        for group in by_letter.values():
            found = self.content(query, query.topic or query.text, qvec, group)
            if found:
                best.append(max(found, key=lambda s: s.score))
        best = best if named else [s for s in best if self._on_subject(query, s)] or best[:1]
        return sorted(best, key=lambda s: -s.score)[: ans.MAX_LETTERS]

    def _on_subject(self, query, s: ans.Scored) -> bool:
        """Whether a letter's best sentence holds enough of what the question lists letters by: of its
        wording, or of one of the alternatives its which clause offers ("传统文化或文化遗产保护")."""
        if s.coverage >= CROSS_COVERAGE:
            return True
        if query.english or not query.subject:
            return False
        held = set(tokenize(s.sentence.text))
        return any(ans.coverage(tokenize(alt), held, self.idf) >= CROSS_COVERAGE
                   for alt in topic_alternatives(query.subject))

    def fields_per_letter(self, query, qvec: np.ndarray, letter_ids, by_topic: bool = True) -> list[ans.Scored]:
        """Each letter's lines that state the asked fields ("哪些答复带有抄送行", "分别写给谁"), letter by letter."""
        # an English question's topic is the places it names, in the letters' words ("bodies in Henan" → 河南)
        topic_text = " ".join(lexicon.places(query.text)) if query.english else query.field_topic
        topic = tokenize(topic_text) if topic_text and by_topic else []
        if not topic:  # every letter in scope answers: read them only until enough are listed
            return _first_letters(self.letter_fields(query, qvec, lid) for lid in letter_ids)
        # "哪几份出自交通运输部门": of a topic beyond the field itself, the letters whose lines hold it
        found = [self.letter_fields(query, qvec, lid) for lid in letter_ids]
        on_topic = [f for f in found if f and
                    max(ans.coverage(topic, _placed(s.sentence.text), self.idf) for s in f) >= CROSS_COVERAGE]
        return _first_letters(on_topic or found)

    # ------------------------------------------------------------ checks
    def check(self, query, picked: list[ans.Scored]) -> Refusal | None:
        """Why the picked sentences do not answer the query, or None when they do."""
        if not picked:
            return Refusal("nothing")
        ev = self.evidence(query, picked)
        for rule in RULES:
            refusal = rule(query, ev)
            if refusal is not None:
                return refusal
        x = features(query, ev)
        if self.trace is not None:
            self.trace.append((x, query.english))
        if self.calibration is not None:
            return None if self.calibration.answerable(x, query.english) else Refusal("not_relevant")
        floor = MIN_RELEVANCE_ENGLISH if query.english else MIN_RELEVANCE
        return None if ev.dense + ans.LEXICAL_WEIGHT * ev.coverage >= floor else Refusal("not_relevant")

    def evidence(self, query, picked: list[ans.Scored]) -> Evidence:
        best = max(picked, key=lambda s: s.score)
        letters = {s.sentence.chunk.letter_id for s in picked}
        frames = tuple(" ".join([*_titles(x), x.date]) for x in (self.stored.letters[lid] for lid in letters))
        return Evidence(tuple(s.sentence.text for s in picked), tuple(s.sentence.chunk.section for s in picked),
                        tuple(self.stored.letters[lid].text for lid in letters), best.dense, best.coverage, frames,
                        self._rare_coverage(query, picked))

    def _rare_coverage(self, query, picked: list[ans.Scored]) -> float:
        """Whether the chosen sentences hold the question's rarest words: what a near miss asks about and lacks.

        A word counts as held where the sentence stands too: in its headings, or in the words that name
        its letter (title, sender, recipient), which the question uses to say which letter it means.
        """
        rare = ans.rarest(tokenize(query.text), self.idf)
        if not rare:
            return 1.0
        held = set()
        for s in picked:
            letter = self.stored.letters[s.sentence.chunk.letter_id]
            held.update(tokenize(" ".join([s.sentence.text, *s.sentence.chunk.path, *_titles(letter), letter.sender,
                                           letter.recipient])))
        return sum(t in held for t in rare) / len(rare)


def _placed(text: str) -> set[str]:
    """A line's words, and the places that hold the places it names: a body in 郑州 is a body in 河南."""
    words = tokenize(text)
    return set(words) | set(tokenize(" ".join(lexicon.regions(words))))


def _titles(letter: Letter) -> list[str]:
    """What the letter is called: the proposal's title, and the page's 标题 and 名称 lines."""
    return [letter.title, letter.meta.get("标题", ""), letter.meta.get("名称", "")]


def _first_letters(per_letter) -> list[ans.Scored]:
    """The field lines of letter after letter, until MAX_FIELD_LETTERS letters are listed."""
    picked: list[ans.Scored] = []
    for lines in per_letter:
        picked += lines
        if len({s.sentence.chunk.letter_id for s in picked}) >= MAX_FIELD_LETTERS:
            break
    return picked


def _is_salutation(text: str) -> bool:
    line = text.strip()
    return len(line) <= 40 and bool(SALUTATION.fullmatch(line))


def _rest_of_line(best: ans.Scored, scored: list[ans.Scored]) -> list[ans.Scored]:
    """The clauses after the best one on its line (联系人:…; 联系电话:…): a field line is read whole."""
    chunk, out, end = best.sentence.chunk, [], best.sentence.end
    for s in sorted(scored, key=lambda x: x.sentence.start):
        sent = s.sentence
        if sent.chunk.chunk_id != chunk.chunk_id or sent.start < end:
            continue
        gap = chunk.text[end:sent.start]
        if "\n" in gap or gap.strip():
            break
        out.append(s)
        end = sent.end
    return out


_LABEL_ONLY = re.compile(r"[\u4e00-\u9fff ]{2,12}[:：]?")


def _value_below(best: ans.Scored, scored: list[ans.Scored]) -> list[ans.Scored]:
    """The next line when the best one is a table's label cell alone (`承办单位 |` over `市住房和城乡建设局 |`)."""
    if not _LABEL_ONLY.fullmatch(best.sentence.text.replace("|", "").strip()):
        return []
    after = [s for s in scored if s.sentence.chunk.chunk_id == best.sentence.chunk.chunk_id
             and s.sentence.start >= best.sentence.end]
    return [min(after, key=lambda s: s.sentence.start)] if after else []


def _same(a: ans.Scored, b: ans.Scored) -> bool:
    """One line, or the same words again (a page that holds the letter twice repeats its sign-off)."""
    return (a.sentence.chunk.chunk_id == b.sentence.chunk.chunk_id and a.sentence.start == b.sentence.start) or \
        (a.sentence.chunk.letter_id == b.sentence.chunk.letter_id and a.sentence.text.strip() == b.sentence.text.strip())


def fields_answer_check(picked: list[ans.Scored], fields=()) -> Refusal | None:
    """A letter-field question is answered when its field lines were found; boilerplate never answers
    (but where to send feedback is told in the genre's own formula: 请填写在…回执上)."""
    if not picked or ("feedback" not in fields and all(is_boilerplate(s.sentence.text) for s in picked)):
        return Refusal("nothing")
    return None
