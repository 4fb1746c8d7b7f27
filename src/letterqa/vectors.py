"""The dense side of an index: FAISS files written with the build, memory-mapped on load, never rebuilt.

    vectors.faiss, sentence_vectors.faiss          exact (IndexFlatIP); memory-mapped, also the
                                                   vectors the answer stage reads
    vectors.ivf.faiss, sentence_vectors.ivf.faiss  an IVF index over the same vectors, when there are
                                                   at least ANN_MIN_VECTORS of them; its parameters
                                                   are in the manifest under "ann"
    lexical/                                       BM25 postings (see lexical.py)

Each segment of an index (store.py) has its own; a delta segment is small and searched exactly.

Search takes `allowed` chunk or sentence ids (the engine's filters) and turns them into a FAISS ID
selector, so a filter applies inside the search rather than to a list cut short before it.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Below this many vectors exact search is cheap: one thread, 0.9 ms at 10k vectors, 3.5 ms at 30k,
# 18 ms at 100k (measured by hand, faiss knn). bench_scale measured IVF at 0.3-2.6 ms with
# recall@10 0.995-1.000 against exact from 1.5k to 145k sentence vectors, and exact at 27-32 ms
# already at 14.5k on the loaded machine: so IVF from 10k on.
ANN_MIN_VECTORS = 10_000
# nprobe for recall@10 >= 0.99 against exact search, measured by bench_scale on each size. 16 kept
# recall@10 0.998 at 10^4 and 10^5 and saved 1 ms a question at 10^5, but changed 13 of 180 hit lists
# against exact search there (32: 1 of 180), so 32 stays.
NPROBE = 32
TRAIN_PER_LIST = 64          # training points per IVF list (faiss warns below 39)
SEED = 1234                  # training sample, so a rebuild of the same vectors gives the same index
# With a filter this selective, score the allowed rows directly: an IVF probe could miss them all.
EXACT_BELOW = 4096

NAMES = ("vectors", "sentence_vectors")


def faiss_module():
    """faiss, imported only after torch.

    faiss-cpu and torch each bundle their own OpenMP runtime. Loaded faiss-first, the model's
    query encode ran 4-8x slower on 2 cores (measured: 620-1090 ms vs 120-150 ms p50 under load);
    torch-first, both run at full speed. torch is a dependency anyway; importing it here costs
    nothing once the model is loaded.
    """
    import torch  # noqa: F401  (for its OpenMP runtime; see above)
    import faiss

    return faiss


def ann_settings(n: int) -> dict | None:
    """The IVF parameters for an index of n vectors, or None for exact search."""
    if n < ANN_MIN_VECTORS:
        return None
    nlist = 1 << round(math.log2(4 * math.sqrt(n)))  # the usual 4·sqrt(n), a power of two
    nlist = max(1, min(nlist, n // 39))  # faiss wants 39 training points a list
    return {"kind": "ivf_flat", "nlist": nlist, "nprobe": NPROBE, "metric": "inner_product"}


def write_flat(path: Path, vectors: np.ndarray, dim: int) -> None:
    """An exact inner-product index: the file format of the vectors themselves."""
    faiss = faiss_module()
    flat = faiss.IndexFlatIP(dim)
    if len(vectors):
        flat.add(np.ascontiguousarray(vectors, dtype="float32"))
    faiss.write_index(flat, str(path))


def write_ann(folder: Path, ann: dict | None, vectors: dict[str, np.ndarray], old=None) -> None:
    """The IVF files a segment's "ann" asks for; centroids are reused from `old` when they fit."""
    faiss = faiss_module()
    for name, params in (ann or {}).items():
        if not params:
            continue
        x = np.ascontiguousarray(vectors[name], dtype="float32")
        quantizer = _reusable_quantizer(old, name, params)
        index = faiss.IndexIVFFlat(quantizer or faiss.IndexFlatIP(x.shape[1]), x.shape[1], params["nlist"],
                                   faiss.METRIC_INNER_PRODUCT)
        if quantizer is None:
            index.train(_sample(x, params["nlist"] * TRAIN_PER_LIST))
        else:
            index.is_trained = True
        index.add(x)
        faiss.write_index(index, str(folder / f"{name}.ivf.faiss"))


def _reusable_quantizer(old, name: str, params: dict):
    """The old build's trained centroids, when it had IVF with as many lists: adding is then all a build does."""
    faiss = faiss_module()
    dense = getattr(old, "dense", None)
    ann = dense.get(name).ann if dense else None
    if ann is None or ann.nlist != params["nlist"]:
        return None
    return faiss.clone_index(ann.quantizer)


def _sample(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) <= n:
        return x
    return x[np.sort(np.random.default_rng(SEED).choice(len(x), n, replace=False))]


@dataclass
class DenseIndex:
    """One set of vectors: the exact rows (memory-mapped from the .faiss file) and IVF when built."""

    vectors: np.ndarray
    ann: object | None = None
    nprobe: int = NPROBE

    @classmethod
    def open(cls, folder: Path, name: str, params: dict | None) -> "DenseIndex":
        """Map `name`.faiss (no copy, no rebuild), and read its IVF file if the manifest has one."""
        faiss = faiss_module()
        vectors = map_flat(folder / f"{name}.faiss")
        ann = None
        if params and (folder / f"{name}.ivf.faiss").exists():
            # memory-mapped: the lists a question probes are read from disk, the rest never are
            ann = _read(faiss, folder / f"{name}.ivf.faiss", faiss.IO_FLAG_MMAP)
            _no_prefetch(faiss, ann)
        return cls(vectors, ann, int((params or {}).get("nprobe", NPROBE)))

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """Ids of the (up to) k nearest vectors to q by inner product; only `allowed` ids when given."""
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        if self.ann is None or (allowed is not None and len(allowed) <= EXACT_BELOW):
            return _exact(self.vectors, q, k, allowed)
        faiss = faiss_module()
        nprobe, sel = self.nprobe, None
        if allowed is not None:  # the allowed vectors are spread over the lists: probe more of them
            nprobe = min(self.ann.nlist, math.ceil(nprobe * len(self) / len(allowed)))
            sel = _selector(allowed, len(self))
        q = np.ascontiguousarray(q, dtype="float32").reshape(1, -1)
        ids = self.ann.search(q, k, params=faiss.SearchParametersIVF(sel=sel, nprobe=nprobe))[1][0]
        return ids[ids >= 0]


def _exact(vectors: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None) -> np.ndarray:
    """Exhaustive search with faiss's own kernel: no index to build, no BLAS threads for one query."""
    faiss = faiss_module()
    x = vectors if allowed is None else vectors[allowed]
    ids = faiss.knn(np.asarray(q, dtype="float32").reshape(1, -1), x, k, metric=faiss.METRIC_INNER_PRODUCT)[1][0]
    ids = ids[ids >= 0]
    return ids if allowed is None else allowed[ids]


def _read(faiss, path: Path, flags: int):
    """faiss.read_index, with a message naming the file instead of faiss's C++ one (ValueError)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise ValueError(f"{path.name} is missing or empty")
    try:
        return faiss.read_index(str(path), flags)
    except RuntimeError:
        raise ValueError(f"{path.name} cannot be read by FAISS (truncated, or not a FAISS file)") from None


def _no_prefetch(faiss, ann) -> None:
    """No prefetch threads for a memory-mapped IVF index's lists.

    Read with IO_FLAG_MMAP, faiss serves the lists as OnDiskInvertedLists, which start 32 threads
    to prefetch the probed lists on every search: 1.7-2.0 ms of a 2.3-2.7 ms search at 10^5 vectors
    (measured, nprobe 32), for pages the OS already holds. Without them a search reads the same
    lists and returns the same ids, 4x faster.
    """
    lists = faiss.downcast_InvertedLists(ann.invlists)
    if hasattr(lists, "prefetch_nthread"):
        lists.prefetch_nthread = 0


def map_flat(path: Path) -> np.ndarray:
    """The vectors of an IndexFlat file as a read-only memory map.

    faiss writes a flat index as a header and then all codes, so the vectors are the file's last
    ntotal·d floats; faiss itself reads the header (memory-mapped, nothing copied) and the first row
    is checked against it.
    """
    faiss = faiss_module()
    flat = _read(faiss, path, faiss.IO_FLAG_MMAP_IFC)
    n, d = int(flat.ntotal), int(flat.d)
    if n == 0:
        return np.zeros((0, d), dtype="float32")
    size = Path(path).stat().st_size
    vectors = np.memmap(path, dtype="float32", mode="r", offset=size - n * d * 4, shape=(n, d))
    if not np.array_equal(vectors[0], flat.reconstruct(0)):
        raise ValueError(f"{path.name}: not a flat index of float32 vectors")
    # a plain view of the mapped floats: each read of a np.memmap runs its Python __getitem__ and
    # makes a new memmap (with the BM25 postings' slices, ~80 such reads a question at 10^5)
    return vectors.view(np.ndarray)


def _selector(allowed: np.ndarray, n: int):
    """A bitmap ID selector over n ids (one bit per id: cheap to test, cheap to build)."""
    faiss = faiss_module()
    bits = np.zeros(n, dtype=bool)
    bits[allowed] = True
    packed = np.packbits(bits, bitorder="little")
    sel = faiss.IDSelectorBitmap(n, faiss.swig_ptr(packed))
    sel.referenced = packed  # the selector reads the array: keep it alive as long as the selector
    return sel


def open_dense(folder: Path, ann: dict | None) -> dict[str, DenseIndex]:
    """Both dense indexes of a segment folder, by file name stem; `ann` is its manifest record's."""
    ann = ann or {}
    return {name: DenseIndex.open(folder, name, ann.get(name)) for name in NAMES}
