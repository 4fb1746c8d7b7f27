"""Lexical retrieval: BM25 (bm25s) over jieba words plus CJK character bigrams.

Words alone miss when jieba mis-segments a rare compound ("家省" in "多少家省制造业"); bigrams alone
blur word boundaries. Using both lets either one carry a match.
"""
from __future__ import annotations

import logging
import re

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


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def tokenize(text: str) -> list[str]:
    """Lower-cased jieba search-mode words and CJK bigrams, without punctuation or stopwords."""
    words = [w.strip().lower() for w in _jieba().lcut_for_search(text)]
    tokens = [w for w in words if w and _KEEP.search(w) and w not in STOPWORDS]
    for run in _CJK_RUN.findall(text):
        tokens.extend("#" + run[i : i + 2] for i in range(len(run) - 1))
    return tokens


class LexicalIndex:
    """BM25 over pre-tokenised passages; rows are the index's chunk rows."""

    def __init__(self, tokens: list[list[str]]):
        import bm25s

        # bm25s sets its own logger to DEBUG on import, which would print on every load.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.size = len(tokens)
        self._bm25 = bm25s.BM25()
        # An empty document list breaks bm25s; an index with no chunks has no lexical side.
        if self.size:
            self._bm25.index([t or [""] for t in tokens], show_progress=False)

    def search(self, query: str, n: int) -> list[tuple[int, float]]:
        """The top n (row, bm25 score) pairs with a positive score, best first."""
        if not self.size:
            return []
        q = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not q:
            return []
        scores = self._bm25.get_scores(q)
        top = np.argsort(-scores)[:n]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
