"""Index backends: where a question's candidate passages come from.

A backend answers two questions over the chunk rows of one loaded index: which rows are near a
query vector (by their own vector or one of their sentences'), and which rows match its words by
BM25. Both take `rows`, the engine's filter (None = all). `Searcher` scores and fuses the candidates.

    faiss   (default) FAISS + bm25s files inside the build folder: embedded, nothing to run.
    milvus  a Milvus collection (Milvus Lite file or a server): dense vectors, and BM25 full-text
            search with Milvus's jieba analyzer; letter metadata as scalar fields.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

KINDS = ("faiss", "milvus")


class IndexBackend(Protocol):
    idf: Mapping
    # True when lexical() may run on another thread while dense_candidates() runs (each on its own core)
    concurrent: bool

    def dense_candidates(self, qvec: np.ndarray, n: int, rows: np.ndarray | None) -> np.ndarray:
        """Chunk rows near the query: the top n by chunk vector and the chunks of the top 2n sentences."""

    def lexical(self, question: str, n: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        """The top n (row, BM25 score) pairs with a positive score, best first."""


def backend_record(settings) -> dict:
    """The manifest's "backend": which one serves the index, and where (never a password)."""
    kind = getattr(settings, "backend", "faiss") or "faiss"
    if kind not in KINDS:
        from ..errors import LetterQAError

        raise LetterQAError(f"unknown backend {kind!r}: use one of {', '.join(KINDS)}")
    return {"kind": kind, "uri": getattr(settings, "milvus_uri", "") if kind == "milvus" else ""}


def open_backend(stored) -> IndexBackend:
    """The backend the index's manifest names (an index without the record is a FAISS one)."""
    record = stored.manifest.get("backend") or {"kind": "faiss"}
    if record["kind"] == "milvus":
        from .milvus_backend import MilvusBackend

        return MilvusBackend(stored, record["uri"])
    from .faiss_backend import FaissBackend

    return FaissBackend(stored)
