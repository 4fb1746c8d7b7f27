"""Evaluation: run a test set through the question path the chat uses, and score it per mode.

A test row names the quote that proves its answer (several quotes when it needs two sections)
and the short facts a right answer states; a row the letters cannot answer names neither.
Retrieval is judged by whether a passage holding the quote comes back, the answer by whether
it states the facts, and refusals by whether exactly the unanswerable rows are refused.
"""
from __future__ import annotations

import json
import logging
import math
import re
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

from .answer import strip_marks
from .errors import LetterQAError
from .records import Answer
from .report import summary_table, write_report
from .search import MODES

log = logging.getLogger(__name__)

CUTOFFS = (1, 3, 5)
MRR_DEPTH = 10
CURVE_DEPTH = 10
_SPACE = re.compile(r"\s+")

__all__ = ["MODES", "TestRow", "Verdict", "ModeResult", "EvalRun", "load_testset", "run_eval",
           "write_report", "summary_table", "main_eval"]


def squash(text: str) -> str:
    """Text without whitespace, case-folded: letters wrap lines and space out numbers at will."""
    return _SPACE.sub("", text or "").casefold()


@dataclass(frozen=True)
class TestRow:
    """One question and what a right answer must show."""

    __test__ = False                          # not a pytest test class, despite the name

    id: str
    question: str
    keywords: tuple[tuple[str, ...], ...] = ()  # per fact: the keyword, then its accepted alternatives
    quote: str | None = None                  # the span that proves the answer; None = unanswerable
    evidence: tuple[str, ...] = ()            # quotes that are all needed (two-section questions)
    section: str = ""
    letter: str = ""
    type: str = ""
    lang: str = ""
    letters: tuple[str, ...] = ()             # every letter the row is about (several for cross-letter rows)

    @property
    def answerable(self) -> bool:
        """Whether the letters hold the answer (the row names a quote)."""
        return bool(self.quote or self.evidence)

    @property
    def needed(self) -> tuple[str, ...]:
        """The quotes retrieval must bring back for a hit."""
        return self.evidence or ((self.quote,) if self.quote else ())

    @property
    def proofs(self) -> tuple[str, ...]:
        """Any quote whose passage supports the answer (for citation precision)."""
        return tuple(q for q in {*self.needed, self.quote} if q)


def load_testset(path) -> tuple[list[TestRow], list[str]]:
    """Read a JSONL test set. A bad line becomes a problem naming its line number; the rest load."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LetterQAError(f"cannot read the test set {path} ({exc}): give a UTF-8 JSONL file, "
                            "one question per line") from exc
    rows, problems, seen = [], [], set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = parse_row(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON: {exc.msg} (column {exc.colno})")
            continue
        except ValueError as exc:
            problems.append(f"line {n}: {exc}")
            continue
        if row.id in seen:
            problems.append(f"line {n}: id {row.id} is used twice; kept the first")
            continue
        seen.add(row.id)
        rows.append(row)
    return rows, problems


def parse_row(obj) -> TestRow:
    """One JSON object as a TestRow; ValueError says what is missing or malformed."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    qid, question = obj.get("id"), obj.get("question")
    if not isinstance(qid, str) or not qid.strip():
        raise ValueError('no "id"')
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f'{qid}: no "question"')
    quote, evidence = _text_or_none(obj, "gold_quote", qid), _evidence(obj, qid)
    keywords = _keywords(obj, qid)
    if keywords and not (quote or evidence):
        raise ValueError(f"{qid}: answer_keywords but no gold_quote; an unanswerable row has neither")
    letter = obj.get("letter") or ""
    letters = tuple(str(x) for x in letter) if isinstance(letter, list) else ((str(letter),) if letter else ())
    return TestRow(qid, question.strip(), keywords, quote, evidence, str(obj.get("gold_section") or ""),
                   letters[0] if len(letters) == 1 else "", str(obj.get("type") or ""), str(obj.get("lang") or ""),
                   letters)


def _text_or_none(obj: dict, key: str, qid: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not squash(value):
        raise ValueError(f"{qid}: {key} must be a non-empty string or null")
    return value


def _evidence(obj: dict, qid: str) -> tuple[str, ...]:
    items = obj.get("gold_evidence") or []
    if not isinstance(items, list) or not all(isinstance(e, dict) and _text_or_none(e, "quote", qid)
                                              for e in items):
        raise ValueError(f'{qid}: gold_evidence must be a list of {{"quote": "…"}} objects')
    return tuple(e["quote"] for e in items)


def _keywords(obj: dict, qid: str) -> tuple[tuple[str, ...], ...]:
    words = obj.get("answer_keywords") or []
    alternatives = obj.get("keyword_alternatives") or {}
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        raise ValueError(f"{qid}: answer_keywords must be a list of strings")
    if not isinstance(alternatives, dict) or not all(isinstance(v, list) for v in alternatives.values()):
        raise ValueError(f"{qid}: keyword_alternatives must map a keyword to a list of strings")
    return tuple((w, *map(str, alternatives.get(w, ()))) for w in words)


@dataclass(frozen=True)
class Verdict:
    """How one answer did against its row."""

    row: TestRow
    mode: str
    answer: Answer
    hit_rank: int | None            # rank by which every needed quote had come back; None = never
    keyword_ok: bool | None         # None when the row has no keywords to check
    refused: bool
    citation_precision: float | None  # None when unanswerable or nothing was cited
    any_rank: int | None = None     # rank of the first passage that holds one of the needed quotes


def judge(row: TestRow, answer: Answer, mode: str) -> Verdict:
    """Compare one answer with what its row expects."""
    refused = not answer.answered
    ranks = [_first_rank(quote, row, answer) for quote in row.needed]  # none for an unanswerable row
    return Verdict(row, mode, answer, hit_rank(ranks), keyword_ok(row, answer, refused),
                   refused, citation_precision(row, answer), any_rank(ranks))


def hit_rank(ranks: list[int | None]) -> int | None:
    """The 1-based rank by which every needed quote appeared in a retrieved passage (from each quote's rank)."""
    return None if not ranks or None in ranks else max(ranks)


def any_rank(ranks: list[int | None]) -> int | None:
    """The 1-based rank of the first passage that holds one of the needed quotes (the usual hit@k's rank)."""
    return min((r for r in ranks if r is not None), default=None)


def _first_rank(quote: str, row: TestRow, answer: Answer) -> int | None:
    wanted = squash(quote)
    return next((rank for rank, hit in enumerate(answer.hits, 1)
                 if wanted in squash(hit.chunk.text) and _from_letter(hit.chunk.letter_id, row, answer)), None)


def _from_letter(letter_id: str, row: TestRow, answer: Answer) -> bool:
    """Whether a passage is from the row's letter: dates and sign-offs recur across letters."""
    letter = answer.letters.get(letter_id)
    return not row.letter or letter is None or Path(letter.source).name == Path(row.letter).name


def keyword_ok(row: TestRow, answer: Answer, refused: bool) -> bool | None:
    """Every keyword, or one of its alternatives, is in the answer; a refusal states none."""
    if not row.answerable or not row.keywords:
        return None
    if refused:
        return False
    text = squash(strip_marks(answer.text))
    return all(any(squash(option) in text for option in options) for options in row.keywords)


def citation_precision(row: TestRow, answer: Answer) -> float | None:
    """The share of the answer's citations whose passage holds one of the row's quotes."""
    if not row.answerable or not answer.citations:
        return None
    proofs = [squash(q) for q in row.proofs]
    good = sum(any(p in squash(c.chunk.text) for p in proofs) for c in answer.citations)
    return good / len(answer.citations)


@dataclass(frozen=True)
class ModeResult:
    """One retrieval mode's verdicts and the numbers drawn from them."""

    mode: str
    verdicts: tuple[Verdict, ...]
    metrics: dict
    by_type: dict
    recall_at_k: tuple[float | None, ...]   # hit@1 … hit@CURVE_DEPTH


@dataclass(frozen=True)
class EvalRun:
    """A whole evaluation: every mode asked, plus the test-set lines that could not be used."""

    k: int
    results: tuple[ModeResult, ...]
    problems: tuple[str, ...] = ()
    testset: str = ""

    def result(self, mode: str) -> ModeResult:
        """The result of one mode."""
        return next(r for r in self.results if r.mode == mode)


def mean(values) -> float | None:
    """The average, or None when there is nothing to average (shown as — in reports)."""
    values = list(values)
    return sum(values) / len(values) if values else None


def percentile(values, p: float) -> float | None:
    """Nearest-rank percentile: an actual observed latency, not an interpolation."""
    values = sorted(values)
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)] if values else None


def hit_at(verdicts, cutoff: int) -> float | None:
    """Share of answerable rows whose quotes were all retrieved within the top `cutoff`."""
    return mean(v.hit_rank is not None and v.hit_rank <= cutoff for v in verdicts if v.row.answerable)


def score_mode(verdicts) -> dict:
    """The headline numbers for one mode."""
    answerable = [v for v in verdicts if v.row.answerable]
    metrics = {"questions": len(verdicts), "answerable": len(answerable),
               "unanswerable": len(verdicts) - len(answerable)}
    metrics.update({f"hit@{c}": hit_at(answerable, c) for c in CUTOFFS})
    # A question whose answer spans two passages (the salutation and the sign-off) cannot be hit at 1:
    # hit@1 over the questions one passage answers says how often the first passage is the right one.
    metrics["hit@1_one_passage"] = hit_at([v for v in answerable if len(set(v.row.needed)) == 1], 1)
    metrics["one_passage"] = sum(len(set(v.row.needed)) == 1 for v in answerable)
    # the usual definition of hit@1: the first passage holds a needed quote, the other passages may come later
    metrics["hit@1_any"] = mean(v.any_rank == 1 for v in answerable)
    metrics["mrr@10"] = mean(1 / v.hit_rank if v.hit_rank and v.hit_rank <= MRR_DEPTH else 0.0
                             for v in answerable)
    metrics["keyword_accuracy"] = mean(v.keyword_ok for v in answerable if v.keyword_ok is not None)
    metrics["citation_precision"] = mean(v.citation_precision for v in answerable
                                         if v.citation_precision is not None)
    metrics["refusal_rate"] = mean(v.refused for v in verdicts if not v.row.answerable)
    metrics["false_refusal_rate"] = mean(v.refused for v in answerable)
    metrics.update(_size_and_speed(verdicts))
    return metrics


def _size_and_speed(verdicts) -> dict:
    # Marks and line breaks are layout, not content: count what a reader reads.
    lengths = [len(squash(strip_marks(v.answer.text))) for v in verdicts if not v.refused]
    latencies = [v.answer.latency_ms for v in verdicts]
    return {"answer_chars_median": statistics.median(lengths) if lengths else None,
            "latency_p50_ms": percentile(latencies, 50), "latency_p95_ms": percentile(latencies, 95)}


def score_by_type(verdicts) -> dict:
    """Per question type and per language (`language zh`, `language en`): count, hit@3, keywords, share refused."""
    groups: dict[str, list[Verdict]] = {}
    for v in verdicts:
        groups.setdefault(v.row.type or "-", []).append(v)
    for v in verdicts:
        if v.row.lang:
            groups.setdefault(f"language {v.row.lang}", []).append(v)
    return {kind: {"count": len(group), "hit@3": hit_at(group, 3),
                   "keyword_accuracy": mean(v.keyword_ok for v in group if v.keyword_ok is not None),
                   "refused": mean(v.refused for v in group)}
            for kind, group in sorted(groups.items())}


def check_modes(modes) -> tuple[str, ...]:
    """The modes, validated; an unknown one is an error that lists the valid names."""
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise LetterQAError(f"unknown mode {', '.join(bad) or '(none)'}: use dense, lexical, hybrid or all")
    return tuple(modes)


def run_eval(engine, rows, modes=("hybrid",), k: int = 10, progress: bool = True, **scope) -> EvalRun:
    """Ask every row in every mode through engine.ask, as the chat does, and score the answers.

    `scope` (sender=…, year=…) limits every question to some letters, as `ask` and the chat can.
    """
    modes = check_modes(modes)
    if rows:
        # Untimed: the first question pays for lazy loading (jieba's dictionary), not for search.
        engine.ask(rows[0].question, k=k, mode=modes[0], sender=scope.get("sender"), year=scope.get("year"))
    return EvalRun(k, tuple(_run_mode(engine, rows, mode, k, progress, dict(scope)) for mode in modes))


def _run_mode(engine, rows, mode: str, k: int, progress: bool, scope: dict) -> ModeResult:
    per_letter = scope.pop("scope", "all") == "letter"
    verdicts = tuple(judge(row, engine.ask(row.question, k=k, mode=mode, **scope,
                                           letter=row.letter if per_letter and row.letter else None), mode)
                     for row in tqdm(rows, desc=f"eval {mode}", unit="q", disable=not progress))
    curve = tuple(hit_at(verdicts, c) for c in range(1, CURVE_DEPTH + 1))
    return ModeResult(mode, verdicts, score_mode(verdicts), score_by_type(verdicts), curve)


def unindexed_letters(rows, engine) -> list[str]:
    """Problems for rows whose letter is not in the index: they would all fail, silently."""
    indexed = {Path(letter.source).name for letter in engine.stored.letters.values()}
    missing = sorted({name for r in rows for name in r.letters if Path(name).name not in indexed})
    return [f"letter {name} is not in the index; its questions cannot be answered" for name in missing]


def main_eval(settings, path, out_dir, mode: str = "hybrid", k: int = 10, progress: bool = True,
              embedder=None, sender: str | None = None, year: int | str | None = None, scope: str = "all") -> EvalRun:
    """`letterqa eval FILE`: load the test set, ask it in one mode or all, write the report."""
    from .engine import Engine  # loads the model: only when an evaluation really runs

    modes = check_modes(MODES if mode == "all" else (mode,))
    rows, problems = load_testset(path)
    if not rows:
        raise LetterQAError(f"no usable questions in {path}: "
                            + ("; ".join(problems[:3]) or "the file is empty"))
    engine = Engine.open(settings, embedder=embedder)
    problems += unindexed_letters(rows, engine)
    for problem in problems:
        log.warning("%s: %s", path, problem)
    run = run_eval(engine, rows, modes, k, progress, sender=sender, year=year, scope=scope)
    run = replace(run, problems=tuple(problems), testset=str(path))
    write_report(run, Path(out_dir))
    log.info("evaluation written to %s", out_dir)
    return run
