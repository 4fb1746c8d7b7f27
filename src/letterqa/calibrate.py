"""`letterqa calibrate FILE`: fit the answerability model on a test set, cross-validated by letter.

Every row is asked once with the model switched off; the features of each decision the model would
make are recorded (rows the genre's rules refuse, or letter-field questions, never reach it). Then,
letter by letter, the model is fitted on the other letters' rows and judged on that letter's rows:
those held-out figures are what to expect on letters nobody tuned on. The final fit uses all rows and
is stored per model fingerprint.
"""
from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

from .checks import CALIBRATION_FILE, FEATURES, Calibration, best_threshold, fit_logistic, save_calibration
from .errors import LetterQAError

log = logging.getLogger(__name__)
MAX_FALSE_REFUSAL = 0.05
ENGLISH_MARGIN = 0.01      # below the lowest answerable English cosine seen, before an English question is refused


@dataclass(frozen=True)
class Decision:
    """One row's answerability decision as the model sees it."""

    group: str                 # the row's letter ("cross" for rows over several)
    answerable: bool
    x: tuple[float, ...] | None   # None: decided before the model (by a rule, or a letter-field answer)
    refused_before: bool       # refused by a rule before the model
    english: bool = False


def collect(engine, rows) -> list[Decision]:
    """Ask every row with the model off and record what it would have weighed."""
    answerer = engine.answerer
    saved, answerer.calibration = answerer.calibration, None
    out = []
    try:
        for row in rows:
            answerer.trace = []
            answer = engine.ask(row.question)
            x, english = (tuple(answerer.trace[-1][0]), answerer.trace[-1][1]) if answerer.trace else (None, False)
            refused_before = not answer.answered and (x is None or answer.reason != "not_relevant")
            out.append(Decision(row.letter or "cross", row.answerable, x, refused_before, english))
    finally:
        answerer.trace, answerer.calibration = None, saved
    return out


def fit(decisions: list[Decision]) -> Calibration:
    """The model from the decisions that reach it: the English shift first, then weights and threshold."""
    used = [d for d in decisions if d.x is not None and not d.refused_before]
    zh = [d for d in used if d.answerable and not d.english]
    en = [d for d in used if d.answerable and d.english]
    shift = statistics.median(d.x[0] for d in zh) - statistics.median(d.x[0] for d in en) if zh and en else 0.0
    typical = (statistics.median(d.x[1] for d in zh), statistics.median(d.x[2] for d in zh)) if zh else (0.5, 0.5)
    floor = min(d.x[0] for d in en) - ENGLISH_MARGIN if en else 0.0
    base = Calibration((), 0.5, english_shift=shift, typical_coverage=typical, english_floor=floor)
    xs = [base.adjust(list(d.x), d.english) for d in used]
    ys = [int(d.answerable) for d in used]
    if len(set(ys)) < 2:
        raise LetterQAError("calibration needs answerable and unanswerable rows that reach the model: "
                            "give a test set with both (rows without gold_quote are unanswerable)")
    weights = fit_logistic(xs, ys)
    cal = replace(base, weights=weights)
    threshold = best_threshold([cal.probability(list(d.x), d.english) for d in used], ys, MAX_FALSE_REFUSAL)
    return replace(cal, threshold=threshold)


def cross_validate(decisions: list[Decision]) -> dict:
    """Leave one letter out: fit on the rest, decide that letter's rows. Refusal figures over all rows,
    and each fold's threshold (`thresholds`)."""
    refused, thresholds = [], []
    for group in sorted({d.group for d in decisions}):
        cal = fit([d for d in decisions if d.group != group])
        thresholds.append(cal.threshold)
        for d in decisions:
            if d.group == group:
                r = d.refused_before or (d.x is not None and not cal.answerable(list(d.x), d.english))
                refused.append((d, r))
    return {**_rates(refused), "thresholds": thresholds}


def in_sample(decisions: list[Decision], cal: Calibration) -> dict:
    return _rates([(d, d.refused_before or (d.x is not None and not cal.answerable(list(d.x), d.english)))
                   for d in decisions])


def _rates(refused) -> dict:
    unans = [r for d, r in refused if not d.answerable]
    ans = [r for d, r in refused if d.answerable]
    return {"refusal_rate": sum(unans) / max(1, len(unans)), "false_refusal_rate": sum(ans) / max(1, len(ans)),
            "unanswerable": len(unans), "answerable": len(ans)}


def distribution(decisions: list[Decision], cal: Calibration) -> str:
    """Text histogram of the model's probability for answerable and unanswerable rows."""
    bins = [0.0, 0.2, 0.4, 0.6, 0.8, 1.01]
    lines = ["P(answerable)   answerable  unanswerable"]
    used = [d for d in decisions if d.x is not None and not d.refused_before]
    for lo, hi in zip(bins, bins[1:]):
        a = sum(1 for d in used if d.answerable and lo <= cal.probability(list(d.x), d.english) < hi)
        u = sum(1 for d in used if not d.answerable and lo <= cal.probability(list(d.x), d.english) < hi)
        lines.append(f"{lo:.1f}-{min(hi, 1.0):.1f}        {'#' * a:<12}{a:>3}  {'#' * u:<12}{u:>3}")
    lines.append(f"threshold {cal.threshold:.3f} (the median of the held-out folds' thresholds)")
    return "\n".join(lines)


def main_calibrate(settings, path, out: Path | None = None, embedder=None) -> str:
    """Fit, cross-validate by letter, store; returns the report to print."""
    from .engine import Engine
    from .evaluate import load_testset

    rows, problems = load_testset(path)
    for problem in problems:
        log.warning("%s: %s", path, problem)
    engine = Engine.open(settings, embedder=embedder)
    decisions = collect(engine, rows)
    cv = cross_validate(decisions)
    # The threshold is the median of the held-out folds' thresholds: one fit's threshold sits on one
    # answerable row's probability and moves with it; the folds' median moves less.
    cal = replace(fit(decisions), threshold=statistics.median(cv["thresholds"]),
                  fingerprint=engine.embedder.fingerprint, source=Path(path).name)
    weights = cal.weights
    target = out or Path(settings.index) / CALIBRATION_FILE
    save_calibration(cal, target)
    fitted = in_sample(decisions, cal)
    weights_text = ", ".join(f"{n}={w:+.2f}" for n, w in zip(FEATURES, weights))
    return "\n".join([
        f"{len(rows)} rows, {sum(d.x is not None and not d.refused_before for d in decisions)} reach the model; "
        f"{sum(d.refused_before for d in decisions)} refused by the genre's rules first",
        f"weights: {weights_text}; English cosine shift {cal.english_shift:+.3f}, floor {cal.english_floor:.3f}",
        distribution(decisions, cal),
        f"held out by letter: refusal rate {cv['refusal_rate']:.1%}, false refusals {cv['false_refusal_rate']:.1%}",
        f"fitted on all rows: refusal rate {fitted['refusal_rate']:.1%}, false refusals "
        f"{fitted['false_refusal_rate']:.1%}",
        f"wrote {target} (model {engine.embedder.fingerprint[:12]})",
    ])
