"""What a question asks for, read from its wording: its parts, the specifics it names, meta fields.

These rules decide two things cosine similarity cannot. A near-miss question ("江苏省2023年…",
"到2026年…", "安排了多少资金") scores as high as a real one, because it shares the topic; what
gives it away is a specific (a place, a year, an amount of money) that the passages never state.
And a question about the letter itself (who replied, when, to whom) is answered from the
letter's opening and sign-off, which retrieval by topic rarely brings up.
"""
from __future__ import annotations

import re

from .read import DATE
from .records import Letter

_CUE = re.compile(r"多少|几|什么|哪|怎么|怎样|如何|是否|吗|有无|how|what|which|when|who|whom|where|\?|？", re.I)
_PART_SPLIT = re.compile(r"[，,；;]|(?<=[?？])")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_MONEY_ASK = re.compile(r"资金|经费|预算|拨款|补贴|奖补|多少钱|[万亿]元|spend|spending|budget|funding|fund|yuan|money", re.I)
_MONEY = re.compile(r"\d[\d.,]*\s*[万亿]?元")
MONEY = "money"  # what missing_specifics names when an amount of money is asked and none is stated
_PROPER = ("ns", "nr", "nt", "nrt")  # jieba tags: places, people, organisations
# Checked in this order: "哪天落款的" asks for a date, not for who signed.
_META = {
    "date": re.compile(r"哪天|哪一天|什么时候|何时|日期|签发时间|落款时间|when (was|did)|what date|on what date", re.I),
    "doc_number": re.compile(r"(答复|复函|这份|这封|回复)[^。？?]{0,30}文号|文号[^。？?]{0,8}(答复|复函|这份)|"
                             r"(document|reference) number of (the|this) [^?]{0,60}(reply|letter|response)", re.I),
    "recipient": re.compile(r"(回复|答复|写|复)给(谁|哪)|给哪(位|几位)|答复对象|哪(位|几位)(代表|委员)|to whom|"
                            r"addressed to|who (made|raised|submitted) the (proposal|suggestion)", re.I),
    "title": re.compile(r"哪件(建议|提案)|什么(建议|提案)|哪个(建议|提案)|建议的(题目|标题|名称)|"
                        r"which (proposal|suggestion)|title of the (proposal|suggestion)", re.I),
    "contact": re.compile(r"联系(谁|人|电话|方式)|电话|contact|phone", re.I),
    "sender": re.compile(r"哪个(单位|部门|机关)|哪几个(单位|部门)|谁(答复|回复|发出|签发)|答复单位|发文单位|联合落款|署名|"
                         r"which (department|agency|office)s?|who (replied|signed|sent|answered)", re.I),
}
# "哪些答复提到了…": a which-question about the letters together with a verb of mentioning.
_WHICH_LETTERS = re.compile(r"(哪些|哪几份|哪几个)(答复|复函|回复|函|信|部门|单位|厅|局)[^，。？?]{0,6}"
                            r"(提到|提及|涉及|谈到|说到|讲到)(了|过)?|(which|what) (letters|replies|departments|agencies) "
                            r"(mention|refer|talk|discuss)", re.I)
_MENTION = re.compile(r"(都|有|还)?(提到|提及|涉及|谈到|说到|讲到|mention(ed|s)?|talk(ed)? about|refer(red)? to)(了|过)?", re.I)
_NUMBER_NOT_AMOUNT = re.compile(r"文号|编号|号码|电话|document number|reference number|phone", re.I)
_LIST_ASK = re.compile(r"哪些|哪几|有什么|什么(措施|举措|办法|安排|活动)|which|what (measures|steps|actions)", re.I)
_QUOTED = re.compile(r"[“\"「『《]([^”\"」』》]{2,40})[”\"」』》]")
_QUANTITY_ASK = re.compile(r"多少|(?<!哪)几[家个项件名所条篇次期批倍年]|多大|多高|多长|多快|比例|比重|占比|百分之几|"
                           r"how (many|much|fast|high|large)|by how much|what (share|percentage|proportion|rate)",
                           re.I)
# Years, dates and document numbers are numbers but never the amount a question asks for.
_NOT_QUANTITY = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|(?:19|20)\d{2}\s*[年—\-–~～至]|\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"
                           r"|〔\d{4}〕\d+号")
_QUANTITY = re.compile(r"\d|[一二三四五六七八九十两百千万亿半]+[家个项件名所条倍成期批篇次人座台辆亩吨元]")
_CODE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{2,}(?![A-Za-z0-9])")
# A reply letter tells what was done (工作开展情况) apart from what is planned (下步推进措施).
_ASKS_DONE = re.compile(r"实际|已经|去年|前年|上年|此前|截至|迄今|过去|so far|already|last year|actually", re.I)
_PLAN_SECTION = re.compile(r"下步|下一步|今后|打算|下阶段")
_PLAN_SENTENCE = re.compile(r"力争|每年|拟|将于|计划于|到(19|20)\d{2}年")


def split_parts(question: str) -> list[str]:
    """The sub-questions of a question that asks two things ("…多少家，到2025年目标是多少?")."""
    pieces = [p.strip() for p in _PART_SPLIT.split(question) if p and p.strip()]
    parts = [p for p in pieces if _CUE.search(p) and len(p) >= 4]
    return parts if len(parts) >= 2 else [question]


def missing_specifics(question: str, passages: list[str], letters: list[str]) -> list[str]:
    """Specifics the question names that the answer's sources never state.

    Years and amounts of money must be in the passages themselves; a place, person,
    organisation, code (5G, H7N9) or quoted name (“万名医师支援农村卫生工程”) anywhere in their
    letters (a passage says 全省 where the letter says 山东省).
    """
    near, whole = "\n".join(passages), "\n".join(letters)
    missing = sorted(y for y in years_in(question) if y not in near)
    missing += [w for w in proper_names(question) if w not in whole]
    missing += [c for c in _CODE.findall(question) if c.lower() not in whole.lower()]
    squashed = re.sub(r"\s+", "", whole)
    missing += [f"“{q}”" for q in _QUOTED.findall(question) if re.sub(r"\s+", "", q) not in squashed]
    asks_money = _MONEY_ASK.search(question) and not _NUMBER_NOT_AMOUNT.search(question)  # not "资金管理办法的文号"
    if asks_money and not _MONEY.search(near):
        missing.append(MONEY)
    return missing


def plan_for_fact(question: str, sentences: list[tuple[str, str]]) -> bool:
    """True when the question asks what was done but every (section, sentence) answering it is a plan."""
    if not sentences or not _ASKS_DONE.search(question):
        return False
    return all(_PLAN_SECTION.search(section) or _PLAN_SENTENCE.search(text) for section, text in sentences)


def proper_names(text: str) -> list[str]:
    """Places, people and organisations jieba recognises in the text (two characters or more)."""
    import jieba.posseg

    return [w for w, tag in jieba.posseg.cut(text) if tag in _PROPER and len(w) >= 2]


def asks_which_letters(question: str) -> bool:
    """True for "哪些答复提到了…": the answer is one sentence from each letter that says it."""
    return bool(_WHICH_LETTERS.search(question))


def topic_of(question: str) -> str:
    """What a which-letters question is about, without its frame ("哪些答复提到了专精特新?" → 专精特新)."""
    topic = _MENTION.sub("", _WHICH_LETTERS.sub("", question))
    return topic.strip(" ?？。") or question


def years_in(text: str) -> set[str]:
    """The four-digit years a text names."""
    return set(_YEAR.findall(text))


def asks_quantity(question: str) -> bool:
    """True when the question asks how many, how much or what share (not for a 文号 or phone number)."""
    return bool(_QUANTITY_ASK.search(question)) and not _NUMBER_NOT_AMOUNT.search(question)


def asks_list(question: str) -> bool:
    """True when the question asks for several things ("有哪些措施"): the whole sentence answers it."""
    return bool(_LIST_ASK.search(question))


def states_quantity(text: str) -> bool:
    """True when the text states an amount (a year, date or 文号 alone does not count)."""
    return bool(_QUANTITY.search(_NOT_QUANTITY.sub("", text)))


def meta_field(question: str) -> str | None:
    """Which fact about the letter itself the question asks for, if any."""
    for field, pattern in _META.items():
        if pattern.search(question):
            return field
    return None


def states_field(sentence: str, field: str, letter: Letter) -> bool:
    """True when a sentence of the letter states the asked field (sender, date, …)."""
    if field == "date":
        return bool(DATE.search(sentence))  # the signed-date rule the reader uses
    if field == "contact":
        return bool(re.search(r"电话|联系|\d{3,4}-\d{6,8}", sentence))
    if field == "sender":  # joint signers stand on lines of their own
        line = sentence.strip()
        return bool(letter.sender) and (letter.sender in line or (len(line) >= 4 and line in letter.sender))
    value = {"recipient": letter.recipient, "title": letter.title, "doc_number": letter.doc_number}[field]
    return bool(value) and value in sentence
