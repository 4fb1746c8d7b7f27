"""Every error a user can cause. Each message says what was wrong and how to fix it;
only the CLI and the UI turn them into exit codes or chat messages."""
from __future__ import annotations


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


class BadLetterError(LetterQAError):
    """A file that cannot be read as a letter. Names the file and the reason."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ModelError(LetterQAError):
    pass
