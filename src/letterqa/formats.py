"""Bytes to raw text, one function per file format. Cleaning and metadata are read.py's job.

Every library failure is turned into a BadLetterError that names the file, the reason and the fix,
so a user never sees a traceback from python-docx or pypdf.
"""
from __future__ import annotations

import codecs
import io
import logging
import re
import zipfile
from pathlib import Path

from letterqa import limits
from letterqa.errors import BadLetterError

log = logging.getLogger(__name__)

# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)
CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}
COMMON_HANZI = "的一是在了和有我们为以对"
# Tags whose text is never the letter: scripts, page chrome, widgets.
DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside",
             "form", "iframe", "svg", "button", "select", "input", "textarea")
CHROME_CLASS = re.compile(r"nav|menu|footer|breadcrumb|crumb|sidebar|share|copyright|toolbar", re.I)
BLOCK_TAGS = frozenset("p div h1 h2 h3 h4 h5 h6 li ul ol tr table tbody thead section article "
                       "main blockquote pre dd dt dl center address figure figcaption".split())
CELL_TAGS = frozenset(("td", "th"))
TITLE_SEPARATOR = re.compile(r"\s+[-_|–—]\s+|[_|]")
PAGE_STAMP = re.compile(r"(?:发布时间|发布日期|更新时间|时间|日期)\s*[:：]\s*"
                        r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)")
WHITESPACE_RUN = re.compile(r"\s+")
MD_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?)", re.M)
MD_RULE = re.compile(r"^\s{0,3}(?:-{3,}|\*{3,}|_{3,})\s*$", re.M)
MD_STRONG = re.compile(r"(\*\*|__)(.+?)\1")
HTML_MARKUP_RATIO = 10  # a saved page is mostly markup: up to 10 characters of HTML per letter character
# Real pages nest 20-60 deep; the tree walks below cost depth x size, so a page nested thousands deep
# would take hours. Tags a browser closes by itself, and void tags, do not count.
MAX_HTML_DEPTH = 1000
HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>")
UNCOUNTED_TAGS = frozenset("p li dt dd tr td th option br hr img meta link input base col area wbr source "
                           "param track embed html head body tbody thead".split())


def decode_text(data: bytes, path: Path, declared: str | None = None) -> str:
    """Decode a text file: BOM, declared charset, strict UTF-8, strict GB18030, then a detector."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _decode_strict(data, encoding, path)
    _refuse_binary(data, path)
    for encoding in filter(None, (_python_codec(declared), "utf-8", "gb18030")):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        # GB18030 decodes many non-Chinese byte streams too; only trust it when the result reads as Chinese.
        if encoding != "gb18030" or _reads_as_chinese(text):
            return text
    return _detect(data, path)


def _decode_strict(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BadLetterError(path, f"starts with a {encoding} byte-order mark but is not valid {encoding} "
                                   f"({exc.reason} at byte {exc.start}): save it again as UTF-8") from None


def _refuse_binary(data: bytes, path: Path) -> None:
    head = data[:65536]
    controls = sum(byte in CONTROL_BYTES for byte in head)
    if b"\x00" in head or controls > len(head) * 0.02:
        raise BadLetterError(path, "looks like a binary file (NUL or control bytes), not a text letter: "
                                   "give the letter as .txt (UTF-8), .html, .docx or .pdf")


def _python_codec(declared: str | None) -> str | None:
    if not declared:
        return None
    name = declared.strip().lower()
    # Pages that declare gb2312 or gbk routinely contain characters only GB18030 has.
    return "gb18030" if name in {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936"} else name


def _reads_as_chinese(text: str) -> bool:
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return False
    ordinary = sum(ch.isascii() or "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
                   or "\uff00" <= ch <= "\uffef" or "\u2000" <= ch <= "\u206f" for ch in visible)
    # Big5 read as GB18030 is still hanzi, but seldom holds 的/是/在; a very short text may lack them too.
    return ordinary >= 0.95 * len(visible) and (len(visible) < 40 or any(ch in text for ch in COMMON_HANZI))


def _detect(data: bytes, path: Path) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise BadLetterError(path, "is not valid UTF-8 or GB18030 and its encoding could not be detected: "
                                   "save it again as UTF-8 text")
    log.info("%s: encoding detected as %s", path.name, best.encoding)
    return str(best)


def markdown_to_text(data: bytes, path: Path) -> str:
    """Markdown: decoded like .txt, with heading, quote, rule and bold markers taken off."""
    text = decode_text(data, path)
    text = MD_RULE.sub("", text)
    text = MD_HEADING.sub("", text)
    return MD_STRONG.sub(r"\2", text)


def html_to_text(data: bytes, path: Path) -> str:
    """A saved web page: the page title, its time stamp, then the main content block's text."""
    from bs4 import BeautifulSoup

    match = META_CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii") if match else None
    page = decode_text(data, path, declared)
    cap = limits.budget(path).limits.max_letter_chars
    if len(page) > HTML_MARKUP_RATIO * cap:  # parsing costs ~10x the page in memory: refuse before it
        raise BadLetterError(path, f"is a web page of {len(page):,} characters, over {HTML_MARKUP_RATIO} x "
                                   f"max_letter_chars={cap:,}: save only the letter's page, or raise "
                                   f"{limits.ENV_PREFIX}MAX_LETTER_CHARS")
    _refuse_deep_nesting(page, path)
    soup = BeautifulSoup(page, "lxml")
    title, stamp = _page_title(soup), _page_stamp(soup)
    _drop_chrome(soup)
    root = soup.body or soup
    body = _render(_main_block(root)).strip()
    if not body:
        raise BadLetterError(path, "is a web page with no text in its body: save the letter's page itself, "
                                   "or copy its text into a .txt file")
    head = [line for line in (title, stamp) if line and line not in body[:400]]
    return "\n\n".join(head + [body])


def _refuse_deep_nesting(page: str, path: Path) -> None:
    depth = deepest = 0
    for match in HTML_TAG.finditer(page):
        if match.group(3) or match.group(2).lower() in UNCOUNTED_TAGS:
            continue
        depth = max(depth - 1, 0) if match.group(1) else depth + 1
        deepest = max(deepest, depth)
    if deepest > MAX_HTML_DEPTH:
        raise BadLetterError(path, f"is a web page nested over {MAX_HTML_DEPTH} tags deep, not a saved letter "
                                   "page: save the page again, or copy the letter's text into a .txt file")


def _page_title(soup) -> str:
    """The article's title: the ArticleTitle meta that Chinese government CMSs write, else the longest
    <h1> or <title> part (the site's own name, in a banner <h1> or after a `_`, is the shorter one)."""
    meta = soup.find("meta", attrs={"name": re.compile(r"^ArticleTitle$", re.I)})
    if meta and meta.get("content", "").strip():
        return meta["content"].strip()
    headings = [h.get_text(" ", strip=True) for h in soup.find_all("h1")]
    if soup.title and soup.title.string:
        headings = headings or TITLE_SEPARATOR.split(soup.title.string.strip())
    return max((h.strip() for h in headings), key=len, default="")


def _page_stamp(soup) -> str:
    """The publication time as a furniture line, so clean_text can read it as a fallback date."""
    meta = soup.find("meta", attrs={"name": re.compile(r"^(PubDate|publishdate)$", re.I)})
    if meta and meta.get("content", "").strip():
        return f"发布时间：{meta['content'].strip()}"
    match = PAGE_STAMP.search(soup.get_text(" "))
    return f"发布时间：{match.group(1)}" if match else ""


def _drop_chrome(soup) -> None:
    for tag in soup(DROP_TAGS):
        tag.decompose()
    page_text = _own_text_len(soup)
    for tag in soup.find_all(attrs={"class": True}) + soup.find_all(attrs={"id": True}):
        if tag.decomposed:
            continue
        names = " ".join(tag.get("class") or []) + " " + (tag.get("id") or "")
        # A class name is only a hint: never drop the title or a block holding most of the page's text.
        if CHROME_CLASS.search(names) and not tag.find("h1") and _own_text_len(tag) < 0.5 * page_text:
            tag.decompose()


def _own_text_len(tag) -> int:
    """Characters of text outside links: link lists (menus, related articles) are not the letter."""
    total = len(WHITESPACE_RUN.sub("", tag.get_text()))
    links = sum(len(WHITESPACE_RUN.sub("", a.get_text())) for a in tag.find_all("a"))
    return total - links


def _main_block(node):
    """Walk down while one child holds most of the text: the smallest block that holds the letter."""
    while True:
        children = node.find_all(recursive=False)
        if not children:
            return node
        best = max(children, key=_own_text_len)
        if _own_text_len(best) < 0.6 * _own_text_len(node):
            return node
        node = best


def _render(node) -> str:
    parts: list[str] = []
    _render_into(node, parts)
    return "".join(parts)


def _render_into(node, parts: list[str]) -> None:
    from bs4 import NavigableString, Tag

    for child in node.children:
        if isinstance(child, Tag):
            if child.name == "br":
                parts.append("\n")
            elif child.name in BLOCK_TAGS:
                parts.append("\n")
                _render_into(child, parts)
                parts.append("\n")
            else:
                _render_into(child, parts)
                if child.name in CELL_TAGS:
                    parts.append(" ")
        elif type(child) is NavigableString:  # exact type: comments, CDATA, doctype are subclasses
            # Browsers fold source whitespace (including newlines) inside text into one space.
            parts.append(WHITESPACE_RUN.sub(" ", str(child)))


def docx_to_text(data: bytes, path: Path) -> str:
    """A Word .docx: body paragraphs in order, each table row as one line of its cells."""
    _require_magic(data, path, b"PK\x03\x04", ".docx")
    import docx

    budget = limits.budget(path)
    _check_zip_sizes(data, path, budget)
    try:
        document = docx.Document(io.BytesIO(data))
        lines = []
        for block in document.iter_inner_content():
            lines.append(_docx_block_text(block))
            budget.add_text(lines[-1])
    except BadLetterError:
        raise
    except Exception as exc:  # python-docx raises many types (zip, XML, KeyError) for one cause: a bad file
        raise BadLetterError(path, f"is not a readable .docx ({type(exc).__name__}: {exc}): "
                                   "open it in Word or WPS and save it again as .docx") from None
    return "\n".join(lines)


def _check_zip_sizes(data: bytes, path: Path, budget: limits.ReadBudget) -> None:
    """Refuse a zip bomb before python-docx inflates it: declared sizes first, then each XML part
    inflated in slices with a cap (a declared size can lie)."""
    caps = budget.limits
    xml_cap, total_cap = int(caps.max_docx_xml_mb * 2**20), int(caps.max_docx_mb * 2**20)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            total = sum(m.file_size for m in members)
            if total > total_cap:
                raise BadLetterError(path, f"is a .docx that inflates to {total / 2**20:,.0f} MB, over "
                                           f"max_docx_mb={caps.max_docx_mb:g}: save it again from Word (without "
                                           f"large images), or raise {limits.ENV_PREFIX}MAX_DOCX_MB")
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    _inflate_capped(archive, member, xml_cap, path, budget)
    except BadLetterError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError,
            OSError, EOFError) as exc:  # encrypted, unsupported compression, corrupt, truncated
        raise BadLetterError(path, f"is not a readable .docx ({type(exc).__name__}: {exc}): "
                                   "open it in Word or WPS and save it again as .docx") from None


def _inflate_capped(archive: zipfile.ZipFile, member: zipfile.ZipInfo, cap: int, path: Path,
                    budget: limits.ReadBudget) -> None:
    inflated = 0
    with archive.open(member) as fh:
        while block := fh.read(1 << 20):
            inflated += len(block)
            if inflated > cap:
                raise BadLetterError(path, f"is a .docx whose {member.filename} inflates past "
                                           f"max_docx_xml_mb={budget.limits.max_docx_xml_mb:g} MB: save it again "
                                           f"from Word, or raise {limits.ENV_PREFIX}MAX_DOCX_XML_MB")
            budget.check()


def _docx_block_text(block) -> str:
    if hasattr(block, "rows"):
        rows = []
        for row in block.rows:
            # Merged cells repeat in row.cells; keep each underlying cell once.
            cells = list({id(cell._tc): cell for cell in row.cells}.values())
            rows.append(" ".join(cell.text.replace("\n", " ") for cell in cells))
        return "\n".join(rows)
    return block.text


def pdf_to_text(data: bytes, path: Path) -> str:
    """A PDF's text layer, page by page; a PDF without one (a scan) is refused with the fix."""
    _require_magic(data, path, b"%PDF-", ".pdf")
    from pypdf import PdfReader

    budget = limits.budget(path)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadLetterError(path, "is a password-protected PDF: remove the password and try again")
        if len(reader.pages) > budget.limits.max_pdf_pages:
            raise limits.over(path, "has too many pages", len(reader.pages), "max_pdf_pages",
                              budget.limits.max_pdf_pages)
        pages = []
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            budget.add_text(pages[-1])
    except BadLetterError:
        raise
    except Exception as exc:  # pypdf raises many types for one cause: a damaged file
        raise BadLetterError(path, f"is not a readable PDF ({type(exc).__name__}: {exc}): "
                                   "save or export it again, or give the .docx/.txt") from None
    if not any(page.strip() for page in pages):
        raise BadLetterError(path, "has no text layer (a scanned image?): OCR it or give the .docx/.txt")
    return _mark_indents(pages, reader.pages, budget) or "\n".join(pages)


def _mark_indents(pages: list[str], pdf_pages, budget: limits.ReadBudget) -> str:
    """The plain text with indented lines (paragraph starts, centred or right-aligned lines) given two
    leading spaces, taken from pypdf's layout mode, so clean_text can tell a new paragraph from a
    wrapped line. Layout mode can add spaces inside lines, so only its indents are used; "" if the
    two extractions do not hold the same lines."""
    layouts = []
    try:
        for page in pdf_pages:
            layouts.append(page.extract_text(extraction_mode="layout"))
            budget.check()
    except BadLetterError:
        raise
    except Exception:  # the indents are a refinement; the plain text is still good without them
        log.debug("pypdf layout mode failed", exc_info=True)
        return ""
    indents: dict[str, list[int]] = {}
    for line in "\n".join(layouts).split("\n"):
        if line.strip():
            indents.setdefault(_squash(line), []).append(len(line) - len(line.lstrip()))
    lines = [line.strip() for line in "\n".join(pages).split("\n") if line.strip()]
    if any(not indents.get(_squash(line)) for line in lines):
        return ""
    line_indents = [indents[_squash(line)].pop(0) for line in lines]
    margin = min(line_indents)
    return "\n".join(("  " if indent > margin else "") + line for line, indent in zip(lines, line_indents))


def _squash(line: str) -> str:
    return WHITESPACE_RUN.sub("", line)


def _require_magic(data: bytes, path: Path, magic: bytes, suffix: str) -> None:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise BadLetterError(path, f"is an old binary Office file (.doc/.wps), not a {suffix}: "
                                   "open it in Word or WPS and save it as .docx")
    if magic not in data[:1024]:
        raise BadLetterError(path, f"is not a {suffix} file (its bytes do not start like one): "
                                   f"check the file, or give the letter as .txt")
