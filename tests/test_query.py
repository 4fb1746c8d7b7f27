"""Reading a question once (query.py), routing it (route.py) and the named checks (checks.py).

Examples are written here in the style of several kinds of letters: a ministry, a county bureau, a
district government, a page with an information block.
"""
from letterqa.checks import (Evidence, boilerplate_only, shares_no_word, fit_logistic, kind_not_shown, no_amount, planned_not_done,
                             states_amount, unstated)
from letterqa.genre import is_boilerplate, page_fields
from letterqa.query import looks_like_question, read_query, split_parts, subject_of, topic_alternatives, topic_of
from letterqa.records import Letter
from letterqa.route import Catalog, route


def _ev(*sentences, sections=(), letters=()):
    return Evidence(tuple(sentences), tuple(sections) or ("",) * len(sentences), tuple(letters) or sentences, 0.9, 0.5)


def test_a_two_part_question_is_split_and_a_plain_one_is_not():
    assert split_parts("专精特新中小企业目前新认定了多少家,到2025年目标是多少?") == (
        "专精特新中小企业目前新认定了多少家", "到2025年目标是多少?")
    assert split_parts("2023年新认定多少家省制造业创新中心?") == ("2023年新认定多少家省制造业创新中心?",)


def test_fields_of_the_letter_itself_and_not_of_its_content():
    assert read_query("这份答复是写给谁的?哪天落款?").fields == ("recipient", "date")
    assert read_query("答复的文号是什么?").fields == ("doc_number",)
    assert read_query("这封复函抄送了哪些单位?").fields == ("copy_to",)
    assert read_query("网站发布日期是哪天?").fields == ("published",)
    assert read_query("To whom was the reply addressed?").fields == ("recipient",)
    # a date of the content is not the letter's date
    assert "date" not in read_query("东阿至阳谷高速公路是哪天开工建设的?").fields
    assert read_query("信息技术产业营收增长了多少?").fields == ()


def test_amounts_with_their_unit():
    q = read_query("新增建设用地指标多少亩?")
    assert q.quantity and q.unit == "亩"
    assert read_query("安排了多少万元资金?").unit == "万元" and read_query("安排了多少万元资金?").money
    assert not read_query("答复的文号是多少?").quantity         # a number, not an amount
    assert states_amount("保障用地2000亩", "亩") and not states_amount("安排资金2000万元", "亩")
    assert not states_amount("出台《三年行动计划(2023—2025年)》(鲁工信发〔2023〕5号)")
    assert not states_amount("2024年8月25日")


def test_specifics_the_evidence_never_states():
    q = read_query("江苏省2026年新认定多少家?")
    refusal = unstated(q, _ev("2023年新认定6家", letters=("山东省 2023年新认定6家",)))
    assert refusal is not None and set(refusal.missing) >= {"2026", "江苏省"}
    assert unstated(read_query("2023年新认定多少家?"), _ev("2023年新认定6家")) is None
    # an abbreviation of a name the letter states in full is stated
    assert unstated(read_query("县文旅局答复说了什么?"), _ev("县文化和旅游局积极办理")) is None
    # English questions quote names in translation: not looked up as written
    assert read_query("What is the status of the 'Silver Arrow' sculpture?").quoted == ()
    assert read_query("“万名医师”工程是什么?").quoted == ("万名医师",)


def test_no_amount_and_planned_for_done():
    assert no_amount(read_query("占地多少亩?"), _ev("项目占地约30亩")) is None
    assert no_amount(read_query("占地多少亩?"), _ev("项目总投资800万元")).kind == "no_amount"
    plan = _ev("每年新培育瞪羚企业400家", sections=("二、下步推进措施",))
    assert planned_not_done(read_query("实际新认定了多少家瞪羚企业?"), plan).kind == "planned"
    assert planned_not_done(read_query("实际新认定了多少家?"), _ev("新认定352家", sections=("一、工作开展情况",))) is None


def test_genre_formulas_are_boilerplate_and_facts_are_not():
    assert is_boilerplate("感谢您对我们工作的关心和支持。")
    assert is_boilerplate("您提出的关于加强农村科普工作的提案已收悉,现答复如下:")
    assert is_boilerplate("欢迎继续对我局工作提出宝贵意见。")
    assert not is_boilerplate("2023年新认定6家,累计达到35家;")


def test_page_information_fields():
    assert page_fields("索 引 号:370481/2022-00028") == [("索引号", "370481/2022-00028")]
    assert dict(page_fields("发布时间: 2021-11-04 发布机构:某县民政局")) == {"发布时间": "2021-11-04",
                                                                        "发布机构": "某县民政局"}


def test_non_questions_are_recognised():
    for text in ["hello", "aaaaaaaaaa", "<img src=x onerror=alert(1)>", "SELECT * FROM letters WHERE 1=1",
                 "a" * 1000]:
        assert not looks_like_question(text), text
    assert looks_like_question("2023年新认定多少家?") and looks_like_question("How many centres were recognised?")


def _letters():
    a = Letter("a" * 16, "a.txt", "关于支持某港建设的建议的答复\n郭某等代表:\n…", title="关于支持某港建设的建议",
               sender="交通运输部", recipient="郭某等代表")
    b = Letter("b" * 16, "b.txt", "滕州市住建局关于第50号建议的答复\n马某代表:\n…", title="关于老旧小区改造的建议",
               sender="滕州市住房和城乡建设局", recipient="马某代表")
    c = Letter("c" * 16, "c.txt", "微山县文化和旅游局对县政协提案的答复\n仲某委员:\n…", title="关于举办文化节的建议",
               sender="微山县文化和旅游局", recipient="仲某委员")
    return {x.letter_id: x for x in (a, b, c)}


def test_a_question_is_routed_to_the_letter_it_names():
    letters = _letters()
    catalog = Catalog(letters)
    assert read_query("交通运输部关于支持某港建设的答复里说了什么?", catalog).named[:1] == ("a" * 16,)
    assert read_query("滕州市住建局的答复提到了多少个小区?", catalog).named[:1] == ("b" * 16,)
    assert read_query("What did the Tengzhou housing bureau say?", catalog).named[:1] == ("b" * 16,)
    assert read_query("What did the Ministry of Transport say about the port?", catalog).named[:1] == ("a" * 16,)
    assert read_query("老旧小区改造有什么进展?", catalog).named in ((), ("b" * 16,))
    assert read_query("今年的工作重点是什么?", catalog).named == ()


def test_route_prefers_the_users_scope_then_names_then_the_previous_turn():
    letters = _letters()
    catalog = Catalog(letters)
    named = read_query("交通运输部的答复写给谁?", catalog)
    plain = read_query("写给谁?", catalog)
    assert route(named, catalog, letter="c" * 16).letter_ids == ("c" * 16,)
    assert route(named, catalog).letter_ids[0] == "a" * 16
    assert route(plain, catalog, previous_scope=("b" * 16,)).how == "previous"
    assert route(plain, catalog).letter_ids is None
    assert route(named, catalog, allowed={"b" * 16}).letter_ids == ("b" * 16,)  # the filters win over the name
    assert route(named, catalog, letter="c" * 16, allowed={"b" * 16}).letter_ids == ()


def test_which_letters_topic():
    assert topic_of("哪些答复提到了专精特新?").strip() == "专精特新"
    assert read_query("哪些答复提到了专精特新?").cross and read_query("Which of these replies mention roads?").cross
    assert not read_query("未来产业要前瞻布局哪些前沿领域?").cross


def test_which_letters_subject_is_the_which_clause_without_its_frame():
    # "与…有关" frames the topic; a later clause says what to give of each letter, not which letters
    asked = "哪些答复与传统文化或文化遗产保护有关?各自涉及什么对象?"
    assert subject_of(asked) == "传统文化或文化遗产保护"
    assert "对象" in topic_of(asked) and "有关" not in topic_of(asked)
    assert subject_of("这批答复里有哪几份涉及老旧小区改造?各自给出的改造规模数字是多少?") == "老旧小区改造"
    assert topic_alternatives("传统文化或文化遗产保护") == ["传统文化", "文化遗产保护"]
    assert topic_alternatives("老旧小区改造") == ["老旧小区改造"]


def test_logistic_fit_separates_a_separable_feature():
    xs = [[v, 1.0] for v in (0.80, 0.81, 0.82, 0.90, 0.91, 0.92)]
    w = fit_logistic(xs, [0, 0, 0, 1, 1, 1])
    assert w[0] > 0 and (w[0] * 0.91 + w[1]) > 0 > (w[0] * 0.81 + w[1])


def test_a_sentence_sharing_no_word_with_the_question_answers_nothing():
    q = read_query("How do I bake bread at home?")
    near = Evidence(("推动实施数字经济项目1万个以上。",), ("",), ("",), 0.78, 0.0)
    assert shares_no_word(q, near).kind == "not_relevant"
    assert shares_no_word(q, Evidence(("开通省际公交1条。",), ("",), ("",), 0.78, 0.08)) is None


def test_the_rarest_words_are_the_same_under_every_hash_seed():
    from letterqa.answer import rarest

    idf = {"已开通": 2.0, "线路": 1.5, "投入": 1.0, "最少见": 3.0}
    # 省际公交, 哪条 and 几辆 are unknown to the letters: equally rare, so question order decides
    tokens = ["已开通", "省际公交", "线路", "哪条", "投入", "几辆", "#num"]
    assert rarest(tokens, idf) == ["省际公交", "哪条", "几辆"]
    assert rarest(tokens[::-1], idf) == ["几辆", "哪条", "省际公交"]
    assert rarest(["线路", "投入", "线路"], idf, n=3) == ["线路", "投入"]
    assert rarest(["没有", "文号", "省里"], idf, n=2) == ["文号", "省里"]  # 没有: a piece of the stopword 有没有


def test_a_cross_letter_question_names_every_letter_it_names():
    catalog = Catalog(_letters())
    q = read_query("交通运输部的答复和滕州市住建局的答复分别写给谁?", catalog)
    assert q.cross and set(q.named) == {"a" * 16, "b" * 16}


def test_spaced_labels_of_the_sign_off_are_read(tmp_path):
    from letterqa.read import read_letter

    path = tmp_path / "a.txt"
    path.write_text("关于某事的答复\n张某委员:\n您提出的提案收悉,现答复如下:\n我局已完成改造。\n某区城市管理局\n"
                    "2020年8月18日\n抄 报:区政协办公室、区委区政府督查局\n", encoding="utf-8")
    assert read_letter(path).meta["抄报"] == "区政协办公室、区委区政府督查局"
    assert read_query("这份答复抄报给了哪些单位?").fields == ("copy_to",)


def test_a_which_year_or_which_university_question_needs_one_in_its_answer():
    year = read_query("神农分院预计哪一年建成开诊?")
    assert kind_not_shown(year, _ev("目前项目场地平整已完成,土方已开挖。")).kind == "kind_not_shown"
    assert kind_not_shown(year, _ev("项目预计2025年建成开诊。")) is None
    uni = read_query("研讨请的是哪所大学的专家?")
    assert kind_not_shown(uni, _ev("将积极联系专家学者进行研讨。")) is not None
    assert kind_not_shown(uni, _ev("邀请山东大学专家进行研讨。")) is None
    assert read_query("这份答复是写给谁的?").must_show == ()   # a field question is answered by its line


def test_a_field_question_with_a_content_part_keeps_that_part():
    q = read_query("科学技术局这份意见是写给谁的?为什么不直接答复代表?")
    assert q.fields == ("recipient",) and q.content_parts == ("为什么不直接答复代表?",)
    assert read_query("这份答复是写给谁的?哪天落款?").content_parts == ()  # both parts ask fields
    assert read_query("这份答复是写给谁的?").content_parts == ()


def test_the_items_of_a_list_and_the_things_in_it():
    assert read_query("今后要做好哪三个方面的工作?").wants_items
    assert read_query("下步有哪些措施?").wants_items
    items = read_query("巩固优势产业要聚焦哪些重点产业?")
    assert items.wants_list and not items.wants_items


def test_the_document_numbers_a_letter_cites_are_content():
    assert "doc_number" not in read_query("这份答复援引了哪两份文件作为政策依据?请给出文号。").fields
    assert read_query("这份答复的文号是什么?").fields == ("doc_number",)
    assert read_query("这份复函经哪位领导审签?").fields == ("signer",)
    assert "date" not in read_query("两省人民政府是哪天签署合作协议的?").fields
    assert "date" in read_query("To which member did the bureau reply about the festival, and on what date?").fields


def test_an_acknowledgement_that_tells_how_the_proposal_was_handled_is_content():
    assert not is_boilerplate("您所提的“关于改善某卫生院就医环境的建议”已收悉,我局高度重视,召开会议专题讨论研究,并确定专人负责答复落实。")
    assert is_boilerplate("您提出的建议已收悉,我局高度重视,现将办理情况答复如下:")
    assert is_boilerplate("您提出的《关于完善园区广场配套设施建设的建议》(第133号)收悉。")  # its number is no figure
    assert not is_boilerplate("此复函已经霍某副书记审签。") and is_boilerplate("此复。")
    assert not is_boilerplate("经与区城市管理局、区文化旅游委共同研究办理,现答复如下:")  # who it was handled with


def test_a_sentence_that_states_what_was_done_is_no_plan_for_its_trailing_plan():
    asked = read_query("截至今年6月底全区共摸排新增危旧房多少套?")
    done_then_plan = _ev("截止今年6月底全区共摸排新增危旧房5289套,拟申报2026-2028年任务计划2118套。")
    assert planned_not_done(asked, done_then_plan) is None
    assert planned_not_done(asked, _ev("拟申报2026-2028年任务计划2118套。")).kind == "planned"


def test_a_when_question_needs_a_time():
    asked = read_query("健康社区改造预计什么时候完工?")
    assert kind_not_shown(asked, _ev("目前正在前期准备设计之中。")).kind == "kind_not_shown"
    assert kind_not_shown(asked, _ev("预计8月份可以建成并投入使用。")) is None


def test_english_words_find_the_chinese_words_a_letter_uses():
    from letterqa.answer import bilingual_coverage
    from letterqa.lexicon import english_words, translations

    assert english_words("Which two ports are named?") == ["port"]
    idf = {"雕塑": 5.0, "照明": 4.0, "方案": 1.0, "港口": 3.0}
    found = translations("the lighting plan for the sculpture", known=idf)
    assert found["sculpture"] == ("雕塑",) and "照明" in found["lighting"] and "方案" in found["plan"]
    # the rare word the sentence holds weighs more than the common one it lacks
    cover = bilingual_coverage(found, "“银箭”雕塑照明工程", idf)
    assert 0.8 < cover < 1.0 and bilingual_coverage(found, "暂未拿出方案", idf) < 0.2


def test_english_place_names_become_the_letters_words_for_them():
    from letterqa.lexicon import places, translations

    assert places("Which replies were issued by bodies in Henan Province?") == ["河南", "河南省"]
    assert {"安岳县", "滕州市"} <= set(places("What did Anyue County and Tengzhou promise?"))
    assert places("Which Province? Which County?") == []  # the kind of place names none
    assert "河南" not in translations("bodies in Henan").get("henan", ())  # kept out of every question's words


def test_a_which_letters_question_asks_all_letters_even_when_its_topic_recalls_one():
    catalog = Catalog(_letters())
    which = read_query("这批答复里有哪几份出自交通运输部门?", catalog)
    assert which.which_letters and which.named[:1] == ("a" * 16,)
    assert route(which, catalog).letter_ids is None
    each = read_query("交通运输部的答复里航道和港口分别投资多少?", catalog)  # 分别 within one letter
    assert each.cross and not each.which_letters and route(each, catalog).letter_ids == ("a" * 16,)


def test_the_acknowledgement_answers_what_the_proposal_said():
    asked = read_query("马某委员提案中的雕塑位于哪两条路的交叉口?")
    assert asked.about_proposal and read_query("Which villages did the deputies ask the bureau to upgrade?").about_proposal
    assert not read_query("今年改造了多少个小区?").about_proposal
    thanks = _ev("您提出的《关于亮化美化济源路和汝南路交叉口雕塑的建议》的提案收悉。")
    assert boilerplate_only(asked, thanks) is None
    assert boilerplate_only(read_query("今年改造了多少个小区?"), thanks).kind == "not_relevant"


def test_a_proposer_is_a_name_that_proposes_or_is_addressed():
    from letterqa.genre import PROPOSER

    for line in ("杨某博代表提出的《关于加大支持力度》收悉", "马某运代表: 您好", "龚某锋、邓某中委员:", "郭某进等7名代表:", "孙某才委员"):
        assert PROPOSER.search(line), line
    for line in ("现将办理情况函告如下,请综合后一并答复代表。", "关于人大十九届一次会议第50号代表建议的答复"):
        assert not PROPOSER.search(line), line


def test_a_catalog_rebuilt_for_a_new_index_reuses_what_it_read_and_names_the_same():
    letters = _letters()
    first = Catalog(dict(list(letters.items())[:2]))
    again = Catalog(letters, previous=first)
    assert again._keys["a" * 16] is first._keys["a" * 16]  # read once, not again
    fresh = Catalog(letters)
    for q in ("交通运输部关于支持某港建设的答复里说了什么?", "What did the Tengzhou housing bureau say?", "微山县文化和旅游局的答复写给谁?"):
        lang = "en" if q.isascii() else "zh"
        assert again.scores(q, lang) == fresh.scores(q, lang) and again.named(q, lang) == fresh.named(q, lang)


def test_a_code_is_no_amount():
    assert not states_amount("推进6G技术研发和应用。") and not states_amount("PM2.5浓度持续下降")
    assert states_amount("新增5G基站3.2万个") and states_amount("增长10.6%")


def test_a_reply_class_the_question_names_must_be_stated():
    asked = read_query("承办的11件提案中,有几件被评为A类(已解决)?")
    assert "A类" in asked.codes
    assert unstated(asked, _ev("今年共承办县政协提案11件。")).missing == ("A类",)
    assert unstated(asked, _ev("11件提案中9件为A类。")) is None
