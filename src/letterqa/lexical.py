"""Lexical retrieval: BM25 over jieba words plus CJK character bigrams, from postings saved per segment.

Words alone miss when jieba mis-segments a rare compound ("家省" in "多少家省制造业"); bigrams alone
blur word boundaries. Using both lets either one carry a match.
"""
from __future__ import annotations

import functools
import json
import logging
import re
from collections import Counter
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


# bm25s's defaults ("lucene" BM25), which this index was scored with before it kept its own postings
K1, B = 1.5, 0.75
LEXICAL = "lexical"  # a segment's postings folder
POSTINGS_FILES = ("indptr.npy", "rows.npy", "tf.npy", "lengths.npy")


class Postings:
    """One segment's BM25 postings: for each token the rows that hold it and how often (a CSC
    matrix), and each row's length in tokens. Plain counts, not scores: a segment's postings stay
    valid when other segments are added, because idf and the mean length are applied per question
    from the whole index (see LexicalIndex).
    """

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, rows: np.ndarray, tf: np.ndarray,
                 lengths: np.ndarray):
        self.vocab, self.indptr, self.rows, self.tf, self.lengths = vocab, indptr, rows, tf, lengths

    def __len__(self) -> int:
        return len(self.lengths)

    @classmethod
    def from_tokens(cls, tokens) -> "Postings":
        """Count the tokens of each passage (row i = tokens[i])."""
        vocab: dict[str, int] = {}
        ids: list[int] = []
        tfs: list[int] = []
        rows: list[int] = []
        lengths = np.zeros(len(tokens), dtype=np.int32)
        for row, doc in enumerate(tokens):
            counts = Counter(doc)
            lengths[row] = len(doc)
            ids.extend(vocab.setdefault(t, len(vocab)) for t in counts)
            tfs.extend(counts.values())
            rows.extend([row] * len(counts))
        ids_a = np.asarray(ids, dtype=np.int64)
        order = np.argsort(ids_a, kind="stable")  # by token, rows ascending within each token
        indptr = np.concatenate(([0], np.cumsum(np.bincount(ids_a, minlength=len(vocab))))).astype(np.int64)
        return cls(vocab, indptr, np.asarray(rows, dtype=np.int32)[order], np.asarray(tfs, dtype=np.float32)[order],
                   lengths)

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        words = sorted(self.vocab, key=self.vocab.__getitem__)
        (folder / "vocab.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        for name, array in zip(POSTINGS_FILES, (self.indptr, self.rows, self.tf, self.lengths)):
            np.save(folder / name, array)

    @classmethod
    def load(cls, folder: Path) -> "Postings":
        """Saved postings, memory-mapped: a question reads only the columns of its own tokens."""
        folder = Path(folder)
        words = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        # plain views of the mapped arrays: slicing a np.memmap runs Python code and makes a memmap
        arrays = [np.load(folder / name, mmap_mode="r").view(np.ndarray) for name in POSTINGS_FILES]
        if len(arrays[0]) != len(words) + 1 or len(arrays[1]) != len(arrays[2]):
            raise ValueError(f"{folder.name}: BM25 postings do not match their vocabulary")
        return cls({t: i for i, t in enumerate(words)}, *arrays)

    def df(self) -> np.ndarray:
        return np.diff(np.asarray(self.indptr))


class LexicalIndex:
    """BM25 over the passages of all segments of an index; rows are the index's chunk rows.

    Scores are what one BM25 index over every passage would give (idf from the summed document
    frequencies, lengths against the mean over all passages), so a letter added as a small segment
    ranks exactly as after a full rebuild.
    """

    def __init__(self, segments: list[Postings] | None = None, offsets: list[int] | None = None):
        self.segments = segments or []
        self.offsets = offsets or [0] * len(self.segments)
        self.size = sum(len(p) for p in self.segments)
        total = sum(float(np.sum(p.lengths, dtype=np.int64)) for p in self.segments)
        self.avgdl = total / self.size if self.size else 1.0
        self._idf: Idf | None = None
        # per segment: each row's length term, and each token column's tf / (tf + length term), computed
        # the first time a question uses the column (a reload after an add then costs nothing up front)
        self._norms: list[np.ndarray] | None = None
        self._units: list[dict[int, np.ndarray]] = [{} for _ in self.segments]

    @classmethod
    def from_tokens(cls, tokens) -> "LexicalIndex":
        """One segment indexed from the tokens of each passage (row i = tokens[i])."""
        return cls([Postings.from_tokens(tokens)])

    @property
    def idf(self) -> "Idf":
        """token -> BM25 idf over all passages, from the postings' document frequencies."""
        if self._idf is None:
            self._idf = Idf.over(self.segments, self.size)
        return self._idf

    def scores(self, query: str) -> np.ndarray | None:
        """The BM25 score of every row for the query, or None when no query token is indexed."""
        if not self.size:
            return None
        idf = self.idf
        q = [t for t in tokenize(query) if t in idf]
        if not q:
            return None
        if self._norms is None:
            self._norms = [K1 * (1 - B + B * np.asarray(p.lengths, dtype=np.float64) / self.avgdl)
                           for p in self.segments]
        spans = self._spans(q)
        total = sum(b - a for _, _, a, b in spans)
        # Every posting's row and score, written in place into two arrays (no array per token to
        # join afterwards), then summed per row in one pass.
        rows_all, scores_all = np.empty(total, dtype=np.intp), np.empty(total, dtype=np.float64)
        at = 0
        for weight, i, a, b in spans:
            m = b - a
            np.multiply(self._unit(i, a, b), weight, out=scores_all[at : at + m])
            np.add(self.segments[i].rows[a:b], self.offsets[i], out=rows_all[at : at + m])
            at += m
        # bincount adds in the order listed: the same sums, to the bit, as adding token by token
        return np.bincount(rows_all, weights=scores_all, minlength=self.size)

    def _unit(self, i: int, a: int, b: int) -> np.ndarray:
        """tf / (tf + k1·(1 − b + b·length/avgdl)) of the postings a:b of segment i (one token's column):
        their BM25 scores before the idf (lucene's form, as bm25s)."""
        units = self._units[i].get(a)
        if units is None:
            p = self.segments[i]
            tf = np.asarray(p.tf[a:b], dtype=np.float64)
            units = self._units[i][a] = tf / (tf + self._norms[i][p.rows[a:b]])
        return units

    def _spans(self, tokens: list[str]) -> list[tuple[float, int, int, int]]:
        """(idf, segment, first posting, end) of each token in each segment that holds it; a repeated
        query word is listed again and so counts again, as it did in bm25s."""
        idf = self.idf
        return [(idf[t], i, int(p.indptr[col]), int(p.indptr[col + 1]))
                for t in tokens for i, p in enumerate(self.segments) if (col := p.vocab.get(t)) is not None]

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

    df is read from the postings (one column per token), so no second table is built by hand; the
    first segment's vocabulary is shared, not copied, and the few tokens only later segments hold
    sit in a small dict beside it.
    """

    def __init__(self, vocab: dict[str, int], values: np.ndarray, extra: dict[str, float] | None = None):
        self._vocab = vocab
        self._values = values
        self._extra = extra or {}
        tops = ([float(values.max())] if len(values) else []) + list(self._extra.values())
        self._max = max(tops) if tops else 1.0

    @classmethod
    def over(cls, segments: list[Postings], size: int) -> "Idf":
        if not segments:
            return cls({}, np.zeros(0))
        vocab = segments[0].vocab
        df = segments[0].df().astype(np.float64)
        more: dict[str, float] = {}
        for p in segments[1:]:
            for t, d in zip(p.vocab, p.df()[list(p.vocab.values())]):
                i = vocab.get(t)
                if i is None:
                    more[t] = more.get(t, 0.0) + float(d)
                else:
                    df[i] += d
        smooth = lambda d: np.log(1 + (size - d + 0.5) / (d + 0.5))  # noqa: E731
        return cls(vocab, smooth(df), {t: float(smooth(d)) for t, d in more.items()})

    def __getitem__(self, token: str) -> float:
        i = self._vocab.get(token)
        return self._extra[token] if i is None else float(self._values[i])

    def get(self, token: str, default=None):
        i = self._vocab.get(token)
        return self._extra.get(token, default) if i is None else float(self._values[i])

    def __contains__(self, token) -> bool:
        return token in self._vocab or token in self._extra

    def __iter__(self):
        yield from self._vocab
        yield from self._extra

    def __len__(self) -> int:
        return len(self._vocab) + len(self._extra)

    def max(self) -> float:
        """The largest idf (a token in one passage): the weight of a word no passage uses."""
        return self._max
