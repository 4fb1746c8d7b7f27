"""The chat in a real browser: Playwright driving Debian's chromium against one server for the module.

The server runs with an admin password, so changing the corpus needs sign-in; a test that needs it signs
in on its own page. Every page refuses requests that would leave the machine, and each test checks none
was attempted (letter text with attack strings must not load anything).
"""
import json
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import DATA

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PASSWORD = "test-secret"
HEADLINE = "2023年新认定多少家省制造业创新中心?"
ATTACK_LETTER = """关于<img src=x onerror="window.pwned=1">和**加粗**的答复
王委员：
您提出的《关于<a href="http://evil.example/">链接</a>的建议》收悉，现答复如下：
一、工作情况
(一)攻击字符串测试
2023年共建成{{7*7}}个${window.pwned=2}测试站点，**重点**为<script>window.pwned=3</script>示范站。
山东省测试厅
2024年5月6日
"""

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="needs Debian's chromium: apt-get install chromium (.ci/run does)")


@pytest.fixture(scope="module")
def server(first_settings, embedder, tmp_path_factory):
    """One app for the module, over a copy of the first letter's index, with an admin password."""
    from letterqa.app import Access, create_app, launch
    from letterqa.config import Settings
    from letterqa.engine import Engine

    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(first_settings.corpus, root / "corpus")
    shutil.copytree(first_settings.index, root / "index")
    settings = Settings(corpus=root / "corpus", index=root / "index")
    engine = Engine.open(settings, embedder=embedder)
    demo = create_app(engine, Access(PASSWORD, True))
    _, url, _ = launch(demo, prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    yield {"url": url, "engine": engine, "settings": settings, "root": root}
    demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server, request):
    """A fresh page (own storage) that blocks and records every request off the loopback address."""
    width = getattr(request, "param", 1280)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    outside = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    pg.goto(server["url"])
    pg.wait_for_selector(".lq-landing")
    yield pg
    context.close()
    assert not outside, f"requests left the page: {outside}"


def ask(page, question):
    before = page.locator(".lq-turn").count()
    page.fill("#lq-box textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.lq-turn').length > {before}")
    return page.locator(".lq-turn").last


def test_the_headline_answer_marks_its_quote_and_shows_no_markdown(page):
    turn = ask(page, HEADLINE)
    assert "2023年新认定6家" in turn.locator(".lq-a").inner_text()
    cited = page.locator(".lq-sources:not(.lq-hidden) .lq-source").first
    assert "〔1〕" in cited.inner_text() and "2024年8月25日" in cited.inner_text()
    assert "2023年新认定6家" in cited.locator("mark").inner_text()
    assert "一、工作开展情况 ＞ (二)加强产业创新平台建设" in cited.inner_text()
    assert "**" not in page.locator(".lq-ws").inner_text()
    assert page.locator(".lq-sources:not(.lq-hidden) h4").inner_text() == "其他相关段落"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"


def test_clicking_a_citation_opens_and_scrolls_to_it(page):
    ask(page, HEADLINE)
    panel = page.locator(".lq-panel")
    panel.evaluate("el => { el.querySelectorAll('details').forEach(d => d.open = false); el.scrollTop = 0; }")
    page.locator(".lq-turn").last.locator(".lq-chip", has_text="[1]").click()
    card = page.locator(".lq-sources:not(.lq-hidden) .lq-source").first
    assert card.evaluate("d => d.open")
    box, view = card.bounding_box(), panel.bounding_box()
    assert view["y"] - 1 <= box["y"] <= view["y"] + view["height"]


def test_a_follow_up_earlier_sources_and_clear(page):
    ask(page, HEADLINE)
    follow = ask(page, "那到2025年呢?")
    assert "理解为：新认定多少家省制造业创新中心" in follow.inner_text()
    assert "到2025年" in follow.locator(".lq-a").inner_text()
    follow.get_by_role("button", name="不对？按原话单独提问").click()
    page.wait_for_function("document.querySelectorAll('.lq-turn').length === 3")
    alone = page.locator(".lq-turn").last
    assert alone.locator(".lq-q").inner_text() == "那到2025年呢?" and "理解为" not in alone.inner_text()
    page.click("#lq-clear")
    page.wait_for_selector(".lq-landing")
    ask(page, HEADLINE)
    ask(page, "那到2025年呢?")
    suggestion = page.locator(".lq-turn").first.locator(".lq-suggest").first
    wording = suggestion.inner_text()
    suggestion.click()
    page.wait_for_function("document.querySelectorAll('.lq-turn').length === 3")
    assert page.locator(".lq-q").last.inner_text() == wording
    first = page.locator(".lq-turn").first
    first.locator(".lq-a").click(position={"x": 5, "y": 5})
    page.wait_for_selector(f".lq-sources .lq-asked:has-text('{HEADLINE}')")
    assert page.locator(".lq-sources").count() == 1 and "lq-selected" in first.get_attribute("class")
    page.locator(".lq-turn").nth(1).locator(".lq-chip").first.click()  # an earlier turn's [1]: fetched, then opened
    page.wait_for_selector(".lq-sources .lq-asked:has-text('那到2025年呢?')")
    page.wait_for_function("document.querySelector('.lq-source').open === true")
    page.reload()
    page.wait_for_function("document.querySelectorAll('.lq-turn').length === 3")  # kept in the browser
    page.click("#lq-clear")
    page.wait_for_selector(".lq-landing")
    assert page.locator(".lq-turn").count() == 0 and page.locator(".lq-source").count() == 0


def test_the_library_shows_a_letter_and_asks_only_it(page, server):
    page.get_by_role("tab", name="答复函库").click()
    rows = page.locator(".lq-library tbody tr")
    assert rows.count() == len(server["engine"].stored.letters)
    assert "山东省工业和信息化厅" in rows.first.inner_text() and "移除" not in rows.first.inner_text()
    rows.first.get_by_role("button", name="查看全文").click()
    page.wait_for_selector(".lq-letter .lq-outline a")
    assert "一、工作开展情况" in page.locator(".lq-outline").inner_text()
    rows.first.get_by_role("button", name="只问这封").click()
    chip = page.locator(".lq-filter", has_text="只问")
    chip.wait_for()
    assert "《关于加快形成新质生产力 增强发展新动能的建议》" in chip.inner_text()
    ask(page, HEADLINE)
    chip.locator("button").click()
    page.wait_for_function("!document.querySelector('.lq-filter')")


def test_a_citation_opens_the_whole_letter_at_its_passage(page):
    ask(page, HEADLINE)
    page.locator(".lq-sources:not(.lq-hidden) .lq-source").first.get_by_role("button", name="查看全文").click()
    focus = page.locator(".lq-letter .lq-focus")
    focus.wait_for()
    assert "2023年新认定6家" in focus.inner_text()
    page.wait_for_function("(() => { const f = document.querySelector('.lq-focus'); const r = f.getBoundingClientRect();"
                           " const p = f.parentElement.getBoundingClientRect(); return r.top >= p.top - 1 && r.top < p.bottom; })()")


def test_a_filter_shows_as_a_chip_and_a_refusal_under_it_offers_to_drop_it(page):
    page.locator("#lq-year").get_by_role("textbox").fill("去年")
    page.locator("#lq-year").get_by_role("textbox").press("Tab")
    page.wait_for_selector(".lq-warn:has-text('落款年份')")
    page.locator("#lq-year").get_by_role("textbox").fill("2021-2023")
    page.locator("#lq-year").get_by_role("textbox").press("Tab")
    page.wait_for_selector(".lq-filter:has-text('落款年份：2021-2023')")
    page.locator("#lq-year").get_by_role("textbox").fill("2023")
    page.locator("#lq-year").get_by_role("textbox").press("Tab")
    page.wait_for_selector(".lq-filter:has-text('落款年份：2023')")
    turn = ask(page, HEADLINE)
    assert "答复函中没有找到" in turn.inner_text() and "本次提问带有筛选" in turn.inner_text()
    turn.get_by_role("button", name="去掉筛选再问").click()
    page.wait_for_function("document.querySelectorAll('.lq-turn').length === 2")
    assert "2023年新认定6家" in page.locator(".lq-turn").last.inner_text()
    page.wait_for_function("!document.querySelector('.lq-filter')")
    assert page.locator("#lq-year").get_by_role("textbox").input_value() == ""


def test_an_upload_is_refused_without_sign_in(page, server):
    page.get_by_role("tab", name="添加答复函").click()
    page.locator("#lq-files input[type=file]").set_input_files(str(DATA / "letters" / "05_gd_transport_2023.md"))
    page.wait_for_selector("#lq-upload-out .lq-warn")
    assert "需要先登录" in page.locator("#lq-upload-out").inner_text()
    assert not (server["settings"].corpus / "05_gd_transport_2023.md").exists()


def test_the_upload_api_needs_sign_in_too(server):
    from gradio_client import Client, handle_file

    client = Client(server["url"], verbose=False)
    try:
        refused = client.predict([handle_file(str(DATA / "letters" / "05_gd_transport_2023.md"))], [],
                                 api_name="/upload")[0]
        client.predict("wrong", api_name="/login")
        still = client.predict([handle_file(str(DATA / "letters" / "05_gd_transport_2023.md"))], [],
                               api_name="/upload")[0]
    finally:
        client.close()
    assert "需要先登录" in refused and "需要先登录" in still
    assert not (server["settings"].corpus / "05_gd_transport_2023.md").exists()


def test_signed_in_upload_shows_result_cards_and_attack_text_stays_text(page, server, tmp_path):
    attack = tmp_path / "attack_letter.txt"
    attack.write_text(ATTACK_LETTER, encoding="utf-8")
    old = tmp_path / "旧答复.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 64)
    page.get_by_role("tab", name="添加答复函").click()
    page.locator("#lq-password").get_by_role("textbox").fill(PASSWORD)
    page.click("#lq-login")
    page.wait_for_selector(".lq-ok:has-text('已登录')")
    page.locator("#lq-files input[type=file]").set_input_files([str(attack), str(old)])
    page.wait_for_selector("#lq-upload-out .lq-cards", timeout=90_000)
    good, bad = page.locator(".lq-card.lq-good"), page.locator(".lq-card.lq-bad")
    assert "山东省测试厅" in good.inner_text() and "2024年5月6日" in good.inner_text()
    assert "旧答复.doc" in bad.inner_text() and "请另存为 .docx 或 PDF" in bad.inner_text()
    assert "/tmp" not in page.locator("#lq-upload-out").inner_text()
    page.get_by_role("tab", name="问答").click()
    turn = ask(page, "2023年共建成多少个测试站点?")
    page.locator(".lq-sources:not(.lq-hidden)").wait_for()
    shown = page.locator(".lq-ws").inner_text()
    assert "{{7*7}}" in shown and "${window.pwned=2}" in shown and "**重点**" in shown and "<script>" in shown
    assert page.evaluate("window.pwned") is None
    assert page.locator(".lq-ws img, .lq-ws script, .lq-ws a[href]").count() == 0
    assert turn.locator(".lq-chip").count() >= 1
    # and removal, for the signed-in user: the file goes to the index's trash, the index drops it
    page.get_by_role("tab", name="答复函库").click()
    page.on("dialog", lambda d: d.accept())
    row = page.locator(".lq-library tbody tr", has_text="attack_letter.txt")
    row.get_by_role("button", name="移除").click()
    page.wait_for_selector(".lq-ok:has-text('已移除 attack_letter.txt')", timeout=60_000)
    assert not (server["settings"].corpus / "attack_letter.txt").exists()
    assert list((server["settings"].index / "trash").glob("*attack_letter.txt"))
    assert all(x.source != "attack_letter.txt" for x in server["engine"].stored.letters.values())


def test_feedback_is_stored_and_exported_as_test_rows(page, server, tmp_path):
    from letterqa.cli import main
    from letterqa.evaluate import load_testset

    turn = ask(page, HEADLINE)
    turn.get_by_role("button", name="答得对").click()
    page.wait_for_selector(".lq-turn .lq-thanks")
    turn = ask(page, "信息技术产业营收增长了多少?")
    turn.get_by_role("button", name="答得不对").click()
    form = turn.locator("form.lq-down")
    form.locator("input[name=reason]").fill("引错了段落")
    form.locator("select[name=passage]").select_option(index=3)  # the second passage the turn showed
    form.get_by_role("button", name="提交").click()
    page.wait_for_function("document.querySelectorAll('.lq-thanks').length === 2")
    stored = [json.loads(x) for x in (server["settings"].index / "feedback.jsonl").read_text().splitlines()]
    assert [s["vote"] for s in stored[-2:]] == ["up", "down"] and stored[-1]["reason"] == "引错了段落"
    out = tmp_path / "from_feedback.jsonl"
    assert main(["feedback", "--export", str(out), "--index", str(server["settings"].index)]) == 0
    rows, problems = load_testset(out)
    assert not problems and {r.question for r in rows} >= {HEADLINE, "信息技术产业营收增长了多少?"}
    headline = next(r for r in rows if r.question == HEADLINE)
    assert "2023年新认定6家" in headline.quote and headline.letter.endswith(".txt")


@pytest.mark.parametrize("page", [390], indirect=True)
def test_on_a_phone_the_sources_open_as_a_tab(page):
    ask(page, HEADLINE)
    assert not page.locator(".lq-panel").is_visible()
    page.locator(".lq-turn").last.locator(".lq-chip").first.click()
    assert page.locator(".lq-panel").is_visible() and not page.locator(".lq-chat").is_visible()
    assert page.locator(".lq-panel").bounding_box()["y"] < 300
    page.get_by_role("button", name="对话", exact=True).click()
    assert page.locator(".lq-chat").is_visible()
