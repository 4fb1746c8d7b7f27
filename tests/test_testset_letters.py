"""The test set over the five test letters (plus the first corpus letter) is sound: every quote is
really in its letter as read_letter renders it, ids are unique, and the set has enough English and
unanswerable questions."""
from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from letterqa.evaluate import load_testset
from letterqa.read import read_letter

ROOT = Path(__file__).resolve().parent.parent
TESTSET = ROOT / "tests" / "data" / "questions_letters.jsonl"
LETTER_DIRS = (ROOT / "tests" / "data" / "letters", ROOT / "corpus")
RECORDS = [json.loads(line) for line in TESTSET.read_text("utf-8").splitlines() if line.strip()]


def path_of(name: str) -> Path:
    found = [d / name for d in LETTER_DIRS if (d / name).is_file()]
    assert found, f"no letter file {name} in {[str(d) for d in LETTER_DIRS]}"
    return found[0]


@lru_cache(maxsize=None)
def letter_text(name: str) -> str:
    return read_letter(path_of(name)).text


def quotes(record: dict) -> list[tuple[str, str]]:
    """(letter, quote) pairs of a record: its gold quote and every evidence quote."""
    pairs = [(record["letter"], record["gold_quote"])] if record.get("gold_quote") else []
    return pairs + [(e.get("letter", record["letter"]), e["quote"]) for e in record.get("gold_evidence", [])]


def test_the_file_loads_without_problems():
    rows, problems = load_testset(TESTSET)
    assert problems == []
    assert len(rows) == len(RECORDS)


@pytest.mark.parametrize("record", RECORDS, ids=[r["id"] for r in RECORDS])
def test_every_quote_is_an_exact_substring_of_its_letter(record):
    for name, quote in quotes(record):
        assert quote in letter_text(name), f"{record['id']}: {quote!r} is not in {name}"


def test_size_languages_unanswerable_and_ids():
    ids = [r["id"] for r in RECORDS]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert len(RECORDS) >= 40
    assert sum(r["lang"] == "en" for r in RECORDS) >= 8
    unanswerable = [r for r in RECORDS if r.get("gold_quote") is None and not r.get("gold_evidence")]
    assert len(unanswerable) >= 6
    assert all(r["answer_keywords"] == [] and r["type"] == "unanswerable" for r in unanswerable)
    multi = [r for r in RECORDS if r["type"] == "multi"]
    assert len(multi) >= 2 and all(len(r["gold_evidence"]) >= 2 for r in multi)


def test_every_letter_exists_and_each_test_letter_is_asked_about():
    names = Counter(r["letter"] for r in RECORDS)
    for name in names:
        path_of(name)
    for name in ("01_zj_education_2023.html", "02_cd_environment_2022.docx",
                 "03_ha_agriculture_2021_gb18030.txt", "04_sc_health_2024.pdf", "05_gd_transport_2023.md"):
        assert names[name] >= 6, f"only {names[name]} questions on {name}"


def test_answerable_rows_have_keywords_the_letter_states():
    for record in RECORDS:
        if not quotes(record):
            continue
        text = "".join(re.sub(r"\s+", "", letter_text(name)) for name in {n for n, _ in quotes(record)})
        assert record["answer_keywords"], record["id"]
        for word in record["answer_keywords"]:
            options = [word, *record.get("keyword_alternatives", {}).get(word, [])]
            assert any(re.sub(r"\s+", "", o) in text for o in options), f"{record['id']}: {word}"
