"""`letterqa calibrate`: the answerability model fitted on a test set, cross-validated by letter."""
import json
from pathlib import Path

import pytest

from letterqa.calibrate import Decision, cross_validate, fit, in_sample, main_calibrate
from letterqa.checks import CALIBRATION_FILE, FEATURES

ROOT = Path(__file__).resolve().parent.parent


def _decisions():
    """Three letters: answerable rows score a high cosine, near-misses a low one, with some overlap."""
    out = []
    for g, shift in (("a.txt", 0.0), ("b.txt", 0.01), ("c.txt", -0.01)):
        for i in range(10):
            out.append(Decision(g, True, (0.88 + 0.005 * i + shift, 0.6, 0.6, 1.0), False))
        for i in range(4):
            out.append(Decision(g, False, (0.83 + 0.01 * i + shift, 0.3, 0.0, 1.0), False))
        out.append(Decision(g, False, None, True))  # refused by a rule before the model
    return out


def test_cross_validation_fits_without_each_letter_and_reports_its_thresholds():
    decisions = _decisions()
    cv = cross_validate(decisions)
    assert len(cv["thresholds"]) == 3 and cv["answerable"] == 30 and cv["unanswerable"] == 15
    # the rule's refusals count; the model refuses most near-misses and few answerable rows
    assert cv["refusal_rate"] >= 0.6 and cv["false_refusal_rate"] <= 0.1
    cal = fit(decisions)
    assert cal.weights[0] > 0  # a higher cosine is more answerable
    assert in_sample(decisions, cal)["refusal_rate"] >= 0.6


def test_fit_needs_both_kinds_of_rows():
    from letterqa.errors import LetterQAError

    with pytest.raises(LetterQAError, match="answerable and unanswerable"):
        fit([d for d in _decisions() if d.answerable])


def test_the_calibrate_command_writes_a_fit_the_engine_loads(tmp_path, embedder):
    import shutil

    from letterqa.build import build_index
    from letterqa.config import Settings
    from letterqa.engine import Engine

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ["01_zj_education_2023.html", "03_ha_agriculture_2021_gb18030.txt", "05_gd_transport_2023.md"]:
        shutil.copy(ROOT / "tests" / "data" / "letters" / name, corpus / name)
    shutil.copy(ROOT / "corpus" / "000_04222e28d1224f39.txt", corpus)
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, embedder=embedder)

    report = main_calibrate(settings, ROOT / "tests" / "data" / "questions_letters.jsonl", embedder=embedder)
    assert "held out by letter: refusal rate" in report and "P(answerable)" in report
    written = tmp_path / "index" / CALIBRATION_FILE  # without --out: the index folder's own
    entry = json.loads(written.read_text(encoding="utf-8"))[embedder.fingerprint]
    assert entry["features"] == list(FEATURES) and 0 < entry["threshold"] < 1
    assert f"threshold {entry['threshold']:.3f}" in report
    # the engine on that index answers with this fit, not the shipped one
    engine = Engine.open(settings, embedder=embedder)
    assert engine.answerer.calibration.threshold == pytest.approx(entry["threshold"], abs=1e-4)
    assert engine.answerer.calibration.source == "questions_letters.jsonl"
