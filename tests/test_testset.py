"""The shipped test set is sound: every quote is really in its letter, in the section it names,
and the set covers the letter's sections, English questions and unanswerable ones."""
from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from letterqa.evaluate import load_testset
from letterqa.read import read_letter
from letterqa.sections import split_sections

ROOT = Path(__file__).resolve().parent.parent
TESTSET = ROOT / "tests" / "data" / "questions.jsonl"
RECORDS = [json.loads(line) for line in TESTSET.read_text("utf-8").splitlines() if line.strip()]


@lru_cache(maxsize=None)
def letter(name: str):
    return read_letter(ROOT / "corpus" / name)


def quotes(record: dict) -> list[tuple[str, str]]:
    """(section, quote) pairs of a record: its gold quote and every evidence quote."""
    pairs = [(record["gold_section"], record["gold_quote"])] if record.get("gold_quote") else []
    return pairs + [(e["section"], e["quote"]) for e in record.get("gold_evidence", [])]


def test_the_file_loads_without_problems():
    rows, problems = load_testset(TESTSET)
    assert problems == []
    assert len(rows) == len(RECORDS)


@pytest.mark.parametrize("record", RECORDS, ids=[r["id"] for r in RECORDS])
def test_every_quote_is_an_exact_substring_of_the_cleaned_letter(record):
    text = letter(record["letter"]).text
    for _, quote in quotes(record):
        assert quote in text, f"{record['id']}: {quote!r} is not in {record['letter']}"


def test_every_quote_sits_in_a_chunk_of_the_section_it_names():
    misplaced = []
    for record in RECORDS:
        chunks = split_sections(letter(record["letter"]))
        for section, quote in quotes(record):
            if not any(c.section == section and quote in c.text for c in chunks):
                misplaced.append(f"{record['id']}: {quote!r} not under {section!r}")
    assert not misplaced, "\n".join(misplaced)


def test_size_languages_unanswerable_and_ids():
    ids = [r["id"] for r in RECORDS]
    assert len(RECORDS) >= 60
    assert sum(r["lang"] == "en" for r in RECORDS) >= 10
    unanswerable = [r for r in RECORDS if r.get("gold_quote") is None and not r.get("gold_evidence")]
    assert len(unanswerable) >= 6
    assert all(r["answer_keywords"] == [] and r["type"] == "unanswerable" for r in unanswerable)
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_answerable_rows_have_keywords_the_letter_states():
    for record in RECORDS:
        if not quotes(record):
            continue
        text = re.sub(r"\s+", "", letter(record["letter"]).text)
        assert record["answer_keywords"], record["id"]
        for word in record["answer_keywords"]:
            options = [word, *record.get("keyword_alternatives", {}).get(word, [])]
            assert any(re.sub(r"\s+", "", o) in text for o in options), f"{record['id']}: {word}"


@pytest.mark.parametrize("top, subsections", [("一、", "一二三四五六"), ("二、", "一二三四五")])
def test_every_subsection_is_asked_about(top, subsections):
    paths = [section.split(" > ") for r in RECORDS for section, _ in quotes(r)]
    for numeral in subsections:
        marker = f"({numeral})"
        assert any(len(p) > 1 and p[0].startswith(top) and p[1].startswith(marker) for p in paths), \
            f"no question on {top} {marker}"
