"""The answer path over a small index of letters written here: letter fields, per-letter answers, routing."""
import pytest

from letterqa.build import build_index
from letterqa.config import Settings
from letterqa.engine import Engine

LETTERS = {
    "port.txt": "关于支持某港建设的建议的答复\n郭某等7名代表:\n你们提出的关于支持某港建设的建议收悉。现答复如下:\n"
                "一、关于航道\n我部将积极支持某港至某市段航道整治工程建设,2023年完成投资12亿元。\n"
                "二、关于港口\n明确甲港、乙港等28个港口为全国内河主要港口。\n感谢对交通运输事业的关心和支持。\n"
                "联系单位及电话:某部综合规划司,010-12345678。\n某部\n2022年6月15日\n",
    "heat.txt": "发布时间:2023-06-02\n关于市九届人大二次会议第129号建议的答复\n李某代表:\n"
                "您提出的关于改善老旧小区供热质量的建议收悉,现答复如下:\n2022年全市完成老旧小区供热管网改造159公里。\n"
                "下一步,我局将继续推进供热改造。\n某市住房和城乡建设局\n2023年6月1日\n抄 送:市政府督查室\n",
}


@pytest.fixture(scope="module")
def two_letters(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("two")
    (root / "corpus").mkdir()
    for name, text in LETTERS.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    settings = Settings(corpus=root / "corpus", index=root / "index")
    build_index(settings, embedder=embedder)
    return Engine.open(settings, embedder=embedder)


def test_letter_fields_come_from_the_lines_that_state_them(two_letters):
    answer = two_letters.ask("某市住房和城乡建设局这份供热答复是写给谁的?哪天落款?")
    assert answer.answered and "李某代表" in answer.text and "2023年6月1日" in answer.text
    assert {c.letter.source for c in answer.citations} == {"heat.txt"}
    published = two_letters.ask("某市住房和城乡建设局供热答复的网站发布时间是哪天?")
    assert "2023-06-02" in published.text


def test_a_field_the_letter_does_not_state_is_refused(two_letters):
    answer = two_letters.ask("某部关于支持某港建设的答复的文号是什么?")
    assert not answer.answered and answer.reason == "no_field"


def test_a_cross_letter_field_question_lists_each_letter(two_letters):
    answer = two_letters.ask("哪些答复写明了联系电话或抄送单位?分别是什么?")
    assert answer.answered
    assert "010-12345678" in answer.text and "市政府督查室" in answer.text


def test_an_unnamed_this_letter_question_says_which_letters_it_could_mean(two_letters):
    answer = two_letters.ask("这份答复是哪天落款的?")
    assert not answer.answered and answer.reason == "ambiguous"
    assert "可能是" in answer.text


def test_a_scoped_question_and_a_follow_up_stay_with_the_letter(two_letters):
    first = two_letters.ask("2022年改造了多少公里供热管网?")
    assert first.answered and "159公里" in first.text
    follow = two_letters.ask("写给谁的?", previous=first)
    assert follow.answered and "李某代表" in follow.text and follow.understood
    scoped = two_letters.ask("写给谁的?", letter="port.txt")
    assert "郭某等7名代表" in scoped.text
