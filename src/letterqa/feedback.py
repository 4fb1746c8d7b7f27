"""👍/👎 on answers, kept as JSONL under the index folder, and exported as test-set rows for `letterqa eval`.

Export rule (a row is only written when the user's verdict pins down what the right answer is):
- 👍 on an answer: answerable row; gold_quote = the first citation's quote, gold_section its section path.
- 👍 on a refusal: the user agrees the letters do not say: unanswerable row (gold_quote null).
- 👎 with a correct passage chosen: answerable row with that passage's text as gold_quote.
- 👎 with "答复函里没有这个答案" chosen: unanswerable row.
- 👎 with neither: not exported (we know the answer is wrong, not what is right); counted as skipped.
A later vote on the same question and answer replaces the earlier one.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import LetterQAError

FILE_NAME = "feedback.jsonl"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Feedback:
    """One vote on one answer, with what the user said is right."""

    question: str
    answer: str
    answered: bool
    vote: str                                  # "up" | "down"
    reason: str = ""
    cited: tuple[dict, ...] = ()               # {"source", "section", "quote"} of each citation
    correct: dict | None = None                # {"source", "section", "text"} the user chose
    no_answer: bool = False                    # the user said the letters hold no answer
    time: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))


def feedback_path(index_dir) -> Path:
    return Path(index_dir) / FILE_NAME


def record(index_dir, fb: Feedback) -> Path:
    """Append one vote; a line per vote, so concurrent sessions never interleave halves."""
    if fb.vote not in ("up", "down"):
        raise LetterQAError(f"a vote is 'up' or 'down', not {fb.vote!r}")
    path = feedback_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(fb), ensure_ascii=False) + "\n"
    with _LOCK, open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
    return path


def load(index_dir) -> list[Feedback]:
    """Every stored vote; a damaged line is skipped rather than losing the rest."""
    path = feedback_path(index_dir)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
            obj["cited"] = tuple(obj.get("cited") or ())
            out.append(Feedback(**obj))
        except (json.JSONDecodeError, TypeError):
            continue
    return out


def test_row(fb: Feedback, n: int) -> dict | None:
    """The vote as a row `letterqa eval` reads, or None when it does not say what is right."""
    base = {"id": f"feedback-{n:04d}", "question": fb.question, "type": "feedback"}
    if fb.vote == "up" and fb.answered and fb.cited:
        first = fb.cited[0]
        return {**base, "gold_quote": first["quote"], "gold_section": first["section"], "letter": first["source"]}
    if (fb.vote == "up" and not fb.answered) or (fb.vote == "down" and fb.no_answer):
        return {**base, "gold_quote": None}
    if fb.vote == "down" and fb.correct:
        return {**base, "gold_quote": fb.correct["text"], "gold_section": fb.correct["section"],
                "letter": fb.correct["source"]}
    return None


def export(index_dir, out_file) -> tuple[int, int]:
    """Write the exportable votes as a JSONL test set. Returns (rows written, votes skipped)."""
    latest = {(f.question, f.answer): f for f in load(index_dir)}  # a changed vote replaces the earlier one
    rows, skipped = [], 0
    for fb in latest.values():
        row = test_row(fb, len(rows) + 1)
        if row is None:
            skipped += 1
        else:
            rows.append(row)
    Path(out_file).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(rows), skipped
