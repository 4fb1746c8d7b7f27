"""Hostile input: generated bad files (tests/hostile_files.py) through the reader, `letterqa add` and
`letterqa build`; bad questions through the engine and the CLI; property tests of the reader and the
question cleaner. Each case ends in a Letter, an Answer or one line that says the fix, never a
traceback, and the letters indexed before still answer."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import hostile_files as hf
from conftest import FIRST_LETTER
from letterqa import store
from letterqa.answer import strip_marks
from letterqa.build import add_letters, build_index, checked_chunks, corpus_files
from letterqa.cli import main
from letterqa.config import Settings
from letterqa.engine import Engine
from letterqa.errors import BadLetterError, LetterQAError, QuestionTooLongError, file_label
from letterqa.limits import Limits, clean_question
from letterqa.read import clean_text, read_letter

KNOWN = ("2023年新认定多少家省制造业创新中心?", "6家")   # a fact of the first letter
PROPERTY = hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[Path, str]:
    return hf.make_all(tmp_path_factory.mktemp("hostile") / "files")


def _clone(settings: Settings, dest: Path) -> Settings:
    shutil.copytree(settings.corpus, dest / "corpus")
    shutil.copytree(settings.index, dest / "index")
    return Settings(corpus=dest / "corpus", index=dest / "index")


def _still_answers(settings: Settings, embedder) -> None:
    answer = Engine.open(settings, embedder=embedder).ask(KNOWN[0])
    assert answer.answered and KNOWN[1] in strip_marks(answer.text), answer.text


def _one_line_with_fix(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message
    assert ": " in message, message  # "<file>: <what is wrong> ... : <the fix>"


@pytest.fixture
def cli_embedder(monkeypatch, embedder):
    monkeypatch.setattr("letterqa.model.load_embedder", lambda *args, **kwargs: embedder)
    return embedder


# ---------------------------------------------------------------- bad files, one by one

def test_there_are_at_least_fifty_bad_files(hostile):
    assert len([p for p, want in hostile.items() if want != hf.ACCEPTED]) >= 50


def test_every_hostile_file_reads_as_a_letter_or_one_refusal_line_within_seconds(hostile):
    wrong = []
    for path, want in hostile.items():
        started = time.perf_counter()
        try:
            letter = read_letter(path, max_bytes=20 * 2**20)
            outcome = hf.ACCEPTED
            assert letter.text and len(letter.text) <= Limits().max_letter_chars
        except BadLetterError as exc:
            outcome = str(exc)
            _one_line_with_fix(outcome)
            assert outcome.startswith(file_label(path) + ": ") and str(path.parent) not in outcome
        seconds = time.perf_counter() - started
        if want == hf.ACCEPTED and outcome != hf.ACCEPTED or want not in (hf.ACCEPTED, "") and want not in outcome:
            wrong.append((path.name, want, outcome))
        if seconds > 5:
            wrong.append((path.name, "under 5 s", f"{seconds:.1f} s"))
    assert not wrong, wrong


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    bomb = hf.zip_bomb_docx(tmp_path / "bomb.docx", inflated_mb=300)
    assert bomb.stat().st_size < 2 * 2**20
    started = time.perf_counter()
    with pytest.raises(BadLetterError, match=r"inflates to 301 MB, over max_docx_mb=64.*LETTERQA_MAX_DOCX_MB"):
        read_letter(bomb, max_bytes=20 * 2**20)
    assert time.perf_counter() - started < 1


def test_the_caps_are_settings_named_in_the_message(tmp_path, monkeypatch):
    path = tmp_path / "letter.txt"
    path.write_text(hf.LETTER, encoding="utf-8")
    assert read_letter(path).text
    with pytest.raises(BadLetterError, match=r"has too much text \(\d[\d,]*, over max_letter_chars=500\)"):
        read_letter(path, limits=Limits(max_letter_chars=500))
    monkeypatch.setenv("LETTERQA_MAX_LETTER_CHARS", "500")
    assert Settings().limits.max_letter_chars == 500
    with pytest.raises(BadLetterError, match="LETTERQA_MAX_LETTER_CHARS"):
        read_letter(path)


def test_the_time_budget_stops_a_slow_read(tmp_path):
    pdf = hf.many_pages_pdf(tmp_path / "pages.pdf", 40)
    with pytest.raises(BadLetterError, match=r"took over max_read_seconds=0 s"):
        read_letter(pdf, limits=Limits(max_read_seconds=0))


# ---------------------------------------------------------------- bad files through add and build

def test_cli_add_of_every_hostile_file_names_each_once_and_keeps_the_index(tmp_path, hostile, first_settings,
                                                                             cli_embedder, capsys):
    settings = _clone(first_settings, tmp_path / "x")
    files = [str(p) for p in hostile]
    code = main(["add", *files, "--corpus", str(settings.corpus), "--index", str(settings.index)])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err
    lines = [line for line in out.splitlines() + err.splitlines() if line.startswith(("added ", "refused ", "skipped "))]
    assert len(lines) == len(hostile)                    # one line per file: added, refused or skipped
    for path, want in hostile.items():
        (mine,) = [line for line in lines if line.split(" ", 1)[1].startswith(file_label(path))]
        if want == hf.ACCEPTED:
            assert mine.startswith(("added ", "skipped ")), mine
        elif want:
            assert mine.startswith("refused ") and want in mine, (want, mine)
    added = [line.removeprefix("added ") for line in lines if line.startswith("added ")]
    assert sorted(p.name for p in settings.corpus.iterdir() if not p.name.startswith(".")) == sorted(
        [FIRST_LETTER.name, *added])
    assert not list((settings.corpus / ".staging").glob("*"))
    _still_answers(settings, cli_embedder)


def test_bad_files_in_the_corpus_are_skipped_with_reasons_on_every_build(tmp_path, hostile, first_settings,
                                                                         embedder, capsys, monkeypatch):
    settings = _clone(first_settings, tmp_path / "x")
    for path in hostile:
        if path.is_file():
            shutil.copy(path, settings.corpus / path.name)
    report = build_index(settings, embedder=embedder)
    bad = sorted(file_label(p) for p in corpus_files(settings.corpus) if _refused(p, settings))
    assert len(bad) >= 45 and "bomb.docx" in bad and "many_chunks.txt" in bad
    refused = [p["source"] for p in report.problems if "is the same letter as" not in p["reason"]]
    assert sorted(refused) == bad and len(report.errors) == len(bad)
    assert len(report.problems) == len(bad) + len(report.duplicates)
    assert "答复函.txt" in os.listdir(settings.corpus)   # the GBK name, renamed to UTF-8
    assert report.renamed and "答复函.txt" in report.renamed[0]
    assert not list(settings.index.glob("*.partial"))
    _still_answers(settings, embedder)

    calls = []
    monkeypatch.setattr("letterqa.build.read_letter", lambda *a, **k: calls.append(a) or read_letter(*a, **k))
    again = build_index(settings, embedder=embedder)            # refused files are not read again
    assert calls == [] and sorted(again.errors) == sorted(report.errors)
    monkeypatch.undo()
    capsys.readouterr()

    code = main(["letters", "--problems", "--corpus", str(settings.corpus), "--index", str(settings.index)])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    problems = out.splitlines()
    assert len(problems) == len(bad) + len(again.duplicates) and "not indexed yet" not in out
    assert all(line.split(": ", 1)[0] in bad or "is the same letter as" in line for line in problems)
    assert any(line.startswith("bomb.docx: ") and "max_docx" in line for line in problems)
    code = main(["letters", "--corpus", str(settings.corpus), "--index", str(settings.index)])
    out, err = capsys.readouterr()
    assert code == 0 and f"{len(problems)} files" in err and "--problems" in err


def test_a_corpus_of_only_bad_files_is_one_line_and_listed(tmp_path, hostile, capsys):
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    settings.corpus.mkdir()
    for path in hostile:
        if path.is_file() and hostile[path] not in (hf.ACCEPTED, ""):
            shutil.copy(path, settings.corpus / path.name)
    where = ["--corpus", str(settings.corpus), "--index", str(settings.index)]
    assert main(["build", *where]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("letterqa: no readable letters in") and "more" in line and "--problems" in line
    assert main(["letters", "--problems", *where]) == 1
    assert len(capsys.readouterr().out.splitlines()) == len(corpus_files(settings.corpus)) > 30


def _refused(path: Path, settings: Settings) -> bool:
    try:
        checked_chunks(read_letter(path, max_bytes=20 * 2**20), settings, path)
    except BadLetterError:
        return True
    return False


def test_a_letter_over_the_chunk_cap_is_refused_by_add_and_named(tmp_path, first_settings, embedder):
    settings = Settings(corpus=tmp_path / "x" / "corpus", index=tmp_path / "x" / "index",
                        limits=Limits(max_letter_chunks=5))
    shutil.copytree(first_settings.corpus, settings.corpus)
    path = tmp_path / "long.txt"
    path.write_text(hf.LETTER, encoding="utf-8")
    report = add_letters(settings, [path], embedder=embedder)
    assert report.added == [] and "over max_letter_chunks=5" in report.errors[0]
    assert not (settings.corpus / "long.txt").exists()


def test_a_long_file_name_that_clashes_is_shortened(tmp_path, first_settings, embedder):
    settings = _clone(first_settings, tmp_path / "x")
    name = "长" * 82 + ".txt"                                  # 250 bytes
    (settings.corpus / name).write_text("占位", encoding="utf-8")  # the clash: same name, other bytes
    upload = tmp_path / "up"
    upload.mkdir()
    (upload / name).write_text(hf.SHORT_LETTER, encoding="utf-8")
    report = add_letters(settings, [upload / name], embedder=embedder)
    (added,) = report.added
    assert len(added.encode()) <= 255 and added.endswith(".txt") and (settings.corpus / added).is_file()


# ---------------------------------------------------------------- bad command-line values

@pytest.mark.parametrize("argv,flag", [
    (["ask", "-k", "-3", "问题"], "-k"), (["ask", "-k", "x", "问题"], "-k"), (["ask", "--year", "0", "问题"], "--year"),
    (["ask", "--year", "2023-", "问题"], "--year"), (["eval", "f.jsonl", "-k", "0"], "-k"),
    (["build", "--max-chunk-chars", "0"], "--max-chunk-chars"), (["add", "x.txt", "--max-file-mb", "0"], "--max-file-mb"),
    (["add", "x.txt", "--max-file-mb", "nan"], "--max-file-mb"),
])
def test_bad_values_are_refused_in_one_line(argv, flag, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    _, err = capsys.readouterr()
    assert caught.value.code == 2
    (line,) = err.strip().splitlines()
    assert flag in line and "-h" in line


def test_max_file_mb_is_a_flag_of_add(tmp_path, first_settings, cli_embedder, capsys):
    settings = _clone(first_settings, tmp_path / "x")
    path = tmp_path / "letter.txt"
    path.write_text(hf.LETTER, encoding="utf-8")
    where = ["--corpus", str(settings.corpus), "--index", str(settings.index)]
    assert main(["add", str(path), "--max-file-mb", "0.001", *where]) == 1
    assert "raise the limit with --max-file-mb" in capsys.readouterr().err
    assert main(["add", str(path), "--max-file-mb", "1", *where]) == 0


def test_corpus_and_index_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LETTERQA_CORPUS", str(tmp_path / "uploads"))
    monkeypatch.setenv("LETTERQA_INDEX", str(tmp_path / "idx"))
    assert (Settings().corpus, Settings().index) == (tmp_path / "uploads", tmp_path / "idx")
    monkeypatch.delenv("LETTERQA_CORPUS")
    assert Settings().corpus == Path("corpus")


# ---------------------------------------------------------------- bad questions

BAD_QUESTIONS = [
    "明天济南天气怎么样?", "hello", "SELECT * FROM letters; DROP TABLE letters;--", "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>", "[link](http://example.com)", "![x](http://example.com/x.png)", "' OR 1=1 --",
    "{{7*7}}", "${jndi:ldap://x}", "../../etc/passwd", "%00%0a", "\x00", "\x00\x01\x02问题", "\u202e问题反转",
    "\ud800", "问\udcff题", "\ud83d\ude00多少家", "😀" * 50, "\ufeff2023年", "\u200b\u200b", "?", "？？？", "。", "多少",
    "a" * 2000, "a" * 2001, "a" * 100_000, "家" * 3000, "2023" * 400, " " * 5000, "\n\n\n", "\t问题\t",
    "9" * 1000, "-1", "0", "NaN", "null", "undefined", "None", "True", "[]", "{}", "\\", "\\\\n", "%s%s%s%n",
    "問題：二〇二三年新認定多少家？", "２０２３年新认定多少家", "ｈｅｌｌｏ", "Как дела?", "مرحبا", "\U0010ffff", "\uffff\ufffe",
    "2023年新认定多少家省制造业创新中心?" * 60, "《》", "“”", "答复函", "letters", "-k -3",
]


def test_there_are_at_least_fifty_bad_questions():
    assert len(BAD_QUESTIONS) >= 50


def test_bad_questions_get_an_answer_or_one_line(engine):
    for question in BAD_QUESTIONS:
        try:
            answer = engine.ask(question)
        except LetterQAError as exc:
            _one_line_with_fix(str(exc))
            continue
        assert isinstance(answer.text, str) and answer.text
        answer.text.encode("utf-8")  # printable: no lone surrogate came through
    with pytest.raises(QuestionTooLongError, match="问题太长.*max_question_chars=2,000"):
        engine.ask("a" * 100_000)
    assert engine.ask(KNOWN[0]).answered  # and the engine still answers


def test_an_invalid_utf8_question_on_the_command_line_is_one_line(first_settings):
    """Bytes a GBK terminal sends, and bytes that are nothing at all: answered or one line, exit 0 or 1."""
    where = ["--corpus", str(first_settings.corpus), "--index", str(first_settings.index)]
    cmd = [sys.executable, "-m", "letterqa.cli", "ask", "--json", *where]
    proc = subprocess.run([os.fsencode(c) for c in cmd] + ["2023年新认定多少家".encode("gbk"), b"\xff\xfe\xfd"],
                          capture_output=True, timeout=300)
    assert proc.returncode in (0, 1) and b"Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert b"6\xe5\xae\xb6" in proc.stdout  # "6家": the GBK question was read as Chinese


# ---------------------------------------------------------------- properties

@PROPERTY
@given(st.text(max_size=400))
def test_clean_question_gives_valid_one_line_text_and_is_idempotent(text):
    cleaned = clean_question(text)
    cleaned.encode("utf-8")
    assert "\n" not in cleaned and cleaned == cleaned.strip()
    assert all(ch.isprintable() or ch == " " for ch in cleaned)
    assert clean_question(cleaned) == cleaned


@PROPERTY
@given(st.text(min_size=2001, max_size=2100))
def test_clean_question_refuses_over_long_input(text):
    with pytest.raises(QuestionTooLongError):
        clean_question(text)


@PROPERTY
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=600))
def test_clean_text_keeps_no_blank_or_padded_lines(raw):
    text = clean_text(raw)
    lines = text.split("\n")
    assert all(line and line == line.strip() for line in lines) or text == ""
    assert "\r" not in text


_LETTERISH = st.lists(st.sampled_from(["一、工作情况", "（一）总体进展。", "今年新建农田120万亩。", "王某某代表：", "\n",
                                       "河南省农业农村厅", "2021年6月1日", "<p>", "　　", "\x0c", "🙂", "ab", "；"]),
                      max_size=40).map("".join)


@PROPERTY
@given(_LETTERISH | st.text(max_size=300), st.sampled_from([".txt", ".md", ".html"]),
       st.sampled_from(["utf-8", "gb18030", "utf-16"]))
def test_read_letter_gives_a_letter_or_a_refusal(tmp_path_factory, text, suffix, encoding):
    path = tmp_path_factory.mktemp("prop") / f"x{suffix}"
    path.write_bytes(text.encode(encoding, "replace"))
    try:
        letter = read_letter(path)
    except BadLetterError as exc:
        _one_line_with_fix(str(exc))
        return
    assert letter.text and any("\u4e00" <= ch <= "\u9fff" for ch in letter.text)
