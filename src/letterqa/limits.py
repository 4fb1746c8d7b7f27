"""Bounds on the work one letter or one question may cause, and the question cleaner.

Bytes alone do not bound work: a 1 MB .docx can inflate to 300 MB of XML, and a 1.6 MB PDF can hold
2,000 pages. So reading is capped in uncompressed bytes, pages, characters, chunks, sentences and
seconds. The defaults sit far above real letters (the longest seen so far is ~3,000 characters,
8.7 KB) and far below what would take minutes. Each cap is named in its error message together with
the environment variable that raises it.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import re
import time
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import BadLetterError, LetterQAError, QuestionTooLongError

ENV_PREFIX = "LETTERQA_"


@dataclass(frozen=True)
class Limits:
    max_letter_chars: int = 200_000     # characters of one letter's text (real letters: ≤ ~10,000)
    max_letter_chunks: int = 2_000      # chunks of one letter (the first letter has ~40)
    max_letter_sentences: int = 10_000  # sentences of one letter, each one embedded
    max_pdf_pages: int = 300            # pages of one PDF (real letters: 2-10)
    max_docx_mb: float = 64.0           # uncompressed size of all parts of one .docx, images included
    max_docx_xml_mb: float = 16.0       # uncompressed size of one XML part (parsed into memory whole)
    max_read_seconds: float = 30.0      # time to read one file into text
    max_question_chars: int = 2_000     # characters of one question

    @classmethod
    def from_env(cls) -> "Limits":
        """The defaults, each overridable by LETTERQA_<NAME> (e.g. LETTERQA_MAX_PDF_PAGES=1000)."""
        changes = {}
        for f in fields(cls):
            value = os.environ.get(ENV_PREFIX + f.name.upper())
            if value:
                try:
                    changes[f.name] = type(f.default)(float(value))
                except ValueError:
                    raise LetterQAError(f"{ENV_PREFIX}{f.name.upper()}={value!r} is not a number: set it to "
                                        f"one (default {f.default}) or unset it") from None
        return cls(**changes)


def over(path, what: str, amount: float, name: str, limit: float) -> BadLetterError:
    """The refusal for one exceeded cap: what was counted, the cap's name and how to raise it."""
    return BadLetterError(path, f"{what} ({amount:,.0f}, over {name}={limit:,.0f}): give only the letter "
                                f"itself, or raise the cap with {ENV_PREFIX}{name.upper()}")


class ReadBudget:
    """The caps and the deadline for reading one file; format readers call check() between pages/blocks."""

    def __init__(self, path: Path, limits: Limits):
        self.path, self.limits = path, limits
        self.deadline = time.monotonic() + limits.max_read_seconds
        self.chars = 0

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise BadLetterError(self.path, f"took over max_read_seconds={self.limits.max_read_seconds:g} s to "
                                            f"read: give a text version, or raise {ENV_PREFIX}MAX_READ_SECONDS")

    def add_text(self, text: str) -> None:
        """Count text as it is extracted, so an oversized file stops early instead of at the end."""
        self.chars += len(text)
        if self.chars > self.limits.max_letter_chars:
            raise over(self.path, "has too much text", self.chars, "max_letter_chars",
                       self.limits.max_letter_chars)
        self.check()


_budget: contextvars.ContextVar[ReadBudget | None] = contextvars.ContextVar("letterqa_read_budget", default=None)


@contextlib.contextmanager
def reading(path: Path, limits: Limits | None = None):
    """The budget for reading one file, visible to the format readers of this thread only."""
    token = _budget.set(ReadBudget(Path(path), limits or Limits.from_env()))
    try:
        yield _budget.get()
    finally:
        _budget.reset(token)


def budget(path: Path) -> ReadBudget:
    """The current file's budget; a default one when a reader is called on its own."""
    current = _budget.get()
    return current if current is not None else ReadBudget(Path(path), Limits.from_env())


def check_letter_size(path, chunks: int, sentences: int, limits: Limits) -> None:
    """Refuse a letter whose chunks or sentences would take too long to embed."""
    if chunks > limits.max_letter_chunks:
        raise over(path, "cuts into too many chunks", chunks, "max_letter_chunks", limits.max_letter_chunks)
    if sentences > limits.max_letter_sentences:
        raise over(path, "has too many sentences", sentences, "max_letter_sentences",
                   limits.max_letter_sentences)


def _undo_surrogateescape(text: str) -> str:
    """A terminal in GBK hands Python invalid UTF-8, kept as U+DC80-U+DCFF escapes: decode those bytes
    as GB18030, the usual other encoding of Chinese; leave the text as it is if that fails."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("gb18030")
    except UnicodeError:
        return text


# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned characters.
_DROP_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Cn"))
_SPACE = re.compile(r"\s+")


def clean_question(text, limits: Limits | None = None) -> str:
    """A question as the search can take it: valid Unicode, no control characters, one line.

    Lone surrogates (from a bad client or invalid UTF-8 read with surrogateescape) and invalid code
    points are dropped; tabs and line breaks become spaces. Over-long input is refused, not cut,
    so the user knows the question was not read in full."""
    limit = (limits or Limits.from_env()).max_question_chars
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    text = "" if text is None else str(text)
    if len(text) > limit:
        raise QuestionTooLongError(len(text), limit)
    text = _undo_surrogateescape(text)
    # A surrogate *pair* sent as two code points is one real character: join it, then drop lone halves.
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or (unicodedata.category(ch) not in _DROP_CATEGORIES and ch != "\ufffd"))
    return _SPACE.sub(" ", text).strip()
