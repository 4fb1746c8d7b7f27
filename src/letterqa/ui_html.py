"""HTML for the chat: every piece of letter text goes through `esc`, and nothing is rendered as Markdown.

The functions take the plain, JSON-safe turn records of `ui_turns` (they live in the browser between
visits), so they can be rendered again after a reload without the index.
"""
from __future__ import annotations

import re

_CITE_MARK = re.compile(r"(\[\d+\])")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
            # gr.HTML fills a JS/Handlebars template: letter text must not be able to open one.
            "{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;", "\\": "&#92;"}
_UNSAFE = re.compile("[&<>\"'{}$`\\\\]")


def esc(text) -> str:
    """The one escape for letter text, titles, senders, sections, file names and questions."""
    return _UNSAFE.sub(lambda m: _ESCAPES[m.group()], "" if text is None else str(text))


def cn_date(iso: str) -> str:
    """2024-08-25 → 2024年8月25日; anything else as it is."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
    return f"{m[1]}年{int(m[2])}月{int(m[3])}日" if m else (iso or "")


def marked(text: str, quote: str) -> str:
    """The passage escaped, with the used sentence inside <mark>."""
    at = text.find(quote) if quote else -1
    if at < 0:
        return esc(text)
    end = at + len(quote)
    return f"{esc(text[:at])}<mark>{esc(quote)}</mark>{esc(text[end:])}"


def with_chips(line: str, turn_id: str) -> str:
    """An answer line escaped, each [n] a button that opens citation n of this turn."""
    return "".join(
        f'<button class="lq-chip" data-act="cite" data-turn="{esc(turn_id)}" data-n="{part[1:-1]}" '
        f'aria-label="出处 {part[1:-1]}">{part}</button>' if _CITE_MARK.fullmatch(part) else esc(part)
        for part in _CITE_MARK.split(line))


def letter_line(letter: dict) -> str:
    """Sender, date, 《title》, 文号, recipient: what the letter states, escaped, at body size."""
    parts = [letter.get("sender") or letter.get("source"), cn_date(letter.get("date", ""))]
    if letter.get("title"):
        parts.append(f"《{letter['title']}》")
    if letter.get("doc_number"):
        parts.append(letter["doc_number"])
    if letter.get("recipient"):
        parts.append(f"致{letter['recipient']}")
    return " · ".join(esc(p) for p in parts if p)


def section_path(path: list[str]) -> str:
    return " ＞ ".join(esc(p) for p in path)


def passage_card(turn_id: str, p: dict, open_: bool) -> str:
    """One passage of the sources panel: number, letter, section path, text with its quote marked."""
    n = p.get("n")
    label = f"〔{n}〕" if n else "·"
    anchor = f'id="src-{esc(turn_id)}-{n}"' if n else ""
    return (f'<details class="lq-source" {anchor} {"open" if open_ else ""}>'
            f'<summary><span class="lq-num">{label}</span> {letter_line(p["letter"])}'
            f'<span class="lq-path">{section_path(p["path"])}</span></summary>'
            f'<p class="lq-passage">{marked(p["text"], p.get("quote", ""))}</p>'
            f'<button class="lq-link" data-act="open" data-server="1" data-letter="{esc(p["letter_id"])}" '
            f'data-chunk="{esc(p["chunk_id"])}">查看全文</button></details>')


def sources_panel(turn: dict, selected: bool) -> str:
    """A turn's sources: the cited passages with the answer's numbers, then the other related ones."""
    cited, others = turn.get("citations", []), turn.get("others", [])
    head = "出处" if cited else "最接近的段落（未找到答案，仅供参考）"
    parts = [f'<section class="lq-sources{"" if selected else " lq-hidden"}" data-turn="{esc(turn["id"])}">',
             f'<h3>{head}</h3><p class="lq-asked">问：{esc(turn["question"])}</p>']
    parts += [passage_card(turn["id"], p, True) for p in cited]
    if others:
        if cited:
            parts.append("<h4>其他相关段落</h4>")
        parts += [passage_card(turn["id"], p, not cited) for p in others]
    if not cited and not others:
        parts.append('<p class="lq-muted">没有检索到段落。</p>')
    return "".join(parts) + "</section>"


def answer_body(turn: dict) -> str:
    """The answer: one line as a paragraph, several as a list, several letters as a table."""
    lines = [x for x in turn["text"].split("\n") if x.strip()]
    if not turn["answered"]:
        return f'<p class="lq-refusal">{esc(turn["text"])}</p>'
    by_n = {c["n"]: c for c in turn["citations"]}
    if len({c["letter_id"] for c in turn["citations"]}) > 1:
        return cross_letter_table(turn, lines, by_n)
    if len(lines) == 1:
        return f"<p>{with_chips(lines[0], turn['id'])}</p>"
    return "<ul>" + "".join(f"<li>{with_chips(x, turn['id'])}</li>" for x in lines) + "</ul>"


def cross_letter_table(turn: dict, lines: list[str], by_n: dict) -> str:
    """letter · date · what it says · [n], one row per answer line."""
    rows = []
    for line in lines:
        marks = _CITE_MARK.findall(line)
        c = by_n.get(int(marks[0][1:-1])) if marks else None
        letter = c["letter"] if c else {}
        who = letter.get("sender") or letter.get("source", "")
        title = f"《{letter['title']}》" if letter.get("title") else ""
        says = _CITE_MARK.sub("", line)
        chips = with_chips("".join(marks), turn["id"])
        rows.append(f"<tr><td>{esc(who)}<br><small>{esc(title)}</small></td><td>{esc(cn_date(letter.get('date', '')))}"
                    f"</td><td>{esc(says)}</td><td>{chips}</td></tr>")
    return ('<table class="lq-cross"><thead><tr><th>答复函</th><th>日期</th><th>内容</th><th>出处</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def copy_text(turn: dict) -> str:
    """The answer as clean text with its sources: 〔1〕山东省工业和信息化厅，2024年8月25日，《…》，一、…＞（二）…"""
    body = _CITE_MARK.sub(lambda m: f"〔{m.group()[1:-1]}〕", turn["text"])
    lines = [body, ""]
    for c in turn["citations"]:
        letter = c["letter"]
        parts = [letter.get("sender") or letter.get("source"), cn_date(letter.get("date", ""))]
        parts += [f"《{letter['title']}》" if letter.get("title") else "", letter.get("doc_number", ""),
                  "＞".join(c["path"])]
        lines.append(f"〔{c['n']}〕" + "，".join(p for p in parts if p))
    return "\n".join(lines).strip()


def turn_html(turn: dict, selected: bool) -> str:
    """One exchange: the question, the answer with its chips, how it was understood, follow-ups, feedback."""
    tid = esc(turn["id"])
    if turn.get("error"):
        return (f'<div class="lq-turn" data-turn="{tid}"><div class="lq-q">{esc(turn["question"])}</div>'
                f'<div class="lq-a lq-error" role="alert">⚠️ {esc(turn["error"])}</div></div>')
    understood = (f'<p class="lq-understood">理解为：{esc(turn["understood"])}'
                  f'<button class="lq-link" data-act="asis" data-server="1" data-q="{esc(turn["question"])}">'
                  f"不对？按原话单独提问</button></p>" if turn.get("understood") else "")
    return (f'<div class="lq-turn{" lq-selected" if selected else ""}" data-turn="{tid}">'
            f'<div class="lq-q">{esc(turn["question"])}</div>'
            f'<div class="lq-a" data-act="turn" data-turn="{tid}">{understood}{answer_body(turn)}'
            f'{filter_note(turn)}{suggestions(turn)}{tools(turn)}</div></div>')


def filter_note(turn: dict) -> str:
    """Under a refusal with filters on: say so, and offer the same question without them."""
    active = turn.get("filters") or {}
    if turn["answered"] or not any(active.values()):
        return ""
    return (f'<p class="lq-filter-note">本次提问带有筛选（{esc(filters_text(active))}），答案可能在筛选之外。'
            f'<button class="lq-btn" data-act="unfiltered" data-server="1" data-q="{esc(turn["question"])}">'
            f"去掉筛选再问</button></p>")


def filters_text(active: dict) -> str:
    labels = {"sender": "发文单位", "year": "落款年份", "letter": "只问"}
    return "；".join(f"{labels[k]}：{active[k + '_label'] if k + '_label' in active else v}"
                     for k, v in active.items() if k in labels and v)


def suggestions(turn: dict) -> str:
    items = turn.get("suggestions") or []
    if not items:
        return ""
    buttons = "".join(f'<button class="lq-suggest" data-act="ask" data-server="1" data-q="{esc(q)}">{esc(q)}</button>'
                      for q in items)
    return f'<div class="lq-suggestions"><span>接着问：</span>{buttons}</div>'


def tools(turn: dict) -> str:
    """Copy with sources, and 👍/👎 with an optional reason and the correct passage."""
    tid = esc(turn["id"])
    options = "".join(f'<option value="{i}">〔{p.get("n") or "·"}〕{esc(p["path"][-1] if p["path"] else "")}：'
                      f'{esc(p["text"][:40])}…</option>'
                      for i, p in enumerate(turn.get("citations", []) + turn.get("others", [])))
    done = turn.get("feedback")
    status = f'<span class="lq-thanks">已记录：{"👍" if done == "up" else "👎"}，谢谢</span>' if done else ""
    return (f'<div class="lq-tools"><button class="lq-btn" data-act="copy" data-turn="{tid}">复制答案（含出处）</button>'
            f'<button class="lq-btn" data-act="vote" data-server="1" data-turn="{tid}" data-vote="up" '
            f'aria-label="答得对">👍</button>'
            f'<button class="lq-btn" data-act="down" data-turn="{tid}" aria-label="答得不对">👎</button>{status}'
            f'<span class="lq-latency">{turn.get("latency_ms", 0):.0f} 毫秒</span></div>'
            f'<textarea class="lq-copy" id="copy-{tid}" hidden readonly>{esc(copy_text(turn))}</textarea>'
            f'<form class="lq-down lq-hidden" data-turn="{tid}">'
            f'<label>哪里不对（可不填）<input name="reason" maxlength="300"></label>'
            f'<label>正确的段落<select name="passage"><option value="">（不指定）</option>'
            f'<option value="none">答复函里没有这个答案</option>{options}</select></label>'
            f'<button class="lq-btn" type="button" data-act="vote" data-server="1" data-turn="{tid}" '
            f'data-vote="down">提交</button></form>')


def conversation(turns: list[dict], letters: int, passages: int, examples: list[str],
                 selected: str | None = None) -> str:
    """The whole workspace: the conversation on the left, the sources of the selected turn (default: the
    last) on the right. Only that turn's sources are sent: the page stays small as the conversation grows."""
    ids = [t["id"] for t in turns]
    selected = selected if selected in ids else (ids[-1] if ids else None)
    if turns:
        chat = "".join(turn_html(t, t["id"] == selected) for t in turns)
        panel = "".join(sources_panel(t, True) for t in turns if t["id"] == selected and not t.get("error"))
    else:
        chat, panel = landing(letters, passages, examples), '<p class="lq-muted">提问后，这里列出答案引用的段落。</p>'
    return ('<div class="lq-ws"><nav class="lq-tabs"><button data-act="tab" data-tab="chat">对话</button>'
            '<button data-act="tab" data-tab="sources">出处</button></nav>'
            f'<div class="lq-chat" role="log" aria-live="polite">{chat}</div>'
            f'<aside class="lq-panel" aria-label="出处">{panel}</aside></div>')


def landing(letters: int, passages: int, examples: list[str]) -> str:
    buttons = "".join(f'<button class="lq-suggest" data-act="ask" data-server="1" data-q="{esc(q)}">{esc(q)}</button>'
                      for q in examples)
    return (f'<div class="lq-landing"><p>已载入 <b>{letters}</b> 封答复函，共 {passages} 个段落。'
            "回答只摘录答复函原文，每句注明出处；答复函里没有的，会直说没有。</p>"
            f'<p>可以这样问：</p><div class="lq-suggestions">{buttons}</div></div>')


def filter_chips(active: dict) -> str:
    """The active filters above the input, each removable."""
    labels = {"sender": "发文单位", "year": "落款年份", "letter": "只问"}
    chips = [f'<span class="lq-filter">{labels[k]}：{esc(active.get(k + "_label") or v)}'
             f'<button data-act="unfilter" data-key="{k}" aria-label="去掉{labels[k]}筛选">×</button></span>'
             for k, v in active.items() if k in labels and v]
    return f'<div class="lq-filters">{"".join(chips)}</div>' if chips else ""


def library_table(rows: list[dict], can_remove: bool) -> str:
    """All letters: sender, date, title, 文号, recipient, passages, and what can be done with each."""
    body = []
    for r in rows:
        lid = esc(r["letter_id"])
        remove = (f'<button class="lq-btn lq-danger" data-act="remove" data-letter="{lid}">移除</button>'
                  if can_remove else "")
        body.append(f'<tr><td data-label="发文单位">{esc(r["sender"])}</td>'
                    f'<td data-label="落款日期">{esc(cn_date(r["date"]))}</td>'
                    f'<td>《{esc(r["title"] or r["source"])}》<br><small>{esc(r["source"])}</small></td>'
                    f'<td data-label="文号">{esc(r["doc_number"])}</td><td data-label="收件人">{esc(r["recipient"])}</td>'
                    f'<td data-label="段落">{r["passages"]}</td>'
                    f'<td><button class="lq-btn" data-act="open" data-letter="{lid}">查看全文</button>'
                    f'<button class="lq-btn" data-act="only" data-letter="{lid}">只问这封</button>{remove}</td></tr>')
    return (f'<p>共 {len(rows)} 封答复函。</p><table class="lq-library"><thead><tr><th>发文单位</th><th>落款日期</th>'
            "<th>标题</th><th>文号</th><th>收件人</th><th>段落</th><th></th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def letter_view(letter: dict, blocks: list[dict], focus: int | None) -> str:
    """A whole letter: its section outline, then its text, with the focused passage marked and scrolled to."""
    seen, outline = set(), []
    for b in blocks:
        for depth, heading in enumerate(b["path"]):
            key = tuple(b["path"][: depth + 1])
            if key in seen or heading in ("开头", "落款", "结语"):
                continue
            seen.add(key)
            outline.append(f'<li class="lq-d{depth}"><a href="#lq-c{b["chunk_id"]}">{esc(heading)}</a></li>')
    text = []
    for b in blocks:
        cls = "lq-block lq-focus" if b["chunk_id"] == focus else "lq-block"
        text.append(f'<div class="{cls}" id="lq-c{b["chunk_id"]}">{esc(b["text"])}</div>')
    return (f'<article class="lq-letter"><h3>{letter_line(letter)}</h3><div class="lq-letter-cols">'
            f'<nav class="lq-outline"><b>章节</b><ul>{"".join(outline)}</ul></nav>'
            f'<div class="lq-letter-text">{"".join(text)}</div></div></article>')


def upload_cards(cards: list[dict]) -> str:
    """One card per uploaded file: what was recognised, or why it was refused (never a server path)."""
    out = []
    for c in cards:
        if c.get("error"):
            out.append(f'<div class="lq-card lq-bad"><b>✗ {esc(c["name"])}</b><p>{esc(c["error"])}</p></div>')
            continue
        fields = [("发文单位", c["sender"]), ("落款日期", cn_date(c["date"])), ("标题", c["title"]),
                  ("文号", c["doc_number"]), ("识别出的段落", c["passages"])]
        rows = "".join(f"<dt>{k}</dt><dd>{esc(v) if v not in ('', None) else '（未识别）'}</dd>" for k, v in fields)
        out.append(f'<div class="lq-card lq-good"><b>✓ 已加入 {esc(c["name"])}</b><dl>{rows}</dl></div>')
    return f'<div class="lq-cards">{"".join(out)}</div>'


def steps(done: int, labels: list[str], note: str = "") -> str:
    """The upload's steps, the current one highlighted."""
    items = "".join(f'<li class="{"lq-done" if i < done else "lq-now" if i == done else ""}">{esc(x)}</li>'
                    for i, x in enumerate(labels))
    return f'<ol class="lq-steps">{items}</ol>' + (f"<p>{esc(note)}</p>" if note else "")
