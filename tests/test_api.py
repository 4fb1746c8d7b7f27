"""The public API: letterqa.Settings, build_index, Engine.open with any Embedder, and a light import."""
from __future__ import annotations

import subprocess
import sys

import pytest

import letterqa
from conftest import FIRST_LETTER, make_corpus
from doubles import BigramEmbedder


def test_build_and_ask_through_the_public_api(tmp_path):
    fake = BigramEmbedder()
    settings = make_corpus(tmp_path, FIRST_LETTER).but(model=fake.name)
    assert isinstance(settings, letterqa.Settings)
    report = letterqa.build_index(settings, embedder=fake)
    assert report.letters == 1 and report.embedded_chunks > 10 and fake.passages > report.embedded_chunks
    engine = letterqa.Engine.open(settings, embedder=fake)
    answer = engine.ask("2023年新认定多少家省制造业创新中心?", mode="dense")
    assert "新认定6家" in answer.hits[0].chunk.text
    assert isinstance(answer, letterqa.Answer)
    # a second build with the same embedder reuses every vector
    before = fake.passages
    assert letterqa.build_index(settings, embedder=fake).embedded_chunks == 0 and fake.passages == before


def test_an_embedder_under_another_name_is_refused(tmp_path):
    settings = make_corpus(tmp_path, FIRST_LETTER)
    with pytest.raises(letterqa.LetterQAError, match="Settings\\(model='test-bigram'"):
        letterqa.build_index(settings, embedder=BigramEmbedder())


def test_the_embedder_protocol_fits_the_default_model_and_the_double(embedder):
    assert isinstance(BigramEmbedder(), letterqa.Embedder)
    assert isinstance(embedder, letterqa.Embedder)
    assert embedder.encode_passages(["一、总体情况"], batch_size=4).shape == (1, embedder.dim)
    assert not isinstance(object(), letterqa.Embedder)


def test_import_letterqa_is_light():
    code = ("import sys, letterqa; letterqa.Settings; "
            "print(sorted(m for m in ('torch', 'faiss', 'jieba', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    with pytest.raises(AttributeError):
        letterqa.no_such_name  # noqa: B018
