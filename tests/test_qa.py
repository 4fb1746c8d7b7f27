"""Known answers on the first letter, with the real model: retrieval, the answer's figure, refusals."""
import pytest

from letterqa.answer import strip_marks

# (question, a section the right passage sits in, what the answer must contain)
KNOWN = [
    ("2023年新认定多少家省制造业创新中心?", "(二)加强产业创新平台建设", "6家"),
    ("省制造业创新中心累计达到多少家?", "(二)加强产业创新平台建设", "35家"),
    ("一企一技术研发中心一共认定了多少家?", "(二)加强产业创新平台建设", "2397家"),
    ("全省实施了多少个500万元以上的技改项目?", "(四)纵深拓展新旧动能转换", "12113"),
    ("信息技术产业营收增长了多少?", "(五)积极加快数实结合步伐", "14.9%"),
    ("软件业的增速比全国高多少?", "(五)积极加快数实结合步伐", "2.3个百分点"),
    ("首批认定了几个省级先进制造业集群?", "(一)加快关键核心技术攻关", "10个"),
    ("到2025年专精特新中小企业要培育多少家?", "(二)持续提升企业创新能力", "1万家"),
    ("每年新培育多少家瞪羚企业?", "(二)持续提升企业创新能力", "400家"),
    ("未来产业要前瞻布局哪些前沿领域?", "(五)推动未来产业发展提升", "人形机器人"),
    ("省里有没有出台未来产业方面的政策文件,文号是什么?", "(六)扎实推动未来产业发展", "鲁工信技〔2023〕123号"),
    ("工业互联网应用比例的目标是多少?", "(四)深入推动数字赋能增效", "45%"),
    ("去年技改投资增长了多少?", "(四)纵深拓展新旧动能转换", "10.6%"),
    ("How many provincial manufacturing innovation centres were newly recognised in 2023?",
     "(二)加强产业创新平台建设", "6家"),
]

UNANSWERABLE = [
    "江苏省2023年新认定了多少家制造业创新中心?",      # another province
    "省财政为制造业创新中心安排了多少亿元专项资金?",  # money the letter never states
    "到2026年专精特新中小企业的培育目标是多少?",      # a year the letter never mentions
    "如何申请护照?",                                  # off topic
    "已经建成了多少家智能工厂?",                      # the letter only plans them
    "全省5G基站有多少个?",                             # a code the letter never names
    "Who won the football World Cup?",
    "How do I bake bread at home?",                   # as close by cosine as a real question: no word shared
    "What is the price of bitcoin today?",
]


@pytest.mark.parametrize("question,section,figure", KNOWN)
def test_right_section_in_top3_and_figure_in_answer(engine, question, section, figure):
    answer = engine.ask(question)
    top3 = [h.chunk.section for h in answer.hits[:3]]
    assert any(section in s for s in top3), top3
    assert answer.answered
    assert figure in strip_marks(answer.text)
    # Every sentence of the answer is the letter's own text, cited to its passage.
    for c in answer.citations:
        assert c.quote in c.chunk.text
        assert c.chunk.text in c.letter.text


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_is_refused_with_nearest_passages(engine, question):
    answer = engine.ask(question)
    assert not answer.answered
    assert answer.citations == ()
    assert answer.hits, "a refusal still shows the nearest passages"


def test_number_answer_is_a_sentence_not_a_section(engine):
    answer = engine.ask("2023年新认定多少家省制造业创新中心?")
    assert len(strip_marks(answer.text)) < 100
    assert answer.citations[0].chunk.section.endswith("一是加快制造业创新中心建设")


@pytest.mark.parametrize("question,reason", [
    ("到2026年专精特新中小企业的培育目标是多少?", "答复函未提及：2026"),
    ("省财政为制造业创新中心安排了多少亿元专项资金?", "资金金额"),
    ("已经建成了多少家智能工厂?", "只写了计划"),
    ("How many 5G base stations has Shandong built?", "never mention: 5G"),
])
def test_a_refusal_says_what_the_letters_do_not_state(engine, question, reason):
    answer = engine.ask(question)
    assert not answer.answered and reason in answer.text
