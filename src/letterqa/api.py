"""The library's entry points for users' scripts: build or grow an index with any `Embedder`."""
from __future__ import annotations

from pathlib import Path

from . import build
from .config import Settings
from .errors import LetterQAError


def build_index(settings: Settings, embedder=None, progress=None) -> build.BuildReport:
    """Bring settings.index in line with settings.corpus (see `build.build_index`)."""
    _check_embedder(settings, embedder)
    return build.build_index(settings, embedder=embedder, progress=progress)


def add_letters(settings: Settings, paths: list[Path], embedder=None, progress=None) -> build.BuildReport:
    """Copy letter files into the corpus and embed only them (see `build.add_letters`)."""
    _check_embedder(settings, embedder)
    return build.add_letters(settings, [Path(p) for p in paths], embedder=embedder, progress=progress)


def _check_embedder(settings: Settings, embedder) -> None:
    # The index records settings.model; Engine.open compares it with its settings. An embedder under
    # another name would label its vectors as the default model's, and a later default-model build
    # would mix the two.
    if embedder is not None and embedder.name != settings.model:
        raise LetterQAError(f"the embedder is {embedder.name!r} but settings.model is {settings.model!r}: "
                            f"use Settings(model={embedder.name!r}, …)")
