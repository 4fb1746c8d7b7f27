"""Segmented indexes: an add writes a delta segment and links the base; search over the segments
gives what a full rebuild of the same corpus gives; removals, replacements and compaction."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import letterqa
from conftest import DATA, FIRST_LETTER, make_corpus
from doubles import BigramEmbedder
from letterqa import build, store
from letterqa.search import Searcher

BASE = sorted((DATA / "letters" / "src").glob("*.txt"))
QUESTIONS = ["2023年新认定多少家省制造业创新中心?", "农村公路建设资金", "乡村教师待遇", "医保报销比例",
             "生态环境 污染治理", "技术改造专项资金"]


@pytest.fixture(autouse=True)
def deltas_always(monkeypatch):
    """The test letters differ in size: let any delta stay a delta unless a test says otherwise."""
    monkeypatch.setattr(build, "DELTA_SHARE", 10.0)


def _key(hit):
    return hit.chunk.letter_id, hit.chunk.start


def _same_results(a: store.StoredIndex, b: store.StoredIndex, fake) -> None:
    """The same hits with the same scores, row numbers aside, in every mode; the same idf."""
    sa, sb = Searcher(a), Searcher(b)
    for question in QUESTIONS:
        q = fake.encode_queries([question])[0]
        for mode in ("dense", "lexical", "hybrid"):
            ha, hb = sa.search(question, q, 8, mode), sb.search(question, q, 8, mode)
            assert sorted((round(h.score, 6), _key(h)) for h in ha) == sorted((round(h.score, 6), _key(h)) for h in hb)
    assert dict(sa.idf) == pytest.approx(dict(sb.idf)) and sa.idf.max() == pytest.approx(sb.idf.max())


def _rebuilt(tmp_path, settings, fake) -> store.StoredIndex:
    """A full build of the same corpus into a fresh index folder."""
    fresh = settings.but(index=tmp_path / "fresh-index")
    letterqa.build_index(fresh, embedder=fake)
    stored = store.load_index(fresh.index)
    assert len(stored.segments) == 1
    return stored


@pytest.fixture
def added(tmp_path):
    """Five letters built, then FIRST_LETTER added on top: (settings, embedder, index before, after)."""
    fake = BigramEmbedder()
    settings = make_corpus(tmp_path, *BASE).but(model=fake.name)
    letterqa.build_index(settings, embedder=fake)
    before = store.load_index(settings.index)
    before.inode = (before.folder / "vectors.faiss").stat().st_ino  # the folder goes two builds later
    embedded = fake.passages
    report = letterqa.add_letters(settings, [FIRST_LETTER], embedder=fake)
    after = store.load_index(settings.index)
    assert report.embedded_letters == 1 and report.reused_letters == len(BASE)
    assert fake.passages - embedded == len(after.rows_of(report_letter_id(after, FIRST_LETTER.name))) + sum(
        len(after.sentence_rows(r)) for r in after.rows_of(report_letter_id(after, FIRST_LETTER.name)))
    return settings, fake, before, after


def report_letter_id(stored, source: str) -> str:
    return next(lid for lid, x in stored.letters.items() if x.source == source)


def test_an_add_writes_a_delta_and_links_the_base(added):
    settings, fake, before, after = added
    assert [s.spec["dir"] for s in after.segments][0] == "." and len(after.segments) == 2
    delta = after.segments[1]
    assert delta.folder.parent == after.folder and (delta.folder / "lexical" / "vocab.json").is_file()
    assert len(delta.vectors) == len(after.rows_of(report_letter_id(after, FIRST_LETTER.name)))
    for name in ("vectors.faiss", "sentence_vectors.faiss", "chunks.jsonl", "tokens.jsonl", "lexical/tf.npy"):
        assert (after.folder / name).stat().st_ino == (before.folder / name).stat().st_ino  # linked, not rewritten
    assert after.manifest["format"] == store.FORMAT_VERSION == 2
    assert after.manifest["chunks"] == len(after.chunks) == len(before.chunks) + len(delta.vectors)


def test_an_added_letter_is_answerable(added):
    settings, fake, _, after = added
    engine = letterqa.Engine.open(settings, embedder=fake)
    answer = engine.ask("2023年新认定多少家省制造业创新中心?", mode="hybrid")
    assert answer.hits[0].chunk.letter_id == report_letter_id(after, FIRST_LETTER.name)
    assert "新认定6家" in answer.hits[0].chunk.text
    rows = after.rows_of(answer.hits[0].chunk.letter_id)
    assert answer.hits[0].chunk.chunk_id in rows and after.chunks[rows[0]].letter_id == answer.hits[0].chunk.letter_id


def test_search_over_segments_equals_a_full_rebuild(added, tmp_path):
    settings, fake, _, after = added
    _same_results(after, _rebuilt(tmp_path, settings, fake), fake)


def test_filters_reach_the_delta(added):
    settings, fake, _, after = added
    letter = after.letters[report_letter_id(after, FIRST_LETTER.name)]
    rows = np.asarray(after.rows_of(letter.letter_id))
    q = fake.encode_queries(["制造业创新中心"])[0]
    for mode in ("dense", "lexical", "hybrid"):
        hits = Searcher(after).search("制造业创新中心", q, 5, mode, rows=rows)
        assert hits and {h.chunk.letter_id for h in hits} == {letter.letter_id}


def test_removing_a_delta_letter_keeps_the_base_linked(added, tmp_path):
    settings, fake, before, _ = added
    (settings.corpus / FIRST_LETTER.name).unlink()
    report = letterqa.build_index(settings, embedder=fake)
    now = store.load_index(settings.index)
    assert report.embedded_letters == 0 and report.removed == [FIRST_LETTER.name]
    assert len(now.segments) == 1 and (now.folder / "vectors.faiss").stat().st_ino == before.inode
    _same_results(now, _rebuilt(tmp_path, settings, fake), fake)


def test_removing_or_replacing_a_base_letter_writes_one_base(added, tmp_path):
    settings, fake, _, _ = added
    (settings.corpus / BASE[0].name).unlink()
    changed = settings.corpus / BASE[1].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\n补充说明：今年新增农村公路养护资金三千万元。\n",
                       encoding="utf-8")
    report = letterqa.build_index(settings, embedder=fake)
    now = store.load_index(settings.index)
    assert report.embedded_letters == 1 and report.removed == [BASE[0].name]
    assert len(now.segments) == 1 and now.manifest["letters"][0]["rows"][0] == 0
    assert any("三千万元" in now.chunks[r].text for r in range(len(now.chunks)))
    _same_results(now, _rebuilt(tmp_path, settings, fake), fake)


def test_a_renamed_letter_keeps_its_segment_and_takes_its_new_name(added):
    settings, fake, _, after = added
    (settings.corpus / FIRST_LETTER.name).rename(settings.corpus / "renamed.txt")
    report = letterqa.build_index(settings, embedder=fake)
    now = store.load_index(settings.index)
    assert report.embedded_letters == 0 and len(now.segments) == 2
    assert now.letters[report_letter_id(after, FIRST_LETTER.name)].source == "renamed.txt"


def test_many_adds_merge_the_deltas_and_a_large_delta_folds_into_the_base(tmp_path, monkeypatch):
    fake = BigramEmbedder()
    settings = make_corpus(tmp_path, BASE[0]).but(model=fake.name)
    letterqa.build_index(settings, embedder=fake)
    monkeypatch.setattr(build, "MAX_SEGMENTS", 3)
    counts = []
    for path in BASE[1:] + [FIRST_LETTER]:
        letterqa.add_letters(settings, [path], embedder=fake)
        counts.append(len(store.load_index(settings.index).segments))
    assert counts == [2, 3, 2, 3, 2]  # the fourth add would have made 4: the deltas were merged into one
    merged = store.load_index(settings.index)
    _same_results(merged, _rebuilt(tmp_path, settings, fake), fake)
    monkeypatch.setattr(build, "DELTA_SHARE", 0.25)
    shutil.copy(BASE[0], settings.corpus / "copy-of-first.txt")  # the same letter: a duplicate, not embedded
    (settings.corpus / "extra.txt").write_text("关于加强农村饮水安全的答复\n今年完成饮水工程改造120处。\n",
                                               encoding="utf-8")
    letterqa.build_index(settings, embedder=fake)
    assert len(store.load_index(settings.index).segments) == 1  # the deltas held more than 25% of the base


def test_an_index_of_another_format_names_the_fix(added):
    import json

    settings, _, _, after = added
    manifest = json.loads((after.folder / "manifest.json").read_text())
    (after.folder / "manifest.json").write_text(json.dumps({**manifest, "format": 3}))
    with pytest.raises(letterqa.LetterQAError, match="format 3"):
        store.load_index(settings.index)


def test_record_files_carry_their_line_offsets_and_a_stale_one_is_ignored(added, monkeypatch):
    settings, _, _, after = added
    want = [after.chunks[r] for r in range(len(after.chunks))]
    for seg in after.segments:
        assert (seg.folder / "chunks.jsonl.lines.npy").is_file() and (seg.folder / "tokens.jsonl.lines.npy").is_file()
    with monkeypatch.context() as m:
        m.setattr(store.np, "flatnonzero", lambda *a: pytest.fail("chunks.jsonl was scanned for its lines"))
        fresh = store.load_index(settings.index)
        assert [fresh.chunks[r] for r in range(len(fresh.chunks))] == want
    np.save(after.folder / "chunks.jsonl.lines.npy", np.array([0, 5]))  # offsets of other bytes
    stale = store.load_index(settings.index)
    assert [stale.chunks[r] for r in range(len(stale.chunks))] == want
