"""Evaluation: metric arithmetic on a scripted engine with known outcomes, then one real run.

The scripted engine stands in for retrieval only in the arithmetic tests; the end-to-end test and
the quality guard build a real index from corpus/ with the default model and run `main_eval`.
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from letterqa.evaluate import (MODES, EvalRun, load_testset, main_eval, run_eval, summary_table,
                               write_report)
from letterqa.records import Answer, Chunk, Citation, Hit, Letter

ROOT = Path(__file__).resolve().parent.parent
TESTSET = ROOT / "tests" / "data" / "questions.jsonl"

# The regression guard: per mode, metric -> (">=" or "<=", bound). Measured on corpus/ + the shipped
# test set (100 questions) when this was written: hybrid hit@3 0.966, MRR@10 0.871, keywords 0.708,
# citation precision 0.919, refusals 0.091 (1 of 11: the weak spot), false refusals 0.124; dense
# hit@3 0.921; lexical hit@3 0.831. Bounds sit two or three questions below; raise them as quality rises.
# A regression guard: each bound sits two or three questions below what the default settings
# measured on tests/data/questions.jsonl (README, "Evaluation"); a change that loses more fails CI.
QUALITY_TARGETS = {  # the first letter's set: about two questions below what was measured (README, "Evaluation")
    "hybrid": {
        "hit@5": (">=", 0.96),
        "hit@3": (">=", 0.93),
        "mrr@10": (">=", 0.87),
        "keyword_accuracy": (">=", 0.88),
        "citation_precision": (">=", 0.80),
        "refusal_rate": (">=", 0.60),        # measured 81.8% (9 of 11): two questions of slack
        "false_refusal_rate": ("<=", 0.12),  # measured 7.9% (7 of 89): three questions of slack
        "answer_chars_median": ("<=", 100),
    },
    "dense": {"hit@3": (">=", 0.90)},
    "lexical": {"hit@3": (">=", 0.78)},
}

LETTER = Letter("aaaa", "a.txt", "", sender="某厅")
OTHER = Letter("bbbb", "b.txt", "", sender="另一厅")


def chunk(text: str, n: int, letter: Letter = LETTER) -> Chunk:
    return Chunk(n, letter.letter_id, ("一、工作开展情况", f"({n})节"), text, 0, len(text))


class ScriptedEngine:
    """Answers from a script: question -> (passage texts in rank order, answer text, answered)."""

    def __init__(self, script: dict, latency: dict | None = None):
        self.script = script
        self.latency = latency or {}
        self.calls: list[tuple[str, str, int]] = []

    def ask(self, question, k=10, mode="hybrid", sender=None, year=None, letter=None, previous=None) -> Answer:
        self.calls.append((question, mode, k))
        passages, text, answered, *cited = self.script[question]
        chunks = [p if isinstance(p, Chunk) else chunk(p, i) for i, p in enumerate(passages)]
        hits = tuple(Hit(c, 1.0 - i / 100) for i, c in enumerate(chunks[:k]))
        citations = tuple(Citation(n + 1, LETTER, chunks[i], chunks[i].text, 0.9)
                          for n, i in enumerate(cited[0] if cited else ()))
        return Answer(question, text, answered, citations, hits, self.latency.get(question, 10.0),
                      {"aaaa": LETTER, "bbbb": OTHER})


def write_rows(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                              for r in rows) + "\n", encoding="utf-8")
    return path


def row(qid: str, quote, keywords=(), **extra) -> dict:
    return {"id": qid, "question": f"问题{qid}?", "answer_keywords": list(keywords), "gold_quote": quote,
            "letter": "a.txt", "type": extra.pop("type", "number"), "lang": "zh", **extra}


def run_rows(tmp_path: Path, rows: list, script: dict, modes=("hybrid",), **kw) -> EvalRun:
    loaded, problems = load_testset(write_rows(tmp_path / "t.jsonl", rows))
    assert problems == []
    return run_eval(ScriptedEngine(script, **kw), loaded, modes, k=10, progress=False)


NOISE = ["无关段落甲。", "无关段落乙。", "无关段落丙。", "无关段落丁。"]


def test_hit_ranks_and_mrr_follow_where_the_gold_passage_comes_back(tmp_path):
    rows = [row("r1", "新认定6家"), row("r2", "累计达到35家"), row("r3", "通过运行评价81家"), row("r4", "论文10篇")]
    script = {
        "问题r1?": (["2023年新认定6家。"] + NOISE, "x", True),
        "问题r2?": (NOISE[:2] + ["累计达到 35 家。"] + NOISE, "x", True),   # spaces do not matter
        "问题r3?": (NOISE + ["通过运行评价81家。"], "x", True),
        "问题r4?": (NOISE, "x", True),
    }
    m = run_rows(tmp_path, rows, script).results[0].metrics
    assert (m["hit@1"], m["hit@3"], m["hit@5"]) == (0.25, 0.5, 0.75)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 5 + 0) / 4)
    verdicts = run_rows(tmp_path, rows, script).results[0].verdicts
    assert [v.hit_rank for v in verdicts] == [1, 3, 5, None]


def test_evidence_rows_need_every_quote_and_the_right_letter(tmp_path):
    evidence = [{"quote": "新认定6家"}, {"quote": "储备一批"}]
    rows = [row("both", "新认定6家", gold_evidence=evidence), row("half", "新认定6家", gold_evidence=evidence),
            row("foreign", "新认定6家")]
    script = {
        "问题both?": (NOISE[:1] + ["新认定6家。"] + NOISE[1:3] + ["建设一批、储备一批。"], "x", True),
        "问题half?": (["新认定6家。"] + NOISE, "x", True),
        # the same words in another letter's passage are not this row's evidence
        "问题foreign?": ([chunk("新认定6家。", 0, OTHER)] + NOISE[:1] + ["新认定6家。"], "x", True),
    }
    result = run_rows(tmp_path, rows, script).results[0]
    assert [v.hit_rank for v in result.verdicts] == [5, None, 3]
    # the usual hit@1 counts "half": its top passage holds one of the two quotes
    assert [v.any_rank for v in result.verdicts] == [2, 1, 3]
    assert result.metrics["hit@1_any"] == pytest.approx(1 / 3) and result.metrics["hit@1"] == 0


def test_keywords_accept_alternatives_ignore_marks_and_fail_on_refusal(tmp_path):
    rows = [row("alt", "新认定6家", ["6家"], keyword_alternatives={"6家": ["六家"]}),
            row("two", "新认定6家", ["6家", "35家"]),
            row("marks", "1万家", ["1万家"]),
            row("refused", "新认定6家", ["6家"])]
    script = {
        "问题alt?": (["新认定6家"], "2023年新认定六 家。[1]", True),
        "问题two?": (["新认定6家"], "2023年新认定6家。[1]", True),          # 35家 missing
        "问题marks?": (["1万家"], "专精特新中小企业1[1]万家", True),        # a mark inside is layout
        "问题refused?": (["新认定6家"], "没有找到。最接近:新认定6家", False),
    }
    verdicts = run_rows(tmp_path, rows, script).results[0].verdicts
    assert [v.keyword_ok for v in verdicts] == [True, False, True, False]
    assert run_rows(tmp_path, rows, script).results[0].metrics["keyword_accuracy"] == 0.5


def test_refusal_and_false_refusal_rates(tmp_path):
    rows = [row("u1", None, type="unanswerable"), row("u2", None, type="unanswerable"),
            row("u3", None, type="unanswerable"), row("a1", "新认定6家", ["6家"]), row("a2", "新认定6家", ["6家"])]
    script = {"问题u1?": (NOISE, "no", False), "问题u2?": (NOISE, "no", False),
              "问题u3?": (NOISE, "乱答[1]", True),
              "问题a1?": (["新认定6家"], "no", False), "问题a2?": (["新认定6家"], "新认定6家[1]", True)}
    result = run_rows(tmp_path, rows, script).results[0]
    assert result.metrics["refusal_rate"] == pytest.approx(2 / 3)
    assert result.metrics["false_refusal_rate"] == 0.5
    assert result.metrics["keyword_accuracy"] == 0.5     # unanswerable rows are not counted
    assert result.by_type["unanswerable"]["refused"] == pytest.approx(2 / 3)
    assert result.by_type["unanswerable"]["hit@3"] is None


def test_citation_precision_length_and_latency(tmp_path):
    rows = [row("c1", "新认定6家", ["6家"]), row("c2", "累计达到35家", ["35家"]), row("c3", "论文10篇", ["10篇"])]
    script = {
        "问题c1?": (["新认定6家。", "无关。"], "新认定6家。[1]\n无关。[2]", True, [0, 1]),   # 1 of 2
        "问题c2?": (["累计达到35家。"], "累计达到35家。[1]", True, [0]),                     # 1 of 1
        "问题c3?": (["论文10篇。"], "没有找到", False),                                       # no citations
    }
    latency = {"问题c1?": 5.0, "问题c2?": 100.0, "问题c3?": 20.0}
    m = run_rows(tmp_path, rows, script, latency=latency).results[0].metrics
    assert m["citation_precision"] == pytest.approx(0.75)
    # answered rows only, without [n] marks and line breaks: 9 and 8 characters
    assert m["answer_chars_median"] == 8.5
    assert (m["latency_p50_ms"], m["latency_p95_ms"]) == (20.0, 100.0)


def test_malformed_lines_are_reported_by_number_and_the_rest_still_runs(tmp_path):
    lines = [row("ok1", "新认定6家", ["6家"]), "{not json", "", {"id": "noq"}, row("ok1", "x"),
             {"id": "kw", "question": "q?", "answer_keywords": ["6家"], "gold_quote": None},
             row("ok2", None, type="unanswerable")]
    rows, problems = load_testset(write_rows(tmp_path / "t.jsonl", lines))
    assert [r.id for r in rows] == ["ok1", "ok2"]
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 4", "line 5", "line 6"]
    assert "not JSON" in problems[0] and "twice" in problems[2]
    engine = ScriptedEngine({"问题ok1?": (["新认定6家"], "新认定6家[1]", True), "问题ok2?": (NOISE, "no", False)})
    run = run_eval(engine, rows, ("dense", "lexical"), k=7, progress=False)
    assert [r.metrics["questions"] for r in run.results] == [2, 2]
    assert {(mode, k) for _, mode, k in engine.calls} == {("dense", 7), ("lexical", 7)}


def test_report_files_hold_every_row_per_mode(tmp_path):
    rows = [row("good", "新认定6家", ["6家"]), row("bad", "论文10篇", ["10篇"]),
            row("un", None, type="unanswerable")]
    script = {"问题good?": (["新认定6家。"], "新认定6家。[1]", True, [0]),
              "问题bad?": (NOISE, "无关段落甲。[1]", True, [0]), "问题un?": (NOISE, "no", False)}
    run = run_rows(tmp_path, rows, script, modes=("dense", "hybrid"))
    write_report(run, tmp_path / "out")
    results = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text("utf-8").splitlines()]
    assert [(r["id"], r["mode"]) for r in results][:3] == [("good", "dense"), ("bad", "dense"), ("un", "dense")]
    assert len(results) == 6 and {"answer", "citations", "hits", "hit_rank", "keyword_ok"} <= set(results[0])
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text("utf-8"))
    assert set(metrics["modes"]) == {"dense", "hybrid"}
    assert metrics["modes"]["hybrid"]["recall_at_k"][0] == 0.5
    report = (tmp_path / "out" / "report.md").read_text("utf-8")
    assert "**bad**" in report and "**good**" not in report and "| hit@3 |" in report
    assert (tmp_path / "out" / "recall_at_k.png").read_bytes()[:4] == b"\x89PNG"
    table = summary_table(run).splitlines()
    assert table[0].split()[-2:] == ["dense", "hybrid"] and any(line.startswith("hit@1") for line in table)


def test_unknown_mode_is_refused_with_the_valid_names(tmp_path):
    from letterqa.errors import LetterQAError

    with pytest.raises(LetterQAError, match="dense, lexical, hybrid or all"):
        run_eval(ScriptedEngine({}), [], ("bm25",), progress=False)


# ---- the real thing: an index built from corpus/ with the default model ----

@pytest.fixture(scope="module")
def real_run(tmp_path_factory, embedder):
    """One `main_eval --mode all` over the shipped test set, against a freshly built index."""
    from letterqa.build import build_index
    from letterqa.config import Settings

    base = tmp_path_factory.mktemp("real")
    (base / "corpus").mkdir()
    shutil.copy(ROOT / "corpus" / "000_04222e28d1224f39.txt", base / "corpus")  # not letters a chat added
    settings = Settings(corpus=base / "corpus", index=base / "index")
    build_index(settings, embedder=embedder)
    out = base / "eval"
    run = main_eval(settings, TESTSET, out, mode="all", k=10, progress=False, embedder=embedder)
    return run, out


def test_end_to_end_eval_writes_all_four_files_for_all_modes(real_run):
    run, out = real_run
    for name in ("results.jsonl", "metrics.json", "report.md", "recall_at_k.png"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text("utf-8"))
    assert set(metrics["modes"]) == set(MODES)
    assert metrics["problems"] == []
    rows = len(load_testset(TESTSET)[0])
    assert sum(1 for _ in (out / "results.jsonl").open(encoding="utf-8")) == 3 * rows
    for mode in MODES:
        assert 0 < metrics["modes"][mode]["hit@5"] <= 1


def test_quality_guard(real_run):
    """CI fails when a metric drops past its target in QUALITY_TARGETS."""
    _assert_targets(real_run[0], QUALITY_TARGETS)


# The second set: 40 questions over the five test letters and the first letter as one corpus,
# written by someone who had not seen the answers. Bounds two or three questions below what the
# default settings measured (README, "Evaluation").
LETTERS_TARGETS = {
    "hybrid": {
        "hit@5": (">=", 0.92),
        "keyword_accuracy": (">=", 0.78),
        "refusal_rate": (">=", 0.45),
        "false_refusal_rate": ("<=", 0.12),
        "answer_chars_median": ("<=", 100),
    },
}

# The development set: 22 real letters published by ministries, provinces and counties, with 186 questions
# written blind (../shared/devset), asked of one corpus of all of them plus the first letter. Bounds leave
# four to eight questions of slack below what was measured (README, "Evaluation"), so one question more or
# less never flips CI.
DEVSET = ROOT.parent / "shared" / "devset"
DEVSET_TARGETS = {
    "hybrid": {
        "hit@1": (">=", 0.65),
        "hit@1_any": (">=", 0.80),
        "hit@5": (">=", 0.88),
        "keyword_accuracy": (">=", 0.86),
        "refusal_rate": (">=", 0.75),
        "false_refusal_rate": ("<=", 0.09),
        "answer_chars_median": ("<=", 100),
    },
}


@pytest.mark.skipif(not (DEVSET / "qa.jsonl").exists(), reason="the development set is not beside the project")
def test_quality_guard_on_the_development_set(tmp_path, embedder):
    import shutil

    from letterqa.build import build_index
    from letterqa.config import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for letter in [*(DEVSET / "letters").glob("*.txt"), ROOT / "corpus" / "000_04222e28d1224f39.txt"]:
        shutil.copy(letter, corpus / letter.name)
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, embedder=embedder)
    run = main_eval(settings, DEVSET / "qa.jsonl", tmp_path / "eval", mode="hybrid", k=10, progress=False,
                    embedder=embedder)
    _assert_targets(run, DEVSET_TARGETS)


def test_quality_guard_on_several_letters(tmp_path, embedder):
    import shutil

    from letterqa.build import build_index
    from letterqa.config import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    letters = ROOT / "tests" / "data" / "letters"
    for name in ["01_zj_education_2023.html", "02_cd_environment_2022.docx", "03_ha_agriculture_2021_gb18030.txt",
                 "04_sc_health_2024.pdf", "05_gd_transport_2023.md"]:
        shutil.copy(letters / name, corpus / name)
    shutil.copy(ROOT / "corpus" / "000_04222e28d1224f39.txt", corpus)
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, embedder=embedder)
    run = main_eval(settings, ROOT / "tests" / "data" / "questions_letters.jsonl", tmp_path / "eval",
                    mode="hybrid", k=10, progress=False, embedder=embedder)
    _assert_targets(run, LETTERS_TARGETS)


def _assert_targets(run, targets_by_mode: dict) -> None:
    misses = []
    for mode, targets in targets_by_mode.items():
        metrics = run.result(mode).metrics
        for name, (op, bound) in targets.items():
            value = metrics[name]
            ok = value is not None and not math.isnan(value) and (value >= bound if op == ">=" else value <= bound)
            if not ok:
                misses.append(f"{mode} {name} = {value} (target {op} {bound})")
    assert not misses, "quality dropped:\n" + "\n".join(misses) + "\n\n" + summary_table(run)
