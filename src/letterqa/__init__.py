"""letterqa: ask questions of official Chinese reply letters and get their own sentences back, cited.

The library API the CLI, the chat and the benchmarks use:

    import letterqa
    settings = letterqa.Settings(corpus="corpus", index="index")
    letterqa.build_index(settings)                   # embeds only new and changed letters
    engine = letterqa.Engine.open(settings)          # loads the index and the model once
    print(engine.ask("2023年新认定多少家省制造业创新中心?").text)

Pass `embedder=` (anything with the `letterqa.Embedder` shape) to both to use another model or an
embedding service; `Settings.model` must then be the embedder's `name`.

Names are imported on first use, so `import letterqa` loads neither torch, faiss nor jieba.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Settings": "letterqa.config",
    "Engine": "letterqa.engine",
    "build_index": "letterqa.api",
    "add_letters": "letterqa.api",
    "Embedder": "letterqa.model",
    "load_embedder": "letterqa.model",
    "Answer": "letterqa.records",
    "Citation": "letterqa.records",
    "Hit": "letterqa.records",
    "Letter": "letterqa.records",
    "Chunk": "letterqa.records",
    "BuildReport": "letterqa.build",
    "LetterQAError": "letterqa.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'letterqa' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return __all__
