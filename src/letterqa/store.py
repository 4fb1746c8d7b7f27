"""The index on disk: a folder of plain files, swapped in whole.

    index/CURRENT                 the name of the live build folder (replaced atomically)
    index/build-<time>-<pid>/     manifest.json, and the base segment: vectors.faiss, chunks.jsonl,
                                  tokens.jsonl, letters.jsonl, sentences.npy, sentence_vectors.faiss,
                                  lexical/ (BM25 postings), and *.ivf.faiss for a large index (vectors.py)
        seg-<id>/                 a delta segment: the same files for the letters added since the base

A build is written into a new folder and only then named in CURRENT (write a temp file, fsync,
os.replace), so a reader never sees half an index and a crash mid-build leaves the old one live.

Segments (format 2) make adding a letter cost what the letter costs: an add writes a small delta
segment and hard-links the others from the live build (their files are never changed once
written), and search runs over all segments with their rows numbered one after another. A build
that removes or replaces a letter of the base, or whose deltas outgrow a share of the base,
writes one base again (build.py decides). A format-1 folder (one base, bm25s's bm25/) still loads.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import DamagedIndexError, IndexMismatchError, NoIndexError
from .records import Chunk, Letter
from .vectors import open_dense, write_flat

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
SEGMENT_NAME = re.compile(r"seg-[0-9a-z]+")
BASE = "."  # the base segment's "dir": the build folder itself
POINTER = "CURRENT"
BUILD_NAME = re.compile(r"build-[0-9A-Za-z-]+")
MANIFEST_ENTRY_KEYS = frozenset(("source", "letter_id", "sha256", "rows", "title", "sender", "date"))
KEEP_BUILDS = 2  # the live one and the one before, for a reader that is still loading it


@dataclass
class StoredIndex:
    """An index loaded into memory. Row i of `vectors` is `chunks[i]` and `tokens[i]`.

    Each chunk's sentences are rows of `sentences` (chunk row, start, end within the chunk text),
    sorted by chunk row, with their own vectors: a fact-sized unit for matching and for answers.
    """

    folder: Path
    manifest: dict
    letters: dict[str, Letter]
    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: np.ndarray
    sentences: np.ndarray
    sentence_vectors: np.ndarray
    dense: dict | None = None  # the base segment's vectors.DenseIndex by file stem: the FAISS side, loaded once
    segments: list = dataclasses.field(default_factory=list)  # Segment, in row order; [] = one, this

    def __post_init__(self):
        rows = self.sentences[:, 0] if len(self.sentences) else np.zeros(0, int)
        self.sentence_offsets = np.searchsorted(rows, np.arange(len(self.chunks) + 1))
        self._rows = {e["letter_id"]: range(*e["rows"]) for e in self.manifest["letters"]}

    def rows_of(self, letter_id: str) -> range:
        """The rows that hold one letter's chunks (a letter's chunks are contiguous)."""
        return self._rows[letter_id]

    def sentence_rows(self, chunk_row: int) -> range:
        """The rows of `sentences` that belong to one chunk."""
        return range(int(self.sentence_offsets[chunk_row]), int(self.sentence_offsets[chunk_row + 1]))


def live_build(index_dir: Path) -> Path | None:
    """The folder CURRENT names, or None when there is no index yet; DamagedIndexError when CURRENT
    cannot be read or names something that is not a build folder of this index."""
    pointer = Path(index_dir) / POINTER
    try:
        name = pointer.read_bytes().decode("utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedIndexError(index_dir, f"{POINTER} cannot be read: {exc}") from None
    if not BUILD_NAME.fullmatch(name):  # never follow a pointer out of the index folder
        raise DamagedIndexError(index_dir, f"{POINTER} holds {name[:40]!r}, not a build folder name")
    folder = Path(index_dir) / name
    return folder if folder.is_dir() else None


def load_manifest(index_dir: Path) -> dict | None:
    """Only the live build's manifest (cheap: no vectors), or None when there is no index;
    DamagedIndexError when it cannot be read."""
    folder = live_build(index_dir)
    if folder is None:
        return None
    try:
        return _read_manifest(folder)
    except (OSError, ValueError) as exc:
        raise DamagedIndexError(index_dir, f"{folder.name}/manifest.json: {exc}") from None


def load_index(index_dir: Path) -> StoredIndex:
    """Load the live build; NoIndexError when there is none."""
    folder = live_build(index_dir)
    if folder is None:
        raise NoIndexError(index_dir)
    try:
        return _load_folder(folder)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        what = str(exc) if type(exc) is ValueError else f"{type(exc).__name__}: {exc}"
        raise DamagedIndexError(index_dir, f"{folder.name}: {what}") from None
    except RuntimeError:  # faiss's own message is a C++ signature: say what it means
        raise DamagedIndexError(index_dir, f"{folder.name}: a .faiss file cannot be read (truncated, or not a "
                                           "FAISS file)") from None


@dataclass
class Segment:
    """The rows one build wrote together; its rows are `first`… of the index, its sentences `first_sentence`…"""

    folder: Path
    spec: dict              # the manifest's record: dir, chunks, sentences, ann
    first: int
    first_sentence: int
    chunks: "JsonLines"
    tokens: "JsonLines"
    vectors: np.ndarray
    sentences: np.ndarray   # (chunk row within the segment, start, end)
    sentence_vectors: np.ndarray
    dense: dict

    @property
    def rows(self) -> range:
        return range(self.first, self.first + len(self.vectors))


def segment_specs(manifest: dict) -> list[dict]:
    """The manifest's segments; a format-1 manifest describes one, its build folder."""
    return manifest.get("segments") or [{"dir": BASE, "ann": manifest.get("ann")}]


def segment_folder(folder: Path, name: str) -> Path:
    if name == BASE:
        return folder
    if not isinstance(name, str) or not SEGMENT_NAME.fullmatch(name):  # never leave the build folder
        raise ValueError(f"the manifest names a segment {str(name)[:40]!r}")
    return folder / name


def new_segment_name() -> str:
    return f"seg-{time.strftime('%Y%m%d%H%M%S')}{os.getpid():x}{time.monotonic_ns() % 10**6:x}".lower()


def _load_folder(folder: Path) -> StoredIndex:
    manifest = _read_manifest(folder)
    if manifest.get("format") not in READABLE_FORMATS:
        raise IndexMismatchError(folder.parent, f"index format {manifest.get('format')}")
    segments: list[Segment] = []
    letters: dict[str, Letter] = {}
    first = first_sentence = 0
    for spec in segment_specs(manifest):
        seg = _load_segment(segment_folder(folder, spec["dir"]), spec, first, first_sentence, manifest)
        for line in _lines(seg.folder / "letters.jsonl"):
            letter = Letter(**json.loads(line))
            letters[letter.letter_id] = letter
        segments.append(seg)
        first, first_sentence = first + len(seg.vectors), first_sentence + len(seg.sentences)
    for entry in manifest["letters"]:  # a renamed file keeps its segment: its new name is the manifest's
        letter = letters.get(entry["letter_id"])
        if letter is not None and letter.source != entry["source"]:
            letters[letter.letter_id] = dataclasses.replace(letter, source=entry["source"])
    sentences = np.concatenate([s.sentences + np.array([s.first, 0, 0], dtype=s.sentences.dtype)
                                for s in segments]) if len(segments) > 1 else segments[0].sentences
    if any(not 0 <= e["rows"][0] <= e["rows"][1] <= first or e["letter_id"] not in letters
           for e in manifest["letters"]):
        raise ValueError("the manifest's rows or letter ids do not match chunks.jsonl / letters.jsonl")
    return StoredIndex(folder, manifest, letters, joined([s.chunks for s in segments]),
                       joined([s.tokens for s in segments]), stacked([s.vectors for s in segments]), sentences,
                       stacked([s.sentence_vectors for s in segments]), segments[0].dense, segments)


def _load_segment(folder: Path, spec: dict, first: int, first_sentence: int, manifest: dict) -> Segment:
    chunks = JsonLines(folder / "chunks.jsonl", _chunk, offset=first)
    # older builds keep each chunk's tokens in its chunks.jsonl line
    tokens = JsonLines(folder / TOKENS) if (folder / TOKENS).exists() else JsonLines(
        folder / "chunks.jsonl", lambda row, rec: rec["tokens"])
    dense = open_dense(folder, spec.get("ann"))
    vectors, sentence_vectors = dense["vectors"].vectors, dense["sentence_vectors"].vectors
    sentences = np.load(folder / "sentences.npy")
    where = "" if folder.name.startswith("build-") else f"{folder.name}: "
    if len(chunks) != len(vectors) or len(sentences) != len(sentence_vectors):
        raise ValueError(f"{where}{len(chunks)} chunks, {len(vectors)} vectors, {len(sentences)} sentences, "
                         f"{len(sentence_vectors)} sentence vectors")
    if sentences.ndim != 2 or (len(vectors) and vectors.shape[1] != manifest.get("dim")):
        raise ValueError(f"{where}vectors of shape {vectors.shape}, sentences of shape {sentences.shape}")
    return Segment(folder, spec, first, first_sentence, chunks, tokens, vectors, sentences, sentence_vectors, dense)


class Joined(Sequence):
    """Several sequences read as one, one after another (the segments' chunk or token records)."""

    def __init__(self, parts: list):
        self.parts = parts
        self.starts = np.cumsum([0] + [len(p) for p in parts])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = range(len(self))[i]
        j = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.parts[j][i - int(self.starts[j])]


def joined(parts: list):
    return parts[0] if len(parts) == 1 else Joined(parts)


class Stacked:
    """The rows of several (memory-mapped) arrays read as one array's rows, without copying them together:
    `x[i]`, `x[rows]`, `x[a:b]`, len and shape, which is all the index's readers ask of vectors."""

    ndim = 2

    def __init__(self, parts: list[np.ndarray]):
        self.parts = parts
        self.starts = np.cumsum([0] + [len(p) for p in parts])
        self.shape = (int(self.starts[-1]), parts[0].shape[1])
        self.dtype = parts[0].dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            i = range(len(self))[key]
            j = int(np.searchsorted(self.starts, i, side="right")) - 1
            return self.parts[j][i - int(self.starts[j])]
        if isinstance(key, (slice, range)):
            key = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(key, dtype=np.int64)
        rows = np.asarray(key, dtype=np.int64)
        rows = np.where(rows < 0, rows + len(self), rows)
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        which = np.searchsorted(self.starts, rows, side="right") - 1
        for j in np.unique(which):
            here = which == j
            out[here] = self.parts[j][rows[here] - self.starts[j]]
        return out

    def __array__(self, dtype=None, copy=None):
        out = np.concatenate(self.parts)
        return out if dtype is None else out.astype(dtype)


def stacked(parts: list[np.ndarray]):
    return parts[0] if len(parts) == 1 else Stacked(parts)


TOKENS = "tokens.jsonl"


class JsonLines(Sequence):
    """The records of a JSON-lines file, each parsed when first asked for.

    Where each line starts is read from the `.lines.npy` file a build writes beside it (or, for an
    older file or one that does not match it, found by scanning the memory-mapped bytes: 0.3 s at
    10^5 chunks), so an index opens in a blink and a server parses just the chunks it cites; tokens
    are parsed only by a build that reuses them.
    """

    def __init__(self, path: Path, make=lambda row, rec: rec, offset: int = 0):
        self._path, self._make, self._offset = path, make, offset
        self._lines: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._cache: dict[int, object] = {}

    def _find_lines(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._lines is None:
            size = self._path.stat().st_size
            # a plain view of the mapped bytes: slicing a np.memmap makes a memmap per record (3x slower)
            data = np.memmap(self._path, dtype=np.uint8, mode="r").view(np.ndarray) if size else np.zeros(0, np.uint8)
            offsets = _saved_offsets(self._path, size)
            if offsets is not None:
                self._lines = (data, offsets[:-1], offsets[1:] - 1)
                return self._lines
            ends = np.flatnonzero(data == ord("\n"))
            if size and (not len(ends) or ends[-1] != size - 1):
                ends = np.append(ends, size)  # a last line without its newline
            starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else ends
            keep = ends > starts  # blank lines are not records
            self._lines = (data, starts[keep], ends[keep])
        return self._lines

    def __len__(self) -> int:
        return len(self._find_lines()[1])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = range(len(self))[i]  # negative rows and bounds, as a list has them
        if i not in self._cache:
            data, starts, ends = self._find_lines()
            raw = bytes(data[starts[i] : ends[i]])
            self._cache[i] = self._make(self._offset + i, json.loads(raw))
        return self._cache[i]


LINES = ".lines.npy"  # beside a JSON-lines file: the byte offset of each line's start, then the file size


def _saved_offsets(path: Path, size: int) -> np.ndarray | None:
    try:
        offsets = np.load(path.with_name(path.name + LINES))
    except (OSError, ValueError):
        return None
    if offsets.ndim != 1 or not len(offsets) or offsets[0] != 0 or offsets[-1] != size:
        return None  # written for other bytes: scan instead
    return offsets.astype(np.int64)


def _chunk(row: int, rec: dict) -> Chunk:
    rec = {k: v for k, v in rec.items() if k != "tokens"}
    return Chunk(chunk_id=row, path=tuple(rec.pop("path")), **rec)


def _read_manifest(folder: Path) -> dict:
    """The manifest, checked for the keys every reader relies on (ValueError if one is missing)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("letters"), list):
        raise ValueError("manifest.json has no list of letters")
    for entry in manifest["letters"]:
        if not isinstance(entry, dict) or not MANIFEST_ENTRY_KEYS <= entry.keys():
            raise ValueError(f"a manifest entry lacks one of {sorted(MANIFEST_ENTRY_KEYS)}")
    return manifest


def _lines(path: Path):
    with open(path, encoding="utf-8") as fh:
        yield from (line for line in fh if line.strip())


def check_compatible(manifest: dict, index_dir: Path, *, model: str, fingerprint: str | None,
                     chunker_version: str, max_chunk_chars: int) -> None:
    """Raise IndexMismatchError naming the first setting that differs from what built the index."""
    built = manifest.get("settings", {})
    if manifest.get("model") != model:
        raise IndexMismatchError(index_dir, f"model {manifest.get('model')!r}, not {model!r} (or pass --model)")
    if fingerprint is not None and manifest.get("model_fingerprint") != fingerprint:
        raise IndexMismatchError(index_dir, f"other weights for {model!r}")
    if manifest.get("chunker_version") != chunker_version:
        raise IndexMismatchError(index_dir, f"chunker version {manifest.get('chunker_version')}")
    if built.get("max_chunk_chars") != max_chunk_chars:
        raise IndexMismatchError(index_dir, f"max_chunk_chars={built.get('max_chunk_chars')}")


@dataclass
class SegmentData:
    """What a build writes as one new segment; chunk rows in `sentences` are the segment's own."""

    letters: list[Letter]
    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: np.ndarray
    sentences: np.ndarray
    sentence_vectors: np.ndarray


def write_build(index_dir: Path, manifest: dict, segments: list, extra: Callable | None = None) -> Path:
    """Write a complete build folder, then make it the live one. Returns the folder.

    `segments` are those `manifest["segments"]` lists, in order: a `SegmentData` is written, a
    `Segment` of the live build is hard-linked (segment files never change once written).
    `extra(folder, data, spec)` writes the search files derived from a new segment (BM25, IVF)
    before the manifest.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    folder = index_dir / f"build-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = folder.with_name(folder.name + ".partial")
    tmp.mkdir()
    try:
        for spec, seg in zip(segment_specs(manifest), segments, strict=True):
            target = segment_folder(tmp, spec["dir"])
            if isinstance(seg, Segment):
                _link_segment(seg, target)
            else:
                _write_segment(target, seg, spec, int(manifest["dim"]), extra)
        _write_json(tmp / "manifest.json", manifest)
        _fsync_dir(tmp)
    except BaseException:  # a failed write leaves no half-written folder behind (a kill is cleaned next time)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.replace(tmp, folder)
    _point_to(index_dir, folder.name)
    _remove_old_builds(index_dir, keep=folder.name)
    return folder


def _write_segment(folder: Path, data: SegmentData, spec: dict, dim: int, extra=None) -> None:
    folder.mkdir(exist_ok=True)
    write_flat(folder / "vectors.faiss", data.vectors, dim)
    write_flat(folder / "sentence_vectors.faiss", data.sentence_vectors, dim)
    np.save(folder / "sentences.npy", np.asarray(data.sentences, dtype=np.int32).reshape(-1, 3))
    _write_jsonl(folder / "letters.jsonl", (dataclasses.asdict(x) for x in data.letters))
    _write_jsonl(folder / "chunks.jsonl", (_chunk_record(c) for c in data.chunks), lines=True)
    _write_jsonl(folder / TOKENS, data.tokens, lines=True)
    if extra is not None:
        extra(folder, data, spec)
    _fsync_dir(folder)


def _link_segment(seg: Segment, target: Path) -> None:
    """The segment's files, hard-linked into the new build (copied where links are refused)."""
    target.mkdir(exist_ok=True)
    for path in seg.folder.iterdir():
        if path.name == "manifest.json" or SEGMENT_NAME.fullmatch(path.name) or path.name.endswith(".partial"):
            continue  # the base shares its folder with the build's manifest and the deltas
        if path.is_dir():
            shutil.copytree(path, target / path.name, copy_function=_link)
        else:
            _link(path, target / path.name)


def _link(src, dst) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links refused: a copy is the same bytes
        shutil.copy2(src, dst)


def _chunk_record(chunk: Chunk) -> dict:
    # a shallow copy (asdict deep-copies every path: 4 s of rewriting a 10^5-chunk base); the row number is the id
    return {k: v for k, v in vars(chunk).items() if k != "chunk_id"}


def _write_jsonl(path: Path, records, lines: bool = False) -> None:
    """One JSON record a line; with `lines`, also where each line starts (see JsonLines)."""
    offsets = [0]
    with open(path, "wb") as fh:
        for rec in records:
            line = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
            fh.write(line)
            offsets.append(offsets[-1] + len(line))
        fh.flush()
        os.fsync(fh.fileno())
    if lines:
        with open(path.with_name(path.name + LINES), "wb") as fh:
            np.save(fh, np.asarray(offsets, dtype=np.int64))
            fh.flush()
            os.fsync(fh.fileno())


def _write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _point_to(index_dir: Path, name: str) -> None:
    tmp = index_dir / f".{POINTER}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / POINTER)
    _fsync_dir(index_dir)


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    """Drop all builds but the newest few; also half-written ones left by a crash."""
    builds = sorted(p for p in index_dir.glob("build-*") if p.is_dir())
    done = [p for p in builds if not p.name.endswith(".partial")]
    stale = [p for p in builds if p.name.endswith(".partial") and not _is_ours(p)]
    for p in stale + [p for p in done[:-KEEP_BUILDS] if p.name != keep]:
        shutil.rmtree(p, ignore_errors=True)


def _is_ours(partial: Path) -> bool:
    """True when a .partial folder belongs to a build that is still running (its pid is alive)."""
    try:
        pid = int(partial.name.split("-")[2])
        os.kill(pid, 0)
    except (IndexError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return pid != os.getpid()


@contextlib.contextmanager
def build_lock(index_dir: Path):
    """One build at a time per index folder; a second one waits for the first."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
