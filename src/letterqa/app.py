"""The web chat. `create_app(engine, access)` builds the UI, `launch` serves it, `serve` does both.

The conversation, its sources panel, the library and the upload cards are HTML made by `ui_html`
(one escape for all letter text); their buttons call back through gr.HTML's `trigger`.
Gradio is imported lazily.
"""

import hmac
import ipaddress
import logging
import re
import socket
import sys
from dataclasses import dataclass

from . import feedback as fb
from . import ui_html as html
from . import ui_turns as turns_
from .errors import LetterQAError
from .ui_corpus import REFUSED_SUFFIXES, remove_letter, upload_cards
from .ui_assets import CSS, CHIPS_JS, LIBRARY_JS, VIEWER_JS, WORKSPACE_JS

log = logging.getLogger(__name__)

MAX_TURNS = 50  # kept in the browser's localStorage, which holds a few MB
UPLOAD_STEPS = ["检查文件", "读取并识别答复函", "切分段落、生成向量", "完成"]
_YEAR = re.compile(r"((?:19|20)\d{2})(?:\s*(?:-|—|–|~|～|至|到)\s*((?:19|20)\d{2}))?")


@dataclass(frozen=True)
class Access:
    """Who may add or remove letters: signed-in users when a password is set, else anyone on loopback."""

    password: str | None = None
    open_changes: bool = True      # without a password: True when served on loopback only

    def may_change(self, signed_in: bool) -> bool:
        return bool(signed_in) if self.password else self.open_changes

    def why_not(self) -> str:
        if self.password:
            return "添加或移除答复函需要先登录（管理员密码）。"
        return "此服务不在本机地址上运行，为只读模式：不能添加或移除答复函。设置 LETTERQA_ADMIN_PASSWORD 后可登录修改。"


def access_for(host: str, password: str | None) -> Access:
    return Access(password or None, is_loopback(host))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------- the question turn

def parse_year(text) -> int | str | None:
    """The 落款年份 filter as typed: empty, 2023, or a range 2021-2023 (also 2021至2023)."""
    text = str(text or "").strip()
    if not text:
        return None
    m = _YEAR.fullmatch(text)
    if not m:
        raise LetterQAError(f"落款年份“{text}”看不懂：请填四位年份，如 2023，或范围，如 2021-2023；留空为全部年份。")
    if not m[2] or m[1] == m[2]:
        return int(m[1])
    low, high = sorted((m[1], m[2]))
    return f"{low}-{high}"


def ask_engine(engine, question: str, sender: str | None, year, letter: str | None, previous):
    """Engine.ask with the chat's filters and the previous turn."""
    return engine.ask(question, sender=sender or None, year=year, letter=letter or None, previous=previous)


def active_filters(engine, sender, year, letter) -> dict:
    """The filters as a turn records them (with a readable label for the letter)."""
    active = {"sender": sender or "", "year": str(year or "").strip(), "letter": letter or ""}
    if letter and letter in engine.stored.letters:
        x = engine.stored.letters[letter]
        active["letter_label"] = f"《{x.title}》" if x.title else x.source
    return active


def run_turn(engine, question: str, turns: list, sender="", year="", letter="",
             follow: bool = True) -> tuple[list, object]:
    """One question: the turns with the new one appended, and the Answer (None on an error).
    With `follow`, the question may lean on the last answered turn; without, it is asked on its own."""
    question = (question or "").strip()
    turns = list(turns or [])
    if not question:
        return turns + [turns_.error_record("", "请先输入问题，例如：2023年新认定多少家省制造业创新中心?")], None
    try:
        years = parse_year(year)
        if letter and letter not in engine.stored.letters:
            raise LetterQAError("“只问这封”选的答复函已不在库中：请在答复函库里重新选择。")
        asked = [t for t in turns if not t.get("error")]  # a message about a bad filter is not a turn to follow
        previous = turns_.answer_of(asked[-1], engine.stored) if asked and follow else None
        answer = ask_engine(engine, question, sender, years, letter, previous)
    except LetterQAError as exc:
        return turns + [turns_.error_record(question, str(exc))], None
    record = turns_.turn_record(answer, active_filters(engine, sender, year, letter),
                                turns_.followups(answer, engine.stored))
    return (turns + [record])[-MAX_TURNS:], answer


def workspace_html(engine, turns: list, selected: str | None = None) -> str:
    stored = engine.stored
    return html.conversation(turns or [], len(stored.letters), len(stored.chunks), turns_.examples(stored), selected)


# ---------------------------------------------------------------- feedback

def vote(engine, turns: list, data: dict) -> list:
    """Store a 👍/👎 on one turn, and mark the turn as voted."""
    turn = next((t for t in turns if t["id"] == data.get("turn")), None)
    if turn is None or turn.get("error") or data.get("vote") not in ("up", "down"):
        return turns
    passages = turn["citations"] + turn["others"]
    choice = str(data.get("passage") or "")
    correct = passages[int(choice)] if choice.isdigit() and int(choice) < len(passages) else None
    fb.record(engine.settings.index, fb.Feedback(
        question=turn["question"], answer=turn["text"], answered=turn["answered"], vote=data.get("vote", ""),
        reason=str(data.get("reason") or "")[:300],
        cited=tuple({"source": c["letter"]["source"], "section": " > ".join(c["path"]), "quote": c["quote"]}
                    for c in turn["citations"]),
        correct={"source": correct["letter"]["source"], "section": " > ".join(correct["path"]),
                 "text": correct["text"]} if correct else None,
        no_answer=choice == "none"))
    return [{**t, "feedback": data.get("vote")} if t is turn else t for t in turns]


# ---------------------------------------------------------------- the Gradio app

def sender_choices(engine) -> list[tuple[str, str]]:
    return [("全部发文单位", "")] + [(s, s) for s in sorted({x.sender for x in engine.stored.letters.values() if x.sender})]


def letter_choices(engine) -> list[tuple[str, str]]:
    rows = turns_.library_rows(engine.stored)
    return [("全部答复函", "")] + [(f"{r['sender'] or r['source']} · 《{r['title'] or r['source']}》", r["letter_id"])
                                   for r in rows]


def header_html(engine) -> str:
    return (f'<div class="lq-header"><h1>答复函问答</h1><span>已载入 {len(engine.stored.letters)} 封答复函 · '
            f"{len(engine.stored.chunks)} 个段落</span></div>")


def chips_html(sender, year, letter, engine) -> str:
    try:
        parse_year(year)
        warning = ""
    except LetterQAError as exc:
        warning = f'<p class="lq-warn" role="alert">{html.esc(exc)}</p>'
    return html.filter_chips(active_filters(engine, sender, year, letter)) + warning


def upload_intro(access: Access) -> str:
    if access.password or not access.open_changes:
        return access.why_not()
    return "上传后立即可问；每个文件显示识别出的发文单位、日期、标题和文号。"


def create_app(engine, access: Access | None = None):
    """Build the Gradio Blocks UI around a loaded Engine (not launched)."""
    import gradio as gr

    access = access or Access()
    with gr.Blocks(title="答复函问答 · letterqa") as demo:
        turns_state = gr.BrowserState([], storage_key="letterqa-turns")
        signed_in = gr.State(False)
        header = gr.HTML(header_html(engine))
        with gr.Tabs() as tabs:
            with gr.Tab("问答", id="chat"):
                workspace = gr.HTML(workspace_html(engine, []), js_on_load=WORKSPACE_JS, elem_id="lq-workspace")
                chips = gr.HTML("", js_on_load=CHIPS_JS, elem_id="lq-chips")
                with gr.Row(equal_height=True, elem_id="lq-input-row"):
                    box = gr.Textbox(label="问题", placeholder="输入问题后回车，例如：2023年新认定多少家省制造业创新中心?",
                                     submit_btn="提问", scale=6, elem_id="lq-box")
                    clear = gr.Button("清空对话", scale=1, min_width=100, elem_id="lq-clear")
                with gr.Row():
                    sender = gr.Dropdown(sender_choices(engine), value="", label="发文单位", elem_id="lq-sender")
                    year = gr.Textbox(label="落款年份", placeholder="如 2023 或 2021-2023，留空为全部",
                                      elem_id="lq-year")
                    letter = gr.Dropdown(letter_choices(engine), value="", label="只问这封", elem_id="lq-letter")
                answer_json = gr.JSON(visible=False)
            with gr.Tab("答复函库", id="library"):
                library = gr.HTML(html.library_table(turns_.library_rows(engine.stored), False),
                                  js_on_load=LIBRARY_JS, elem_id="lq-library")
                viewer = gr.HTML("", js_on_load=VIEWER_JS, elem_id="lq-viewer")
            with gr.Tab("添加答复函", id="upload"):
                gr.HTML(f'<p class="lq-muted">{html.esc(upload_intro(access))}</p>')
                with gr.Row(visible=bool(access.password)):
                    password = gr.Textbox(label="管理员密码", type="password", scale=3, elem_id="lq-password")
                    login = gr.Button("登录", scale=1, elem_id="lq-login")
                login_status = gr.HTML("")
                files = gr.File(label="答复函文件（.txt .md .html .docx .pdf）", file_count="multiple",
                                file_types=[".txt", ".md", ".html", ".htm", ".docx", ".pdf", *REFUSED_SUFFIXES],
                                elem_id="lq-files")
                upload_out = gr.HTML('<p class="lq-muted">选择文件后，这里显示处理步骤和识别结果。</p>',
                                     elem_id="lq-upload-out")

        filters = [sender, year, letter]

        def on_ask(question, turns, who, when, which, follow=True):
            turns, answer = run_turn(engine, question, turns, who, when, which, follow)
            from .answer import answer_to_dict

            data = answer_to_dict(answer) if answer is not None else {"error": turns[-1].get("error", "")}
            return workspace_html(engine, turns), turns, "", data

        def on_workspace(turns, who, when, which, evt: gr.EventData):
            data = evt._data or {}
            act, keep = data.get("act"), gr.skip()
            if act == "ask":
                return (*on_ask(data.get("q", ""), turns, who, when, which)[:3], keep, keep, keep, keep, keep)
            if act == "asis":
                return (*on_ask(data.get("q", ""), turns, who, when, which, False)[:3], keep, keep, keep, keep, keep)
            if act == "unfiltered":
                page, turns, box_ = on_ask(data.get("q", ""), turns, "", "", "")[:3]
                return page, turns, box_, "", "", "", keep, keep
            if act == "select":  # an earlier turn's sources
                return workspace_html(engine, turns, data.get("turn")), keep, keep, keep, keep, keep, keep, keep
            if act == "vote":
                turns = vote(engine, turns, data)
                return workspace_html(engine, turns, data.get("turn")), turns, keep, keep, keep, keep, keep, keep
            if act == "open":
                return keep, keep, keep, keep, keep, keep, gr.Tabs(selected="library"), \
                    view_letter(data.get("letter"), data.get("chunk"))
            return keep, keep, keep, keep, keep, keep, keep, keep

        def view_letter(letter_id, chunk=None):
            if letter_id not in engine.stored.letters:
                return '<p class="lq-warn">这封答复函已不在库中。</p>'
            focus = int(chunk) if str(chunk or "").lstrip("-").isdigit() else None
            record = turns_.letter_record(engine.stored.letters[letter_id])
            return html.letter_view(record, turns_.letter_blocks(engine.stored, letter_id), focus)

        def library_page(signed):
            return html.library_table(turns_.library_rows(engine.stored), access.may_change(signed))

        def corpus_changed(signed, turns):
            """Everything that lists letters, after an upload or a removal."""
            return (header_html(engine), library_page(signed), gr.Dropdown(choices=sender_choices(engine)),
                    gr.Dropdown(choices=letter_choices(engine)), workspace_html(engine, turns))

        def on_library(signed, turns, which, evt: gr.EventData):
            data, keep = evt._data or {}, gr.skip()
            act, letter_id = data.get("act"), data.get("letter")
            if act == "open":
                return (keep,) * 6 + (view_letter(letter_id),)
            if act == "only":
                return (keep,) * 3 + (gr.Dropdown(value=letter_id), keep, gr.Tabs(selected="chat"), keep)
            if act == "remove":
                if not access.may_change(signed):
                    return (keep,) * 6 + (f'<p class="lq-warn">{html.esc(access.why_not())}</p>',)
                try:
                    name = remove_letter(engine, letter_id)
                    note = f'<p class="lq-ok">已移除 {html.esc(name)}（文件移到了索引文件夹的 trash 里，可以找回）。</p>'
                except LetterQAError as exc:
                    note = f'<p class="lq-warn">{html.esc(exc)}</p>'
                head, lib, senders, letters, page = corpus_changed(signed, turns)
                chosen = gr.Dropdown(choices=letter_choices(engine), value="" if which == letter_id else which)
                return head, lib, senders, chosen, page, keep, note
            return (keep,) * 7

        def on_unfilter(evt: gr.EventData):
            key = (evt._data or {}).get("key")
            return tuple("" if k == key else gr.skip() for k in ("sender", "year", "letter"))

        def on_upload(uploaded, signed, turns, progress=gr.Progress()):
            paths = [getattr(f, "name", f) for f in (uploaded or [])]
            keep = gr.skip()
            if not paths:
                yield '<p class="lq-muted">没有选择文件。</p>', keep, keep, keep, keep, keep
                return
            if not access.may_change(signed):
                yield f'<p class="lq-warn" role="alert">未加入：{html.esc(access.why_not())}</p>', keep, keep, keep, keep, keep
                return
            yield html.steps(1, UPLOAD_STEPS, f"正在处理 {len(paths)} 个文件…"), keep, keep, keep, keep, keep
            cards = upload_cards(engine, paths, progress=lambda f, desc: progress(f, desc="生成向量"))
            added = sum("error" not in c for c in cards)
            page = (html.steps(4, UPLOAD_STEPS, f"完成：加入 {added} 封，未加入 {len(cards) - added} 个文件。")
                    + html.upload_cards(cards))
            yield (page, *corpus_changed(signed, turns))

        def on_login(typed):
            ok = bool(access.password) and hmac.compare_digest(str(typed or "").encode(), access.password.encode())
            note = ('<p class="lq-ok">已登录：可以添加和移除答复函。</p>' if ok
                    else '<p class="lq-warn" role="alert">密码不对。</p>')
            return ok, note, library_page(ok), ""

        def on_load(turns):
            return workspace_html(engine, turns or []), header_html(engine), library_page(False), \
                gr.Dropdown(choices=sender_choices(engine)), gr.Dropdown(choices=letter_choices(engine))

        box.submit(on_ask, [box, turns_state, *filters], [workspace, turns_state, box, answer_json], api_name="chat")
        workspace.click(on_workspace, [turns_state, *filters],
                        [workspace, turns_state, box, *filters, tabs, viewer], api_visibility="private")
        library.click(on_library, [signed_in, turns_state, letter],
                      [header, library, sender, letter, workspace, tabs, viewer], api_visibility="private")
        chips.click(on_unfilter, None, filters, api_visibility="private")
        for f in filters:
            f.change(lambda a, b, c: chips_html(a, b, c, engine), filters, chips, api_visibility="private")
        clear.click(lambda: (workspace_html(engine, []), [], ""), None, [workspace, turns_state, box],
                    api_visibility="private")
        files.upload(on_upload, [files, signed_in, turns_state],
                     [upload_out, header, library, sender, letter, workspace], api_name="upload")
        login.click(on_login, password, [signed_in, login_status, library, password], api_name="login")
        demo.load(on_load, turns_state, [workspace, header, library, sender, letter], api_visibility="private")
    demo.letterqa_max_mb = engine.settings.max_file_mb
    return demo


def launch(demo, **kwargs):
    """Launch with the chat's CSS, no footer links (no "Use via API"), and the upload size limit."""
    mb = getattr(demo, "letterqa_max_mb", 20.0)
    return demo.queue(default_concurrency_limit=1).launch(
        css=CSS, footer_links=[], max_file_size=f"{int(mb)}mb", show_error=False, **kwargs)


class PortInUse(LetterQAError):
    def __init__(self, port: int):
        super().__init__(f"port {port} is in use: serve on another one with `letterqa serve --port {port + 1}` "
                         f"or `make run PORT={port + 1}`")


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def serve(settings, host: str = "127.0.0.1", port: int = 7860, password: str | None = None) -> None:
    """Load the engine once and serve the chat until interrupted."""
    from .engine import Engine

    if not port_free(host, port):
        raise PortInUse(port)
    access = access_for(host, password)
    if not access.password and not access.open_changes:
        print(f"letterqa: serving {host} read-only: uploads and removals are off on a non-loopback address "
              "unless LETTERQA_ADMIN_PASSWORD is set", file=sys.stderr)
    engine = Engine.open(settings)
    try:
        launch(create_app(engine, access), server_name=host, server_port=port)
    except OSError as exc:  # taken while the model loaded, or by another address on the same port
        raise PortInUse(port) from exc
