"""The CLI: exit codes and one-line errors, `ask --json` records, `letters`."""
import json

from conftest import make_corpus
from letterqa.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_no_index_says_run_build(tmp_path, capsys):
    code, out, err = _run(capsys, "ask", "--index", str(tmp_path / "none"), "问题")
    assert code == 1 and "run `letterqa build`" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_empty_question_is_refused_clearly(first_settings, capsys):
    code, _, err = _run(capsys, "ask", "--index", str(first_settings.index), "   ")
    assert code == 1 and "question is empty" in err and len(err.strip().splitlines()) == 1


def test_empty_corpus_is_refused_clearly(tmp_path, capsys):
    settings = make_corpus(tmp_path)
    code, _, err = _run(capsys, "build", "--corpus", str(settings.corpus), "--index", str(settings.index))
    assert code == 1 and "no letters in" in err and len(err.strip().splitlines()) == 1


def test_ask_json_one_record_per_question(first_settings, capsys):
    code, out, _ = _run(capsys, "ask", "--json", "--index", str(first_settings.index),
                        "2023年新认定多少家省制造业创新中心?", "江苏省2023年新认定了多少家制造业创新中心?", "-k", "4")
    assert code == 0
    first, second = [json.loads(line) for line in out.strip().splitlines()]
    assert set(first) == {"question", "answer", "answered", "citations", "hits", "latency_ms"}
    assert first["answered"] and "6家" in first["answer"]
    cite = first["citations"][0]
    assert set(cite) == {"n", "letter_id", "letter_title", "sender", "date", "section", "quote", "text", "score"}
    assert cite["sender"] == "山东省工业和信息化厅" and cite["quote"] in cite["text"]
    assert "(二)加强产业创新平台建设" in cite["section"]
    assert len(first["hits"]) == 4 and set(first["hits"][0]) == {"letter_id", "section", "text", "score"}
    scores = [h["score"] for h in first["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert second["answered"] is False and second["citations"] == [] and second["hits"]


def test_letters_lists_the_indexed_letter(first_settings, capsys):
    code, out, _ = _run(capsys, "letters", "--index", str(first_settings.index))
    assert code == 0 and "山东省工业和信息化厅" in out and "2024-08-25" in out
