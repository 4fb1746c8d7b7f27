"""The records that cross module boundaries. Frozen, typed, nothing else travels between stages."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Letter:
    """One reply letter, cleaned of page furniture, with whatever metadata it states."""

    letter_id: str          # first 16 hex digits of the sha256 of the cleaned text
    source: str             # file name inside corpus/
    text: str               # cleaned text; chunk spans index into it
    title: str = ""         # the proposal's title 《…》, else the page heading
    sender: str = ""        # the signing organisation
    recipient: str = ""     # e.g. 冯能斌委员
    date: str = ""          # signed date, ISO yyyy-mm-dd when it could be parsed
    doc_number: str = ""    # 文号, e.g. 鲁工信发〔2023〕5号 when the letter states its own
    contact: str = ""       # the contact line, without its brackets
    sha256: str = ""        # of the source file's bytes
    # The page's information block and the letter's own lines by label: 发布时间, 文号, 来源, 抄送, 网址…
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        """How a reader names the letter: sender, date and title, as far as they are known."""
        parts = [self.sender or self.meta.get("发布机构", ""), self.date, f"《{self.title}》" if self.title else ""]
        return " · ".join(p for p in parts if p) or self.source


@dataclass(frozen=True)
class Chunk:
    """A passage: the text of one smallest section, with the path of headings above it."""

    chunk_id: int           # row in the index; assigned when the index is built
    letter_id: str
    path: tuple[str, ...]   # ("一、工作开展情况", "(二)加强产业创新平台建设", "一是加快制造业创新中心建设")
    text: str               # the passage body as it stands in Letter.text[start:end]
    start: int
    end: int

    @property
    def section(self) -> str:
        """The path as one line: `一、工作开展情况 > (二)加强产业创新平台建设`."""
        return " > ".join(self.path)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its score and the ranks it had in each retriever."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered pointer from an answer sentence to the passage that holds it."""

    n: int
    letter: Letter
    chunk: Chunk
    quote: str              # the sentence used in the answer, exactly as in chunk.text
    score: float


@dataclass(frozen=True)
class Answer:
    """What a question gets back: the letters' own sentences with citation marks, or a refusal."""

    question: str
    text: str
    answered: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    latency_ms: float = 0.0
    letters: dict = field(default_factory=dict, compare=False, hash=False)  # letter_id -> Letter
    understood: str = ""    # how a follow-up or an unnamed "这份答复" was read; "" when asked as is
    scope: tuple[str, ...] = ()  # the letter_ids the question was asked of; () = all letters
    reason: str = ""        # why it was refused (a checks.Refusal kind); "" when answered
