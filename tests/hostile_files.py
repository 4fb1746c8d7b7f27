"""Bad files made on the fly, for tests/test_hostile.py and benchmarks/hostile_limits.py.

`make_all(folder)` writes every case and returns {path: what reading it must say}; an expected
reason of ACCEPTED means the file is odd but a readable letter (then it must read cleanly).
Nothing is stored in git: a zip bomb in the repository would be a hazard of its own.
"""
from __future__ import annotations

import codecs
import gzip
import io
import os
import struct
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "letters"
GOOD_DOCX = DATA / "02_cd_environment_2022.docx"
ACCEPTED = "ACCEPTED"
LETTER = (DATA / "src" / "03_ha_agriculture_2021.txt").read_text(encoding="utf-8")
SHORT_LETTER = "王某某代表：\n您提出的《关于农田建设的建议》收悉。现答复如下：\n一、今年新建高标准农田120万亩。\n河南省农业农村厅\n2021年6月1日\n"


# ---------------------------------------------------------------- .docx and zip

def _docx_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(GOOD_DOCX) as z:
        return {name: z.read(name) for name in z.namelist()}


def docx_with(path: Path, replace: dict[str, bytes] | None = None, drop: tuple[str, ...] = (),
              stream: dict[str, tuple[bytes, bytes, int, bytes]] | None = None) -> Path:
    """The good test .docx with some parts replaced or dropped. `stream` writes a part as
    head + block * n + tail without holding it in memory (for bombs)."""
    parts = _docx_parts()
    parts.update(replace or {})
    parts.update({name: b"" for name in stream or {} if name not in parts})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, blob in parts.items():
            if name in drop:
                continue
            if stream and name in stream:
                head, block, n, tail = stream[name]
                with z.open(name, "w", force_zip64=True) as fh:
                    fh.write(head)
                    for _ in range(n):
                        fh.write(block)
                    fh.write(tail)
            else:
                z.writestr(name, blob)
    return path


_BODY_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
              b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
_BODY_TAIL = b"</w:body></w:document>"
_PARAGRAPH = "<w:p><w:r><w:t>今年新建高标准农田120万亩，完成投资45亿元。</w:t></w:r></w:p>".encode()


def zip_bomb_docx(path: Path, inflated_mb: int = 300) -> Path:
    """A .docx whose document.xml inflates to `inflated_mb` MB of real paragraphs (~1 MB on disk)."""
    block = _PARAGRAPH * 1000
    n = inflated_mb * 2**20 // len(block)
    return docx_with(path, stream={"word/document.xml": (_BODY_HEAD, block, n, _BODY_TAIL)})


def lying_zip_docx(path: Path) -> Path:
    """A zip bomb whose headers claim document.xml is 1 KB: the declared size cannot be trusted."""
    zip_bomb_docx(path, inflated_mb=40)
    data = bytearray(path.read_bytes())
    name = b"word/document.xml"
    for sig, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = 0
        while (at := data.find(sig, at)) >= 0:
            name_at = at + (46 if sig == b"PK\x01\x02" else 30)
            if data[name_at:name_at + len(name)] == name and data[at + size_at:at + size_at + 4] != b"\xff" * 4:
                data[at + size_at:at + size_at + 4] = struct.pack("<I", 1024)
            at += 4
    path.write_bytes(bytes(data))
    return path


def encrypted_flag_docx(path: Path) -> Path:
    """A .docx whose zip entries are marked encrypted (general-purpose flag bit 0)."""
    docx_with(path)
    data = bytearray(path.read_bytes())
    for sig, flag_at in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        at = 0
        while (at := data.find(sig, at)) >= 0:
            data[at + flag_at] |= 1
            at += 4
    path.write_bytes(bytes(data))
    return path


def many_members_zip(path: Path, n: int = 20_000) -> Path:
    parts = {f"word/media/x{i}.xml": b"<a/>" for i in range(n)}
    return docx_with(path, replace=parts)


# ---------------------------------------------------------------- PDF

def _cjk_canvas(path: Path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path))
    page.setFont("STSong-Light", 12)
    return page


def many_pages_pdf(path: Path, pages: int = 2000) -> Path:
    """A valid PDF of `pages` pages, each with a line of Chinese text."""
    page = _cjk_canvas(path)
    for i in range(pages):
        page.setFont("STSong-Light", 12)
        page.drawString(72, 720, f"第{i + 1}页：今年新建高标准农田120万亩，完成投资45亿元。")
        page.showPage()
    page.save()
    return path


def letter_pdf(path: Path) -> Path:
    page = _cjk_canvas(path)
    for i, line in enumerate(SHORT_LETTER.splitlines()):
        page.drawString(72, 720 - 20 * i, line)
    page.showPage()
    page.save()
    return path


def encrypted_pdf(path: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    source = letter_pdf(path.with_suffix(".src.pdf"))
    writer = PdfWriter()
    for page in PdfReader(source).pages:
        writer.add_page(page)
    writer.encrypt("secret")
    with open(path, "wb") as fh:
        writer.write(fh)
    source.unlink()
    return path


def scanned_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path))
    page.rect(72, 72, 400, 600, fill=1)
    page.showPage()
    page.save()
    return path


def zero_page_pdf(path: Path) -> Path:
    from pypdf import PdfWriter

    with open(path, "wb") as fh:
        PdfWriter().write(fh)
    return path


# ---------------------------------------------------------------- the whole set

def _write(folder: Path, name: str | bytes, data: bytes) -> Path:
    target = os.path.join(os.fsencode(folder), name) if isinstance(name, bytes) else folder / name
    with open(target, "wb") as fh:
        fh.write(data)
    return Path(os.fsdecode(target))


def make_all(folder: Path, bomb_mb: int = 40, pdf_pages: int = 400) -> dict[Path, str]:
    """Every hostile case: {path: a fragment its refusal must hold, or ACCEPTED}. The bomb and the
    many-page PDF are sized just over the default caps so the suite stays quick."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    w = lambda name, data: _write(folder, name, data)  # noqa: E731
    good = SHORT_LETTER.encode("utf-8")
    html = lambda body: f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>".encode()  # noqa: E731
    deep_xml = _BODY_HEAD + b"<w:p>" * 100_000 + b"</w:p>" * 100_000 + _BODY_TAIL
    laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "' + "哈".encode() * 10 + b'">'
              + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&" + bytes([97 + i]) + b";") * 10)
                         for i in range(9))
              + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                b"<w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>")
    cases: dict[Path, str] = {
        # archives
        zip_bomb_docx(folder / "bomb.docx", bomb_mb): "max_docx",
        lying_zip_docx(folder / "lying_sizes.docx"): "not a readable .docx",
        docx_with(folder / "media_bomb.docx", stream={"word/media/image1.png": (b"", b"\0" * 2**20, 70, b"")}):
            "max_docx_mb",
        encrypted_flag_docx(folder / "encrypted.docx"): "not a readable .docx",
        docx_with(folder / "deep.docx", replace={"word/document.xml": deep_xml}): "not a readable .docx",
        docx_with(folder / "laughs.docx", replace={"word/document.xml": laughs}): "",
        docx_with(folder / "no_body.docx", drop=("word/document.xml",)): "not a readable .docx",
        docx_with(folder / "bad_xml.docx", replace={"word/document.xml": b"<w:document><unclosed>"}):
            "not a readable .docx",
        docx_with(folder / "empty_body.docx", replace={"word/document.xml": _BODY_HEAD + _BODY_TAIL}):
            "has no text",
        w("truncated.docx", GOOD_DOCX.read_bytes()[:3000]): "not a readable .docx",
        w("text.docx", good): "is not a .docx file",
        w("ole.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000): "old binary Office file",
        w("zip_not_docx.docx", _zip_of({"a.txt": good})): "not a readable .docx",
        many_members_zip(folder / "many_members.docx"): "",
        # PDF
        many_pages_pdf(folder / "pages.pdf", pdf_pages): "max_pdf_pages",
        encrypted_pdf(folder / "encrypted.pdf"): "password-protected",
        w("truncated.pdf", letter_pdf(folder / "_full.pdf").read_bytes()[:700]): "",
        w("header_only.pdf", b"%PDF-1.4\n" + os.urandom(3000)): "not a readable PDF",
        scanned_pdf(folder / "scan.pdf"): "no text layer",
        zero_page_pdf(folder / "no_pages.pdf"): "no text layer",
        w("html.pdf", html("<p>答复</p>")): "is not a .pdf file",
        w("elf.pdf", b"\x7fELF" + os.urandom(4000)): "is not a .pdf file",
        w("zip.pdf", _zip_of({"a.txt": good})): "is not a .pdf file",
        w("docx.pdf", GOOD_DOCX.read_bytes()): "is not a .pdf file",
        w("loop.pdf", _looping_pdf()): "",
        # HTML
        w("deep.html", html("<div>" * 20_000 + "答复函" + "</div>" * 20_000)): "nested over",
        w("script_only.html", html("<script>alert('答复函')</script>")): "no text",
        w("huge.html", html("<span>中</span>" * 400_000)): "10 x max_letter_chars",
        w("bogus_charset.html", b"<meta charset='x-no-such'>" + html("<p>" + SHORT_LETTER + "</p>")): "",
        w("utf16_nobom.html", html("<p>" + SHORT_LETTER + "</p>").decode().encode("utf-16-le")): "",
        w("comment_bomb.html", html("<!--" + "x" * 3_000_000 + "-->")): "10 x max_letter_chars",
        w("unclosed.html", html("<font>" * 5000 + SHORT_LETTER)): "nested over",
        # text
        w("random.txt", os.urandom(8000)): "",
        w("empty.txt", b""): "is empty",
        w("spaces.txt", b" \n\t \r\n" * 100): "has no text",
        w("nul.txt", good + b"\x00" * 10): "binary",
        w("english.txt", b"Dear member, thank you for your proposal. " * 20): "no Chinese text",
        w("bom_then_junk.txt", codecs.BOM_UTF8 + b"\xff\xfe\xfa" * 100): "byte-order mark",
        w("utf16_odd.txt", codecs.BOM_UTF16_LE + "答复".encode("utf-16-le") + b"\x00"): "byte-order mark",
        w("utf32_bad.txt", codecs.BOM_UTF32_LE + b"\xff\xff\xff\xff" * 4): "byte-order mark",
        w("too_long.txt", ("今年新建高标准农田120万亩。" * 16_000).encode()): "max_letter_chars",
        w("one_line.txt", ("农" * 210_000).encode()): "max_letter_chars",
        w("many_chunks.txt", ("\n".join(f"{i}、第{i}项工作已完成。" for i in range(1, 99)) + "\n") .encode() * 120): "",
        w("controls.txt", bytes(range(1, 32)) * 200): "binary",
        w("latin1.txt", "Café résumé naïve façade ".encode("latin-1") * 40): "",
        w("mixed.txt", good[:60] + SHORT_LETTER.encode("gbk")): "",
        w("shiftjis.txt", "日本語のテキストです。これは返信ではありません。".encode("shift_jis") * 20): "",
        w("big5.txt", SHORT_LETTER.encode("big5", "replace")): "",
        w("md_only_marks.md", b"# \n## \n---\n**  **\n> \n"): "has no text",
        w("png.txt", b"\x89PNG\r\n\x1a\n" + os.urandom(3000)): "binary",
        w("gzip.txt", gzip.compress(good * 50)): "",
        # wrong or odd names
        w("letter.exe", good): "unsupported suffix",
        w("sheet.xls", good): "unsupported suffix",
        w("letter.doc", good): "unsupported suffix",
        w("no_suffix", good): "unsupported suffix",
        w("letter.txt.exe", good): "unsupported suffix",
        w("UPPER.TXT", good): ACCEPTED,
        w("答复函".encode("gbk") + b".txt", good): ACCEPTED,
        w(("长" * 80) + ".txt", good): ACCEPTED,                      # 244 bytes of name
        w("-rf $(reboot) ;.txt", good): ACCEPTED,
        w("line\nbreak.txt", good): ACCEPTED,
        w("<img src=x onerror=alert(1)>.txt", good): ACCEPTED,
    }
    (folder / "_full.pdf").unlink()
    folder_case = folder / "a_folder.txt"
    folder_case.mkdir()
    cases[folder_case] = "cannot be read"
    fifo = folder / "pipe.txt"
    os.mkfifo(fifo)
    cases[fifo] = "not a regular file"
    return cases


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    return buffer.getvalue()


def _looping_pdf() -> bytes:
    """A PDF whose page tree points at itself."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
