"""The web chat. `create_app(engine)` builds the UI; `serve` launches it. Gradio is imported lazily."""
from __future__ import annotations

import logging
import re

from .errors import LetterQAError
from .present import letter_label, mark_quote
from .records import Answer

log = logging.getLogger(__name__)

EXAMPLES = [
    "2023年新认定多少家省制造业创新中心?",
    "到2025年专精特新中小企业的培育目标是多少?",
    "信息技术产业营收增长了多少?",
    "How many provincial manufacturing innovation centres were newly recognised in 2023?",
]
_MD_SPECIAL = re.compile(r"([\\`*_#\[\]<>|~])")
_MARK = re.compile(r"(\[\d+\])")


def md_escape(text: str) -> str:
    """Letter text shown as text: markdown and HTML characters are escaped, never interpreted."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def answer_messages(answer: Answer) -> list[dict]:
    """The assistant's messages: the answer, then one collapsible block per cited passage."""
    # Escape the letter's words but keep the [n] marks readable.
    content = "".join(part if _MARK.fullmatch(part) else md_escape(part) for part in _MARK.split(answer.text))
    messages = [{"role": "assistant", "content": content}]
    if answer.answered:
        for c in answer.citations:
            passage = mark_quote(md_escape(c.chunk.text), md_escape(c.quote), "**", "**")
            body = f"{md_escape(c.chunk.section)}\n\n{passage}"
            messages.append({"role": "assistant", "content": body,
                             "metadata": {"title": f"引用 [{c.n}] {letter_label(c.letter)}", "status": "done"}})
    return messages


def sources_markdown(answer: Answer) -> str:
    """The side panel: every retrieved passage, ranked, with its letter and section."""
    if not answer.hits:
        return "没有检索到段落。"
    title = "### 来源 Sources" if answer.answered else "### 最接近的段落 (未找到答案)"
    lines = [title]
    for i, hit in enumerate(answer.hits, 1):
        letter = answer.letters.get(hit.chunk.letter_id)
        label = letter_label(letter) if letter else hit.chunk.letter_id
        lines.append(f"**{i}. {md_escape(label)}**  \n{md_escape(hit.chunk.section)}\n\n> {md_escape(hit.chunk.text)}")
    return "\n\n".join(lines)


def respond(engine, message: str, history: list | None, sender: str | None = None,
            year: str | int | None = None) -> tuple[list, str]:
    """One chat turn: the new history and the sources panel. Errors become a chat message."""
    history = list(history or [])
    history.append({"role": "user", "content": message})
    try:
        answer = engine.ask(message, sender=sender or None, year=parse_year(year))
    except LetterQAError as exc:
        history.append({"role": "assistant", "content": f"⚠️ {exc}"})
        return history, ""
    history.extend(answer_messages(answer))
    return history, sources_markdown(answer)


def parse_year(year: str | int | None) -> int | None:
    """The year filter as typed: empty for all years, else four digits."""
    text = str(year or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"(19|20)\d{2}", text):
        raise LetterQAError(f"the year filter {text!r} is not a year: type four digits such as 2023, or leave it empty")
    return int(text)


def sender_choices(engine) -> list[str]:
    """The senders of the indexed letters, for the filter."""
    return sorted({x.sender for x in engine.stored.letters.values() if x.sender})


def upload(engine, files, progress=None) -> str:
    """Add uploaded letter files to the corpus and the index; returns a status line."""
    from .build import add_letters

    paths = [getattr(f, "name", f) for f in (files or [])]
    if not paths:
        return "没有选择文件。"
    try:
        report = add_letters(engine.settings, paths, embedder=engine.embedder, progress=progress)
    except LetterQAError as exc:
        return f"⚠️ {exc}"
    engine.refresh()
    lines = [f"✅ 已加入 {name}" for name in report.added]
    lines += [f"⚠️ 未加入 {md_escape(e)}" for e in report.errors + report.duplicates]
    if report.letters:
        lines.append(report.summary())
    return "\n\n".join(lines)


def create_app(engine):
    """Build the Gradio Blocks UI around a loaded Engine (not launched)."""
    import gradio as gr

    with gr.Blocks(title="letterqa · 答复函问答") as demo:
        gr.Markdown("## letterqa · 答复函问答\n用中文或英文提问，回答引用答复函原文及其章节。")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="对话", height=520, placeholder="例如：2023年新认定多少家省制造业创新中心?")
                box = gr.Textbox(label="问题", placeholder="输入问题后回车", submit_btn=True)
                gr.Examples(EXAMPLES, inputs=box)
            with gr.Column(scale=2):
                with gr.Accordion("筛选 Filters", open=False):
                    sender = gr.Dropdown([""] + sender_choices(engine), value="", label="发文单位 Sender",
                                         allow_custom_value=True)
                    year = gr.Textbox(label="年份 Year", placeholder="如 2023，留空为全部")
                with gr.Accordion("上传答复函 Add letters", open=False):
                    files = gr.File(label=".txt .md .html .docx .pdf", file_count="multiple",
                                    file_types=[".txt", ".md", ".html", ".htm", ".docx", ".pdf"])
                    status = gr.Markdown()
                sources = gr.Markdown("### 来源 Sources\n提问后这里显示检索到的段落。")

        def on_submit(message, history, who, when):
            new_history, panel = respond(engine, message, history, who, when)
            return new_history, panel, ""

        def on_upload(uploaded, progress=gr.Progress()):
            text = upload(engine, uploaded, progress=lambda f, desc: progress(f, desc=desc))
            return text, gr.Dropdown(choices=[""] + sender_choices(engine))

        box.submit(on_submit, [box, chatbot, sender, year], [chatbot, sources, box], api_name="chat")
        files.upload(on_upload, files, [status, sender], api_name="upload")
    return demo


def serve(settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the engine once and serve the chat until interrupted."""
    from .engine import Engine

    engine = Engine.open(settings)
    demo = create_app(engine)
    demo.queue(default_concurrency_limit=1).launch(server_name=host, server_port=port)
