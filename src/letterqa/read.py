"""Read one letter file into a Letter: raw text by format, page furniture removed, metadata found.

The metadata rules follow the genre, not one department's page: a salutation line ending in a
colon, the proposal title in 《》 in the opening sentence, the signing organisation and date at
the end, a contact line, and the letter's own 文号 above the salutation.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
from datetime import date
from pathlib import Path

from letterqa import formats
from letterqa import limits as caps
from letterqa.errors import BadLetterError
from letterqa.genre import (CN_DIGIT, CONTACT, COPY_TO, DATE, DOC_NUMBER, HANDLER, ISO_DATE, PAGE_LINE, SALUTATION, SOURCE_LINE,
                            page_fields)
from letterqa.records import Letter

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
READERS = {
    ".txt": formats.decode_text, ".md": formats.markdown_to_text,
    ".html": formats.html_to_text, ".htm": formats.html_to_text,
    ".docx": formats.docx_to_text, ".pdf": formats.pdf_to_text,
}

LINE_BREAK = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
SPACE_RUN = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
INDENT = re.compile(r" {2,}|[ \u3000\t]*[\u3000\t]")

# Page furniture: each pattern is checked against a whole stripped line.
FURNITURE_WORDS = re.compile(
    r"(?:[\s【】\[\]［］()（）|｜/:：·•>»×✕✖]|字体|字号|大|中|小|默认|打印本页|打印此页|打印|关闭窗口|关闭本页"
    r"|关闭|分享到|分享至|分享|收藏本页|加入收藏|收藏|返回顶部|返回|顶部|复制链接|保存|微信|微博|QQ空间|QQ)+")
FURNITURE_LABEL = re.compile(
    r"[【\[]?\s*(?:责任编辑|编辑|责编|审核|校对|来源|信息来源|文章来源|稿件来源|作者|浏览次数|浏览量"
    r"|阅读次数|阅读量|访问量|点击数|点击量|发布时间|发布日期|更新时间|时间|日期|发布机构|发文机关|索引号"
    r"|主题分类|公开方式|公开范围|成文日期|文号|当前位置|您的位置|您现在的位置|所在位置)\s*[:：]")
FURNITURE_ANYWHERE = re.compile(
    r"扫一扫|二维码|手机扫码|版权所有|Copyright|©|ICP备|ICP证|网站标识码|公网安备|网站地图"
    r"|(?:主办|维护)单位\s*[:：]|技术支持\s*[:：]|建议使用.{0,30}(?:浏览器|分辨率)"
    r"|欢迎(?:访问|来到|光临).{0,40}?(?:网站|门户)|今天是\s*[:：]|主办(?:\s|$)|内容保障", re.I)
FURNITURE_LINE = re.compile(
    r"(?:上一篇|下一篇|上一条|下一条|分享到|分享至).*|首页\s*[>＞»›/].*|[-—–－]\s*\d+\s*[-—–－]"
    r"|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|\d{1,3}"
    r"|\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|(?:相关附件|附件下载|下载附件)\s*[:：]?"  # an attachment box's label; a letter's own 附件: names them after
    r"|(?:留言与评论|网友评论|发表评论|我要评论|相关评论)\s*(?:[(（]\s*共有?\s*\d+\s*条评论\s*[)）])?")

# A hard-wrapped line continues when it is full and does not end a sentence or a heading label.
SENTENCE_END = "。！？；：:!?;"
CLOSERS = "”’」』）)》〉】]"
MARKER = re.compile(
    r"(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[）)]|\d{1,2}[、.．](?!\d)|[（(]\d{1,2}[）)]"
    r"|[①-⑳]|[一二三四五六七八九十]+是|第[一二三四五六七八九十\d]+[条章节部分])")
FULL_LINE = 0.85
# Where a page field's value ends when the page runs other furniture on after it (浏览次数:35 字体:[ ]).
_FIELD_DEBRIS = re.compile(r"\s(?:\||浏览次数|浏览量|点击数|点击量|访问量|阅读次数|阅读量|字体|字号|打印|关闭|【|\[)")

SECTION_HEADING = re.compile(r"[一二三四五六七八九十]+、")
TITLE_PATTERNS = (
    re.compile(r"提出的[^《》。\n]{0,30}?《([^《》\n]+)》"),
    re.compile(r"《([^《》\n]+?(?:建议|提案|议案))》"),
    re.compile(r"提出的[^。\n]{0,30}?(关于[^。，,；;\n]{2,80}?的(?:建议|提案|议案))"),
)
SIGNED_DATE_LINE = re.compile(r"([^。，,；;！？]{0,40}?)\s*" + DATE.pattern)
ORGANISATION = re.compile(
    r"[\u4e00-\u9fff（）()·]{2,40}?(?:厅|局|委|委员会|办公室|办|政府|部|院|中心|公司|集团|会|处|科|所|站|署|室|社|行|馆|队|组)")
TAIL_LINES = 15
CONTACT_UNIT = re.compile(r"联系单位(?:及电话)?\s*[:：]\s*([\u4e00-\u9fff（）()]{4,40})")
FLAT_LINE = 150                 # a line this long in a saved page may be several paragraphs run together
FLATTENED = re.compile(r"(?<=[。：:！？；!?;])[ \u3000]+(?=[\u4e00-\u9fff（(“《])"
                       r"|[ \u3000]+(?=(?:签\s*发\s*人|联\s*系\s*人|联系电话|联系单位|抄\s*送|抄\s*报)\s*[:：])")
TABLE_LABEL = re.compile(r"([\u4e00-\u9fff][\u4e00-\u9fff ]{1,15})\s*\|")  # a label cell: `提建议代表 单位姓名 |`
CELL_END = re.compile(r"\s*\|[\s|]*$")
HEAD_SCAN = 12                  # lines from the top a page-information list may start within
INDEX_NUMBER = re.compile(r"[0-9A-Z]{6,}[-/][0-9A-Z/-]*\d{4}-\d{3,}")  # 索引号: 640104-107/2019-00169
HEADING_SENDER = re.compile(r"(?:\d{4}年度?)?([\u4e00-\u9fff（）()]{2,30}?)(?:对|关于)[^。]{0,80}(?:答复|复函|回复|意见)")


def read_letter(path: Path, max_bytes: int | None = None, limits: caps.Limits | None = None) -> Letter:
    """Read a .txt/.md/.html/.htm/.docx/.pdf reply letter; raise BadLetterError naming the fix.

    The work is bounded by `limits` (bytes, pages, inflated size, characters, seconds), so a hostile
    file is refused in seconds instead of read for hours."""
    path = Path(path)
    with caps.reading(path, limits) as budget:
        data = _read_bytes(path, max_bytes)
        try:
            raw = READERS[path.suffix.lower()](data, path)
        except (RecursionError, MemoryError) as exc:  # markup nested thousands deep, or worse
            raise BadLetterError(path, f"is nested too deeply or too large to read ({type(exc).__name__}): "
                                       "save the letter again as plain .txt or .docx") from None
        if len(raw) > budget.limits.max_letter_chars:
            raise caps.over(path, "has too much text", len(raw), "max_letter_chars", budget.limits.max_letter_chars)
        text, furniture, page = _clean(raw)
        budget.check()
        _check_is_letter(text, path)
        log.debug("%s: %d characters, %d furniture lines removed", path.name, len(text), len(furniture))
        return Letter(letter_id=letter_id_of(text), source=path.name, text=text,
                      sha256=hashlib.sha256(data).hexdigest(), **_metadata(text.split("\n"), furniture, page))


def clean_text(raw: str) -> str:
    """Remove page furniture, normalise whitespace, rejoin hard-wrapped lines; one paragraph a line."""
    return _clean(raw)[0]


def letter_id_of(text: str) -> str:
    """The first 16 hex digits of the sha256 of a letter's cleaned text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _read_bytes(path: Path, max_bytes: int | None) -> bytes:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise BadLetterError(path, f"has an unsupported suffix {path.suffix or '(none)'!r}: "
                                   f"give the letter as one of {', '.join(SUPPORTED_SUFFIXES)}")
    if path.exists() and not path.is_file() and not path.is_dir():  # a FIFO or device would block or never end
        raise BadLetterError(path, "is not a regular file (a pipe or device): give the letter file itself")
    try:
        with open(path, "rb") as fh:
            # Read one byte past the cap rather than trust stat(): the file may grow, or be a pipe.
            data = fh.read(max_bytes + 1) if max_bytes is not None else fh.read()
            size = max(os.fstat(fh.fileno()).st_size, len(data))
    except OSError as exc:
        raise BadLetterError(path, f"cannot be read ({exc.strerror or exc}): check the path and its permissions") from None
    if not data:
        raise BadLetterError(path, "is empty (0 bytes): save the letter's text into it, or remove it")
    if max_bytes is not None and len(data) > max_bytes:
        raise BadLetterError(path, f"is {size:,} bytes, over the limit of {max_bytes:,} bytes (max_file_mb): split "
                                   "it, give a text version, or raise the limit with --max-file-mb")
    return data


def _check_is_letter(text: str, path: Path) -> None:
    if not text:
        raise BadLetterError(path, "has no text once page furniture is removed: is it the letter's page?")
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        raise BadLetterError(path, "has no Chinese text, so it is not a reply letter (or it is mis-encoded): "
                                   "save it again as UTF-8")


def _clean(raw: str) -> tuple[str, list[str], dict[str, str]]:
    """The cleaned text, the furniture lines removed from it, and the page's information fields.

    The page's information block (索引号, 发布时间, 文号…) stands at the top of the text, one field a line,
    whatever order the page had it in: it is the letter's metadata, answerable and citable, and apart
    from the body, so it never runs into a paragraph.
    """
    kept, furniture, page_lines, page = [], [], [], {}
    for line in _table_pairs(_unflatten(LINE_BREAK.sub("\n", raw).split("\n"))):
        indented = bool(INDENT.match(line))
        line = SPACE_RUN.sub(" ", INVISIBLE.sub("", line)).strip()
        source = SOURCE_LINE.fullmatch(line)
        fields = _page_info(line) if not source else []
        if source:
            page.setdefault("网址", source.group(1))
        elif fields:
            for label, colon, value in fields:
                if value and label not in page:
                    page[label] = value
                    page_lines.append(f"{label}{colon}{value}")
        elif line and _is_furniture(line):
            # Dropped without leaving a paragraph break: a PDF page number sits mid-paragraph.
            furniture.append(line)
        else:
            kept.append((line, indented))
    kept = _unlabelled_page_values(kept, page, page_lines, furniture)
    return "\n".join(page_lines + _join_wrapped(kept)), furniture, page


def _unflatten(lines: list[str]) -> list[str]:
    """Paragraphs a saved page ran into one line, split again where a space stands after a sentence end.

    Chinese prose puts no space after 。 or ：, so on a long line such a space is a lost paragraph break
    (`…如下: 近年来…。 一是…。 二是…`); so is a space before a sign-off label (签发人:, 联系人:, 抄送:).
    """
    out = []
    for line in lines:
        out += FLATTENED.split(line) if len(line) > FLAT_LINE else [line]
    return out


def _table_pairs(lines: list[str]) -> list[str]:
    """A two-column table saved one cell a line (`承办单位 |` over `市住房和城乡建设局 |`) read as `label:value`.

    Proposal pages put the proposer, the handling unit and the 案由 in such a table above the reply; cell by
    cell, a label loses its value and the values run together as paragraphs. An empty value cell (`||`)
    drops its label.
    """
    out, i = [], 0
    while i < len(lines):
        label = TABLE_LABEL.fullmatch(lines[i].strip())
        below = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if label and below.endswith("|"):
            value = below.strip("| ").strip()
            if value:
                out.append(f"{label.group(1).strip()}:{value}")
            i += 2
            continue
        line = lines[i]
        end = CELL_END.search(line)
        out.append(line[: end.start()] if end and "|" not in line[: end.start()] else line)  # one cell: `…。 |`
        i += 1
    return out


def _unlabelled_page_values(kept: list[tuple[str, bool]], page: dict[str, str], page_lines: list[str],
                            furniture: list[str]) -> list[tuple[str, bool]]:
    """A page-information list whose labels were lost (`• 640104-107/2019-00169`, `• 有效`, `• 2019年07月26日`).

    Disclosure pages render the labels apart from the values, so a saved page may keep only a run of
    short bulleted values above the letter. Such a run (three lines or more, near the top) is the page's
    information, not the letter: the values whose kind shows are kept under their label, the rest dropped.
    """
    start = next((i for i, (line, _) in enumerate(kept[:HEAD_SCAN]) if _bare_value(line)), None)
    if start is None:
        return kept
    end = start
    while end < len(kept) and _bare_value(kept[end][0]):
        end += 1
    if end - start < 3:
        return kept
    for line, _ in kept[start:end]:
        value = line.lstrip("•·-* ").strip()
        label = _value_label(value)
        if label and label not in page:
            page[label] = value
            page_lines.append(f"{label}:{value}")
        else:
            furniture.append(line)
    return kept[:start] + kept[end:]


def _bare_value(line: str) -> bool:
    return line[:1] in "•·" and len(line) <= 60 and not PAGE_LINE.search(line) and not any(ch in line for ch in "。，,；;")


def _value_label(value: str) -> str:
    """The page field a bare value must be, when its form tells (an index number, a date, an organisation)."""
    if INDEX_NUMBER.fullmatch(value):
        return "索引号"
    if DATE.fullmatch(value) or ISO_DATE.fullmatch(value):
        return "发布时间"
    if value in ("有效", "失效", "废止", "已修订"):
        return "效力状态"
    if _is_organisation(value):
        return "发布机构"
    return ""


def _page_info(line: str) -> list[tuple[str, str, str]]:
    """(label, colon, value) of each field on a page-information line; [] for any other line.

    A line is page information when it opens with a field label (after a bullet or a table bar), or
    when what stands before its first label is short and no sentence (`河南省林业局 http://… 发布日期:…`).
    """
    body = line.lstrip("-•·|* ")
    first = PAGE_LINE.search(body)
    if not first or len(body) > 300 or body.endswith("。"):
        return []
    before = body[: first.start()]
    if before and (len(before) > 40 or any(ch in before for ch in "。，,；;")):
        return []
    out = []
    if before.strip() and (DATE.fullmatch(before.strip()) or ISO_DATE.fullmatch(before.strip())):
        out.append(("发布时间", ":", before.strip()))  # `2022-01-24 来源:…`: the page's date, its label lost
    for label, value in page_fields(body[first.start():]):
        colon = "：" if "：" in body else ":"
        out.append((label, colon, _FIELD_DEBRIS.split(value)[0].strip()))
    return out


def _is_furniture(line: str) -> bool:
    if FURNITURE_WORDS.fullmatch(line) or FURNITURE_LINE.fullmatch(line):
        return True
    # Labels and footer words only mark short lines that are not sentences or numbered headings.
    if len(line) > 100 or line.endswith("。") or MARKER.match(line):
        return False
    return bool(FURNITURE_LABEL.match(line) or FURNITURE_ANYWHERE.search(line))


def _join_wrapped(lines: list[tuple[str, bool]]) -> list[str]:
    """Blank lines end paragraphs; a full line runs on into the next unless that starts a paragraph."""
    texts = [text for text, _ in lines if text]
    width = _wrap_width(texts)
    by_indent = _uses_indents(lines, width)
    paragraphs: list[str] = []
    previous = ""
    for line, indented in lines:
        if line and previous and _continues(previous, line, indented, width, by_indent):
            paragraphs[-1] += (" " if _is_latin(previous[-1]) and _is_latin(line[0]) else "") + line
        elif line:
            paragraphs.append(line)
        previous = line
    return paragraphs


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _wrap_width(lines: list[str]) -> float:
    """The width of a full line: most lines of a hard-wrapped text are full, so a high percentile."""
    if len(lines) < 8:
        return float("inf")
    widths = sorted(_display_width(line) for line in lines)
    return widths[int(0.9 * (len(widths) - 1))]


def _uses_indents(lines: list[tuple[str, bool]], width: float) -> bool:
    """A hard-wrapped text whose paragraphs start indented: then the indent, not the punctuation,
    tells a new paragraph (a wrap can fall right after a 。)."""
    texts = [text for text, _ in lines if text]
    indented = sum(flag for text, flag in lines if text)
    full = sum(_display_width(text) >= FULL_LINE * width for text in texts)
    return indented >= 2 and len(texts) - indented >= 2 and full >= 0.3 * len(texts)


def _display_width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _continues(previous: str, line: str, indented: bool, width: float, by_indent: bool) -> bool:
    if _display_width(previous) < FULL_LINE * width:
        return False
    if by_indent:
        return not indented
    last = previous.rstrip(CLOSERS)[-1:] or previous[-1]
    return last not in SENTENCE_END and not MARKER.match(line)


def _metadata(lines: list[str], furniture: list[str], page: dict[str, str]) -> dict:
    lines = lines[sum(1 for line in lines[: len(page)] if PAGE_LINE.match(line)):]  # the letter below the page block
    head = lines[:_head_end(lines)]
    salutation_at, recipient = _recipient(head)
    date_at, signed, prefix = _signed_date(lines)
    page_date = _page_date([f"{k}:{v}" for k, v in page.items() if "日期" in k or "时间" in k] + furniture)
    meta = dict(page)
    meta.update(_copy_lines(lines))
    return {
        "title": _title(head, salutation_at) or page.get("标题", "") or page.get("名称", ""),
        "recipient": recipient,
        "date": signed or page_date,
        "sender": _sender(lines, date_at, prefix) or _heading_sender(head) or page.get("发布机构", "")
        or page.get("发文机关", "") or meta.get("承办单位", "") or _contact_unit(lines)
        or (page.get("来源", "") if _is_organisation(page.get("来源", "")) else ""),
        "doc_number": _doc_number(head[:salutation_at] if salutation_at >= 0 else head[:8],
                                  [f"文号:{page['文号']}"] if "文号" in page else furniture),
        "contact": _contact(lines),
        "meta": meta,
    }


def _heading_sender(head: list[str]) -> str:
    """The organisation a heading names as replying: `河南省林业局对省政协…提案的答复`."""
    # a heading may wrap: 河南省林业局对省政协十二届五次会议 / 第1250252号提案的答复
    for line in head[:4] + [a + b for a, b in zip(head[:4], head[1:5])]:
        m = HEADING_SENDER.match(line)
        if m and _is_organisation(m.group(1)):
            return m.group(1)
    return ""


def _copy_lines(lines: list[str]) -> dict[str, str]:
    """抄送, 抄报, 签发人 and 承办单位 lines of the sign-off, by label."""
    out = {}
    for line in lines[-TAIL_LINES:]:
        m = COPY_TO.search(line) or HANDLER.match(line)
        if m and m.start() <= 2:
            out.setdefault(re.sub(r"\s+", "", m.group(1)), line[m.end():].strip())
    return out


def _head_end(lines: list[str]) -> int:
    """The opening ends at the first 一、 section heading (or after a dozen lines in a letter without)."""
    for i, line in enumerate(lines):
        if SECTION_HEADING.match(line):
            return i
    return min(len(lines), 12)


def _recipient(head: list[str]) -> tuple[int, str]:
    for i, line in enumerate(head):
        match = SALUTATION.fullmatch(line)
        if match and "如下" not in line and not CONTACT.match(line) and not MARKER.match(line):
            return i, match.group(1).strip()
    return -1, ""


def _title(head: list[str], salutation_at: int) -> str:
    opening = "\n".join(head)
    for pattern in TITLE_PATTERNS:
        match = pattern.search(opening)
        if match:
            return match.group(1).strip()
    first = head[0] if head and salutation_at != 0 else ""
    looks_like_heading = 4 <= len(first) <= 80 and first[-1] not in SENTENCE_END + "，,"
    if looks_like_heading and not DOC_NUMBER.fullmatch(first) and not DATE.fullmatch(first):
        return first
    return ""


def _signed_date(lines: list[str]) -> tuple[int, str, str]:
    """The last date line near the end: (its index, ISO date, any text before the date on that line)."""
    for i in range(len(lines) - 1, max(-1, len(lines) - 1 - TAIL_LINES), -1):
        match = SIGNED_DATE_LINE.fullmatch(lines[i])
        iso = _iso_date(*match.groups()[1:]) if match else ""
        # Text before the date on its line must be the signer, else it is a body sentence ending in a date.
        if iso and (not match.group(1).strip() or _is_organisation(match.group(1).strip())):
            return i, iso, match.group(1).strip()
    return -1, "", ""


def _iso_date(year: str, month: str, day: str) -> str:
    try:
        return date(_number(year), _number(month), _number(day)).isoformat()
    except (KeyError, ValueError):
        return ""


def _number(numeral: str) -> int:
    """An Arabic (also full-width) or Chinese numeral: 2024, ２０２４, 二〇二四, 十二, 二十五."""
    if numeral.isdecimal():
        return int(numeral)
    if "十" in numeral:
        tens, _, units = numeral.partition("十")
        return (CN_DIGIT[tens] if tens else 1) * 10 + (CN_DIGIT[units] if units else 0)
    return int("".join(str(CN_DIGIT[ch]) for ch in numeral))


def _page_date(furniture: list[str]) -> str:
    """Fallback: the page's own time stamp (发布时间：2024-08-25 9:13), read before it was removed."""
    for line in furniture:
        for pattern in (DATE, ISO_DATE):
            match = pattern.search(line)
            iso = _iso_date(*match.groups()) if match else ""
            if iso:
                return iso
    return ""


def _sender(lines: list[str], date_at: int, prefix: str) -> str:
    """The organisation line(s) just above the signed date; joint signers give several."""
    if prefix:
        return prefix
    signers: list[str] = []
    i = date_at - 1 if date_at >= 0 else -1
    while i >= 0 and len(signers) < 4 and _is_organisation(lines[i]):
        signers.insert(0, lines[i])
        i -= 1
    return " ".join(signers)


def _is_organisation(line: str) -> bool:
    """One or more organisation names (joint signers may share a line, separated by spaces)."""
    return all(ORGANISATION.fullmatch(part) for part in line.split(" "))


def _contact_unit(lines: list[str]) -> str:
    """The organisation a sign-off's contact line names (联系单位及电话:郑州市上街区城市管理局 68118611).

    A letter that signs with no organisation line still names its unit there, as the letter writes it
    (a department too: 省工业和信息化厅科技处)."""
    for line in lines[-TAIL_LINES:]:
        m = CONTACT_UNIT.match(line.strip("（()） "))
        if m:
            return m.group(1) if _is_organisation(m.group(1)) else ""
    return ""


def _contact(lines: list[str]) -> str:
    found = []
    for line in lines[-TAIL_LINES:]:
        if line[:1] in "（(" and line[-1:] in "）)":
            line = line[1:-1].strip()
        if CONTACT.match(line):
            found.append(line)
    return " ".join(found)


def _doc_number(before_salutation: list[str], furniture: list[str]) -> str:
    """The letter's own 文号 above the salutation, else a 文号 field of the page; never one cited in the body."""
    for line in before_salutation + [line for line in furniture if "文号" in line]:
        match = DOC_NUMBER.search(line)
        if match:
            return match.group(0)
    return ""
