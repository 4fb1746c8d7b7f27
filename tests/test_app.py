"""The chat without a browser: escaping and rendering, a turn, filters, uploads' checks, access, feedback."""
import json
import re
import socket

import pytest

from letterqa import ui_html as html
from letterqa import ui_turns
from letterqa.app import Access, access_for, create_app, launch, parse_year, run_turn, serve, workspace_html
from letterqa.errors import LetterQAError
from letterqa.ui_corpus import check_file, chinese_reason

HEADLINE = "2023年新认定多少家省制造业创新中心?"
ATTACKS = ['<img src=x onerror=alert(1)>', '<a href="http://evil.example/">点我</a>', "**粗体** _斜体_ `code`",
           "<script>window.pwned=1</script>", "{{constructor.constructor('alert(1)')()}}", "${alert(1)}",
           "\"' onmouseover=alert(1) x='", "[1](javascript:alert(1))"]


def letter_dict(**kw):
    base = {"letter_id": "a" * 16, "source": "x.txt", "sender": "山东省工业和信息化厅", "date": "2024-08-25",
            "title": "关于加快形成新质生产力的建议", "doc_number": "", "recipient": "冯能斌委员"}
    return {**base, **kw}


def turn_dict(text="甲说6家[1]", citations=None, **kw):
    cites = citations if citations is not None else [
        {"n": 1, "letter_id": "a" * 16, "chunk_id": 3, "path": ["一、工作开展情况", "(二)加强产业创新平台建设"],
         "text": "前文。甲说6家。后文。", "quote": "甲说6家", "letter": letter_dict()}]
    base = {"id": "t1", "question": "多少家?", "text": text, "answered": True, "understood": "", "citations": cites,
            "others": [], "filters": {}, "suggestions": [], "latency_ms": 12.0}
    return {**base, **kw}


@pytest.mark.parametrize("attack", ATTACKS)
def test_letter_text_never_becomes_markup(attack):
    out = html.esc(attack)
    assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    assert "{" not in out and "$" not in out and "`" not in out
    assert html.marked(f"前{attack}后", attack) == f"前<mark>{out}</mark>后"


def test_every_field_of_a_rendered_turn_is_escaped():
    bad = ATTACKS[0]
    cite = {"n": 1, "letter_id": bad, "chunk_id": 1, "path": [bad, "**节**"], "text": f"{bad}甲。", "quote": "甲。",
            "letter": letter_dict(sender=bad, title=bad, doc_number=bad, recipient=bad, source=bad)}
    turn = turn_dict(text=f"{bad}甲。[1]", citations=[cite], question=bad, understood=bad, suggestions=[bad],
                     filters={"sender": bad}, answered=True)
    page = html.conversation([turn], 1, 1, [bad]) + html.library_table([{**cite["letter"], "passages": 1}], True)
    page += html.upload_cards([{"name": bad, "error": bad}]) + html.filter_chips({"sender": bad, "year": "", "letter": ""})
    page += html.letter_view(cite["letter"], [{"chunk_id": 1, "path": [bad], "text": bad}], 1)
    assert "<img" not in page and "<a href=\"http" not in page and "**节**" in page  # markdown shown as typed
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 10


def test_an_answer_marks_the_quote_and_turns_each_citation_into_a_chip():
    page = html.turn_html(turn_dict(), True) + html.sources_panel(turn_dict(), True)
    assert re.search(r'<button class="lq-chip" data-act="cite" data-turn="t1" data-n="1"[^>]*>\[1\]</button>', page)
    assert "前文。<mark>甲说6家</mark>。后文。" in page
    assert "山东省工业和信息化厅 · 2024年8月25日 · 《关于加快形成新质生产力的建议》 · 致冯能斌委员" in page
    assert "一、工作开展情况 ＞ (二)加强产业创新平台建设" in page


def test_a_cross_letter_answer_is_a_table_of_letter_date_words_and_number():
    other = {"n": 2, "letter_id": "b" * 16, "chunk_id": 9, "path": ["二、"], "text": "乙说3家。", "quote": "乙说3家。",
             "letter": letter_dict(letter_id="b" * 16, sender="成都市生态环境局", date="2022-06-01", title="噪声")}
    turn = turn_dict(text="甲说6家[1]\n乙说3家。[2]", citations=turn_dict()["citations"] + [other])
    body = html.answer_body(turn)
    assert body.startswith('<table class="lq-cross">')
    assert re.search(r"<tr><td>成都市生态环境局<br><small>《噪声》</small></td><td>2022年6月1日</td><td>乙说3家。</td>"
                     r"<td><button[^>]*data-n=\"2\"", body)


def test_copy_text_is_clean_with_one_line_per_source():
    text = html.copy_text(turn_dict())
    assert text == ("甲说6家〔1〕\n\n〔1〕山东省工业和信息化厅，2024年8月25日，《关于加快形成新质生产力的建议》，"
                    "一、工作开展情况＞(二)加强产业创新平台建设")


def test_the_headline_turn_cites_first_then_lists_the_other_passages(engine):
    turns, answer = run_turn(engine, HEADLINE, [])
    turn = turns[-1]
    assert answer.answered and "6家" in turn["text"] and turn["citations"][0]["n"] == 1
    panel = html.sources_panel(turn, True)
    assert panel.index("〔1〕") < panel.index("其他相关段落")
    assert "<mark>积极布局建设省制造业创新中心" in panel and "**" not in panel
    assert all(p["n"] is None for p in turn["others"]) and turn["others"]
    assert turn["suggestions"] and all(s.endswith("?") for s in turn["suggestions"])
    json.dumps(turns)  # kept in the browser: must be JSON


def test_a_turn_can_become_the_previous_answer_again(engine):
    turns, answer = run_turn(engine, HEADLINE, [])
    again = ui_turns.answer_of(turns[-1], engine.stored)
    assert again.citations[0].chunk == answer.citations[0].chunk and again.text == answer.text
    stale = {**turns[-1], "citations": [{**turns[-1]["citations"][0], "text": "改过的段落"}]}
    assert ui_turns.answer_of(stale, engine.stored) is None


def test_examples_and_follow_ups_come_from_the_loaded_letter(engine):
    headings = {p for c in engine.stored.chunks for p in c.path}
    examples = ui_turns.examples(engine.stored)
    assert len(examples) >= 2
    assert all(any(ui_turns.topic(h) in q for h in headings) or "《" in q for q in examples)
    assert "已载入 <b>1</b> 封答复函" in workspace_html(engine, [])
    _, answer = run_turn(engine, HEADLINE, [])
    ups = ui_turns.followups(answer, engine.stored)
    assert "加强企业研发机构建设有哪些进展?" in ups  # the cited section's sibling


def test_the_signing_year_takes_a_year_or_a_range_and_explains_a_bad_one_in_chinese():
    assert parse_year("") is None and parse_year(" 2023 ") == 2023
    assert parse_year("2021-2023") == "2021-2023" and parse_year("2023至2021") == "2021-2023"
    with pytest.raises(LetterQAError, match="落款年份“去年”看不懂"):
        parse_year("去年")


def test_a_bad_filter_and_an_empty_question_get_chinese_messages(engine):
    turns, _ = run_turn(engine, "信息技术产业营收增长了多少?", [], year="去年")
    assert "落款年份" in turns[-1]["error"]
    turns, _ = run_turn(engine, "  ", turns)
    assert turns[-1]["error"].startswith("请先输入问题")


def test_a_refusal_under_a_filter_says_so_and_offers_to_ask_without_it(engine):
    turns, answer = run_turn(engine, HEADLINE, [], year="2023")  # the letter was signed in 2024
    assert not answer.answered
    page = html.turn_html(turns[-1], True)
    assert "本次提问带有筛选（落款年份：2023）" in page and 'data-act="unfiltered"' in page
    _, answer = run_turn(engine, HEADLINE, [], year="2023至2024")  # a range that holds the signing year
    assert answer.answered


def test_old_office_files_are_refused_by_name_with_the_fix(tmp_path):
    doc = tmp_path / "答复.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    card = check_file(doc, set(), 1 << 20)
    assert card == {"name": "答复.doc", "error": ".doc 格式无法读取：请另存为 .docx 或 PDF 后再上传。"}
    empty = tmp_path / "空.txt"
    empty.write_text("")
    assert check_file(empty, set(), 1 << 20)["error"] == "文件是空的。"
    assert str(tmp_path) not in chinese_reason("anything else")


def test_who_may_change_the_corpus():
    assert access_for("127.0.0.1", None).may_change(False)
    assert not access_for("0.0.0.0", None).may_change(True)          # read-only off loopback
    assert not access_for("127.0.0.1", "pw").may_change(False)       # a password needs sign-in
    assert access_for("0.0.0.0", "pw").may_change(True)
    assert "只读" in Access(None, False).why_not()


def test_a_busy_port_names_the_commands_that_fix_it(first_settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(LetterQAError, match=rf"port {port} is in use: .*--port {port + 1}.*make run PORT={port + 1}"):
            serve(first_settings, "127.0.0.1", port)


def test_the_served_app_answers_over_http(engine):
    from gradio_client import Client

    demo = create_app(engine)
    _, url, _ = launch(demo, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False)
        page, turns, box, data = client.predict(HEADLINE, [], "", "", "", api_name="/chat")
        client.close()
    finally:
        demo.close()
    assert "6家" in data["answer"] and data["citations"][0]["n"] == 1
    assert "<mark>" in page and box == "" and turns[-1]["citations"][0]["quote"] in data["citations"][0]["quote"]


def test_feedback_becomes_test_rows_only_when_it_says_what_is_right(tmp_path):
    from letterqa import feedback as fb
    from letterqa.evaluate import load_testset

    cited = ({"source": "a.txt", "section": "一、 > (二)", "quote": "新认定6家"},)
    right = {"source": "a.txt", "section": "二、", "text": "累计达到35家。"}
    votes = [fb.Feedback("认定多少家?", "新认定6家[1]", True, "up", cited=cited),
             fb.Feedback("江苏有多少家?", "答复函中没有找到…", False, "up"),
             fb.Feedback("累计多少家?", "新认定6家[1]", True, "down", "引错", cited, correct=right),
             fb.Feedback("去年呢?", "新认定6家[1]", True, "down", cited=cited, no_answer=True),
             fb.Feedback("只说不对", "新认定6家[1]", True, "down", "不对", cited)]
    for v in votes:
        fb.record(tmp_path, v)
    (tmp_path / "feedback.jsonl").open("a").write("not json\n")
    assert fb.export(tmp_path, tmp_path / "out.jsonl") == (4, 1)
    rows, problems = load_testset(tmp_path / "out.jsonl")
    by_q = {r.question: r for r in rows}
    assert not problems and set(by_q) == {"认定多少家?", "江苏有多少家?", "累计多少家?", "去年呢?"}
    assert by_q["认定多少家?"].quote == "新认定6家" and by_q["认定多少家?"].section == "一、 > (二)"
    assert by_q["累计多少家?"].quote == "累计达到35家。" and by_q["累计多少家?"].letter == "a.txt"
    assert not by_q["江苏有多少家?"].answerable and not by_q["去年呢?"].answerable
    with pytest.raises(LetterQAError):
        fb.record(tmp_path, fb.Feedback("q", "a", True, "maybe"))
