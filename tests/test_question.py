"""Reading what a question asks: parts, specifics it names, letter facts, amounts."""
from letterqa.question import (asks_quantity, asks_which_letters, meta_field, missing_specifics, plan_for_fact,
                               split_parts, states_quantity, topic_of)


def test_a_two_part_question_is_split_and_a_plain_one_is_not():
    assert split_parts("专精特新中小企业目前新认定了多少家,到2025年目标是多少?") == [
        "专精特新中小企业目前新认定了多少家", "到2025年目标是多少?"]
    assert split_parts("2023年新认定多少家省制造业创新中心?") == ["2023年新认定多少家省制造业创新中心?"]
    assert split_parts("按照要求,新认定了多少家?") == ["按照要求,新认定了多少家?"]  # one clause has no question


def test_unstated_years_places_and_money_are_missing():
    passages = ["2023年新认定6家,累计达到35家;"]
    letters = ["山东省工业和信息化厅 … 2023年新认定6家,累计达到35家;"]
    assert missing_specifics("2023年新认定多少家?", passages, letters) == []
    assert missing_specifics("到2026年的目标是多少?", passages, letters) == ["2026"]
    assert "江苏省" in missing_specifics("江苏省新认定多少家?", passages, letters)
    assert missing_specifics("安排了多少资金?", passages, letters) == ["money"]
    assert missing_specifics("安排了多少资金?", ["安排资金4800万元"], letters) == []


def test_amounts_are_told_from_years_dates_and_document_numbers():
    assert states_quantity("2023年新认定6家") and states_quantity("首次超过五成") and states_quantity("增长14.9%")
    assert not states_quantity("出台《三年行动计划(2023—2025年)》(鲁工信发〔2023〕5号)")
    assert not states_quantity("2024年8月25日")
    assert asks_quantity("全省实施了多少个技改项目?") and asks_quantity("How many centres were recognised?")
    assert not asks_quantity("未来产业要前瞻布局哪些前沿领域?")


def test_questions_about_the_letter_itself():
    assert meta_field("这份答复是哪个单位发出的?") == "sender"
    assert meta_field("答复函是哪天签发的?") == "date"
    assert meta_field("这份答复是回复给谁的?") == "recipient"
    assert meta_field("Which department signed the reply letter?") == "sender"
    assert meta_field("信息技术产业营收增长了多少?") is None


def test_which_letters_questions_and_their_topic():
    assert asks_which_letters("哪些答复提到了专精特新?") and topic_of("哪些答复提到了专精特新?") == "专精特新"
    assert asks_which_letters("Which letters mention rural roads?")
    assert not asks_which_letters("未来产业要前瞻布局哪些前沿领域?")


def test_codes_must_be_stated_and_done_is_not_answered_by_planned():
    assert missing_specifics("全省5G基站有多少个?", ["推进6G技术研发"], ["推进6G技术研发"]) == ["5G"]
    assert missing_specifics("6G有什么安排?", ["推进6G技术研发"], ["推进6G技术研发"]) == []
    plan = ("二、下步推进措施 > (二)持续提升企业创新能力", "每年新培育瞪羚企业400家")
    done = ("一、工作开展情况 > (三)强化科技型企业培育", "新认定352家")
    assert plan_for_fact("实际新认定了多少家瞪羚企业?", [plan])
    assert not plan_for_fact("实际新认定了多少家?", [done])
    assert not plan_for_fact("每年要培育多少家瞪羚企业?", [plan])   # a question about plans
