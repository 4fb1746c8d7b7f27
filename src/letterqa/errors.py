"""Every error a user can cause. Each message says what was wrong and how to fix it;
only the CLI and the UI turn them into exit codes or chat messages."""
from __future__ import annotations

import os


class LetterQAError(Exception):
    """Base class: str(error) is the one line shown to the user."""


class NoIndexError(LetterQAError):
    def __init__(self, index_dir):
        super().__init__(f"no index in {index_dir}: run `letterqa build` first")


class IndexMismatchError(LetterQAError):
    def __init__(self, index_dir, what: str):
        super().__init__(
            f"the index in {index_dir} was built with {what}: "
            "run `letterqa build` to rebuild it with the current settings"
        )


class EmptyQuestionError(LetterQAError):
    def __init__(self):
        super().__init__("the question is empty: type a question, e.g. 2023年新认定多少家省制造业创新中心?")


class EmptyCorpusError(LetterQAError):
    def __init__(self, corpus_dir):
        super().__init__(
            f"no letters in {corpus_dir}: put .txt, .md, .html, .docx or .pdf reply letters there, "
            "or use `letterqa add FILE`"
        )


def file_label(path) -> str:
    """A file's name as it can be shown: never the folder (an upload's server temp path stays private),
    and printable even when the name's bytes are not UTF-8 (a GBK name from a Windows zip)."""
    name = os.path.basename(os.fspath(path)) or os.fspath(path)
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace")
    # A line break or control character in a name would split a one-line message.
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class BadLetterError(LetterQAError):
    """A file that cannot be read as a letter. Names the file (not its folder) and the reason."""

    def __init__(self, path, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{file_label(path)}: {reason}")


class ModelError(LetterQAError):
    pass


class DamagedIndexError(LetterQAError):
    """An index file that cannot be read; `letterqa build` always repairs it from corpus/."""

    def __init__(self, index_dir, what: str):
        super().__init__(f"the index in {index_dir} is damaged ({what}): run `letterqa build` to rebuild it "
                         "from the corpus")


class QuestionTooLongError(LetterQAError):
    def __init__(self, length: int, limit: int):
        super().__init__(f"问题太长（{length:,} 字，上限 {limit:,}），请缩短后再问 / the question is {length:,} "
                         f"characters, over max_question_chars={limit:,}: ask a shorter question")
