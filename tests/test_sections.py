"""Section tree chunking on the first letter and on small synthetic letters of the same genre."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from letterqa.records import Letter
from letterqa.sections import CHUNKER_VERSION, split_sections, split_sentences


FIRST_LETTER = Path(__file__).resolve().parent.parent / "corpus" / "000_04222e28d1224f39.txt"
FURNITURE = {"【 字体:", "打印", "时间:2024-08-25 9:13", "责任编辑: 闫霄", "分享", "上一篇:"}

WORK = "一、工作开展情况"
NEXT = "二、下步推进措施"
WORK_HEADINGS = [
    "(一)加快关键核心技术攻关", "(二)加强产业创新平台建设", "(三)强化科技型企业培育",
    "(四)纵深拓展新旧动能转换", "(五)积极加快数实结合步伐", "(六)扎实推动未来产业发展",
]
NEXT_HEADINGS = [
    "(一)持续加强创新平台建设", "(二)持续提升企业创新能力", "(三)加快传统产业升级改造",
    "(四)深入推动数字赋能增效", "(五)推动未来产业发展提升",
]

FOUR_LEVELS = """关于改进某项工作的建议的答复
张三代表：
您提出的《关于改进某项工作的建议》收悉，现答复如下：
一、基本情况
近年来，我局高度重视这项工作。
（一）组织保障
1.建立工作机制。成立领导小组，统筹推进。
2.完善制度体系
（1）制定管理办法。明确职责分工。
（2）健全考核机制。每年考核一次。
10.6%的企业已完成改造。
（二）资金保障。省级财政安排资金5000万元。
二、下步打算
1、继续加大投入。力争2025年投入1.2亿元。
感谢您对我们工作的关心和支持。
某某省某某局
2024年5月6日
（联系人：李四，电话：0531-12345678）"""

NO_NUMBERS = """关于加强社区养老服务的提案的答复
李四委员：
您提出的关于加强社区养老服务的提案收悉。现答复如下：
近年来，我省持续推进社区养老服务体系建设，全省建成社区养老服务设施1.2万处。
下一步，我们将继续加大投入，完善服务网络。
特此答复。
某某省民政厅
二〇二四年六月十日"""


def first_letter_text() -> str:
    raw = FIRST_LETTER.read_text(encoding="utf-8")
    lines = (line.strip() for line in raw.splitlines())
    return "\n".join(line for line in lines if line and line not in FURNITURE)


def letter(text: str) -> Letter:
    return Letter(letter_id="abc", source="test.txt", text=text)


@pytest.fixture(scope="module")
def first():
    let = letter(first_letter_text())
    return let, split_sections(let)


def assert_no_text_lost(let: Letter, chunks) -> None:
    """Spans are exact and disjoint; any text outside them is a heading (and its closing mark) in a path."""
    text = let.text
    assert [c.chunk_id for c in chunks] == list(range(len(chunks)))
    owners = [0] * len(text)
    for c in chunks:
        assert c.letter_id == let.letter_id
        assert c.text == text[c.start:c.end] and c.text == c.text.strip() and c.text
        for i in range(c.start, c.end):
            owners[i] += 1
    assert max(owners) == 1
    labels = {p for c in chunks for p in c.path}
    free = "".join(ch if owners[i] == 0 else "\n" for i, ch in enumerate(text))
    for run in (r.strip() for r in free.split("\n")):
        if run:
            assert run.rstrip("。；;：:！？!?，,") in labels, f"lost text: {run!r}"


def paths(chunks) -> list[tuple[str, ...]]:
    return [c.path for c in chunks]


def test_version_is_a_string():
    assert isinstance(CHUNKER_VERSION, str) and CHUNKER_VERSION


def test_first_letter_subsections_under_both_top_headings(first):
    _, chunks = first
    seen = []
    for p in paths(chunks):
        if len(p) >= 2 and p[:2] not in seen:
            seen.append(p[:2])
    assert seen == [(WORK, h) for h in WORK_HEADINGS] + [(NEXT, h) for h in NEXT_HEADINGS]
    assert any(c.section.startswith("一、工作开展情况 > (二)加强产业创新平台建设") for c in chunks)


def test_first_letter_enumeration_item_is_its_path_and_chunk(first):
    _, chunks = first
    path = (WORK, "(二)加强产业创新平台建设", "一是加快制造业创新中心建设")
    [hit] = [c for c in chunks if c.path == path]
    assert "2023年新认定6家" in hit.text
    assert hit.text.startswith("一是加快制造业创新中心建设。按照")
    assert "二是" not in hit.text


def test_first_letter_each_item_is_its_own_chunk(first):
    let, chunks = first
    expected = len(re.findall(r"(?<=。)[一二三四五六]是", let.text))
    items = [c for c in chunks if len(c.path) == 3]
    assert len(items) == expected == 26
    for c in items:
        assert c.text.startswith(c.path[-1])
        assert re.match(r"[一二三]是", c.path[-1])
        assert not re.search(r"。[一二三四五六]是", c.text)  # never two items in one chunk


def test_decimal_does_not_start_a_section(first):
    _, chunks = first
    [hit] = [c for c in chunks if "10.6%" in c.text]
    assert hit.path[-1] == "一是滚动推进“万项技改、万企转型”"
    assert not any(p.startswith(("10", "6%", "2.3")) for c in chunks for p in c.path)


def test_first_letter_opening_and_signoff(first):
    _, chunks = first
    assert chunks[0].path == ("开头",)
    assert chunks[0].text.startswith("关于加快形成新质生产力")
    assert "冯能斌委员" in chunks[0].text and chunks[0].text.endswith("现答复如下:")
    assert chunks[-1].path == ("落款",)
    assert chunks[-1].text.startswith("山东省工业和信息化厅")
    assert "2024年8月25日" in chunks[-1].text and "0531-51782609" in chunks[-1].text
    assert sum(c.path == ("落款",) for c in chunks) == 1


def test_first_letter_loses_no_text(first):
    assert_no_text_lost(*first)


def test_full_width_brackets_give_the_same_tree():
    ascii_chunks = split_sections(letter(first_letter_text()))
    wide = letter(first_letter_text().replace("(", "（").replace(")", "）"))
    wide_chunks = split_sections(wide)
    widen = str.maketrans("()", "（）")
    assert paths(wide_chunks) == [tuple(p.translate(widen) for p in c.path) for c in ascii_chunks]
    assert [(c.start, c.end) for c in wide_chunks] == [(c.start, c.end) for c in ascii_chunks]
    assert (WORK, "（二）加强产业创新平台建设", "一是加快制造业创新中心建设") in paths(wide_chunks)
    assert_no_text_lost(wide, wide_chunks)


def test_four_levels_and_skipped_level():
    let = letter(FOUR_LEVELS)
    chunks = split_sections(let)
    by_path = {c.path: c.text for c in chunks}
    basic, org = "一、基本情况", "（一）组织保障"
    assert list(by_path) == [
        ("开头",),
        (basic,),
        (basic, org, "1.建立工作机制"),
        (basic, org, "2.完善制度体系", "（1）制定管理办法"),
        (basic, org, "2.完善制度体系", "（2）健全考核机制"),
        (basic, "（二）资金保障"),
        ("二、下步打算", "1、继续加大投入"),
        ("结语",),
        ("落款",),
    ]
    assert by_path[(basic,)] == "近年来，我局高度重视这项工作。"  # lead paragraph
    assert by_path[(basic, org, "1.建立工作机制")] == "1.建立工作机制。成立领导小组，统筹推进。"
    # a plain paragraph opening with a decimal stays in the section above it
    assert by_path[(basic, org, "2.完善制度体系", "（2）健全考核机制")].endswith("10.6%的企业已完成改造。")
    assert by_path[("结语",)] == "感谢您对我们工作的关心和支持。"
    assert by_path[("落款",)].startswith("某某省某某局\n2024年5月6日\n（联系人")
    assert_no_text_lost(let, chunks)


def test_bare_leaf_headings_keep_their_text():
    let = letter("一、重点工作\n1.推动钢铁产业高端化发展。\n2.推动化工产业绿色发展。")
    chunks = split_sections(let)
    assert [(c.path, c.text) for c in chunks] == [
        (("一、重点工作", "1.推动钢铁产业高端化发展"), "1.推动钢铁产业高端化发展。"),
        (("一、重点工作", "2.推动化工产业绿色发展"), "2.推动化工产业绿色发展。"),
    ]
    assert_no_text_lost(let, chunks)


def test_letter_without_numbering_gives_paragraph_chunks():
    let = letter(NO_NUMBERS)
    chunks = split_sections(let)
    assert paths(chunks) == [("开头",), ("第1段",), ("第2段",), ("结语",), ("落款",)]
    assert chunks[1].text.startswith("近年来") and chunks[2].text.startswith("下一步")
    assert chunks[3].text == "特此答复。"
    assert chunks[4].text == "某某省民政厅\n二〇二四年六月十日"
    assert_no_text_lost(let, chunks)


def test_word_containing_yi_shi_is_not_an_enumeration():
    text = "一、工作情况\n（一）统一标准。全省标准统一是前提，唯一是保障。二是加强督导。\n（二）推进落实。一是完善制度。二是加强督导。"
    chunks = split_sections(letter(text))
    assert paths(chunks) == [
        ("一、工作情况", "（一）统一标准"),
        ("一、工作情况", "（二）推进落实", "一是完善制度"),
        ("一、工作情况", "（二）推进落实", "二是加强督导"),
    ]
    assert chunks[0].text == "（一）统一标准。全省标准统一是前提，唯一是保障。二是加强督导。"


def test_enumeration_across_paragraphs_with_lead_and_tail():
    text = "一、主要做法\n我们采取了以下措施：\n一是完善制度。\n补充说明。\n二是加强督导。\n总体看，成效明显。"
    chunks = split_sections(letter(text))
    assert [(c.path, c.text) for c in chunks] == [
        (("一、主要做法",), "我们采取了以下措施："),
        (("一、主要做法", "一是完善制度"), "一是完善制度。\n补充说明。"),
        (("一、主要做法", "二是加强督导"), "二是加强督导。"),
        (("一、主要做法",), "总体看，成效明显。"),
    ]


def test_long_section_is_cut_at_sentence_ends():
    body = "".join(f"第{n}项工作按计划推进，完成率达到9{n % 10}.5%。" for n in range(30))
    let = letter(f"一、总体情况\n{body}")
    chunks = split_sections(let, max_chars=100)
    assert len(chunks) > 5
    for c in chunks:
        assert c.path == ("一、总体情况",)
        assert len(c.text) <= 100 and c.text.endswith("。")
    assert "".join(c.text for c in chunks) == body
    assert_no_text_lost(let, chunks)


def test_very_long_sentence_is_cut_at_commas():
    clause = "持续推进重点项目建设，"
    body = clause * 25 + "成效明显。"  # one sentence of 280 chars
    chunks = split_sections(letter(f"一、总体情况\n{body}"), max_chars=100)
    assert all(len(c.text) <= 100 and c.text.endswith(("，", "。")) for c in chunks)
    assert "".join(c.text for c in chunks) == body
    medium = clause * 15 + "成效明显。"  # 170 chars: under twice the limit, kept whole
    assert [c.text for c in split_sections(letter(f"一、总体情况\n{medium}"), max_chars=100)] == [medium]


def test_split_sentences_on_mixed_punctuation():
    text = "增长10.6%，高于2.3个百分点。他说：“好！”真的吗?是的;结束\n新行  \n \n"
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        "增长10.6%，高于2.3个百分点。", "他说：“好！”", "真的吗?", "是的;", "结束", "新行",
    ]
    assert split_sentences(" \n\t\n") == []
    assert split_sentences("版本3.14.1发布") == [(0, len("版本3.14.1发布"))]
