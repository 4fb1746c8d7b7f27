"""Lexical retrieval: BM25 (bm25s) over jieba words plus CJK character bigrams.

Words alone miss when jieba mis-segments a rare compound ("家省" in "多少家省制造业"); bigrams alone
blur word boundaries. Using both lets either one carry a match.
"""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_KEEP = re.compile(r"[\w\u3400-\u9fff%％]")
# Function words that carry no evidence of which passage answers a question.
STOPWORDS = frozenset(
    "的 了 和 与 及 在 是 有 对 为 等 将 把 被 也 都 而 或 并 其 之 中 上 下 个 这 那 哪 吗 呢 吧 啊 "
    "什么 哪些 哪个 多少 怎么 怎样 如何 是否 有没有 请问 关于 情况 工作 the a an of to in and for is are "
    "was were what which how many much does did do by on with from that this".split()
)


@functools.cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # once: it walks the logging handlers each time
    return jieba


def tokenize(text: str) -> list[str]:
    """Lower-cased jieba search-mode words and CJK bigrams, without punctuation or stopwords."""
    return list(_tokenize(text))


# The answer stage tokenises the sentences of the top passages on every question, and the same
# passages come up again and again: a cache spares jieba most of that.
@functools.lru_cache(maxsize=8192)
def _tokenize(text: str) -> tuple[str, ...]:
    words = [w.strip().lower() for w in _jieba().lcut_for_search(text)]
    tokens = [w for w in words if w and _KEEP.search(w) and w not in STOPWORDS]
    for run in _CJK_RUN.findall(text):
        tokens.extend("#" + run[i : i + 2] for i in range(len(run) - 1))
    return tuple(tokens)


class LexicalIndex:
    """BM25 over pre-tokenised passages; rows are the index's chunk rows.

    Built once at `letterqa build` and saved with the index (`save`); a server memory-maps it
    (`load`) instead of indexing the tokens again.
    """

    def __init__(self, bm25=None, size: int = 0):
        self._bm25 = bm25
        self.size = size
        self._idf: Idf | None = None

    @classmethod
    def from_tokens(cls, tokens: list[list[str]]) -> "LexicalIndex":
        """Index the tokens of each passage (row i = tokens[i])."""
        bm25s = _bm25s()
        # An empty document list breaks bm25s; an index with no chunks has no lexical side.
        if not tokens:
            return cls(None, 0)
        bm25 = bm25s.BM25()
        bm25.index([t or [""] for t in tokens], show_progress=False)
        return cls(bm25, len(tokens))

    @classmethod
    def load(cls, folder: Path, size: int) -> "LexicalIndex":
        """A saved index, memory-mapped: its arrays are read from disk as search touches them."""
        if not size:
            return cls(None, 0)
        bm25 = _bm25s().BM25.load(str(folder), mmap=True, show_progress=False)
        return cls(bm25, size)

    def save(self, folder: Path) -> None:
        """bm25s's own files (CSC score arrays, vocabulary, parameters) in `folder`."""
        Path(folder).mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)

    @property
    def idf(self) -> "Idf":
        """token -> BM25 idf over the passages, read from the index's own postings."""
        if self._idf is None:
            self._idf = Idf.of(self._bm25, self.size)
        return self._idf

    def scores(self, query: str) -> np.ndarray | None:
        """The BM25 score of every row for the query, or None when no query token is indexed."""
        if not self.size:
            return None
        q = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        return self._bm25.get_scores(q) if q else None

    def search(self, query: str, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The top n (row, bm25 score) pairs with a positive score, best first; only `rows` if given."""
        scores = self.scores(query)
        if scores is None:
            return []
        if rows is not None:
            rows = np.asarray(rows, dtype=np.int64)
            return [(int(rows[i]), s) for i, s in _top(scores[rows], n)]
        return _top(scores, n)


def _top(scores: np.ndarray, n: int) -> list[tuple[int, float]]:
    """Indices and values of the n largest positive scores, best first (argpartition: no full sort)."""
    if n < len(scores):
        part = np.argpartition(-scores, n)[:n]
    else:
        part = np.arange(len(scores))
    part = part[np.argsort(-scores[part], kind="stable")]
    return [(int(i), float(scores[i])) for i in part if scores[i] > 0]


class Idf(Mapping):
    """token -> smoothed idf, log(1 + (N - df + 0.5) / (df + 0.5)), as bm25s's default (Lucene) BM25.

    df is read from the saved postings (one column per token), so no second table is built by hand.
    """

    def __init__(self, vocab: dict[str, int], values: np.ndarray):
        self._vocab = vocab
        self._values = values
        self._max = float(values.max()) if len(values) else 1.0

    @classmethod
    def of(cls, bm25, size: int) -> "Idf":
        if bm25 is None:
            return cls({}, np.zeros(0))
        indptr = np.asarray(bm25.scores["indptr"])
        df = np.diff(indptr).astype(np.float64)
        values = np.log(1 + (size - df + 0.5) / (df + 0.5))
        vocab = {t: i for t, i in bm25.vocab_dict.items() if t}  # "" is bm25s's stand-in for an empty passage
        return cls(vocab, values)

    def __getitem__(self, token: str) -> float:
        return float(self._values[self._vocab[token]])

    def get(self, token: str, default=None):
        i = self._vocab.get(token)
        return default if i is None else float(self._values[i])

    def __contains__(self, token) -> bool:
        return token in self._vocab

    def __iter__(self):
        return iter(self._vocab)

    def __len__(self) -> int:
        return len(self._vocab)

    def max(self) -> float:
        """The largest idf (a token in one passage): the weight of a word no passage uses."""
        return self._max


def _bm25s():
    import bm25s

    # bm25s sets its own logger to DEBUG on import, which would print on every load.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s
