"""The answer path over a small index of letters written here: letter fields, per-letter answers, routing."""
import pytest

from letterqa.build import build_index
from letterqa.config import Settings
from letterqa.engine import Engine
from letterqa import lexicon
from letterqa.answerer import _placed
from letterqa.query import read_query

LETTERS = {
    "port.txt": "关于支持某港建设的建议的答复\n郭某等7名代表:\n你们提出的关于支持某港建设的建议收悉。现答复如下:\n"
                "一、关于航道\n我部将积极支持某港至某市段航道整治工程建设,2023年完成投资12亿元。\n"
                "二、关于港口\n明确甲港、乙港等28个港口为全国内河主要港口。\n感谢对交通运输事业的关心和支持。\n"
                "联系单位及电话:某部综合规划司,010-12345678。\n某部\n2022年6月15日\n",
    "heat.txt": "发布时间:2023-06-02\n关于市九届人大二次会议第129号建议的答复\n李某代表:\n"
                "您提出的关于改善老旧小区供热质量的建议收悉,现答复如下:\n2022年全市完成老旧小区供热管网改造159公里。\n"
                "下一步,我局将继续推进供热改造。\n某市住房和城乡建设局\n2023年6月1日\n抄 送:市政府督查室\n",
    "culture.txt": "某县文化和旅游局对县政协十届三次会议提案的答复\n仲某委员:\n您提出的关于举办文化节的提案已经收悉,现答复如下:\n"
                   "近年来,县文化部门积极争取资金对某庙进行了修复,成功举办了两届文化节。"
                   "为进一步保护传承地方文化,今后将着力做好以下几个方面的工作:\n"
                   "一是提升文化节。积极对接市文化和旅游局,丰富节庆活动内容。\n二是搞好文化展示。邀请专家学者深度挖掘地方文化。\n"
                   "三是完善相关配套。设置安全警示标识牌,选址设置公共卫生间。\n某县文化和旅游局\n2019年5月30日\n"
                   "此复函已经褚某副局长审签。\n",
    "heritage.txt": "关于加强非遗保护传承的提案的答复\n王某委员:\n您提出的提案收悉,现答复如下:\n"
                    "县委、县政府高度重视非物质文化遗产保护工作,花鼓灯已列入国家级非物质文化遗产代表性项目名录。\n"
                    "下一步,我局将加大非遗传承人培养力度。\n某县文化广电和旅游局\n2021年7月9日\n",
    "table.txt": "某市人大代表建议承办表\n案 由 |\n关于将单位宿舍纳入老旧小区改造范围的建议 | |||\n提建议代表 单位姓名 |\n"
                 "北辛代表团 马某 | |||\n承办单位 |\n市机关事务管理局 |\n"
                 "马某代表:\n您提出的建议已收悉,现答复如下:\n今年我市将单位宿舍纳入改造计划,改造老旧小区35个。\n",
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


def test_a_list_question_gets_the_items_of_the_list(two_letters):
    answer = two_letters.ask("某县文化和旅游局在文化节答复中提出今后要做好哪三个方面的工作?")
    assert answer.answered
    for item in ("一是提升文化节", "二是搞好文化展示", "三是完善相关配套"):
        assert item in answer.text
    assert "积极对接" not in answer.text  # each item by its first sentence


def test_a_proposal_table_answers_who_proposed_and_who_handled(two_letters):
    answer = two_letters.ask("单位宿舍纳入老旧小区改造的建议是哪个代表团哪位代表提出的?承办单位是谁?")
    assert "北辛代表团 马某" in answer.text and "市机关事务管理局" in answer.text


def test_a_field_question_answers_its_content_part_too(two_letters):
    answer = two_letters.ask("某县文化和旅游局文化节答复是写给谁的?经哪位领导审签?")
    assert "仲某委员" in answer.text and "褚某" in answer.text


def test_a_question_about_the_replys_parts_gets_its_headings(two_letters):
    answer = two_letters.ask("某部关于支持某港建设的答复分成哪几个方面来回答?")
    assert answer.answered and "一、关于航道" in answer.text and "二、关于港口" in answer.text
    assert "12亿元" not in answer.text  # the headings, not what stands under them


def test_a_which_letters_field_question_lists_the_letters_of_its_topic(two_letters):
    answer = two_letters.ask("这批答复里有哪几份出自住房和城乡建设部门?")
    assert answer.answered and "某市住房和城乡建设局" in answer.text
    assert "某县文化和旅游局" not in answer.text and "某部" not in answer.text.replace("某市", "")


def test_where_to_send_feedback_is_read_from_the_formula_that_says_it(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("刘某代表:\n您提出的建议收悉。\n目前我委已形成初步建设方案,预计8月份建成。\n"
                                  "对以上答复你们有什么意见,请及时填写在人大代表履职服务平台建议系统回执上。\n某管委会\n2023年6月19日\n",
                                  encoding="utf-8")
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, embedder=embedder)
    answer = Engine.open(settings, embedder=embedder).ask("这份复函请代表把意见填写在哪里?")
    assert answer.answered and "人大代表履职服务平台" in answer.text


def test_a_part_that_points_back_is_asked_with_the_field_it_points_at(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("办复类别:B类\n平某代表:\n您提出的建议收悉。现答复如下:\n今年改造老旧小区85个。\n某区住建局\n"
                                  "2025年7月28日\n注:办复类别共分ABC三类。\nA类——所提问题已经解决或基本解决;\n"
                                  "B类——所提问题正在解决或已列入工作计划准备解决;\nC类——所提问题因条件限制暂时不能解决。\n",
                                  encoding="utf-8")
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, embedder=embedder)
    answer = Engine.open(settings, embedder=embedder).ask("这份答复的办复类别是哪一类?这一类是什么意思?")
    assert "B类" in answer.text and "正在解决或已列入工作计划" in answer.text


def test_a_contact_line_in_the_body_does_not_answer_a_content_question(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = ("马某委员:\n您提出的《关于亮化美化某路交叉口雕塑的建议》的提案收悉。现答复如下:\n"
            "您提出的建议由我局与规划局分办。\n目前,经与规划局联系,该单位仍在积极进行规划,暂未拿出方案。\n"
            "联系单位及电话:郑州市某区城市管理局 68118611\n联 系 人:熊某\n")
    (corpus / "a.txt").write_text(body + "2020年8月18日\n" + body, encoding="utf-8")  # the page holds it twice
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, embedder=embedder)
    engine = Engine.open(settings, embedder=embedder)
    question = "郑州市某区城市管理局的答复说,这件提案由城管局与哪个单位分办?"
    query, qvec = read_query(question, engine.catalog), embedder.encode_queries([question])[0]
    chosen = engine.answerer.content(query, question, qvec, engine.searcher.search(question, qvec, 5))
    best = max(chosen, key=lambda s: s.score).sentence.text
    assert "规划局" in best and "68118611" not in best


def test_which_letters_name_a_contact_person_lists_only_those_and_each_line_once(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    signed = "某县交通运输局\n2021年6月9日\n(联系人:安某; 联系电话:028-23168600)\n"
    (corpus / "bus.txt").write_text("龚某委员:\n您提出的关于发展农村客运的提案收悉。现答复如下:\n已开通省际公交1条。\n"
                                    + signed + signed, encoding="utf-8")  # the page repeats its sign-off
    (corpus / "port.txt").write_text(LETTERS["port.txt"], encoding="utf-8")  # a unit and a phone, no person
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, embedder=embedder)
    engine = Engine.open(settings, embedder=embedder)
    which = engine.ask("哪几份答复写明了联系人?请列出单位和联系人姓名。")
    assert which.answered and "安某" in which.text and "010-12345678" not in which.text
    assert which.text.count("安某") == 1
    # asked of a letter that names no person, its contact line is still the nearest answer
    one = engine.ask("某部关于支持某港建设的答复,联系人是谁?")
    assert one.answered and "010-12345678" in one.text


def test_what_the_proposal_asked_is_read_from_the_opening_that_restates_it(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "刘某、许某代表:\n您提出的关于整合上级资金对甲村、乙村、丙村三村进行美丽乡村打造建议收悉,现答复如下:\n"
        "近年来,我县高度重视美丽乡村建设,打造省级美丽乡村示范村11个。今年安排专项资金275万元,用于丁村、甲村开展示范村创建。\n"
        "某县农业农村局\n2021年5月26日\n", encoding="utf-8")
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, embedder=embedder)
    engine = Engine.open(settings, embedder=embedder)
    for question in ("代表建议对哪三个村进行美丽乡村打造?", "Which three villages did the deputies ask to make beautiful villages?"):
        answer = engine.ask(question)
        assert answer.answered and "甲村、乙村、丙村" in answer.text, question


def test_a_which_letters_question_lists_letters_on_either_alternative(two_letters):
    # one letter is about 节庆活动, another about 非物质文化遗产保护: each is on the topic, though neither holds both
    answer = two_letters.ask("哪些答复与民俗节庆活动或者非物质文化遗产保护传承有关?")
    assert answer.answered
    assert {c.letter.source for c in answer.citations} >= {"culture.txt", "heritage.txt"}
    assert not {c.letter.source for c in answer.citations} & {"port.txt", "heat.txt"}


def test_a_body_in_a_city_is_a_body_in_its_province():
    # the dictionary says where a place lies: 郑州 in 河南, 滕州 in 枣庄, 山东
    assert {"河南", "河南省"} <= _placed("联系单位及电话:郑州市上街区城市管理局 68118611")
    assert "山东" in lexicon.regions(["滕州"]) and "河南" not in lexicon.regions(["滕州"])
    assert "河南" not in _placed("山东省交通运输厅")


def test_asked_who_sent_a_letter_the_line_naming_its_sender_answers(two_letters):
    # the sign-off's other short lines (此复函已经…审签) state no sender
    answer = two_letters.ask("这份答复是哪个单位发出的?", letter="culture.txt")
    assert answer.answered and "某县文化和旅游局" in answer.text and "审签" not in answer.text
