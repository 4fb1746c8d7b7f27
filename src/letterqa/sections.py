"""Split a letter into a section tree of chunks: 一、 › (一) › 1. › (1) › 一是…, one chunk per smallest section.

Parts outside the numbered sections get fixed paths:
- ("页面信息",): the page's information block (索引号, 发布时间, 文号…) the reader put first.
- ("开头",): all before the first top-level heading (title, salutation, 已收悉…现答复如下); in a letter
  with no numbering, the short title line, the salutation and the 收悉/如下 paragraph at the top.
- ("落款",): the first date line among the last six paragraphs, the organisation line above it (and
  lines above ending in 厅/局/委…, for joint replies) and all after it (contact line, 抄送). No date:
  trailing contact lines and named organisations.
- ("结语",): short paragraphs above the sign-off opening with a closing formula (感谢…, 特此答复,
  欢迎…): their own chunk, as they are the letter's words yet belong to no section.
A letter with no numbering gets ("第1段",), ("第2段",)… per paragraph, counted after the opening.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from letterqa.genre import DATE, ISO_DATE, NUMBERING, ORG_SUFFIX, PAGE_LINE
from letterqa.records import Chunk, Letter

CHUNKER_VERSION = "7"

_MARKER = NUMBERING
_ENUM = re.compile(r"([一二三四五六七八九十]{1,3})是|第([一二三四五六七八九十]{1,3})[，,、：:]")
_CLAUSE = re.compile(r"[^。；;：:！？!?\n]*")
_SENTENCE_END = re.compile(r"[。！？；!?;][”’」』）)》】]*|\n")
_COMMA = re.compile(r"[，,]")
_NEWLINE = re.compile(r"\n")
_DATE = re.compile(f"{DATE.pattern}|{ISO_DATE.pattern}")  # a sign-off date line, as the reader reads dates
_CONTACT = re.compile(r"联系人|联系电话|联系单位|联系方式|电话|抄送")
_BRACKETED = re.compile(r"[（(].*[）)]")
_ORG = re.compile(r"[^。！？；;!?，,：:]{2,40}")
_CLOSING = re.compile(r"(?:最后[，,]?)?(?:再次|衷心|诚挚)?(?:感谢|谢谢|特此|此复|专此|欢迎|敬请|希望您?继续)")
_SALUTATION = re.compile(r"[^。！？；;!?]{1,30}[：:]")
_RECEIVED = re.compile(r"收悉|如下[：:]$")


class _Block(NamedTuple):
    path: tuple[str, ...]
    start: int  # paragraph start, heading included
    body: int   # where the text after the heading starts; == end for a heading-only line
    end: int


def split_sections(letter: Letter, max_chars: int = 300) -> list[Chunk]:
    """Chunks of `letter`, one per smallest section body, each with the headings above it; ids 0..n-1."""
    text = letter.text
    paras = _spans(text, 0, len(text), _NEWLINE)
    page = 0  # the page's information block, which the reader put first
    while page < len(paras) and PAGE_LINE.match(text, *paras[page]):
        page += 1
    page_pieces, paras = [(("页面信息",), s, e) for s, e in paras[:page]], paras[page:]
    sign = _signoff_start(text, paras)
    close = _closing_start(text, paras, sign)
    opening = _opening_end(text, paras[:close])
    pieces = page_pieces + [(("开头",), s, e) for s, e in paras[:opening]]
    pieces += _body_pieces(text, paras[opening:close])
    pieces += [(("结语",), s, e) for s, e in paras[close:sign]]
    pieces += [(("落款",), s, e) for s, e in paras[sign:]]
    packed = _pack(text, pieces, max_chars)
    return [Chunk(i, letter.letter_id, path, text[s:e], s, e) for i, (path, s, e) in enumerate(packed)]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of `text`: ends after 。！？；!?; (and closing quotes/brackets) and at newlines."""
    return _spans(text, 0, len(text), _SENTENCE_END)


def _spans(text: str, start: int, end: int, boundary: re.Pattern) -> list[tuple[int, int]]:
    """Non-empty, whitespace-stripped spans of text[start:end], each ending after a boundary match."""
    spans, pos = [], start
    for m in boundary.finditer(text, start, end):
        spans.append(_strip(text, pos, m.end()))
        pos = m.end()
    spans.append(_strip(text, pos, end))
    return [(a, b) for a, b in spans if a < b]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """The span moved inwards past surrounding whitespace, so chunk text needs no .strip()."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _level(text: str, start: int, end: int) -> int:
    """Numbering level 1–4 of the paragraph text[start:end], 0 if it opens with no marker."""
    m = _MARKER.match(text, start, end)
    return int(m.lastgroup[1]) if m else 0


def _signoff_start(text: str, paras: list[tuple[int, int]]) -> int:
    """Index of the first sign-off paragraph (organisation, date, contact), len(paras) if none."""
    lines = [text[s:e] for s, e in paras]
    dates = [i for i in range(max(0, len(lines) - 6), len(lines)) if _DATE.fullmatch(lines[i])]
    if not dates:  # without a date only unmistakable lines count: contacts and named organisations
        start = len(lines)
        while start and (_is_contact(lines[start - 1]) or _is_org(lines[start - 1], True)):
            start -= 1
        return start
    start = dates[0]
    if start and _is_org(lines[start - 1], False):  # the signer stands just above the date
        start -= 1
    while start and _is_org(lines[start - 1], True):  # a joint reply has one line per organisation
        start -= 1
    return start


def _is_contact(line: str) -> bool:
    """A contact or 抄送 line: bracketed, or naming a phone/contact without being a sentence."""
    if _MARKER.match(line) or len(line) > 80:
        return False
    return bool(_BRACKETED.fullmatch(line) or (_CONTACT.search(line) and "。" not in line))


def _is_org(line: str, need_suffix: bool) -> bool:
    """A short line with no sentence punctuation, like 山东省工业和信息化厅."""
    if _MARKER.match(line) or _CLOSING.match(line) or not _ORG.fullmatch(line):
        return False
    return not need_suffix or bool(ORG_SUFFIX.search(line))


def _closing_start(text: str, paras: list[tuple[int, int]], sign: int) -> int:
    """Index of the closing-formula paragraphs (感谢…, 特此答复) standing just above the sign-off."""
    start = sign
    while start:
        s, e = paras[start - 1]
        if e - s > 80 or not _CLOSING.match(text, s, e):  # a long paragraph is body text, however it opens
            break
        start -= 1
    return start


def _opening_end(text: str, paras: list[tuple[int, int]]) -> int:
    """Index of the first paragraph after the opening: the first top-level heading, if any."""
    levels = [_level(text, s, e) for s, e in paras]
    numbered = [lv for lv in levels if lv]
    if numbered:
        return levels.index(min(numbered))
    for i, (s, e) in enumerate(paras[:6]):  # a page may put debris above the title: the 收悉 paragraph ends it
        if _RECEIVED.search(text, s, e) and i + 1 < len(paras):
            return i + 1
    end = 0
    for i, (s, e) in enumerate(paras[:3]):  # title, salutation, 收悉 paragraph: never more
        line = text[s:e]
        title = i == 0 and len(line) <= 50 and not _SENTENCE_END.search(line)
        if not (title or _SALUTATION.fullmatch(line) or _RECEIVED.search(line)):
            break
        end = i + 1
    return end


def _body_pieces(text: str, paras: list[tuple[int, int]]) -> list[tuple[tuple[str, ...], int, int]]:
    """(path, start, end) of each section body between the opening and the closing."""
    if any(_level(text, s, e) for s, e in paras):
        blocks = _drop_parent_headings(_numbered_blocks(text, paras))
    else:
        blocks = [_Block((f"第{n}段",), s, s, e) for n, (s, e) in enumerate(paras, 1)]
    pieces = []
    for group in _groups(blocks):
        pieces += _group_pieces(text, group)
    return pieces


def _numbered_blocks(text: str, paras: list[tuple[int, int]]) -> list[_Block]:
    """Each paragraph with the path of headings above it; a numbered one opens its own level."""
    stack, blocks = [], []  # stack: (level, heading) of the sections still open
    for s, e in paras:
        m = _MARKER.match(text, s, e)
        body = s
        if m:
            level = int(m.lastgroup[1])
            head_end, body = _heading(text, s, e, m.end())
            while stack and stack[-1][0] >= level:  # a higher or equal level closes the lower ones
                stack.pop()
            stack.append((level, text[s:head_end]))
        blocks.append(_Block(tuple(h for _, h in stack), s, body, e))
    return blocks


def _heading(text: str, start: int, end: int, marker_end: int) -> tuple[int, int]:
    """(heading end, body start) of a numbered paragraph; the body start is `end` for a heading-only line."""
    clause_end = _CLAUSE.match(text, marker_end, end).end()
    head_end, body = _clip(text, start, clause_end)
    if body == clause_end < end:
        body += 1  # the 。 or ： that closes the heading
    return head_end, _strip(text, body, end)[0]


def _clip(text: str, start: int, end: int, limit: int = 40) -> tuple[int, int]:
    """(heading end, rest start): a heading past `limit` chars is cut, at a comma when one is in reach."""
    if end - start <= limit:
        return end, end
    comma = _COMMA.search(text, start, start + limit)
    return (comma.start(), comma.end()) if comma else (start + limit, start + limit)


def _drop_parent_headings(blocks: list[_Block]) -> list[_Block]:
    """Heading-only lines with content below live on in paths; a bare leaf heading is its own text."""
    kept = []
    for i, b in enumerate(blocks):
        below = blocks[i + 1].path[: len(b.path)] == b.path if i + 1 < len(blocks) else False
        if b.body < b.end:
            kept.append(b)
        elif not below:
            kept.append(b._replace(body=b.start))
    return kept


def _groups(blocks: list[_Block]) -> list[list[_Block]]:
    """Runs of blocks forming one section body: a numbered paragraph and the plain ones after it."""
    groups: list[list[_Block]] = []
    for b in blocks:
        if groups and groups[-1][-1].path == b.path and b.body == b.start:
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups


def _group_pieces(text: str, group: list[_Block]) -> list[tuple[tuple[str, ...], int, int]]:
    """A section body as pieces: its paragraphs, or lead text, one piece per 一是/二是 item, tail text."""
    path, start, end = group[0].path, group[0].body, group[-1].end
    items = _enumeration(text, start, end)
    if not items:
        return [(path, b.start, b.end) for b in group]
    # The last item ends with its paragraph: plain paragraphs after it speak for the whole section.
    last_end = text.find("\n", items[-1], end)
    last_end = end if last_end < 0 else last_end
    pieces = [(path, *_strip(text, start, items[0]))]
    for a, b in zip(items, items[1:] + [last_end]):
        s, e = _strip(text, a, b)
        pieces.append((path + (_clause(text, s, e),), s, e))
    pieces.append((path, *_strip(text, last_end, end)))
    return [p for p in pieces if p[1] < p[2]]


def _enumeration(text: str, start: int, end: int) -> list[int]:
    """Starts of a consistent 一是, 二是… (else 第一，第二，…) run in text[start:end]; [] if under two."""
    for kind in (1, 2):
        found: list[int] = []
        for m in _ENUM.finditer(text, start, end):
            p, numeral = m.start(), m.group(kind)
            # only at a paragraph or sentence start, so 统一是 / 唯一是 inside a word never count
            at_start = p == start or text[p - 1] in "。；;：:！？!?\n"
            if numeral and at_start and _cn_int(numeral) == len(found) + 1:
                found.append(p)
        if len(found) >= 2:
            return found
    return []


def _cn_int(numeral: str) -> int:
    """一…九十九 as an int; 0 for anything else."""
    digits = "一二三四五六七八九"
    tens, ten, ones = numeral.partition("十")
    if not ten:
        return digits.find(numeral) + 1 if len(numeral) == 1 else 0
    return (digits.find(tens) + 1 if tens else 1) * 10 + (digits.find(ones) + 1 if ones else 0)


def _clause(text: str, start: int, end: int) -> str:
    """An item's label: its first clause up to 。；：, clipped like a heading."""
    clause_end = _CLAUSE.match(text, start, end).end()
    return text[start : _clip(text, start, clause_end)[0]]


def _pack(text: str, pieces: list, max_chars: int) -> list[tuple[tuple[str, ...], int, int]]:
    """Cut over-long pieces at sentence ends; merge short neighbours that share a path."""
    out: list[tuple[tuple[str, ...], int, int]] = []
    for path, s, e in pieces:
        if e - s > max_chars:
            out += [(path, a, b) for a, b in _cut(text, s, e, max_chars)]
        elif out and out[-1][0] == path and e - out[-1][1] <= max_chars:
            out[-1] = (path, out[-1][1], e)
        else:
            out.append((path, s, e))
    return out


def _cut(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Spans within max_chars cut at sentence ends; a sentence past twice that is cut at commas."""
    out = []
    for a, b in _greedy(_spans(text, start, end, _SENTENCE_END), max_chars):
        if b - a > 2 * max_chars:
            out += _greedy(_spans(text, a, b, _COMMA), max_chars)
        else:
            out.append((a, b))
    return out


def _greedy(spans: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """Consecutive spans joined while the joined span stays within max_chars."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and b - out[-1][0] <= max_chars:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out
