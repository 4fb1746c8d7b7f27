"""Changing the corpus from the chat: uploads checked and carded per file, removal into index/trash/.

Messages are Chinese and name the file only, never a server path (Gradio's upload folder).
"""
import logging
import shutil
import time
from pathlib import Path

from . import ui_turns as turns_
from .errors import BadLetterError, LetterQAError

log = logging.getLogger(__name__)

REFUSED_SUFFIXES = (".doc", ".wps", ".ofd")


def upload_cards(engine, paths: list, progress=None) -> list[dict]:
    """Check, read and add the files; one card per file with what was recognised or why it was refused."""
    cards, good = [], []
    known = set(engine.stored.letters)
    limit = int(engine.settings.max_file_mb * 2**20)
    for path in map(Path, paths):
        card = check_file(path, known, limit)
        cards.append(card)
        if "letter" in card:
            good.append(path)
            known.add(card["letter"].letter_id)
    if good:
        from .build import add_letters

        try:
            add_letters(engine.settings, good, embedder=engine.embedder, progress=progress)
        except LetterQAError as exc:
            log.warning("upload failed: %s", exc)
            return [c if "letter" not in c else {"name": c["name"], "error": "加入索引失败，请稍后重试。"}
                    for c in cards]
        engine.refresh()
    return [_recognised(engine, c) for c in cards]


def check_file(path: Path, known: set, limit: int) -> dict:
    """A card for one file before it is added: its Letter, or a Chinese reason naming the file only."""
    from .read import SUPPORTED_SUFFIXES, read_letter

    name = path.name
    suffix = path.suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        return {"name": name, "error": f"{suffix} 格式无法读取：请另存为 .docx 或 PDF 后再上传。"}
    if suffix not in SUPPORTED_SUFFIXES:
        return {"name": name, "error": "不支持这种文件：请上传 .txt、.md、.html、.docx 或 PDF。"}
    try:
        letter = read_letter(path, max_bytes=limit)
    except BadLetterError as exc:
        return {"name": name, "error": chinese_reason(exc.reason)}
    if letter.letter_id in known:
        return {"name": name, "error": "这封答复函已在库中，未重复加入。"}
    return {"name": name, "letter": letter}


_REASONS = [("old binary Office", "这是旧版 Word/WPS 文件：请另存为 .docx 或 PDF。"),
            ("no text layer", "PDF 没有文字层（可能是扫描件）：请先做文字识别，或上传 .docx/.txt。"),
            ("password", "PDF 设有密码：请去掉密码后再上传。"),
            ("is empty", "文件是空的。"),
            ("over the limit", "文件太大，超过上传上限。"),
            ("no Chinese text", "文件里没有中文正文，不像答复函（或编码有误）：请另存为 UTF-8 后再试。"),
            ("encoding", "文件编码无法识别：请另存为 UTF-8 文本。"),
            ("UTF", "文件编码无法识别：请另存为 UTF-8 文本。"),
            ("binary file", "这不是文本文件：请上传 .txt、.html、.docx 或 PDF。"),
            ("no text in its body", "网页里没有正文：请保存答复函正文所在的页面，或复制正文到 .txt。"),
            ("page furniture", "去掉网页杂项后没有正文：是答复函的页面吗？"),
            ("readable .docx", "无法读取这个 .docx：请用 Word 或 WPS 重新保存为 .docx。"),
            ("readable PDF", "无法读取这个 PDF：请重新导出，或上传 .docx/.txt。"),
            ("bytes do not start", "文件内容与扩展名不符：请检查文件。")]


def chinese_reason(reason: str) -> str:
    """A reader's English reason as a Chinese one; the reasons never hold a path, so none is shown."""
    return next((zh for key, zh in _REASONS if key in reason), "无法读取为答复函：请检查文件，或另存为 .docx/.txt 后再试。")


def _recognised(engine, card: dict) -> dict:
    letter = card.pop("letter", None)
    if letter is None:
        return card
    stored = engine.stored.letters.get(letter.letter_id)
    if stored is None:
        return {"name": card["name"], "error": "未能加入索引，请稍后重试。"}
    record = turns_.letter_record(stored)
    return {**card, **record, "passages": len(engine.stored.rows_of(letter.letter_id))}


def remove_letter(engine, letter_id: str) -> str:
    """Move the letter's file out of the corpus into index/trash/, then sync the index. Returns its file name."""
    from .build import build_index

    letter = engine.stored.letters.get(letter_id)
    if letter is None:
        raise LetterQAError("这封答复函已不在库中。")
    if len(engine.stored.letters) == 1:
        raise LetterQAError("这是库中唯一的一封答复函，不能移除：请先添加别的答复函。")
    source = engine.settings.corpus / letter.source
    trash = engine.settings.index / "trash" / f"{time.strftime('%Y%m%d-%H%M%S')}-{letter.source}"
    trash.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, trash)
    try:
        build_index(engine.settings, embedder=engine.embedder)
    except LetterQAError:
        shutil.move(trash, source)  # the corpus stays as the index describes it
        raise
    engine.refresh()
    log.info("removed %s into %s", letter.source, trash)
    return letter.source
