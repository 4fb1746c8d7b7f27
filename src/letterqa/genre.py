"""The vocabulary of the reply-letter genre, in one place: dates, 文号, proposal numbers, page fields,
salutations, contact lines and the formulas every letter repeats.

Reading, sectioning and question reading all use these patterns, so that what the reader calls a
date is what a question's "哪天落款" is checked against.
"""
from __future__ import annotations

import re

# ---------------------------------------------------------------- dates
CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4,
            "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# 2024年8月25日, 二〇二四年八月二十五日: the form a letter signs with.
DATE = re.compile(r"(\d{4}|[〇○零一二三四五六七八九]{4})\s*年\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月"
                  r"\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*日")
ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")

# The units an amount is counted in (6家, 2000亩, 40多个, 3200万元); a how-many question asks in one of them.
UNITS = ("万元|亿元|元|亩|家|个|项|件|名|人次|人|所|条|篇|次|批|座|台|辆|吨|公里|千米|米|平方米|平米|户|栋|套|处|份|期|倍|"
         "年|天|小时|分钟|册|场|本|支|株|棵|头|只|万|亿")

# ---------------------------------------------------------------- numbers of documents and proposals
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}\s*[〔［\[【（(]\s*(?:19|20)\d{2}\s*[〕］\]】）)]\s*第?\s*\d{1,5}\s*号")
# 第48号提案, 第20240795号建议, 第D022号: how a proposal or suggestion is numbered.
PROPOSAL_NUMBER = re.compile(r"第?\s*([A-Za-z]?\d{1,16})\s*号")

# ---------------------------------------------------------------- page fields
# A government page's information block: 索引号, 发布机构, 发布时间, 文号… These are the letter's metadata:
# kept, shown and answerable, never mixed into answers about content.
PAGE_FIELDS = (
    "索引号", "主题分类", "体裁分类", "组配分类", "服务对象分类", "发布机构", "发文机关", "发文单位", "发文机构",
    "成文日期", "成文时间", "发布日期", "发布时间", "发文日期", "发文时间", "公开日期", "生成日期",
    "文号", "发文字号", "标题", "名称", "来源", "信息来源", "文章来源", "答复类别", "办复类别", "办理类别",
    "公开属性", "公开方式", "公开范围", "公开形式", "效力状态", "有效性", "关键词", "所属机构", "所属主题",
)
_FIELD_NAME = "|".join(sorted((r"\s*".join(name) for name in PAGE_FIELDS), key=len, reverse=True))
# One "label: value" segment; the value runs to the next label or the end.
PAGE_FIELD = re.compile(rf"(?P<label>{_FIELD_NAME})\s*[:：]\s*(?P<value>.*?)\s*(?=(?:{_FIELD_NAME})\s*[:：]|$)")
PAGE_LINE = re.compile(rf"(?:{_FIELD_NAME})\s*[:：]")
# The source address a saved page carries (`source: https://…`).
SOURCE_LINE = re.compile(r"(?:source|url|来源网址|原文链接|网址)\s*[:：]\s*(https?://\S+)\s*", re.I)

# ---------------------------------------------------------------- opening, sign-off, contact
SALUTATION = re.compile(r"(?:尊敬的)?([^，。,；;！？!?《》:：]{2,40})[:：]")
CONTACT = re.compile(r"(?:联系单位及电话|联系单位|联系人及电话|联系人|联系电话|联系方式|联 系 人)\s*[:：]")
COPY_TO = re.compile(r"(抄\s*送|抄\s*报|签\s*发\s*人)\s*[:：]")  # pages space out short labels: 抄 报:
# The unit that handled a proposal, stated under the body of a letter (a site footer's 承办单位 shares its
# line with 主办单位 or a licence number, and goes as furniture).
HANDLER = re.compile(r"(承\s*办\s*单\s*位|办\s*理\s*单\s*位)\s*(?:[:：]|\|)")  # a table cell ends at |
# A deputy or member named as the one who made the proposal: 杨旭博代表提出的…, 马军运代表:, 郭大进等7名代表
PROPOSER = re.compile(r"(?<!答复)(?<!回复)(?<!告知)[\u4e00-\u9fff·]{2,4}(?:等\s*\d+\s*名|等)?(?:代表|委员)(?![会团组])"
                      r"(?=\s*(?:提出|所提|[:：,，、]|您|你|$))")  # a name that proposes or is addressed, not 一并答复代表
ORG_SUFFIX = re.compile(r"(?:厅|局|委|委员会|办公室|办|部|院|政府|中心|会|处|署|公司)$")

# ---------------------------------------------------------------- formulas
# What every letter says whatever it is about: never the answer to a question about its content.
BOILERPLATE = re.compile(
    r"^.{0,12}(?:感谢|谢谢)您?(?:对|们)?.{0,30}(?:关心|关注|支持|理解)|收悉|现(?:将.{0,20})?(?:答复|复函|函复|汇报)如下"
    r"|现答复如下|特此(?:答复|函复|复函)|此复(?=[。！!]|$)|专此|希望.{0,20}(?:继续|一如既往|多提)|欢迎.{0,20}(?:继续|多提|提出)"
    r"|(?:有何|有什么)意见.{0,40}(?:填写|反馈|回执)|以便.{0,12}(?:进一步)?改进.{0,4}工作|宝贵(?:意见|建议)"
    r"|敬请谅解|如有(?:不同)?意见|再次(?:感谢|致谢)")


def is_boilerplate(sentence: str) -> bool:
    """True for the genre's formulas (感谢…支持, 现答复如下, 欢迎多提宝贵意见) when they carry no fact."""
    core = sentence.strip()
    if not BOILERPLATE.search(core):
        return False
    # A sentence that also states figures or names a plan is content that happens to thank; the title and
    # number of the proposal it acknowledges (《…》(第133号)收悉) are no such figures.
    facts = re.sub(r"《[^》]*》|[（(]?第?\s*\d+\s*号[）)]?", "", core)
    if _HANDLING.search(_after_receipt(core)):  # 已收悉,我局…召开会议专题研究,确定专人负责: how it was handled
        return False
    return not re.search(r"\d{2,}|[一二三四五六七八九十]是", facts) or len(core) < 30


def is_acknowledgement(sentence: str) -> bool:
    """The sentence that acknowledges the proposal (您提出的《…》收悉): it restates what was proposed."""
    return "收悉" in sentence and len(sentence) > 12


# What a letter did on receiving the proposal, told in the acknowledgement: content, not formula.
_HANDLING = re.compile(r"(召开|组织|开展|进行|成立|安排|确定|会同|联合|实地|现场)[^，,。；;]{0,12}"
                       r"(会议|研究|讨论|调研|专班|专人|小组|部门|单位|勘察|踏勘|座谈)"
                       r"|(经与|会同|联合)[^，,。；;]{1,24}(研究|办理|会商|协商)")  # 经与区城市管理局…共同研究办理


def _after_receipt(sentence: str) -> str:
    """The words between 收悉 (or the sentence's start) and 现答复如下: what an acknowledgement adds to the formula."""
    _, found, rest = sentence.partition("收悉")
    return re.split(r"现[^，,。]{0,12}如下", rest if found else sentence)[0]


def page_fields(line: str) -> list[tuple[str, str]]:
    """The (label, value) pairs a page-information line holds, labels without inner spaces."""
    out = []
    for m in PAGE_FIELD.finditer(line):
        label = re.sub(r"\s+", "", m.group("label"))
        out.append((label, m.group("value").strip(" |•-·")))
    return out


# ---------------------------------------------------------------- numbering
# Numbering counts only at the start of a paragraph; (?!\d) keeps "10.6%" and "2.3个" out of level 3.
NUMBERING = re.compile(
    r"(?P<l1>[一二三四五六七八九十]{1,3}、)|(?P<l2>[（(][一二三四五六七八九十]{1,3}[）)])"
    r"|(?P<l3>\d{1,2}[.．、](?!\d))|(?P<l4>[（(]\d{1,2}[）)])"
)
# The start of a list item at any level: the numbering above, 一是/二是, ①.
ITEM = re.compile(NUMBERING.pattern + r"|(?P<l5>[一二三四五六七八九十]{1,3}是)|(?P<l6>[①-⑳])")


_CN_NUMERALS = "一二三四五六七八九十"


def item_level(text: str) -> int:
    """The level (1 = 一、 … 5 = 一是, 6 = ①) of the list item a sentence opens, 0 if it opens none."""
    m = ITEM.match(text.lstrip())
    return int(m.lastgroup[1]) if m else 0


def item_number(text: str) -> int:
    """The ordinal of the list item a sentence opens (二是 → 2, (3) → 3, ④ → 4), 0 if it opens none."""
    m = ITEM.match(text.lstrip())
    if not m:
        return 0
    mark = m.group(0)
    if "①" <= mark[0] <= "⑳":
        return ord(mark[0]) - ord("①") + 1
    digits = re.search(r"\d+", mark)
    if digits:
        return int(digits.group(0))
    chars = [c for c in mark if c in _CN_NUMERALS]
    if chars == ["十"]:
        return 10
    tens, _, ones = "".join(chars).partition("十")
    if "十" in chars:
        return (_CN_NUMERALS.index(tens) + 1 if tens else 1) * 10 + (_CN_NUMERALS.index(ones) + 1 if ones else 0)
    return _CN_NUMERALS.index(chars[0]) + 1 if chars else 0

