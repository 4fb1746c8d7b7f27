"""The index folder: save → load round trip, manifest checks, incremental sync, atomic swaps."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import FIRST_LETTER, make_corpus
from letterqa import store
from letterqa.build import build_index
from letterqa.errors import EmptyCorpusError, IndexMismatchError, NoIndexError
from letterqa.sections import split_sections
from letterqa.read import read_letter


def test_round_trip_keeps_chunks_vectors_and_manifest(first_settings, embedder):
    stored = store.load_index(first_settings.index)
    letter = read_letter(first_settings.corpus / FIRST_LETTER.name)
    chunks = split_sections(letter, first_settings.max_chunk_chars)
    assert [c.text for c in stored.chunks] == [c.text for c in chunks]
    assert [c.path for c in stored.chunks] == [c.path for c in chunks]
    assert stored.vectors.shape == (len(chunks), embedder.dim)
    assert np.allclose(np.linalg.norm(stored.vectors, axis=1), 1.0, atol=1e-4)
    m = stored.manifest
    assert m["model"] == first_settings.model and m["model_fingerprint"] == embedder.fingerprint
    assert m["dim"] == embedder.dim and m["settings"]["max_chunk_chars"] == first_settings.max_chunk_chars
    (entry,) = m["letters"]
    assert entry["sha256"] == letter.sha256 and entry["rows"] == [0, len(chunks)]
    assert stored.letters[letter.letter_id].sender == letter.sender


def test_a_stored_vector_is_the_embedding_of_its_passage(first_settings, embedder):
    from letterqa.build import passage_text

    stored = store.load_index(first_settings.index)
    fresh = embedder.encode_passages([passage_text(stored.chunks[3])])[0]
    assert float(fresh @ stored.vectors[3]) > 0.999


def test_no_index_and_empty_corpus_name_the_fix(tmp_path):
    with pytest.raises(NoIndexError, match="letterqa build"):
        store.load_index(tmp_path / "index")
    settings = make_corpus(tmp_path)
    with pytest.raises(EmptyCorpusError, match="no letters"):
        build_index(settings)


def test_settings_mismatch_names_the_fix(first_settings):
    stored = store.load_index(first_settings.index)
    with pytest.raises(IndexMismatchError, match="max_chunk_chars=300.*letterqa build"):
        store.check_compatible(stored.manifest, first_settings.index, model=first_settings.model,
                               fingerprint=None, chunker_version=stored.manifest["chunker_version"],
                               max_chunk_chars=500)
    with pytest.raises(IndexMismatchError, match="model"):
        store.check_compatible(stored.manifest, first_settings.index, model="other/model",
                               fingerprint=None, chunker_version=stored.manifest["chunker_version"],
                               max_chunk_chars=300)


def test_unchanged_letters_are_reused_changed_replaced_removed_dropped(tmp_path, embedder):
    settings = make_corpus(tmp_path, FIRST_LETTER)
    first = build_index(settings, embedder=embedder)
    assert (first.embedded_letters, first.reused_letters) == (1, 0)
    again = build_index(settings, embedder=embedder)
    assert (again.embedded_letters, again.reused_letters, again.embedded_chunks) == (0, 1, 0)

    other = settings.corpus / "other.txt"
    other.write_text(_tiny_letter("青岛市海洋发展局", "海洋牧场示范区新增7处"), encoding="utf-8")
    added = build_index(settings, embedder=embedder)
    assert (added.embedded_letters, added.reused_letters, added.letters) == (1, 1, 2)

    other.write_text(_tiny_letter("青岛市海洋发展局", "远洋渔船更新改造42艘"), encoding="utf-8")
    changed = build_index(settings, embedder=embedder)
    texts = " ".join(c.text for c in store.load_index(settings.index).chunks)
    assert changed.embedded_letters == 1 and "远洋渔船更新改造42艘" in texts and "海洋牧场示范区新增7处" not in texts

    other.unlink()
    removed = build_index(settings, embedder=embedder)
    assert removed.removed == ["other.txt"] and removed.letters == 1
    assert "远洋渔船" not in " ".join(c.text for c in store.load_index(settings.index).chunks)


def test_same_letter_twice_is_reported_not_indexed_twice(tmp_path, embedder):
    settings = make_corpus(tmp_path, FIRST_LETTER)
    (settings.corpus / "copy.txt").write_bytes(FIRST_LETTER.read_bytes())
    report = build_index(settings, embedder=embedder)
    assert report.letters == 1 and len(report.duplicates) == 1
    assert "same letter" in report.duplicates[0]


def test_a_crash_before_the_swap_leaves_the_old_index_live(tmp_path, embedder, monkeypatch):
    settings = make_corpus(tmp_path, FIRST_LETTER)
    build_index(settings, embedder=embedder)
    before = store.live_build(settings.index)
    (settings.corpus / "other.txt").write_text(_tiny_letter("某市商务局", "跨境电商综试区"), encoding="utf-8")

    def crash(*_):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(store, "_point_to", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(settings, embedder=embedder)
    monkeypatch.undo()
    assert store.live_build(settings.index) == before
    assert len(store.load_index(settings.index).letters) == 1
    report = build_index(settings, embedder=embedder)  # the next build finishes and tidies up
    assert report.letters == 2
    assert not list(settings.index.glob("*.partial"))


def test_a_killed_rebuild_leaves_a_loadable_consistent_index(tmp_path, embedder):
    """SIGKILL a real `letterqa build` process at several moments; the old index must stay whole."""
    settings = make_corpus(tmp_path, FIRST_LETTER)
    build_index(settings, embedder=embedder)
    for i in range(6):
        (settings.corpus / f"extra{i}.txt").write_text(
            _tiny_letter(f"测试局{i}", f"第{i}号独有事项") * 3, encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "letterqa.cli", "build", "--corpus", str(settings.corpus),
           "--index", str(settings.index)]
    for delay in (0.5, 3.0, 6.0, 9.0):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stored = store.load_index(settings.index)
        assert len(stored.chunks) == len(stored.vectors) == sum(
            e["rows"][1] - e["rows"][0] for e in stored.manifest["letters"])
        assert FIRST_LETTER.name in [e["source"] for e in stored.manifest["letters"]]
    report = build_index(settings, embedder=embedder)
    assert report.letters == 7


def _tiny_letter(sender: str, fact: str) -> str:
    return (f"王某某代表：\n您提出的《关于{fact}的建议》收悉。现答复如下：\n一、工作进展\n"
            f"（一）总体情况。今年以来，{fact}，取得明显成效。\n二、下一步打算\n继续推进{fact}相关工作。\n"
            f"{sender}\n2023年6月1日\n")
