"""The chat in a real browser: time to interactive, answer latency as the user sees it, and screenshots.

    .venv/bin/python benchmarks/bench_chat.py --corpus corpus --index index [--screenshots docs/screenshots]

Works on copies of the corpus and index in a temporary folder (the upload screenshot adds a letter there).
Needs Debian's chromium at /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
QUESTIONS = ["2023年新认定多少家省制造业创新中心?", "到2025年专精特新中小企业的培育目标是多少?",
             "信息技术产业营收增长了多少?", "这封答复是谁签发的?", "成都全市累计建成了多少个噪声自动监测站点?",
             "江苏省2023年新认定了多少家制造业创新中心?"]
LETTERS = Path(__file__).resolve().parent.parent / "tests" / "data" / "letters"
UPLOADS = {False: LETTERS / "03_ha_agriculture_2021_gb18030.txt", True: LETTERS / "04_sc_health_2024.pdf"}
OLD_DOC = Path(tempfile.gettempdir()) / "旧版答复.doc"


def start(corpus: Path, index: Path):
    from letterqa.app import create_app, launch
    from letterqa.config import Settings
    from letterqa.engine import Engine

    work = Path(tempfile.mkdtemp(prefix="bench_chat_"))
    shutil.copytree(corpus, work / "corpus")
    shutil.copytree(index, work / "index")
    engine = Engine.open(Settings(corpus=work / "corpus", index=work / "index"))
    demo = create_app(engine)
    _, url, _ = launch(demo, prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    return demo, url, work


def ask(page, question: str) -> float:
    """Milliseconds from Enter to the answer on screen."""
    before = page.locator(".lq-turn").count()
    page.fill("#lq-box textarea", question)
    t0 = page.evaluate("performance.now()")
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.lq-turn').length > {before}")
    return page.evaluate("performance.now()") - t0


def time_to_interactive(browser, url: str, runs: int = 5) -> list[float]:
    """Milliseconds from navigation start until the landing page's example buttons are on screen."""
    out = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector(".lq-landing .lq-suggest")
        out.append(page.evaluate("performance.now()"))
        context.close()
    return out


def shoot(page, path: Path) -> None:
    """A screenshot in 256 colours: a third of the size, still sharp for text."""
    from PIL import Image

    page.screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)


def screenshots(browser, url: str, folder: Path, width: int, tag: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    mobile = width < 600
    context = browser.new_context(viewport={"width": width, "height": 844 if mobile else 900}, locale="zh-CN",
                                  device_scale_factor=1)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(".lq-landing")
    ask(page, QUESTIONS[0])
    page.locator(".lq-turn").last.locator(".lq-chip").first.click()
    time.sleep(0.3)
    shoot(page, folder / f"answer-{tag}.png")
    if mobile:
        page.get_by_role("button", name="对话", exact=True).click()
    ask(page, "那到2025年呢?")
    time.sleep(0.3)
    shoot(page, folder / f"follow-up-{tag}.png")
    page.get_by_role("tab", name="答复函库").click()
    page.locator(".lq-library tbody tr").first.get_by_role("button", name="查看全文").click()
    page.wait_for_selector(".lq-letter")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, folder / f"library-{tag}.png")
    page.get_by_role("tab", name="添加答复函").click()
    page.locator("#lq-files input[type=file]").set_input_files([str(UPLOADS[mobile]), str(OLD_DOC)])
    page.wait_for_selector("#lq-upload-out .lq-cards", timeout=120_000)
    page.locator("#lq-upload-out").scroll_into_view_if_needed()
    shoot(page, folder / f"upload-{tag}.png")
    context.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    p.add_argument("--index", type=Path, default=Path("index"))
    p.add_argument("--screenshots", type=Path, help="save desktop and 390 px screenshots here")
    args = p.parse_args()
    demo, url, work = start(args.corpus, args.index)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            tti = time_to_interactive(browser, url)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(url)
            page.wait_for_selector(".lq-landing")
            ask(page, QUESTIONS[0])  # the first answer of a session pays for Gradio's queue start-up
            latency, engine_ms = [], []
            for q in QUESTIONS * 3:
                latency.append(ask(page, q))
                engine_ms.append(float(page.locator(".lq-latency").last.inner_text().split()[0]))
            print(f"time to interactive (ms, {len(tti)} loads): median {statistics.median(tti):.0f}, "
                  f"max {max(tti):.0f}")
            qs = statistics.quantiles(latency, n=20)
            print(f"answer on screen (ms, {len(latency)} questions): p50 {statistics.median(latency):.0f}, "
                  f"p95 {qs[18]:.0f}, max {max(latency):.0f}; of which Engine.ask p50 {statistics.median(engine_ms):.0f}")
            # The whole conversation is re-rendered and sent back and forth each turn: show how that grows.
            print(f"answer on screen by turn: turns 2-7 p50 {statistics.median(latency[:6]):.0f}, "
                  f"turns 14-19 p50 {statistics.median(latency[-6:]):.0f}")
            if args.screenshots:
                OLD_DOC.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(64))  # an old Word file, to show its refusal
                screenshots(browser, url, args.screenshots, 1280, "desktop")
                screenshots(browser, url, args.screenshots, 390, "mobile")
                print(f"screenshots in {args.screenshots}")
            browser.close()
    finally:
        demo.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
