"""Adding letters to a live index (`add_letters`, `letterqa add`), rebuilding after removals, filters,
and a running Engine picking up the new index. Real model throughout (the session `embedder`).

Most tests work on a *copy* of an index (corpus/ and index/ copied with `_clone`): copying reuses
its vectors, so only the letters a test adds are embedded, and no test changes another's index.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, FIRST_LETTER
from hostile_files import scanned_pdf
from letterqa import store
from letterqa.answer import strip_marks
from letterqa.build import add_letters, build_index
from letterqa.cli import main
from letterqa.config import Settings
from letterqa.engine import Engine

LETTERS = DATA / "letters"
HTML = LETTERS / "01_zj_education_2023.html"
HTML_GBK_TWIN = LETTERS / "01_zj_education_2023_gbk.htm"       # same letter_id as HTML
DOCX = LETTERS / "02_cd_environment_2022.docx"
GB18030_TXT = LETTERS / "03_ha_agriculture_2021_gb18030.txt"
PDF = LETTERS / "04_sc_health_2024.pdf"
MD = LETTERS / "05_gd_transport_2023.md"
UTF16_TXT = LETTERS / "05_gd_transport_2023_utf16.txt"           # same letter_id as MD
NEW_FOUR = [HTML, DOCX, GB18030_TXT, PDF]

# (question, the figure the answer must contain, the file the top citation must come from)
FACTS = [
    ("全省中小学配备了多少名专职心理健康教育教师?", "4126名", HTML.name),
    ("浙江省2023年安排多少省级补助资金支持乡村学校改造心理辅导室?", "4800万元", HTML.name),
    ("成都全市累计建成多少个噪声自动监测站点?", "152个", DOCX.name),
    ("“静夜守护”专项执法行动查处了多少件施工噪声违法案件?", "286件", DOCX.name),
    ("河南“十三五”期间累计建成多少万亩高标准农田?", "6320万亩", GB18030_TXT.name),
    ("“田长制”试点区域设施完好率达到多少?", "96.5%", GB18030_TXT.name),
    ("四川2023年为基层定向招收了多少名医学生?", "1580名", PDF.name),
    ("“银龄医生”行动2024年计划招募多少名?", "500名", PDF.name),
]


def _clone(settings: Settings, dest: Path, **changes) -> Settings:
    """A copy of an index and its corpus under `dest`: its letters are reused, not re-embedded."""
    shutil.copytree(settings.corpus, dest / "corpus")
    shutil.copytree(settings.index, dest / "index")
    return Settings(corpus=dest / "corpus", index=dest / "index", **changes)


def _sources(settings: Settings) -> list[str]:
    return sorted(e["source"] for e in store.load_index(settings.index).manifest["letters"])


def _tiny_letter(sender: str, fact: str, day: str = "2023年6月1日") -> str:
    return (f"王某某代表：\n您提出的《关于{fact}的建议》收悉。现答复如下：\n一、工作进展\n"
            f"（一）总体情况。今年以来，{fact}，取得明显成效。\n二、下一步打算\n继续推进{fact}相关工作。\n"
            f"{sender}\n{day}\n")


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_embedder(monkeypatch, embedder):
    """The CLI loads its own model; hand it the session one instead of loading it again (~8 s)."""
    monkeypatch.setattr("letterqa.model.load_embedder", lambda *args, **kwargs: embedder)
    return embedder


# ---------------------------------------------------------------- four new letters, built once

@pytest.fixture(scope="module")
def five(tmp_path_factory, first_settings, embedder):
    """The first letter's index, then `add_letters` of the .html, .docx, GB18030 .txt and .pdf letters."""
    settings = _clone(first_settings, tmp_path_factory.mktemp("five"))
    report = add_letters(settings, NEW_FOUR, embedder=embedder)
    return settings, report


@pytest.fixture(scope="module")
def five_engine(five, embedder):
    return Engine.open(five[0], embedder=embedder)


def test_add_copies_the_files_and_embeds_only_them(five, first_settings):
    settings, report = five
    for path in NEW_FOUR:
        assert (settings.corpus / path.name).read_bytes() == path.read_bytes()
    assert report.added == [p.name for p in NEW_FOUR]
    assert report.errors == [] and report.duplicates == []
    assert (report.letters, report.embedded_letters, report.reused_letters) == (5, 4, 1)
    stored = store.load_index(settings.index)
    assert _sources(settings) == sorted([FIRST_LETTER.name] + [p.name for p in NEW_FOUR])
    # Only the new letters' chunks were embedded; the first letter's vectors are the old ones, unchanged.
    old = store.load_index(first_settings.index)
    first_id = next(iter(old.letters))
    assert report.embedded_chunks == len(stored.chunks) - len(old.chunks) > 0
    assert np.array_equal(stored.vectors[stored.rows_of(first_id)], old.vectors)


def test_add_reads_the_metadata_of_each_format(five):
    letters = {x.source: x for x in store.load_index(five[0].index).letters.values()}
    assert (letters[HTML.name].sender, letters[HTML.name].date) == ("浙江省教育厅", "2023-07-18")
    assert (letters[DOCX.name].sender, letters[DOCX.name].date) == ("成都市生态环境局", "2022-08-30")
    assert (letters[GB18030_TXT.name].sender, letters[GB18030_TXT.name].date) == ("河南省农业农村厅", "2021-06-28")
    assert "四川省卫生健康委员会" in letters[PDF.name].sender and letters[PDF.name].date == "2024-07-09"


@pytest.mark.parametrize("question,figure,source", FACTS,
                         ids=[f"{Path(src).suffix[1:]}-{fig.rstrip('名万元个件亩')}" for _, fig, src in FACTS])
def test_added_letters_answer_their_own_facts(five_engine, question, figure, source):
    answer = five_engine.ask(question)
    assert answer.answered, answer.text
    assert figure in strip_marks(answer.text)
    assert answer.citations[0].letter.source == source
    assert answer.citations[0].quote in answer.citations[0].chunk.text


# ---------------------------------------------------------------- the CLI

def test_cli_add_prints_added_and_letters_lists_sender_and_date(tmp_path, first_settings, cli_embedder, capsys):
    settings = _clone(first_settings, tmp_path)
    where = ["--corpus", settings.corpus, "--index", settings.index]
    code, out, err = _run(capsys, "add", UTF16_TXT, *where)
    assert code == 0, err
    assert f"added {UTF16_TXT.name}" in out and "2 letters" in out
    assert (settings.corpus / UTF16_TXT.name).read_bytes() == UTF16_TXT.read_bytes()
    code, out, _ = _run(capsys, "letters", *where)
    assert code == 0
    rows = out.strip().splitlines()[1:]
    assert len(rows) == 2
    (new,) = [r for r in rows if UTF16_TXT.name in r]
    assert "广东省交通运输厅" in new and "2023-09-12" in new      # date written 二〇二三年九月十二日
    (old,) = [r for r in rows if FIRST_LETTER.name in r]
    assert "山东省工业和信息化厅" in old and "2024-08-25" in old


def test_cli_letters_lists_every_added_letter(five, capsys):
    code, out, _ = _run(capsys, "letters", "--index", five[0].index)
    assert code == 0
    rows = out.strip().splitlines()[1:]
    assert len(rows) == 5
    expected = {HTML.name: ("浙江省教育厅", "2023-07-18"), DOCX.name: ("成都市生态环境局", "2022-08-30"),
                GB18030_TXT.name: ("河南省农业农村厅", "2021-06-28"), PDF.name: ("四川省卫生健康委员会", "2024-07-09"),
                FIRST_LETTER.name: ("山东省工业和信息化厅", "2024-08-25")}
    for name, (sender, date) in expected.items():
        (row,) = [r for r in rows if r.endswith(name)]
        assert sender in row and date in row, row


# ---------------------------------------------------------------- the same letter twice

def test_twin_of_an_indexed_letter_is_a_duplicate_not_indexed_twice(tmp_path, five, embedder):
    settings = _clone(five[0], tmp_path)
    live = store.live_build(settings.index)
    report = add_letters(settings, [HTML_GBK_TWIN], embedder=embedder)
    assert report.added == [] and report.errors == []
    assert report.duplicates == [f"{HTML_GBK_TWIN.name} is already in the corpus as {HTML.name}"]
    assert not (settings.corpus / HTML_GBK_TWIN.name).exists()
    assert store.live_build(settings.index) == live and len(store.load_index(settings.index).letters) == 5
    again = add_letters(settings, [DOCX], embedder=embedder)      # the very same file once more
    assert again.added == [] and len(again.duplicates) == 1 and DOCX.name in again.duplicates[0]
    assert store.live_build(settings.index) == live and len(store.load_index(settings.index).letters) == 5


def test_same_letter_twice_in_one_add_is_indexed_once(tmp_path, first_settings, embedder, capsys):
    settings = _clone(first_settings, tmp_path / "x")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = tmp_path / "a" / "haiyang.txt", tmp_path / "b" / "haiyang_copy.txt"
    one.write_text(_tiny_letter("青岛市海洋发展局", "海洋牧场示范区新增7处"), encoding="utf-8")
    two.write_bytes(one.read_bytes())
    report = add_letters(settings, [one, two], embedder=embedder)
    assert report.added == ["haiyang.txt"]
    assert report.duplicates == ["haiyang_copy.txt is already in the corpus as haiyang.txt"]
    assert (report.letters, report.embedded_letters) == (2, 1)
    stored = store.load_index(settings.index)
    assert len({c.letter_id for c in stored.chunks if "海洋牧场示范区新增7处" in c.text}) == 1
    assert len(stored.manifest["letters"]) == 2
    assert _sources(settings) == sorted([FIRST_LETTER.name, "haiyang.txt"])
    assert not (settings.corpus / "haiyang_copy.txt").exists()


# ---------------------------------------------------------------- bad input loses nothing

def _bad_files(folder: Path) -> dict[Path, str]:
    """Bad files and the reason each must be refused with."""
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blob.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "sheet.xls").write_bytes("年份,数量\n2023,45\n".encode("gbk"))
    return {folder / "empty.txt": "is empty (0 bytes)",
            folder / "blob.txt": "looks like a binary file",
            folder / "sheet.xls": "unsupported suffix '.xls'",
            scanned_pdf(folder / "scan.pdf"): "has no text layer"}


def test_bad_files_are_refused_with_file_and_reason_and_the_index_stays(tmp_path, five, embedder):
    settings = _clone(five[0], tmp_path / "x")
    live, corpus_before = store.live_build(settings.index), sorted(p.name for p in settings.corpus.iterdir())
    bad = _bad_files(tmp_path / "bad")
    for path, reason in bad.items():                     # one at a time: each refusal is its own
        report = add_letters(settings, [path], embedder=embedder)
        assert report.added == [] and len(report.errors) == 1, report.errors
        assert report.errors[0].startswith(path.name + ": ") and reason in report.errors[0]
        assert str(path.parent) not in report.errors[0]
    report = add_letters(settings, list(bad), embedder=embedder)  # all at once: every one is named
    assert len(report.errors) == len(bad) and report.added == []
    assert sorted(p.name for p in settings.corpus.iterdir()) == corpus_before
    assert store.live_build(settings.index) == live
    assert len(store.load_index(settings.index).letters) == 5


def test_a_file_over_the_size_limit_is_refused(tmp_path, five, embedder):
    settings = _clone(five[0], tmp_path, max_file_mb=0.001)       # 1,048 bytes; the letter is ~3.9 kB
    live = store.live_build(settings.index)
    report = add_letters(settings, [MD], embedder=embedder)
    assert report.added == [] and len(report.errors) == 1
    assert report.errors[0].startswith(MD.name) and "over the limit of 1,048 bytes" in report.errors[0]
    assert "--max-file-mb" in report.errors[0]
    assert not (settings.corpus / MD.name).exists()
    assert store.live_build(settings.index) == live and len(store.load_index(settings.index).letters) == 5


def test_cli_add_of_bad_files_exits_1_with_one_line_each(tmp_path, five, cli_embedder, capsys):
    settings = _clone(five[0], tmp_path / "x")
    where = ["--corpus", settings.corpus, "--index", settings.index]
    live = store.live_build(settings.index)
    for path, reason in _bad_files(tmp_path / "bad").items():
        code, out, err = _run(capsys, "add", path, *where)
        assert code == 1, (path, out, err)
        assert "added" not in out
        (line,) = err.strip().splitlines()
        assert path.name in line and reason in line and "Traceback" not in err
    assert store.live_build(settings.index) == live
    code, out, _ = _run(capsys, "letters", *where)
    assert code == 0 and len(out.strip().splitlines()) == 1 + 5


def test_a_bad_file_beside_a_good_one_refuses_one_and_adds_the_other(tmp_path, five, cli_embedder, capsys):
    settings = _clone(five[0], tmp_path / "x")
    good = tmp_path / "good.txt"
    good.write_text(_tiny_letter("厦门市海洋发展局", "近海养殖尾水治理示范点建成13个"), encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, out, err = _run(capsys, "add", empty, good, "--corpus", settings.corpus, "--index", settings.index)
    assert code == 0 and "added good.txt" in out
    assert f"refused {empty.name}: is empty" in err
    assert "6 letters" in out
    assert _sources(settings) == sorted([FIRST_LETTER.name, "good.txt", *(p.name for p in NEW_FOUR)])


def test_adding_a_file_that_already_sits_in_the_corpus_indexes_it(tmp_path, first_settings, cli_embedder,
                                                                      capsys):
    settings = _clone(first_settings, tmp_path)
    shutil.copy(MD, settings.corpus / MD.name)                     # dropped in by hand, not built yet
    code, _, err = _run(capsys, "add", settings.corpus / MD.name, "--corpus", settings.corpus,
                        "--index", settings.index)
    assert code == 0 and "Traceback" not in err
    assert MD.name in [x.source for x in store.load_index(settings.index).letters.values()]


# ---------------------------------------------------------------- removing a letter

def test_a_removed_letters_unique_phrase_is_no_longer_retrieved(tmp_path, five, five_engine, embedder):
    question = "“静夜守护”专项执法行动查处了多少件施工噪声违法案件?"
    settings = _clone(five[0], tmp_path)
    removed_id = next(x.letter_id for x in five_engine.stored.letters.values() if x.source == DOCX.name)
    before = five_engine.ask(question, k=20)
    assert removed_id in {h.chunk.letter_id for h in before.hits}                # found while it is there
    (settings.corpus / DOCX.name).unlink()
    report = build_index(settings, embedder=embedder)
    assert report.removed == [DOCX.name] and (report.letters, report.embedded_letters) == (4, 0)
    engine = Engine.open(settings, embedder=embedder)
    assert removed_id not in engine.stored.letters
    assert all(c.letter_id != removed_id for c in engine.stored.chunks)
    for mode in ("hybrid", "dense", "lexical"):
        after = engine.ask(question, k=20, mode=mode)
        assert removed_id not in {h.chunk.letter_id for h in after.hits}, mode
        cited = " ".join(c.chunk.text for c in after.citations)
        assert "286件" not in strip_marks(after.text) and "静夜守护" not in cited


# ---------------------------------------------------------------- filters

def test_sender_filter_only_returns_that_letter(five_engine):
    zj = {x.letter_id for x in five_engine.stored.letters.values() if x.sender == "浙江省教育厅"}
    assert len(zj) == 1
    question = "成都全市累计建成多少个噪声自动监测站点?"             # 成都's fact: unfiltered, 成都 answers
    assert five_engine.ask(question).citations[0].letter.source == DOCX.name
    answer = five_engine.ask(question, k=10, sender="浙江省教育厅")
    assert answer.hits and {h.chunk.letter_id for h in answer.hits} == zj
    assert all(c.letter.sender == "浙江省教育厅" for c in answer.citations)
    joint = five_engine.ask("乡村医生", sender="四川省人力资源和社会保障厅")   # the second of two joint signers
    assert joint.hits and {five_engine.stored.letters[h.chunk.letter_id].source for h in joint.hits} == {PDF.name}


@pytest.mark.parametrize("year", [2022, 2024, 2021])
def test_year_filter_only_returns_letters_of_that_year(five_engine, year):
    letters = five_engine.stored.letters
    answer = five_engine.ask("全省中小学配备了多少名专职心理健康教育教师?", k=10, year=year)  # a 2023 letter's fact
    assert answer.hits
    assert all(letters[h.chunk.letter_id].date.startswith(str(year)) for h in answer.hits)
    assert all(c.letter.date.startswith(str(year)) for c in answer.citations)
    assert "4126" not in strip_marks(answer.text)


def test_year_with_no_letters_gives_no_hits(five_engine):
    answer = five_engine.ask("全省中小学配备了多少名专职心理健康教育教师?", year=2019)
    assert answer.hits == () and not answer.answered


# ---------------------------------------------------------------- many letters

@pytest.mark.parametrize("question,concept", [
    ("哪些答复提到了乡村?", "乡村"),                  # 乡村学校 (浙江), 乡村医生 (四川), 乡村干部 (河南)
    ("到2025年有哪些目标?", "2025年"),               # a 2025 target in every letter
], ids=["rural", "targets-2025"])
def test_a_shared_topic_brings_hits_from_several_letters(five_engine, question, concept):
    answer = five_engine.ask(question, k=10)
    with_concept = {h.chunk.letter_id for h in answer.hits if concept in h.chunk.text}
    assert len(with_concept) >= 2, [(five_engine.stored.letters[h.chunk.letter_id].source, h.chunk.text[:30])
                                    for h in answer.hits]


# ---------------------------------------------------------------- a running engine

def test_a_running_engine_answers_from_the_new_index_on_its_next_question(tmp_path, first_settings, embedder):
    settings = _clone(first_settings, tmp_path)
    engine = Engine.open(settings, embedder=embedder)
    question = "“客货邮”融合线路开通了多少条?"
    assert "326条" not in strip_marks(engine.ask(question).text)
    old_folder = engine.stored.folder
    report = add_letters(settings, [MD], embedder=embedder)       # as another caller would: not via `engine`
    assert report.added == [MD.name] and report.embedded_letters == 1
    answer = engine.ask(question)
    assert engine.stored.folder != old_folder and len(engine.stored.letters) == 2
    assert answer.answered and "326条" in strip_marks(answer.text)
    assert answer.citations[0].letter.source == MD.name


def test_an_unchanged_pointer_is_not_read_again_on_each_question(first_settings, embedder, monkeypatch):
    from letterqa import store

    engine = Engine.open(first_settings, embedder=embedder)
    engine.ask("全省实施了多少个500万元以上的技改项目?")  # reads CURRENT once, if it had not yet
    reads = []
    monkeypatch.setattr(store, "live_build", lambda index: reads.append(index))
    engine.ask("首批认定了几个省级先进制造业集群?")
    assert reads == []  # a swap replaces CURRENT (a new file): its stat alone says nothing changed


def test_which_letters_question_cites_each_letter_that_says_it(five_engine):
    answer = five_engine.ask("哪些答复提到了乡村?")
    cited = {c.letter.letter_id for c in answer.citations}
    assert answer.answered and len(cited) >= 3
    assert all("乡村" in c.quote for c in answer.citations)


def test_which_letters_question_leaves_out_letters_that_do_not_say_it(five_engine):
    answer = five_engine.ask("哪些答复提到了专精特新?")
    assert [c.letter.source for c in answer.citations] == [FIRST_LETTER.name]
