"""Sync index/ with corpus/: new and changed letters are embedded, unchanged ones reused, removed ones dropped."""
from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from . import store
from .config import Settings
from .errors import BadLetterError, DamagedIndexError, EmptyCorpusError, LetterQAError, file_label
from .lexical import LEXICAL, tokenize
from .limits import check_letter_size
from .read import SUPPORTED_SUFFIXES, read_letter
from .records import Chunk, Letter
from .search import search_manifest, segment_ann, write_search_files
from .sections import CHUNKER_VERSION, split_sections, split_sentences

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
PROBLEMS = "problems.json"  # in index/: the corpus files the last build refused, with reasons
STAGING = ".staging"        # in corpus/: a checked upload is copied here, then renamed into place


@dataclass
class BuildReport:
    """What a build did, for the log, the CLI and the upload panel."""

    letters: int = 0
    chunks: int = 0
    embedded_letters: int = 0
    embedded_chunks: int = 0
    reused_letters: int = 0
    removed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    repaired: str = ""           # why the live index could not be read and was rebuilt from corpus/
    problems: list[dict] = field(default_factory=list)  # {source, sha256, reason} of refused corpus files
    seconds: float = 0.0

    def summary(self) -> str:
        """One line a person can read."""
        parts = [f"{self.letters} letters, {self.chunks} chunks",
                 f"{self.embedded_letters} letters embedded ({self.embedded_chunks} chunks)",
                 f"{self.reused_letters} reused", f"{len(self.removed)} removed"]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicates skipped")
        if self.errors:
            parts.append(f"{len(self.errors)} files refused")
        if self.renamed:
            parts.append(f"{len(self.renamed)} renamed to UTF-8")
        return ", ".join(parts) + f" in {self.seconds:.1f} s"


@dataclass
class _Part:
    """One letter's share of the index: chunks, their tokens and vectors, its sentences."""

    letter: Letter
    chunks: list[Chunk] | None
    tokens: list[list[str]] | None = None       # None until tokenised
    vectors: np.ndarray | None = None           # None until embedded
    sentences: np.ndarray | None = None         # (local chunk index, start, end)
    sentence_vectors: np.ndarray | None = None
    reused: range | None = None                 # its rows in the live index; read only if it is written again

    def size(self) -> int:
        return len(self.chunks) if self.chunks is not None else len(self.reused)


def passage_text(chunk: Chunk) -> str:
    """What is embedded and tokenised for a chunk: its section path, then its text."""
    return f"{chunk.section}\n{chunk.text}"


def sentence_spans(chunks: list[Chunk]) -> np.ndarray:
    """(chunk index, start, end) of every sentence of the chunks; a chunk has at least one."""
    spans = []
    for i, chunk in enumerate(chunks):
        own = split_sentences(chunk.text) or [(0, len(chunk.text))]
        spans.extend((i, a, b) for a, b in own)
    return np.asarray(spans, dtype=np.int32).reshape(-1, 3)


def sentence_text(chunk: Chunk, start: int, end: int) -> str:
    """What is embedded for a sentence: its innermost heading gives it the context it lacks alone."""
    return f"{chunk.path[-1]}：{chunk.text[start:end]}" if chunk.path else chunk.text[start:end]


def corpus_files(corpus: Path, report: BuildReport | None = None) -> list[Path]:
    """The letter files in corpus/, sorted; hidden files and READMEs are not letters. A name whose
    bytes are not UTF-8 (GBK from a Windows zip) is renamed to its decoded form, noted in `report`."""
    corpus = Path(corpus)
    if not corpus.is_dir():
        return []
    files = [p for p in corpus.iterdir()
             if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith((".", "README"))]
    return sorted(_utf8_name(p, report) for p in files)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")  # fails on surrogate-escaped bytes, which the index files cannot hold
    except UnicodeEncodeError:
        return False
    return True


def _utf8_name(path: Path, report: BuildReport | None) -> Path:
    if _is_utf8(path.name):
        return path
    target = path.with_name(file_label(path).replace("\ufffd", "_").replace("/", "_"))
    if report is None or target.exists():
        return path  # listed only, or a clash: _plan refuses it with a message
    os.replace(path, target)
    report.renamed.append(f"{file_label(path)} (its name was not UTF-8) → {target.name}")
    return target


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


BUILD_STEPS = ("plan", "embed", "write", "problems")  # where `on_step` is called, for fault-injection tests


def build_index(settings: Settings, embedder=None, progress: Progress | None = None,
                preread: dict[str, Letter] | None = None,
                on_step: Callable[[str], None] | None = None) -> BuildReport:
    """Bring index/ in line with corpus/, embedding only what changed. Returns what it did.

    A corpus file that cannot be read is skipped with its reason (kept in index/problems.json for
    `letterqa letters --problems`), and a live index that cannot be read is rebuilt from corpus/."""
    started = time.perf_counter()
    step = on_step or (lambda name: None)
    report = BuildReport()
    with store.build_lock(settings.index):
        _remove_stale_staging(settings.corpus)
        files = corpus_files(settings.corpus, report)
        if not files:
            raise EmptyCorpusError(settings.corpus)
        old = _reusable_index(settings, embedder, report)
        step("plan")
        parts = _plan(files, old, settings, report, preread or {})
        if not parts:
            _write_problems(settings.index, report.problems, settings)
            more = f"; and {len(report.errors) - 3} more" if len(report.errors) > 3 else ""
            raise LetterQAError(f"no readable letters in {settings.corpus}: " + "; ".join(report.errors[:3]) + more
                                + " (`letterqa letters --problems` lists them)")
        step("embed")
        embedder = _embed(parts, settings, embedder, report, progress)
        step("write")
        if _up_to_date(parts, old, report) and _same_backend(old, settings):
            log.info("the index is up to date: nothing written")
        else:
            _write(parts, settings, embedder, old)
        step("problems")
        _write_problems(settings.index, report.problems, settings)
    report.letters = len(parts)
    report.chunks = sum(p.size() for p in parts)
    report.seconds = time.perf_counter() - started
    log.info("index built: %s", report.summary())
    return report


def _reusable_index(settings: Settings, embedder, report: BuildReport) -> store.StoredIndex | None:
    """The live index when its chunks can be reused under the current settings, else None
    (a damaged one is noted in the report: everything is then embedded again from corpus/)."""
    from .model import fingerprint_of

    try:
        old = store.load_index(settings.index)
        store.check_compatible(old.manifest, settings.index, model=settings.model,
                               fingerprint=embedder.fingerprint if embedder is not None
                               else fingerprint_of(settings.model, settings.cache),
                               chunker_version=CHUNKER_VERSION, max_chunk_chars=settings.max_chunk_chars)
    except DamagedIndexError as exc:
        report.repaired = f"{exc.args[0].split(': run')[0]}: rebuilt from {settings.corpus}"
        log.info("%s", report.repaired)
        return None
    except LetterQAError as exc:
        log.info("not reusing the old index: %s", exc)
        return None
    return old


def _plan(files, old, settings, report, preread) -> list[_Part]:
    parts: list[_Part] = []
    old_by_sha = {e["sha256"]: e for e in old.manifest["letters"]} if old else {}
    old_by_source = {e["source"]: e for e in old.manifest["letters"]} if old else {}
    seen: dict[str, str] = {}
    refused = _known_problems(settings)
    for path in files:
        sha = file_sha256(path)
        entry = old_by_sha.get(sha)
        if entry and Path(entry["source"]).suffix.lower() != path.suffix.lower():
            entry = None  # the same bytes under another suffix are read by another reader
        try:
            letter, chunks = (_old_letter(old, entry, path), None) if entry else _checked(path, sha, settings,
                                                                                          preread, refused)
        except BadLetterError as exc:
            report.errors.append(str(exc))
            report.problems.append({"source": file_label(path), "sha256": sha, "reason": exc.reason})
            entry = old_by_source.get(path.name)  # keep what was indexed before: lose nothing
            if not entry:
                continue
            letter = _old_letter(old, entry, path)
        if letter.letter_id in seen:
            report.duplicates.append(f"{file_label(path)} is the same letter as {seen[letter.letter_id]}")
            report.problems.append({"source": file_label(path), "sha256": sha,
                                    "reason": f"is the same letter as {seen[letter.letter_id]}: skipped"})
            continue
        seen[letter.letter_id] = path.name
        parts.append(_reused_part(old, letter) if entry else _Part(letter, chunks))
    if old:
        report.removed = sorted(set(old_by_source) - {p.name for p in files})
    report.reused_letters = sum(p.reused is not None for p in parts)
    return parts


def _checked(path: Path, sha: str, settings: Settings, preread: dict[str, Letter],
             refused: dict[tuple[str, str], str]) -> tuple[Letter, list[Chunk]]:
    """A new corpus file read within the limits and cut into chunks; BadLetterError if refused. A file
    refused before under the same limits is not read again (a zip bomb costs one refusal, not one per build)."""
    if (sha, path.suffix.lower()) in refused:
        raise BadLetterError(path, refused[sha, path.suffix.lower()])
    if not _is_utf8(path.name):
        raise BadLetterError(path, "has a name that is not UTF-8 and could not be renamed (the decoded name is "
                                   "taken): rename it")
    letter = preread.get(sha) or read_letter(path, max_bytes=int(settings.max_file_mb * 2**20),
                                             limits=settings.limits)
    return letter, checked_chunks(letter, settings, path)


def checked_chunks(letter: Letter, settings: Settings, path: Path | str) -> list[Chunk]:
    """The letter's chunks, or BadLetterError when they or their sentences exceed the limits."""
    chunks = split_sections(letter, settings.max_chunk_chars)
    check_letter_size(path, len(chunks), sum(len(split_sentences(c.text)) or 1 for c in chunks), settings.limits)
    return chunks


def _limits_key(settings: Settings) -> dict:
    return {"limits": dataclasses.asdict(settings.limits), "max_file_mb": settings.max_file_mb,
            "max_chunk_chars": settings.max_chunk_chars}


def _known_problems(settings: Settings) -> dict[tuple[str, str], str]:
    """(sha256, suffix) → reason of the files an earlier build refused under the same limits."""
    saved = read_problems(settings.index)
    if saved.get("settings") != _limits_key(settings):
        return {}
    return {(p["sha256"], Path(p["source"]).suffix.lower()): p["reason"] for p in saved.get("problems", [])
            if isinstance(p, dict) and {"sha256", "reason", "source"} <= p.keys()}


def read_problems(index_dir: Path) -> dict:
    """index/problems.json as the last build wrote it; {} when absent or unreadable."""
    try:
        saved = json.loads((Path(index_dir) / PROBLEMS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def _write_problems(index_dir: Path, problems: list[dict], settings: Settings) -> None:
    index_dir = Path(index_dir)
    tmp = index_dir / f".{PROBLEMS}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"settings": _limits_key(settings), "problems": problems}, ensure_ascii=False,
                              indent=1), encoding="utf-8")
    os.replace(tmp, index_dir / PROBLEMS)


def _up_to_date(parts: list[_Part], old, report: BuildReport) -> bool:
    """True when the corpus holds exactly the letters the live index holds, under the same names."""
    if old is None or report.embedded_letters:
        return False
    now = sorted((p.letter.source, p.letter.letter_id) for p in parts)
    return now == sorted((e["source"], e["letter_id"]) for e in old.manifest["letters"])


def _same_backend(old: store.StoredIndex, settings: Settings) -> bool:
    """False when the settings move the index to another backend: the manifest must then be rewritten."""
    return (old.manifest.get("backend") or {"kind": "faiss", "uri": ""}) == search_manifest(settings, 0, 0)["backend"]


def _old_letter(old: store.StoredIndex, entry: dict, path: Path) -> Letter:
    return replace(old.letters[entry["letter_id"]], source=path.name)


def _reused_part(old: store.StoredIndex, letter: Letter) -> _Part:
    """A letter the live index holds; its records are read from there only if it is written again."""
    return _Part(letter, None, reused=old.rows_of(letter.letter_id))


def _fill(part: _Part, old: store.StoredIndex) -> _Part:
    """A reused letter's chunks, tokens, vectors and sentences as the old index holds them."""
    rows = part.reused
    if rows is None or part.chunks is not None:
        return part
    srows = np.arange(old.sentence_offsets[rows[0]], old.sentence_offsets[rows[-1] + 1])
    sentences = old.sentences[srows].copy()
    sentences[:, 0] -= rows[0]
    part.chunks, part.tokens = [old.chunks[r] for r in rows], [old.tokens[r] for r in rows]
    part.vectors, part.sentences, part.sentence_vectors = old.vectors[rows], sentences, old.sentence_vectors[srows]
    return part


def _embed(parts: list[_Part], settings: Settings, embedder, report: BuildReport, progress):
    """Embed chunks and sentences of new letters; loads the model only when something needs it."""
    todo = [p for p in parts if p.vectors is None and p.reused is None]
    if not todo:
        return embedder
    if embedder is None:
        from .model import load_embedder

        embedder = load_embedder(settings.model, settings.cache)
    texts, cuts = [], []
    for p in todo:
        p.sentences = sentence_spans(p.chunks)
        texts += [passage_text(c) for c in p.chunks]
        texts += [sentence_text(p.chunks[i], a, b) for i, a, b in p.sentences]
        cuts.append((len(p.chunks), len(p.sentences)))
    vectors = _encode(embedder, texts, settings.batch_size, progress)
    at = 0
    for p, (n_chunks, n_sentences) in zip(todo, cuts):
        p.vectors = vectors[at : at + n_chunks]
        p.sentence_vectors = vectors[at + n_chunks : at + n_chunks + n_sentences]
        at += n_chunks + n_sentences
    report.embedded_letters = len(todo)
    report.embedded_chunks = sum(len(p.chunks) for p in todo)
    return embedder


def _encode(embedder, texts: list[str], batch_size: int, progress: Progress | None) -> np.ndarray:
    """Embed in slices so the CLI bar and the upload panel can show progress.

    The texts are ordered by length across the whole build first (longest first, as
    sentence-transformers orders one call): a batch pads to its longest text, and passages mixed
    with their short sentences padded every batch to a passage's length.
    """
    from tqdm.auto import tqdm

    order = np.argsort([-len(t) for t in texts], kind="stable")
    parts, step = [], max(batch_size, 1) * 16
    with tqdm(total=len(texts), desc="embedding", unit="text", disable=progress is not None) as bar:
        for i in range(0, len(texts), step):
            parts.append(embedder.encode_passages([texts[j] for j in order[i : i + step]], batch_size=batch_size))
            bar.update(len(parts[-1]))
            if progress:
                progress(min(i + step, len(texts)) / len(texts), "embedding")
    if not parts:
        return np.zeros((0, embedder.dim), "float32")
    vectors = np.empty((len(texts), parts[0].shape[1]), dtype="float32")
    vectors[order] = np.concatenate(parts)
    return vectors


# Segments (store.py): an add writes a delta segment and links the rest. Each delta costs a search
# per question, so past MAX_SEGMENTS they are merged into one; and once the deltas hold more than
# DELTA_SHARE of the base's rows a build writes one base again, so that over many adds each row is
# rewritten a bounded number of times.
MAX_SEGMENTS = 8
DELTA_SHARE = 0.25


def _write(parts: list[_Part], settings: Settings, embedder, old) -> None:
    # With nothing embedded (only removals) the model facts carry over from the old index.
    fingerprint, dim = ((embedder.fingerprint, embedder.dim) if embedder is not None
                        else (old.manifest["model_fingerprint"], int(old.manifest["dim"])))
    by_id = {p.letter.letter_id: p for p in parts}
    owners = _owners(old) if old is not None else {}
    specs, segments, entries, first = [], [], [], 0
    for i, item in enumerate(_layout(parts, old)):
        if isinstance(item, store.Segment):  # linked as it is: only its letters' rows move
            spec, seg_parts = dict(item.spec), [by_id[lid] for lid in owners[item.spec["dir"]]]
            segments.append(item)
        else:
            seg_parts = [_fill(p, old) for p in item]
            segments.append(_segment_data(seg_parts))
            spec = {"dir": store.BASE if i == 0 else store.new_segment_name(),
                    "ann": segment_ann(len(segments[-1].vectors), len(segments[-1].sentence_vectors))}
        spec["chunks"], spec["sentences"] = len(segments[-1].vectors), len(segments[-1].sentences)
        specs.append(spec)
        for p in seg_parts:
            entries.append({"source": p.letter.source, "letter_id": p.letter.letter_id, "sha256": p.letter.sha256,
                            "rows": [first, first + p.size()], "title": p.letter.title, "sender": p.letter.sender,
                            "date": p.letter.date})
            first += p.size()
    manifest = {"format": store.FORMAT_VERSION, "model": settings.model, "model_fingerprint": fingerprint,
                "dim": dim, "chunker_version": CHUNKER_VERSION,
                "settings": {"max_chunk_chars": settings.max_chunk_chars},
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "letters": entries, "chunks": first,
                "sentences": sum(spec["sentences"] for spec in specs), "segments": specs, "ann": specs[0]["ann"],
                "backend": search_manifest(settings, 0, 0)["backend"]}
    store.write_build(settings.index, manifest, segments,
                      extra=lambda folder, data, spec: write_search_files(folder, data, spec, old))


def _segment_data(parts: list[_Part]) -> store.SegmentData:
    """The records of one new segment, rows numbered from its first chunk."""
    chunks, tokens, spans = [], [], []
    for p in parts:
        at = len(chunks)
        chunks.extend(replace(c, chunk_id=at + i) for i, c in enumerate(p.chunks))
        # Tokenising is the slow part of writing a large index: reuse what the old index holds.
        tokens.extend(p.tokens or [tokenize(passage_text(c)) for c in p.chunks])
        spans.append(p.sentences + np.array([at, 0, 0], dtype=np.int32))
    return store.SegmentData([p.letter for p in parts], chunks, tokens, np.concatenate([p.vectors for p in parts]),
                             np.concatenate(spans), np.concatenate([p.sentence_vectors for p in parts]))


def _layout(parts: list[_Part], old) -> list:
    """The new build's segments, in order: a Segment of the live build (linked as it is), or a list of
    parts to write. One new base when the live index has no segments to reuse, when a letter of its
    base is gone or changed, or when the deltas would outgrow DELTA_SHARE of the base."""
    segments = old.segments if old is not None else []
    if not segments or not (segments[0].folder / LEXICAL).is_dir():  # a format-1 index: written anew
        return [parts]
    keep = {p.letter.letter_id: p for p in parts}
    owners = _owners(old)
    owned = [owners[seg.spec["dir"]] for seg in segments]
    if any(lid not in keep for lid in owned[0]):
        return [parts]
    layout, loose = [segments[0]], []
    for seg, ids in zip(segments[1:], owned[1:]):
        if all(lid in keep for lid in ids):
            layout.append(seg)
        else:  # a delta lost a letter: what is left of it is written again with the new letters
            loose += [keep[lid] for lid in ids if lid in keep]
    placed = {lid for ids in owned for lid in ids}
    loose += [p for p in parts if p.letter.letter_id not in placed]
    if loose:
        layout.append(loose)
    delta = sum(len(s.vectors) if isinstance(s, store.Segment) else sum(p.size() for p in s) for s in layout[1:])
    if delta > DELTA_SHARE * len(segments[0].vectors):
        return [parts]
    if len(layout) > MAX_SEGMENTS:
        merged = [keep[lid] for s in layout[1:] if isinstance(s, store.Segment) for lid in owners[s.spec["dir"]]]
        return [segments[0], merged + loose]
    return layout


def _owners(old: store.StoredIndex) -> dict[str, list[str]]:
    """Segment dir -> the ids of the letters whose rows it holds, in row order."""
    starts = [seg.first for seg in old.segments]
    owners: dict[str, list[str]] = {seg.spec["dir"]: [] for seg in old.segments}
    for e in sorted(old.manifest["letters"], key=lambda e: e["rows"][0]):
        seg = old.segments[max(0, bisect.bisect_right(starts, e["rows"][0]) - 1)]
        owners[seg.spec["dir"]].append(e["letter_id"])
    return owners


def add_letters(settings: Settings, paths: list[Path], embedder=None,
                progress: Progress | None = None) -> BuildReport:
    """Check each file fully (read, cut, counted against the limits), move the good ones into
    corpus/ through a staging folder, then sync the index (embeds only those)."""
    settings.corpus.mkdir(parents=True, exist_ok=True)
    known = _indexed_letter_ids(settings)
    errors, duplicates, added, preread = [], [], [], {}
    for path in map(Path, paths):
        try:
            letter = read_letter(path, max_bytes=int(settings.max_file_mb * 2**20), limits=settings.limits)
            checked_chunks(letter, settings, path)
        except BadLetterError as exc:
            errors.append(str(exc))
            continue
        if letter.letter_id in known:
            duplicates.append(f"{file_label(path)} is already in the corpus as {known[letter.letter_id]}")
            continue
        target = _free_name(settings.corpus, path, letter.sha256)
        if target.resolve() != path.resolve():  # a file already in corpus/ is indexed where it is
            try:
                _move_in(path, target, letter.sha256)
            except BadLetterError as exc:
                errors.append(str(exc))
                continue
        known[letter.letter_id] = target.name
        preread[letter.sha256] = replace(letter, source=target.name)
        added.append(target.name)
    if not added:
        return BuildReport(errors=errors, duplicates=duplicates)
    report = build_index(settings, embedder=embedder, progress=progress, preread=preread)
    report.errors[:0], report.duplicates[:0], report.added = errors, duplicates, added
    return report


def _move_in(path: Path, target: Path, sha: str) -> None:
    """Copy into corpus/.staging, check the copy is the file that was read, then rename it into place:
    corpus/ never holds a half-copied file, nor one that differs from what was checked."""
    staging = target.parent / STAGING
    staging.mkdir(exist_ok=True)
    tmp = staging / f"{os.getpid()}-{sha[:16]}.part"
    try:
        shutil.copyfile(path, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if file_sha256(tmp) != sha:
            raise BadLetterError(path, "changed while it was being added: add it again")
        os.replace(tmp, target)
    except OSError as exc:
        raise BadLetterError(path, f"could not be copied into the corpus ({exc.strerror or exc}): check free "
                                   "space and permissions") from None
    finally:
        tmp.unlink(missing_ok=True)


def _remove_stale_staging(corpus: Path) -> None:
    """Staged copies left by an add that was killed (its process is gone)."""
    for part in (Path(corpus) / STAGING).glob("*.part"):
        pid = part.name.split("-")[0]
        if not pid.isdigit() or not _alive(int(pid)):
            part.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _indexed_letter_ids(settings: Settings) -> dict[str, str]:
    try:
        manifest = store.load_manifest(settings.index) or {"letters": []}
    except DamagedIndexError:  # the build that follows repairs it
        manifest = {"letters": []}
    return {e["letter_id"]: e["source"] for e in manifest["letters"]}


NAME_BYTES = 200  # file systems allow 255 bytes per name; leave room for the -<sha8> of a clash


def _free_name(corpus: Path, path: Path, sha: str) -> Path:
    """corpus/NAME, or NAME-<sha8> when another file already has that name; a long name is shortened."""
    name = file_label(path)
    stem, suffix = Path(name).stem, Path(name).suffix
    while len((stem + suffix).encode("utf-8")) > NAME_BYTES:
        stem = stem[:-1]
    target = corpus / f"{stem}{suffix}"
    if not target.exists() or file_sha256(target) == sha:
        return target
    return corpus / f"{stem}-{sha[:8]}{suffix}"
