"""Generate the test letters in their formats and encodings from the UTF-8 sources in src/.

Run from anywhere: `python tests/data/letters/make_letters.py` (needs python-docx and reportlab,
both in the project's test extra). The letters are invented for tests; see README.md.

Conventions in src/*.txt: the first line is the page title; a line starting with `|` is a table
row (cells separated by `|`); the signing lines and date at the end are right-aligned.
"""
from __future__ import annotations

import html
import logging
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
DATE_LINE = re.compile(r"(\d{4}|[〇零一二三四五六七八九]{4})年.{1,3}月.{1,3}日")
DOC_NUMBER_LINE = re.compile(r"\S{1,12}〔\d{4}〕\d+号")
PAGE_STAMP = "2023-07-20 10:32"

log = logging.getLogger("make_letters")


def read_source(name: str) -> list[str]:
    """The source letter as lines, without trailing whitespace."""
    return [line.rstrip() for line in (SRC / name).read_text(encoding="utf-8").splitlines()]


def kind_of(lines: list[str], i: int) -> str:
    """How a line is laid out: title, docnum, salutation, table, signoff or body."""
    line = lines[i]
    if i == 0:
        return "title"
    if DOC_NUMBER_LINE.fullmatch(line):
        return "docnum"
    if line.startswith("|"):
        return "table"
    if line.endswith(("：", ":")) and len(line) < 30:
        return "salutation"
    date_at = max(j for j, text in enumerate(lines) if DATE_LINE.fullmatch(text))
    signers_from = date_at
    while signers_from > 0 and lines[signers_from - 1] and not lines[signers_from - 1].endswith(("。", "！")):
        signers_from -= 1
    return "signoff" if signers_from <= i <= date_at else "body"


def table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip("|").split("|")]


# ---------------------------------------------------------------- HTML

MODERN_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}_浙江省教育厅</title>
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{stamp}">
<meta name="ContentSource" content="浙江省教育厅">
<link rel="stylesheet" href="/css/main.css">
<style>body {{ font-family: "Microsoft YaHei"; }} .nav li {{ float: left; }}</style>
<script>var _hmt = _hmt || []; document.title = "页面加载中，请稍候";</script>
</head>
<body>
<div class="top-bar">欢迎访问浙江省教育厅网站 | <a href="#">无障碍浏览</a> | <a href="#">长者模式</a></div>
<div class="header">
  <div class="logo"><img src="/images/logo.png" alt="浙江省教育厅"></div>
  <div class="search"><form action="/search"><input type="text" placeholder="请输入关键词"><button>搜索</button></form></div>
</div>
<div class="nav"><ul>
  <li><a href="/">首页</a></li><li><a href="/jggk/">机构概况</a></li><li><a href="/xwdt/">新闻动态</a></li>
  <li><a href="/zwgk/">政务公开</a></li><li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li>
</ul></div>
<div class="wrapper">
  <div class="location">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="/zwgk/jyta/">建议提案办理</a></div>
  <div class="main">
    <div class="article">
      <h1 class="article-title">{title}</h1>
      <div class="article-info">
        <span>发布时间：{stamp}</span> <span>来源：浙江省教育厅</span>
        <span>浏览次数：<em id="count">1532</em></span>
        <span class="font-size">【字体：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</span>
      </div>
      <div class="article-content" id="zoom">
{body}
      </div>
      <div class="article-tools"><a href="javascript:window.print()">【打印】</a> <a href="javascript:window.close()">【关闭】</a></div>
      <div class="bdsharebuttonbox">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>
      <div class="qrcode"><img src="/images/qr.png" alt=""><p>扫一扫在手机打开当前页</p></div>
      <div class="prev-next">
        <p>上一篇：<a href="/art/0312.html">关于省十四届人大一次会议第0312号建议的答复</a></p>
        <p>下一篇：<a href="/art/0456.html">关于省政协十三届一次会议第0456号提案的答复</a></p>
      </div>
    </div>
  </div>
  <div class="sidebar"><h3>相关文章</h3><ul>
    <li><a href="/art/1.html">关于推进中小学课后服务提质增效的建议的答复</a></li>
    <li><a href="/art/2.html">关于加强中小学体育教师队伍建设的提案的答复</a></li>
  </ul></div>
</div>
<div class="footer">
  <p>主办单位：浙江省教育厅　　地址：示例地址（测试用页面）　　邮编：000000</p>
  <p>版权所有 © 浙江省教育厅　浙ICP备00000000号　网站标识码：0000000000</p>
</div>
<script src="/js/stat.js"></script>
</body>
</html>
"""

TABLE_PAGE = """<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{title}_浙江省教育厅</title>
<script language="javascript">function doZoom(size) {{ document.getElementById("zoom").style.fontSize = size + "px"; }}</script>
</head>
<body>
<table width="1000" align="center"><tr><td><img src="/images/banner.jpg"></td></tr>
<tr><td class="daohang"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a> | <a href="/hdjl/">互动交流</a></td></tr></table>
<table width="1000" align="center">
<tr><td class="weizhi">您现在的位置：<a href="/">首页</a> &gt;&gt; <a href="/zwgk/">政务公开</a></td></tr>
<tr><td class="biaoti" align="center"><b>{title}</b></td></tr>
<tr><td align="center">时间：{stamp}　来源：浙江省教育厅　【字体：<a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a>】</td></tr>
<tr><td id="zoom" class="zhengwen">
{body}
</td></tr>
<tr><td align="right">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
</table>
<table width="1000" align="center"><tr><td class="foot">版权所有：浙江省教育厅　技术支持：示例信息技术公司<br>建议使用1366×768分辨率浏览</td></tr></table>
</body>
</html>
"""


def html_body(lines: list[str], old_style: bool) -> str:
    """The letter as the HTML a department's CMS emits: <p> paragraphs, or <br> runs in older pages."""
    out = []
    for i, line in enumerate(lines[1:], start=1):
        if not line:
            continue
        text, kind = html.escape(line, quote=False), kind_of(lines, i)
        if old_style:
            out.append(("　　" if kind == "body" else "") + text + "<br>")
        elif kind == "docnum":
            out.append(f'<p style="text-align:center">{text}</p>')
        elif kind == "signoff":
            out.append(f'<p style="text-align:right">{text}</p>')
        else:
            out.append(f'<p style="text-indent:2em">{text}</p>')
    return "\n".join(out)


def make_html(name: str, target: str, old_style: bool, encoding: str) -> None:
    lines = read_source(name)
    page = TABLE_PAGE if old_style else MODERN_PAGE
    text = page.format(title=html.escape(lines[0]), stamp=PAGE_STAMP, body=html_body(lines, old_style))
    (HERE / target).write_bytes(text.encode(encoding))


# ---------------------------------------------------------------- DOCX

def make_docx(name: str, target: str) -> None:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    lines = read_source(name)
    document = docx.Document()
    rows = [table_cells(line) for line in lines if line.startswith("|")]
    for i, line in enumerate(lines):
        kind = kind_of(lines, i) if line else "blank"
        if kind == "table" and rows:
            add_docx_table(document, rows)
            rows = []
        elif kind not in ("blank", "table"):
            paragraph = document.add_paragraph(line)
            paragraph.alignment = {"title": WD_ALIGN_PARAGRAPH.CENTER, "docnum": WD_ALIGN_PARAGRAPH.CENTER,
                                   "signoff": WD_ALIGN_PARAGRAPH.RIGHT}.get(kind)
            if kind == "body":
                paragraph.paragraph_format.first_line_indent = Pt(24)
    document.core_properties.title = lines[0]
    document.save(HERE / target)


def add_docx_table(document, rows: list[list[str]]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            table.cell(r, c).text = cell


# ---------------------------------------------------------------- PDF

def pdf_styles():
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    # A built-in CID font: pypdf maps its codes back to Unicode, and nothing has to be embedded.
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=12, leading=22,
                          firstLineIndent=24, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=16, leading=28, alignment=TA_CENTER,
                                firstLineIndent=0, spaceAfter=10),
        "docnum": ParagraphStyle("docnum", parent=body, alignment=TA_CENTER, firstLineIndent=0, spaceAfter=10),
        "salutation": ParagraphStyle("salutation", parent=body, firstLineIndent=0),
        "signoff": ParagraphStyle("signoff", parent=body, alignment=TA_RIGHT, firstLineIndent=0),
        "body": body,
        "table": body,
    }


def draw_page_number(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont("STSong-Light", 10)
    canvas.drawCentredString(doc.pagesize[0] / 2, 30, f"- {doc.page} -")
    canvas.restoreState()


def make_pdf(name: str, target: str) -> None:
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    rl_config.invariant = 1  # no creation time or random id: the same source gives the same bytes
    lines, styles = read_source(name), pdf_styles()
    flowables = []
    for i, line in enumerate(lines):
        if not line:
            flowables.append(Spacer(1, 4))
            continue
        flowables.append(Paragraph(html.escape(line, quote=False), styles[kind_of(lines, i)]))
    document = SimpleDocTemplate(str(HERE / target), pagesize=A4, leftMargin=80, rightMargin=80,
                                 topMargin=72, bottomMargin=72, title=lines[0])
    document.build(flowables, onFirstPage=draw_page_number, onLaterPages=draw_page_number)


# ---------------------------------------------------------------- plain text

def make_text(name: str, target: str, encoding: str, newline: str = "\n", markdown: bool = False) -> None:
    lines = read_source(name)
    if markdown:
        lines = [("# " if i == 0 else "## " if re.match(r"[一二三四五六七八九十]+、", line) else "") + line
                 for i, line in enumerate(lines)]
    (HERE / target).write_bytes((newline.join(lines) + newline).encode(encoding))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    make_html("01_zj_education_2023.txt", "01_zj_education_2023.html", old_style=False, encoding="utf-8")
    make_html("01_zj_education_2023.txt", "01_zj_education_2023_gbk.htm", old_style=True, encoding="gb18030")
    make_docx("02_cd_environment_2022.txt", "02_cd_environment_2022.docx")
    make_text("03_ha_agriculture_2021.txt", "03_ha_agriculture_2021_gb18030.txt", "gb18030", newline="\r\n")
    make_pdf("04_sc_health_2024.txt", "04_sc_health_2024.pdf")
    make_text("05_gd_transport_2023.txt", "05_gd_transport_2023_utf16.txt", "utf-16", newline="\r\n")
    make_text("05_gd_transport_2023.txt", "05_gd_transport_2023.md", "utf-8-sig", markdown=True)
    for path in sorted(HERE.glob("0*.*")):
        log.info("%-40s %7d bytes", path.name, path.stat().st_size)


if __name__ == "__main__":
    main()
