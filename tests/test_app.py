"""The chat: the turn function, and the app served and called over HTTP as a browser would."""
from letterqa.app import create_app, md_escape, respond


def test_a_turn_answers_cites_and_fills_the_sources_panel(engine):
    history, panel = respond(engine, "2023年新认定多少家省制造业创新中心?", [])
    user, reply, *cited = history
    assert user == {"role": "user", "content": "2023年新认定多少家省制造业创新中心?"}
    assert "6家" in reply["content"] and "[1]" in reply["content"]
    assert cited and cited[0]["metadata"]["title"].startswith("引用 [1]")
    assert "(二)加强产业创新平台建设" in cited[0]["content"].replace("\\", "")
    assert "**" in cited[0]["content"]  # the used sentence is marked in the passage
    assert "山东省工业和信息化厅" in panel


def test_an_unanswerable_turn_says_so(engine):
    history, panel = respond(engine, "江苏省2023年新认定了多少家制造业创新中心?", [])
    assert "没有找到" in history[1]["content"] and len(history) == 2
    assert "最接近的段落" in panel


def test_an_empty_message_gets_a_clear_reply(engine):
    history, _ = respond(engine, "  ", [])
    assert "question is empty" in history[-1]["content"]


def test_letter_text_is_shown_as_text_not_markup():
    assert md_escape("<b>重点</b> *强调*") == "\\<b\\>重点\\</b\\> \\*强调\\*"


def test_the_served_app_answers_over_http(engine):
    from gradio_client import Client

    demo = create_app(engine)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_port=None, quiet=True)
    try:
        client = Client(url, verbose=False)
        history, panel, box = client.predict("2023年新认定多少家省制造业创新中心?", [], "", "", api_name="/chat")
        client.close()
    finally:
        demo.close()
    assert any("6家" in str(m.get("content")) for m in history)
    assert box == "" and "来源" in panel


def test_an_upload_is_indexed_and_answers_the_next_question_without_a_restart(first_settings, embedder, tmp_path):
    """Upload a letter through the served app, then ask about it: the same engine answers from it."""
    import shutil

    from gradio_client import Client, handle_file

    from conftest import DATA
    from letterqa.config import Settings
    from letterqa.engine import Engine

    shutil.copytree(first_settings.corpus, tmp_path / "corpus")
    shutil.copytree(first_settings.index, tmp_path / "index")
    engine = Engine.open(Settings(corpus=tmp_path / "corpus", index=tmp_path / "index"), embedder=embedder)
    demo = create_app(engine)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False)
        status, _ = client.predict([handle_file(str(DATA / "letters" / "02_cd_environment_2022.docx"))],
                                   api_name="/upload")
        history, panel, _ = client.predict("成都全市累计建成了多少个噪声自动监测站点?", [], "", "", api_name="/chat")
        _, filtered, _ = client.predict("噪声自动监测站点有多少个?", [], "", "2024", api_name="/chat")
        client.close()
    finally:
        demo.close()
    assert "已加入 02_cd_environment_2022.docx" in status and "1 letters embedded" in status
    assert (tmp_path / "corpus" / "02_cd_environment_2022.docx").exists()
    assert any("152" in str(m.get("content")) for m in history)
    assert "成都市生态环境局" in panel
    assert "成都市生态环境局" not in filtered and "山东省工业和信息化厅" in filtered  # the year filter holds


def test_a_bad_year_filter_is_explained(engine):
    history, _ = respond(engine, "信息技术产业营收增长了多少?", [], None, "去年")
    assert "not a year" in history[-1]["content"]
