"""Reading letters: formats and encodings, page furniture, metadata, and refusals that name the fix."""
from __future__ import annotations

import codecs
import hashlib
import re
from pathlib import Path

import pytest

from letterqa.errors import BadLetterError
from letterqa.genre import PAGE_LINE
from letterqa.read import SUPPORTED_SUFFIXES, clean_text, letter_id_of, read_letter

ROOT = Path(__file__).resolve().parent.parent
FIRST_LETTER = ROOT / "corpus" / "000_04222e28d1224f39.txt"
LETTERS = ROOT / "tests" / "data" / "letters"
FIRST_LETTER_FURNITURE = ["【 字体:", "打印", "时间:2024-08-25 9:13", "责任编辑: 闫霄", "分享", "上一篇:"]


def source_text(name: str) -> str:
    """A test letter's UTF-8 source, cleaned, with `|a|b|c` table rows as `a b c` (as a .docx row reads)."""
    text = (LETTERS / "src" / name).read_text(encoding="utf-8")
    rows = re.sub(r"(?m)^\|(.*)$", lambda m: " ".join(c.strip() for c in m.group(1).split("|")), text)
    return clean_text(rows)


# ---------------------------------------------------------------- the first letter

@pytest.fixture(scope="module")
def first():
    return read_letter(FIRST_LETTER)


def test_first_letter_furniture_is_gone(first):
    for furniture in ["字体", "打印", "分享", "上一篇", "责任编辑", "闫霄", "时间:2024-08-25 9:13"]:
        assert furniture not in first.text


def test_first_letter_body_is_intact(first):
    assert "一、工作开展情况" in first.text
    assert "2023年新认定6家" in first.text
    original = FIRST_LETTER.read_text(encoding="utf-8").splitlines()
    body = [line.strip() for line in original if line.strip() and line.strip() not in FIRST_LETTER_FURNITURE]
    assert len(body) >= 19
    missing = [line for line in body if line not in first.text]
    assert missing == []
    # One paragraph a line: the original's paragraphs, in order, with nothing else.
    assert first.text.split("\n") == body


def test_first_letter_metadata(first):
    assert first.sender == "山东省工业和信息化厅"
    assert first.recipient == "冯能斌委员"
    assert first.date == "2024-08-25"
    assert first.title == "关于加快形成新质生产力 增强发展新动能的建议"
    assert "0531-51782609" in first.contact
    # 鲁工信发〔2023〕5号 is a policy the body cites, not this letter's own number.
    assert first.doc_number == ""


def test_first_letter_ids(first):
    assert first.source == FIRST_LETTER.name
    assert first.sha256 == hashlib.sha256(FIRST_LETTER.read_bytes()).hexdigest()
    assert first.letter_id == letter_id_of(first.text) == hashlib.sha256(first.text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- the test letters, each format

EXPECTED = {
    "01_zj_education_2023.html": dict(
        source="01_zj_education_2023.txt", sender="浙江省教育厅", recipient="李建华代表", date="2023-07-18",
        title="关于加强乡村学校学生心理健康教育的建议", doc_number="浙教建〔2023〕45号", contact="0571-88008123",
        fact="全省中小学配备专职心理健康教育教师4126名"),
    "01_zj_education_2023_gbk.htm": dict(
        source="01_zj_education_2023.txt", sender="浙江省教育厅", recipient="李建华代表", date="2023-07-18",
        title="关于加强乡村学校学生心理健康教育的建议", doc_number="浙教建〔2023〕45号", contact="0571-88008123",
        fact="2023年安排省级补助资金4800万元，支持260所乡村学校改造提升心理辅导室"),
    "02_cd_environment_2022.docx": dict(
        source="02_cd_environment_2022.txt", sender="成都市生态环境局", recipient="王丽萍委员", date="2022-08-30",
        title="关于加强城市噪声污染防治、建设宁静社区的提案", doc_number="成环函〔2022〕68号",
        contact="联系人：赵敏；联系电话：028-61889235", fact="全市累计建成噪声自动监测站点152个"),
    "03_ha_agriculture_2021_gb18030.txt": dict(
        source="03_ha_agriculture_2021.txt", sender="河南省农业农村厅", recipient="张国强等6位代表",
        date="2021-06-28", title="关于加大高标准农田建设投入和后期管护力度的建议", doc_number="",
        contact="0371-65918732", fact="在滑县、永城市开展“田长制”试点"),
    "04_sc_health_2024.pdf": dict(
        source="04_sc_health_2024.txt", sender="四川省卫生健康委员会 四川省人力资源和社会保障厅",
        recipient="陈晓梅委员", date="2024-07-09", title="关于加强基层医疗卫生人才队伍建设的提案",
        doc_number="川卫函〔2024〕172号", contact="028-86136725",
        fact="2023年为基层定向招收医学生1580名，其中本科1120名、专科460名"),
    "05_gd_transport_2023_utf16.txt": dict(
        source="05_gd_transport_2023.txt", sender="广东省交通运输厅", recipient="民进广东省委会",
        date="2023-09-12", title="关于推进“四好农村路”高质量发展助力乡村振兴的提案",
        doc_number="粤交函〔2023〕356号", contact="联系人：黄海涛，联系电话：020-83731456",
        fact="全省设立县、乡、村三级路长5.6万名"),
    "05_gd_transport_2023.md": dict(
        source="05_gd_transport_2023.txt", sender="广东省交通运输厅", recipient="民进广东省委会",
        date="2023-09-12", title="关于推进“四好农村路”高质量发展助力乡村振兴的提案",
        doc_number="粤交函〔2023〕356号", contact="020-83731456", fact="开通“客货邮”融合线路326条"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_letter_reads_with_its_metadata(name):
    expected = EXPECTED[name]
    letter = read_letter(LETTERS / name)
    for field in ("sender", "recipient", "date", "title", "doc_number"):
        assert getattr(letter, field) == expected[field], field
    assert expected["contact"] in letter.contact
    assert expected["fact"] in letter.text
    assert letter.source == name
    assert letter.sha256 == hashlib.sha256((LETTERS / name).read_bytes()).hexdigest()


def body_of(text: str) -> str:
    """The letter below the page-information block the reader puts first."""
    lines = text.split("\n")
    while lines and PAGE_LINE.match(lines[0]):
        lines.pop(0)
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_letter_text_is_its_source_paragraph_for_paragraph(name):
    """Whatever the format, the text is the letter's own paragraphs: no chrome, no broken lines."""
    letter = read_letter(LETTERS / name)
    assert body_of(letter.text) == source_text(EXPECTED[name]["source"])
    assert clean_text(letter.text) == letter.text


def test_same_letter_in_two_formats_has_one_id():
    assert read_letter(LETTERS / "01_zj_education_2023.html").letter_id == \
        read_letter(LETTERS / "01_zj_education_2023_gbk.htm").letter_id
    assert read_letter(LETTERS / "05_gd_transport_2023_utf16.txt").letter_id == \
        read_letter(LETTERS / "05_gd_transport_2023.md").letter_id


def test_gb18030_and_utf16_files_are_really_encoded_so():
    gb = (LETTERS / "03_ha_agriculture_2021_gb18030.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")
    assert (LETTERS / "05_gd_transport_2023_utf16.txt").read_bytes().startswith(codecs.BOM_UTF16_LE)
    assert "高标准农田" in read_letter(LETTERS / "03_ha_agriculture_2021_gb18030.txt").text


@pytest.mark.parametrize("name", ["01_zj_education_2023.html", "01_zj_education_2023_gbk.htm"])
def test_html_page_chrome_is_gone(name):
    letter = read_letter(LETTERS / name)
    text = body_of(letter.text)
    assert letter.meta["发布时间"].startswith("2023-07-20")   # page information is metadata, kept apart
    for chrome in ["上一篇", "下一篇", "当前位置", "您现在的位置", "无障碍浏览", "相关文章", "版权所有", "ICP备",
                   "页面加载中", "扫一扫", "分享到", "浏览次数", "字体", "打印", "关闭", "首页", "政务服务", "2023-07-20"]:
        assert chrome not in text, chrome
    assert text.startswith("关于省十四届人大一次会议第0586号建议的答复\n浙教建〔2023〕45号\n李建华代表：\n")


def test_html_main_block_is_found_by_text_not_by_class_names(tmp_path):
    paragraph = "<p>　　" + "我们高度重视您提出的建议，认真研究落实。" * 6 + "</p>"
    page = ('<html><head><title>关于第8号建议的答复_某某市人民政府</title></head><body>'
            '<div class="top"><h1>某某市人民政府</h1></div>'
            '<div class="menu"><a href="/">首页</a><a href="/a">政务公开</a></div>'
            '<div class="article"><h1>关于第8号建议的答复</h1><div class="main-content has-sidebar">'
            '<p>刘九代表：</p>' + paragraph * 3 +
            '<div class="share-bar">分享到：微信 微博</div><p>某某市民政局</p><p>2022年5月6日</p></div></div>'
            '<div class="sidebar"><ul><li><a href="/x">其他答复一</a></li><li><a href="/y">其他答复二</a></li></ul></div>'
            '</body></html>')
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    letter = read_letter(path)
    assert letter.text.split("\n")[:2] == ["关于第8号建议的答复", "刘九代表："]
    assert "分享" not in letter.text and "其他答复" not in letter.text and "政务公开" not in letter.text
    assert "人民政府" not in letter.text
    assert (letter.sender, letter.date, letter.title) == ("某某市民政局", "2022-05-06", "关于第8号建议的答复")


def test_docx_table_rows_are_read():
    text = read_letter(LETTERS / "02_cd_environment_2022.docx").text
    assert "年份 昼间达标率 夜间达标率\n2019年 91.2% 74.5%" in text
    assert "2021年 93.4% 78.2%" in text


def test_pdf_page_numbers_go_and_wrapped_paragraphs_come_back_whole():
    text = read_letter(LETTERS / "04_sc_health_2024.pdf").text
    assert "- 1 -" not in text and "- 2 -" not in text
    # Wrapped in the PDF right after the 。 and before 二是: still one paragraph.
    assert "平均增长8.7%。二是对在甘孜州" in text
    assert "研究出台《四川省基层卫生人才激励办法》：（1）落实基层医务人员" in text


def test_page_time_stamp_is_the_fallback_date(tmp_path):
    page = (LETTERS / "01_zj_education_2023.html").read_text(encoding="utf-8").replace("2023年7月18日", "")
    path = tmp_path / "undated.html"
    path.write_text(page, encoding="utf-8")
    assert read_letter(path).date == "2023-07-20"


# ---------------------------------------------------------------- encodings

SHORT_LETTER = "王某某代表：\n您的建议收悉，现答复如下。\n某某局\n2022年3月5日\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "gb18030", "gbk"])
def test_short_letter_in_each_encoding(tmp_path, encoding):
    """Short GBK text is where detectors guess wrong; strict GB18030 before detection reads it."""
    data = (codecs.BOM_UTF16_BE + SHORT_LETTER.encode("utf-16-be") if encoding == "utf-16-be-bom"
            else SHORT_LETTER.encode(encoding))
    path = tmp_path / "short.txt"
    path.write_bytes(data)
    letter = read_letter(path)
    assert letter.text == "王某某代表：\n您的建议收悉，现答复如下。\n某某局\n2022年3月5日"
    assert (letter.recipient, letter.sender, letter.date) == ("王某某代表", "某某局", "2022-03-05")


@pytest.mark.parametrize("text", ["此复。", "答复函", "您的建议收悉。", "关于农村公路的答复"])
def test_tiny_gbk_texts_that_detectors_misread(tmp_path, text):
    path = tmp_path / "tiny.txt"
    path.write_bytes(text.encode("gbk"))
    assert read_letter(path).text == text


def test_html_declared_charset_is_used(tmp_path):
    """Big5 bytes also decode as (wrong) GB18030: the page's own declaration must win."""
    page = '<html><head><meta charset="big5"><title>答覆</title></head><body><p>張三委員：</p><p>您的提案收悉。</p></body></html>'
    path = tmp_path / "page.htm"
    path.write_bytes(page.encode("big5"))
    assert read_letter(path).text == "答覆\n張三委員：\n您的提案收悉。"


# ---------------------------------------------------------------- clean_text

def test_clean_text_removes_furniture_of_many_sites():
    furniture = ["【 字体:", "字体:大 中 小", "【字体：大 中 小】【打印】【关闭】", "打印", "打印本页", "关闭窗口",
                 "分享", "分享到:", "分享到：微信 微博 QQ空间", "上一篇:关于某某的答复", "下一篇：无", "责任编辑: 张三",
                 "来源: 省政府办公厅 浏览次数: 1024", "浏览次数：88", "时间:2024-08-25 9:13",
                 "发布时间：2023-05-06 10:00", "【打印】【关闭】", "[打印本页] [关闭窗口]", "扫一扫在手机打开当前页",
                 "手机扫描二维码", "当前位置：首页 > 政务公开 > 建议提案", "首页 > 政务公开", "- 2 -", "第2页 共3页",
                 "版权所有：某某省人民政府办公厅 某ICP备12345678号", "2024-08-25 09:13:00"]
    body = ["关于某某的建议", "李四代表：", "您提出的建议收悉。", "一、工作情况", "(一)加强保障。一是增加投入。"]
    raw = "\n".join(line for pair in zip(body, furniture[:len(body)]) for line in pair)
    raw += "\n" + "\n".join(furniture[len(body):])
    # The page's information fields are kept, first and one a line; the rest of the furniture is gone.
    assert clean_text(raw) == "\n".join(["来源:省政府办公厅", "发布时间：2023-05-06 10:00"] + body)


def test_clean_text_keeps_letter_lines_that_mention_furniture_words():
    lines = ["（三）加强宣传引导。在网站开设专栏，供群众下载打印申请表格。",
             "来源于群众的意见建议，我们都认真研究办理，逐条反馈，确保件件有回音、事事有着落，切实提高办理质量和群众满意度。",
             "联系人：王五，电话：0531-12345678", "三、技术支持", "（二）主办单位：省文化和旅游厅", "十二"]
    assert clean_text("\n".join(lines)) == "\n".join(lines)


def test_clean_text_whitespace_and_brackets():
    raw = "\ufeff　　(一)加强　协调。 \r\n\r\n\r\n\t（二）推进\u00a0落实。\u200b\n  \n3.完善机制。"
    assert clean_text(raw) == "(一)加强 协调。\n（二）推进 落实。\n3.完善机制。"


def test_clean_text_rejoins_hard_wrapped_lines():
    paragraph = ("（一）推进试点工作。一是扩大试点范围，在全省选取十二个县开展试点，总结形成可复制可推广的经验做法；"
                 "二是加强跟踪指导，每季度开展一次调度，及时协调解决试点中遇到的困难和问题。")
    wrapped = [paragraph[i:i + 20] for i in range(0, len(paragraph), 20)]
    raw = "\n".join(["一、工作进展", *wrapped[:3], "- 1 -", *wrapped[3:], "二、下一步打算", "1.完善政策。"])
    assert clean_text(raw) == "\n".join(["一、工作进展", paragraph, "二、下一步打算", "1.完善政策。"])


def test_clean_text_does_not_join_heading_or_numbered_lines():
    wrapped = "\n".join("这是一段很长的正文内容用来测试换行的处理规则是否正确无误" for _ in range(6))
    raw = wrapped + "\n（二）下一段的标题\n正文继续。"
    lines = clean_text(raw).split("\n")
    assert lines[-2:] == ["（二）下一段的标题", "正文继续。"]


def test_letter_id_of_is_sha256_prefix():
    assert letter_id_of("文本") == hashlib.sha256("文本".encode()).hexdigest()[:16]
    assert len(letter_id_of("文本")) == 16


# ---------------------------------------------------------------- metadata rules beyond the test letters

def write(tmp_path, text: str, name: str = "letter.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("written, iso", [
    ("二〇二四年八月二十五日", "2024-08-25"), ("二零二一年十二月三十一日", "2021-12-31"),
    ("２０２２年３月５日", "2022-03-05"), ("2020 年 1 月 9 日", "2020-01-09"), ("二〇二三年十月十日", "2023-10-10"),
])
def test_signed_date_forms(tmp_path, written, iso):
    letter = read_letter(write(tmp_path, f"赵六委员：\n您的提案收悉。\n某某市财政局\n{written}\n"))
    assert letter.date == iso
    assert letter.sender == "某某市财政局"


def test_sender_on_the_date_line_and_joint_signers(tmp_path):
    same_line = read_letter(write(tmp_path, "赵六委员：\n您的提案收悉。\n某某省财政厅 2024年3月1日\n"))
    assert (same_line.sender, same_line.date) == ("某某省财政厅", "2024-03-01")
    joint = read_letter(write(tmp_path, "赵六委员：\n您的提案收悉。\n某某省发展和改革委员会\n某某省财政厅\n2024年3月1日\n"))
    assert joint.sender == "某某省发展和改革委员会 某某省财政厅"


def test_body_sentence_ending_in_a_date_is_not_the_signature(tmp_path):
    letter = read_letter(write(tmp_path, "赵六委员：\n您的提案收悉。\n相关数据统计截至2023年12月31日\n"))
    assert (letter.date, letter.sender) == ("", "")


def test_title_without_brackets_and_heading_fallback(tmp_path):
    plain = read_letter(write(tmp_path, "尊敬的孙七代表：\n您提出的关于加强农村养老服务的建议收悉，现答复如下：\n"))
    assert plain.title == "关于加强农村养老服务的建议"
    assert plain.recipient == "孙七代表"
    heading = read_letter(write(tmp_path, "对市人大十六届三次会议第12号建议的答复\n孙七代表：\n来信收悉。\n"))
    assert heading.title == "对市人大十六届三次会议第12号建议的答复"


def test_doc_number_is_only_taken_from_the_head(tmp_path):
    head = read_letter(write(tmp_path, "某财函〔2024〕第8号\n周八委员：\n按照《某某办法》（某政发〔2020〕3号）办理。\n"))
    assert head.doc_number == "某财函〔2024〕第8号"
    body_only = read_letter(write(tmp_path, "周八委员：\n按照《某某办法》（某政发〔2020〕3号）办理。\n"))
    assert body_only.doc_number == ""


def test_letter_without_metadata_still_loads(tmp_path):
    letter = read_letter(write(tmp_path, "这是一段没有称呼、落款和日期的答复内容。\n"))
    assert letter.text == "这是一段没有称呼、落款和日期的答复内容。"
    assert (letter.title, letter.sender, letter.recipient, letter.date, letter.doc_number, letter.contact) == \
        ("", "", "", "", "", "")


# ---------------------------------------------------------------- bad input

def scanned_pdf(path: Path) -> None:
    """A page with a drawn rectangle and no text: what a scan without OCR looks like to pypdf."""
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path))
    page.rect(72, 72, 400, 600, fill=1)
    page.showPage()
    page.save()


def refusal(path: Path, **kwargs) -> str:
    with pytest.raises(BadLetterError) as caught:
        read_letter(path, **kwargs)
    message = str(caught.value)
    # Only the file's name is shown: a server's folders (an upload's temp path) stay private.
    assert message.startswith(path.name + ": ") and str(path.parent) not in message
    assert caught.value.path == str(path)
    return message


def test_empty_file(tmp_path):
    assert "is empty" in refusal(write(tmp_path, ""))


def test_binary_file(tmp_path):
    path = tmp_path / "data.txt"
    path.write_bytes(bytes(range(256)) * 8)
    assert "binary" in refusal(path)


def test_unknown_suffix_lists_the_supported_ones(tmp_path):
    message = refusal(write(tmp_path, "表格", "sheet.xlsx"))
    assert "'.xlsx'" in message and all(suffix in message for suffix in SUPPORTED_SUFFIXES)


def test_over_the_size_limit_says_size_and_limit(tmp_path):
    path = write(tmp_path, "张三代表：" * 100)
    message = refusal(path, max_bytes=1000)
    assert "1,500 bytes" in message and "1,000 bytes" in message


def test_scanned_pdf_asks_for_ocr(tmp_path):
    path = tmp_path / "scan.pdf"
    scanned_pdf(path)
    assert "has no text layer (a scanned image?): OCR it or give the .docx/.txt" in refusal(path)


@pytest.mark.parametrize("name, data, reason", [
    ("broken.docx", b"PK\x03\x04" + b"\x00" * 200, "is not a readable .docx"),
    ("renamed.docx", "这不是一个Word文件".encode(), "is not a .docx file"),
    ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, "old binary Office file"),
    ("broken.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4, "is not a readable PDF"),
    ("renamed.pdf", b"hello", "is not a .pdf file"),
    ("english.txt", b"Dear Sir, thank you for your letter.", "has no Chinese text"),
    ("chrome.html", "<html><body><nav>首页</nav><script>var a = 1;</script></body></html>".encode(), "no text"),
])
def test_corrupt_or_wrong_files(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    assert reason in refusal(path)


def test_truncated_docx_and_pdf(tmp_path):
    for name in ("02_cd_environment_2022.docx", "04_sc_health_2024.pdf"):
        path = tmp_path / name
        path.write_bytes((LETTERS / name).read_bytes()[:3000])
        assert "is not a readable" in refusal(path)


def test_missing_file(tmp_path):
    assert "cannot be read" in refusal(tmp_path / "missing.txt")


# ---------------------------------------------------------------- saved pages that lost their layout

def _read(tmp_path, text: str, name: str = "page.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_letter(path)


def test_a_bare_page_information_list_becomes_the_page_fields(tmp_path):
    letter = _read(tmp_path, "• 640104-107/2019-00169\n• 某区住房和城乡建设局\n• 有效\n• 2019年07月26日\n"
                             "关于区人大四届三次会议第16号建议的答复\n王某代表:\n您提出的建议已收悉,现答复如下:\n"
                             "今年改造老旧小区12个。\n某区住房和城乡建设局\n2019年7月26日\n")
    assert letter.meta["索引号"] == "640104-107/2019-00169" and letter.meta["效力状态"] == "有效"
    assert letter.meta["发布机构"] == "某区住房和城乡建设局" and letter.meta["发布时间"] == "2019年07月26日"
    assert "•" not in letter.text and letter.recipient == "王某代表"


def test_two_bullets_are_not_a_page_list(tmp_path):
    letter = _read(tmp_path, "王某代表:\n您提出的建议已收悉,现答复如下:\n• 改造小区\n• 新建公园\n某局\n2019年7月26日\n")
    assert "• 改造小区" in letter.text and "索引号" not in letter.meta


def test_a_table_saved_one_cell_a_line_reads_as_label_and_value(tmp_path):
    letter = _read(tmp_path, "某市人大代表建议承办表\n案 由 |\n关于改造老旧小区的建议 | |||\n提建议代表 单位姓名 |\n"
                             "某代表团 马某 | |||\n承办单位 |\n市住房和城乡建设局 |\n具体承办人 |\n||\n"
                             "马某代表:\n您提出的建议已收悉,现答复如下:\n今年改造老旧小区12个。\n")
    lines = letter.text.split("\n")
    assert "提建议代表 单位姓名:某代表团 马某" in lines and "承办单位:市住房和城乡建设局" in lines
    assert "案 由:关于改造老旧小区的建议" in lines and not any("具体承办人" in line for line in lines)
    assert letter.meta["承办单位"] == "市住房和城乡建设局"


def test_a_handling_unit_under_the_body_is_kept_and_a_site_footer_is_not(tmp_path):
    letter = _read(tmp_path, "游某委员:\n您提出的提案已收悉,现答复如下:\n区政府每年开展科技周活动。\n\n承办单位:某区人民政府\n"
                             "主办单位:某区人民政府办公室 承办单位:某区大数据中心 网站标识码:2104030001\n")
    assert "承办单位:某区人民政府" in letter.text and "大数据中心" not in letter.text
    assert letter.sender == "某区人民政府"


def test_a_portal_s_greeting_comment_box_and_attachment_box_are_not_the_letter(tmp_path):
    letter = _read(tmp_path, "欢迎访问某市某区人民政府网站! 今天是:\n游某委员:\n您提出的提案已收悉,现答复如下:\n"
                             "区政府与市文旅局联合主办了两届文化节。\n某区人民政府\n2023年5月6日\n相关附件:\n"
                             "留言与评论(共有 0 条评论)\n中共某区委、某区人民政府主办 各镇街、区直部门内容保障\n")
    for debris in ("欢迎访问", "今天是", "相关附件", "留言与评论", "内容保障"):
        assert debris not in letter.text
    assert "联合主办了两届文化节" in letter.text and letter.sender == "某区人民政府"


def test_paragraphs_run_into_one_line_are_split_again(tmp_path):
    body = ("近年来,县文化部门积极争取保护资金对某庙进行了修复。" * 6 + "今后将着力做好以下几个方面的工作: 一是提升文化节。"
            "积极对接市文化和旅游局。 二是搞好文化展示。邀请专家学者。 三是完善相关配套。设置标识牌。 某县文化和旅游局 "
            "2019年5月30日 签发人:褚某 联系人:王某 联系电话:0537-1234567")
    letter = _read(tmp_path, "仲某委员:\n您提出的提案已经收悉,现答复如下:\n" + body + "\n")
    lines = letter.text.split("\n")
    assert any(line.startswith("二是搞好文化展示") for line in lines)
    assert "签发人:褚某" in lines and letter.meta["签发人"] == "褚某" and letter.contact.startswith("联系人:王某")


def test_a_date_before_a_page_label_is_the_publication_date(tmp_path):
    letter = _read(tmp_path, "2022-01-24 来源:某县交通运输局 关闭 打印\n龚某委员:\n首先感谢你们的关心。\n今年开通客运班车3条。\n")
    assert letter.meta["发布时间"] == "2022-01-24" and letter.meta["来源"] == "某县交通运输局"


def test_the_sender_when_no_organisation_line_signs(tmp_path):
    by_contact = _read(tmp_path, "马某委员:\n您提出的提案收悉。现答复如下:\n目前暂未拿出方案。\n2020年8月18日\n"
                                 "联系单位及电话:郑州市某区城市管理局 68118611\n联 系 人:熊某\n", "a.txt")
    assert by_contact.sender == "郑州市某区城市管理局"
    by_heading = _read(tmp_path, "河南省林业局对省政协十二届五次会议\n第1250252号提案的答复\n某委员:\n您提出的提案收悉。现答复如下:\n"
                                 "沿黄造林10万亩。\n", "b.txt")
    assert by_heading.sender == "河南省林业局"
    by_source = _read(tmp_path, "发布时间:2021-09-07 来源: 某县文化和旅游局\n石某委员:\n您提出的提案收悉。\n现有非遗项目9项。\n",
                      "c.txt")
    assert by_source.sender == "某县文化和旅游局"
