"""Read a question once into a Query: what it asks, about which letter, with which specifics.

Nothing downstream reads the question string again: routing uses `named`, the answerer the
fields, amount and list intent, the checks the specifics (years, names, codes, quoted names).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .genre import UNITS, YEAR

# Fields of the letter itself a question may ask for, in the order an answer gives them.
# Each pattern asks for the field only; the answerer finds the line of the letter that states it.
FIELDS: dict[str, re.Pattern] = {
    "recipient": re.compile(
        r"写给(谁|哪)|回复给(谁|哪)|答复给(谁|哪)|复给(谁|哪)|答复对象|抬头|称谓|(答复|回复)(的是)?哪(位|几位|些|两位)|"
        r"to whom|addressed to|which (cppcc )?member did", re.I),
    # who made the proposal: a deputy or member, not the department a 会办意见 is addressed to
    "proposer": re.compile(
        r"(谁|哪位|哪些|哪几位|哪两位)[^，,。？?]{0,8}提出|提出人|提案人|建议人|提建议代表|哪(位|几位|些|两位)(代表|委员)|"
        r"which (deputy|deputies|member)|who (made|raised|submitted|proposed)|whose (proposal|suggestion)", re.I),
    "number": re.compile(r"第几号|几号(建议|提案)|编号|what (is the )?number|which number", re.I),
    "title": re.compile(
        r"哪件(建议|提案)|什么(建议|提案)|哪个(建议|提案)|(建议|提案)的(题目|标题|名称)|哪(一)?次会议|哪(一)?届|(?<![级小])标题|"
        r"which (proposal|suggestion)|title of|which session", re.I),
    "doc_number": re.compile(r"文号|发文字号|document number|reference number", re.I),
    # Only the letter's own date: "东阿至阳谷高速是哪天开工的" asks a date of the content.
    "date": re.compile(r"哪天落款|落款(日期|时间)|签发(日期|时间)|成文(日期|时间)|哪天(签发|答复|回复|复函)|"
                       r"什么时候(签|落款|答复|回复)|(答复|复函|回复|这份|该函|意见)[^，,。？?]{0,8}(哪天|日期|什么时候|何时)|"
                       r"when (was|did)[^?]{0,60}(sign|dated)|what date[^?]{0,40}(sign|reply|letter)|signed on|"
                       r"(repl(y|ied)|letter)[^?]{0,80}, and (on )?what date", re.I),
    "published": re.compile(r"发布(日期|时间)|网站(发布|公开)|公开(日期|时间)|(哪天|什么时候|何时)发布|发布于|"
                            r"(published|posted) (online|on)|when was it published", re.I),
    "sender": re.compile(r"哪个(单位|部门|机关)(答复|回复|发出|签发|办理|承办)|谁(答复|回复|发出|签发)的|答复单位|发文单位|"
                         r"承办单位|署名|落款单位|出自|(哪个|哪几个|哪些)(单位|部门|机关)[^，,。？?]{0,6}(落款|署名|联合)|which (department|agency|office|bureau) (replied|answered|signed|issued)|"
                         r"who (replied|signed|sent|answered)|(issued|sent|signed) by", re.I),
    "contact": re.compile(r"联系(谁|人|电话|方式|单位)|电话|\bcontact\b|\bphone\b", re.I),
    "copy_to": re.compile(r"抄送|抄报|copied to|\bcc\b", re.I),
    "signer": re.compile(r"签发人|审签|哪位领导签发|签发领导|who signed off", re.I),
    "category": re.compile(r"(办复|答复|办理)类别|哪一类|什么类别|category", re.I),
    # Where the deputy or member sends back his opinion of the reply (回执, 征询意见表)
    "feedback": re.compile(r"回执|反馈意见|(意见|评价)[^，,。？?]{0,6}(填写|提交|反馈)|满意度|"
                           r"(submit|send|give)[^?]{0,30}feedback|feedback form", re.I),
    # How the reply is laid out: its numbered parts (分成哪几个方面来回答, 三个一级标题)
    "outline": re.compile(r"分(成|为)(哪|几)[^，,。？?]{0,4}(方面|部分)|一级标题|小标题|(答复|复函)的?(结构|框架)|"
                          r"what (parts|sections) (is|does)|(parts|sections) of the reply", re.I),
    "kind": re.compile(r"(人大)?建议还是(政协)?提案|提案还是建议|suggestion or (a )?proposal", re.I),
}
# "这份答复…", "this reply": the letter is meant but not named.
DEICTIC = re.compile(r"(这|该|此|本)(份|封|篇|件)?(答复|复函|回复|函|意见|信)|this (reply|letter|response|opinion)", re.I)
# Which of the letters: a question about the collection, whatever letter its topic words recall.
WHICH_LETTERS = re.compile(r"(哪些|哪几份|哪几个|几份)(答复|复函|回复|函|信)|这批(答复|复函|回复)|"
                           r"(which|what) (of these |of the )?(letters|replies)|which of these", re.I)
# Across letters: which of them, each of them, compare them.
CROSS = re.compile(r"(哪些|哪几份|哪几个|哪一份|哪份|几份)(答复|复函|回复|函|信|部门|单位|页面)|这批(答复|复函|回复)|哪一?份|"
                   r"分别|各自|比较|对比|相比|哪个多|哪个少|(which|what) (of these |of the )?(letters|replies|bodies|"
                   r"departments|agencies)|which of these|compare|each of", re.I)
# "与X有关", "和X相关": the topic between the frame's two halves.
_RELATED = re.compile(r"(?:与|和|跟|同)(.{2,30}?)(?:有关|相关|有联系)")
_CLAUSE_SPLIT = re.compile(r"(?<=[?？。；;])")
MENTION = re.compile(r"(都|有|还)?(提到|提及|涉及|谈到|说到|讲到|mention(ed|s)?|talk(ed)? about|refer(red)? to|"
                     r"address(es)?)(了|过)?", re.I)
_CUE = re.compile(r"多少|几|什么|哪|谁|怎么|怎样|如何|是否|吗|呢|有无|为什么|为何|how|what|which|when|who|whom|where|why|"
                  r"\?|？", re.I)
MAX_PARTS = 4
_PART_SPLIT = re.compile(r"[，,；;]|(?<=[?？])")
_MONEY_ASK = re.compile(r"资金|经费|预算|拨款|补贴|奖补|多少钱|[万亿]元|投资(额|金额)|金额|spend|spending|budget|funding|"
                        r"fund|yuan|money|investment", re.I)
_NUMBER_NOT_AMOUNT = re.compile(r"文号|编号|号码|电话|第几号|几号|document number|reference number|phone|"
                                r"what number|No\.", re.I)
_LIST_ASK = re.compile(r"哪些|哪几|哪[两二三四五六七八九十]{1,2}(个|项|方面|类|条|点|种|件|部分)|有什么|什么(措施|举措|办法|安排|活动|工作)|几项|几个方面|which (two|three|four)|"
                       r"what (measures|steps|actions|kinds)|list", re.I)
_QUOTED = re.compile(r"[“\"「『《]([^”\"」』》]{2,40})[”\"」』》]")
_QUANTITY_ASK = re.compile(rf"多少|(?<!哪)几\s*(?:{UNITS}|千|百)|多大|多高|多长|多快|多远|比例|比重|占比|"
                           r"百分之几|how (many|much|fast|high|large|long|far)|by how much|"
                           r"what (share|percentage|proportion|rate|amount)|roughly how", re.I)
# The unit a how-many question asks in: 多少亩, 几家, 多少万元, how many villages (no unit).
_UNIT_ASK = re.compile(rf"(?:多少|(?<!哪)几)\s*(万|亿|千|百)?\s*({UNITS})")
_CODE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{2,}(?![A-Za-z0-9])")
# A reply class (办复类别 A类/B类/C类) the question names: a letter that never states it does not answer it.
_CLASS_CODE = re.compile(r"(?<![A-Za-z])[A-D]类")
_ORDINAL = re.compile(r"^\d+(st|nd|rd|th)$|^(pm|no)\d", re.I)
_ASKS_DONE = re.compile(r"实际|已经|已|去年|前年|上年|此前|截至|迄今|过去|目前|so far|already|last year|actually|"
                        r"has been|have been|was|were", re.I)
_ASKS_PLAN = re.compile(r"下一步|下步|今后|将来|计划|打算|准备|目标|到\d{4}年|将|plan|will|target|next", re.I)
_PROPER = ("ns", "nr", "nt", "nrt")
# What kind of thing a which/when question asks for, and what a sentence that answers it must show.
ASKED_KIND = (
    (re.compile(r"哪一?年|哪(两|几)年|which (\w+ )?years?\b|what years?\b|in what year", re.I),
     re.compile(r"(?:19|20)\d{2}|今年|明年|去年|年底|年内|年初|上半年|下半年|[朝代]|年间|世纪")),
    (re.compile(r"什么时候|何时|哪个月|几月|啥时候|预计.{0,6}时间|完工时间|when (will|did|was|is)", re.I),
     # a time, not "目前正在…": 目前 tells what stage a thing is at, never when
     re.compile(r"(?:19|20)\d{2}|\d{1,2}\s*月|今年|明年|去年|年底|年内|年初|上半年|下半年|近日|"
                r"[朝代]|年间|世纪")),
    (re.compile(r"哪一?天|哪日|几号(?!建议|提案)|what (day|date)", re.I), re.compile(r"\d{1,2}\s*日|\d{4}[-./]\d{1,2}[-./]\d{1,2}")),
    (re.compile(r"哪所大学|哪个大学|哪所高校|哪个学院|which university", re.I), re.compile(r"大学|学院|高校")),
    (re.compile(r"哪家医院|哪个医院|which hospital", re.I), re.compile(r"医院|卫生院")),
    (re.compile(r"哪(家|个)(企业|公司)|which (company|enterprise)", re.I), re.compile(r"公司|企业|集团|厂")),
    (re.compile(r"哪个村|哪些村|哪几个村|which villages?", re.I), re.compile(r"村")),
)
_ITEMS_ASK = re.compile(r"方面|几项|哪几点|几点|措施|举措|工作|部分|步骤|环节|任务|aspects|measures|steps|areas", re.I)
# The words that frame a which-letters field question rather than say which letters: 写明了…单位, 哪一级
_FIELD_FRAME = re.compile(r"写明了?|写了|列出|注明|载明|给出|(单位|部门|机关|机构)(名称)?|姓名|名称|哪一?级|请|至少\S*|"
                          r"[的了和与或及、,，.。:：()（）]")
_LEVELS = re.compile(r"(?<![\u4e00-\u9fff])(国家|省|市|县|区)(?![\u4e00-\u9fff])")  # 分别是国家、省、县哪一级
# What the deputy or member proposed: the letter's acknowledgement restates it (…对说约李、三合店、许管三村进行
#美丽乡村打造建议收悉), so there it is content.
_ABOUT_PROPOSAL = re.compile(r"(代表|委员)[^，,。？?]{0,8}(建议|提案|提出|要求|反映|呼吁)|(提案|建议)(中|里|提到|提出)|"
                             r"(deputy|deputies|member|members|proposal|suggestion)[^?]{0,40}"
                             r"(ask|propos|suggest|call|urge|request)", re.I)
_CITED_DOCUMENTS = re.compile(r"援引|引用|依据|根据|哪(两|几)?份文件|政策文件|cite|"
                              r"(计划|方案|通知|办法|规划|条例|规定|决定|纲要|文件)[》”]?的?(文号|发文字号)|哪个文号印发", re.I)
_ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Query:
    """A question, read once."""

    text: str
    lang: str                              # "zh" or "en"
    parts: tuple[str, ...]                 # sub-questions; (text,) when it asks one thing
    fields: tuple[str, ...] = ()           # fields of the letter itself it asks for (recipient, date, …)
    content_parts: tuple[str, ...] = ()    # the parts of a field question that ask about content instead
    named: tuple[str, ...] = ()            # letter_ids the question names (issuer, place, number, topic)
    deictic: bool = False                  # "这份答复": a letter is meant, maybe not named
    cross: bool = False                    # about several letters: which of them, each, compare
    which_letters: bool = False            # asks which letters of the collection (哪些答复提到了…)
    wants_list: bool = False               # asks for several things (有哪些措施)
    about_proposal: bool = False           # asks what the proposal itself said (代表建议…的是, 提案中的)
    wants_items: bool = False              # asks for the items of a list (哪三个方面, 几项工作, 哪些措施)
    quantity: bool = False                 # how many / how much / what share
    unit: str = ""                         # the unit asked in (亩, 家, 万元), "" if none
    money: bool = False                    # asks for an amount of money
    years: frozenset = field(default_factory=frozenset)
    names: tuple[str, ...] = ()            # places, people, organisations (jieba tags)
    quoted: tuple[str, ...] = ()           # “quoted” and 《titled》 names
    codes: tuple[str, ...] = ()            # 5G, H7N9, D022
    done: bool = False                     # asks what was done, not planned
    plan: bool = False                     # asks what is planned
    topic: str = ""                        # what a which-letters question is about, without its frame
    subject: str = ""                      # …in its which clause only: what each letter listed must hold
    field_topic: str = ""                  # …and without the fields it asks for (出自交通运输部门 → 交通运输)
    must_show: tuple = ()                  # patterns an answering sentence must match (a year for 哪一年…)

    @property
    def english(self) -> bool:
        return self.lang == "en"

    @property
    def about_letter(self) -> bool:
        """True when it asks only for fields of the letter itself (who replied, when, 文号)."""
        return bool(self.fields)


def read_query(text: str, catalog=None) -> Query:
    """The Query for a question; `catalog` (route.Catalog) resolves the letters it names."""
    text = " ".join((text or "").split())
    lang = "en" if is_english(text) else "zh"
    fields = tuple(name for name, pattern in FIELDS.items() if pattern.search(text))
    if "doc_number" in fields and _CITED_DOCUMENTS.search(text):
        fields = tuple(f for f in fields if f != "doc_number")  # the 文号 of the documents a letter cites
    if "published" in fields and "date" in fields and not re.search(r"落款|签发|sign", text, re.I):
        fields = tuple(f for f in fields if f != "date")  # "发布日期是哪天" asks one date
    quantity = bool(_QUANTITY_ASK.search(text)) and not _NUMBER_NOT_AMOUNT.search(text)
    unit = ""
    if quantity:
        m = _UNIT_ASK.search(text)
        unit = ((m.group(1) or "") + m.group(2)) if m else ""
    cross = bool(CROSS.search(text))
    wants_list = bool(_LIST_ASK.search(text))
    named = catalog.named(text, lang, several=cross) if catalog is not None else ()
    parts = split_parts(text)
    # "…写给谁？为什么不直接答复代表？": a part that asks no field asks about content (Chinese: the English
    # field patterns are too loose to tell "and on what date?" from a question of its own)
    content_parts = tuple(p for p in parts if not any(f.search(p) for f in FIELDS.values()) and
                          len(_CJK.findall(p)) >= 6) if fields and lang == "zh" else ()
    return Query(
        text=text, lang=lang, parts=parts, fields=fields, named=named,
        content_parts=content_parts if len(content_parts) < len(parts) else (),
        deictic=bool(DEICTIC.search(text)), cross=cross, which_letters=bool(WHICH_LETTERS.search(text)),
        wants_list=wants_list,
        about_proposal=bool(_ABOUT_PROPOSAL.search(text)),
        wants_items=wants_list and bool(_ITEMS_ASK.search(text)),
        quantity=quantity, unit=unit,
        money=bool(_MONEY_ASK.search(text)) and not _NUMBER_NOT_AMOUNT.search(text),
        years=frozenset(YEAR.findall(text)), names=tuple(proper_names(text)) if lang == "zh" else (),
        # An English question quotes names in translation ("Silver Arrow"): they cannot be looked up as written.
        quoted=tuple(q.strip() for q in _QUOTED.findall(text)) if lang == "zh" else (),
        codes=tuple(c for c in _CODE.findall(text) if not _ORDINAL.match(c)) + tuple(_CLASS_CODE.findall(text)),
        done=bool(_ASKS_DONE.search(text)) and not _ASKS_PLAN.search(text),
        plan=bool(_ASKS_PLAN.search(text)), topic=topic_of(text) if cross else "", subject=subject_of(text) if cross else "",
        field_topic=field_topic_of(topic_of(text)) if cross and fields else "",
        must_show=tuple(shown for asks, shown in ASKED_KIND if asks.search(text)) if not fields else (),
    )


def split_parts(question: str) -> tuple[str, ...]:
    """The sub-questions of a question that asks two things ("…多少家，到2025年目标是多少?")."""
    pieces = [p.strip() for p in _PART_SPLIT.split(question) if p and p.strip()]
    parts = [p for p in pieces if _CUE.search(p) and len(p) >= 4]
    # each part is searched on its own: a question of many parts is asked as a whole instead
    return tuple(parts) if 2 <= len(parts) <= MAX_PARTS else (question,)


def topic_of(question: str) -> str:
    """What a which-letters question is about, without its frame ("哪些答复提到了专精特新?" → 专精特新;
    "与X有关" → X). Later clauses stay: they say what to give of each letter."""
    topic = _RELATED.sub(r" \1 ", question)
    topic = MENTION.sub("", CROSS.sub("", topic))
    topic = re.sub(r"这批|里|中|有|都|哪些|哪几份|分别|各自|是|什么|多少|\?|？|。", " ", topic)
    return " ".join(topic.split()) or question


def subject_of(question: str) -> str:
    """What a letter must be about to be one of "which letters": the topic of the clause that asks which
    ("哪些答复与传统文化或文化遗产保护有关?各自涉及什么对象?" → 传统文化或文化遗产保护)."""
    clauses = [c for c in _CLAUSE_SPLIT.split(question) if c.strip()]
    return topic_of(next((c for c in clauses if WHICH_LETTERS.search(c)), question))


def topic_alternatives(topic: str) -> list[str]:
    """The alternatives a topic offers ("传统文化或文化遗产保护" → 传统文化, 文化遗产保护): a letter on
    either one is on the topic."""
    parts = [p.strip() for p in re.split(r"或者|或是|或|以及|\bor\b", topic) if p.strip()]
    return parts if len(parts) > 1 else [topic]


def field_topic_of(topic: str) -> str:
    """A which-letters field question's topic without the fields and the frame ("哪几份出自交通运输部门" → 交通运输)."""
    for pattern in FIELDS.values():
        topic = pattern.sub(" ", topic)
    return " ".join(_LEVELS.sub(" ", _FIELD_FRAME.sub(" ", topic)).split())


def proper_names(text: str) -> list[str]:
    """Places, people and organisations jieba recognises in the text (two characters or more)."""
    import jieba.posseg

    from .lexical import tokenize

    tokenize("")  # lexical quiets jieba's own logger (once) before its dictionary loads
    return [w for w, tag in jieba.posseg.cut(text) if tag in _PROPER and len(w) >= 2]


def is_english(text: str) -> bool:
    """True when the text is mostly Latin letters."""
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    cjk = len(_CJK.findall(text))
    return latin > 2 * cjk


def looks_like_question(text: str) -> bool:
    """False for input that is no question about letters: a greeting, markup, code, a run of one character."""
    core = re.sub(r"\s+", "", text)
    if len(core) < 2 or len(set(core)) <= 2:
        return False
    if re.search(r"<[a-z/!][^>]*>|\b(select|insert|update|delete|drop)\b.+\b(from|into|table|set)\b", text, re.I):
        return False
    cjk = len(_CJK.findall(core))
    words = _ENGLISH_WORD.findall(text)
    return cjk >= 2 or len(words) >= 3
