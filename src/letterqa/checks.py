"""Answerability: named checks, each returning a typed Refusal or None, and the calibrated score.

A check is a rule of the genre (a year the cited passage never states is not answered by it), never a
rule for one question. The last check is measured: a logistic model over features of the best
sentence, fitted on a test set with cross-validation by letter (`letterqa calibrate`), stored per
model fingerprint.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .genre import is_acknowledgement, is_boilerplate

_MONEY = re.compile(r"\d[\d.,]*\s*[万亿]?元")
_NUMBER = re.compile(r"\d|[一二三四五六七八九十两百千万亿半]+[家个项件名所条倍成期批篇次人座台辆亩吨元户栋套处份]")
# Years, dates and document numbers are numbers but never the amount a question asks for.
_NOT_AMOUNT = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|(?:19|20)\d{2}\s*[年—\-–~～至]|\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"
                         r"|〔\d{4}〕\d+号|第\s*\d+\s*号"
                         r"|(?<![A-Za-z0-9.])\d+(?:\.\d+)?[A-Za-z]+(?![A-Za-z0-9])"  # codes: 6G, PM2.5, H7N9
                         r"|(?<![A-Za-z0-9])[A-Za-z]+\d+(?:\.\d+)?[A-Za-z0-9]*")
_PLAN_SECTION = re.compile(r"下步|下一步|今后|打算|下阶段|计划")
_DONE_SENTENCE = re.compile(r"截至|截止|已经|累计|已(完成|建成|实施|开展|投入|下达|落实|印发|出台|启动)")  # …5289套，拟申报…
_PLAN_SENTENCE = re.compile(r"力争|拟|将于|计划于|将进一步|将继续|下一步|到(19|20)\d{2}年")

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Refusal:
    """Why the letters do not answer: a kind, and what was missing (a year, a place…)."""

    kind: str   # not_a_question | unstated | no_amount | kind_not_shown | planned | not_relevant | ambiguous | nothing
    #             | no_field
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """What the checks look at: the chosen sentences with their sections and letters."""

    sentences: tuple[str, ...]      # the chosen sentences
    sections: tuple[str, ...]       # their section paths
    letters: tuple[str, ...]        # their letters' whole text
    dense: float                    # cosine of the best sentence
    coverage: float                 # IDF-weighted share of the question's words in the best sentence
    frames: tuple[str, ...] = ()    # their letters' titles, page titles and dates: the frame a year may stand in
    rare_coverage: float = 0.0      # share of the question's three rarest words that the chosen sentences hold


def states_amount(text: str, unit: str = "") -> bool:
    """True when the text states an amount (in `unit` when one is asked); years, dates and 文号 do not count."""
    plain = _NOT_AMOUNT.sub("", text)
    if not _NUMBER.search(plain):
        return False
    return not unit or unit in plain or (unit.endswith("元") and "元" in plain)


def unstated(query, ev: Evidence) -> Refusal | None:
    """Specifics the question names that the evidence never states.

    Years and amounts of money must be in the cited sentences or their section paths; a place,
    person, organisation, code or quoted name anywhere in the cited letters (全省 there, 山东省 here).
    """
    near = "\n".join(ev.sentences + ev.sections + ev.frames)
    whole = re.sub(r"\s+", "", "\n".join(ev.letters))
    missing = sorted(y for y in query.years if y not in near)
    if not (query.cross and query.named):  # places that named the letters compared served to route, not to ask
        missing += [w for w in query.names if not _abbreviates(w, whole)]
    missing += [c for c in query.codes if c.lower() not in whole.lower()]
    missing += [f"“{q}”" for q in query.quoted if re.sub(r"\s+", "", q) not in whole]
    if query.money and query.quantity and not _MONEY.search(near):
        missing.append("money")
    return Refusal("unstated", tuple(missing)) if missing else None


def _abbreviates(name: str, text: str) -> bool:
    """True when the text states the name, or a full form it abbreviates (文旅局 in 文化和旅游局, 城管局 in 城市管理局)."""
    if name in text:
        return True
    pattern = ".{0,4}".join(map(re.escape, name))
    return bool(re.search(pattern, text))


def no_amount(query, ev: Evidence) -> Refusal | None:
    """A how-many question whose chosen sentences state no amount in the asked unit."""
    if query.quantity and not any(states_amount(s, query.unit) for s in ev.sentences):
        return Refusal("no_amount", (query.unit,) if query.unit else ())
    return None


def planned_not_done(query, ev: Evidence) -> Refusal | None:
    """A question about what was done, answered only by plans (下一步…, 力争到2025年…)."""
    if not query.done or not ev.sentences:
        return None
    plans = [is_plan(s, sec) for s, sec in zip(ev.sentences, ev.sections)]
    return Refusal("planned") if all(plans) else None


def is_plan(sentence: str, section: str = "") -> bool:
    """A sentence of what will be done (下一步…, 力争到2025年…) rather than what was; one that states both is not."""
    return bool(_PLAN_SECTION.search(section) or (_PLAN_SENTENCE.search(sentence) and not _DONE_SENTENCE.search(sentence)))


def boilerplate_only(query, ev: Evidence) -> Refusal | None:
    """Only the genre's formulas (感谢…支持, 现答复如下) came back: they answer nothing."""
    formula = [is_boilerplate(s) and not (query.about_proposal and is_acknowledgement(s)) for s in ev.sentences]
    return Refusal("not_relevant") if ev.sentences and all(formula) else None


def kind_not_shown(query, ev: Evidence) -> Refusal | None:
    """A which/when question whose answer shows no thing of the kind asked (哪一年 → no year, 哪所大学 → no 大学)."""
    for pattern in query.must_show:
        if not any(pattern.search(s) for s in ev.sentences):
            return Refusal("kind_not_shown")
    return None


def shares_no_word(query, ev: Evidence) -> Refusal | None:
    """The best sentence holds none of the question's words (for English: in none of their Chinese
    translations). Meaning alone is no evidence: an off-topic English question ("How do I bake bread?")
    is as close to a letter's sentence by cosine as an answerable one."""
    return Refusal("not_relevant") if ev.sentences and ev.coverage <= 0.0 else None


RULES = (unstated, no_amount, kind_not_shown, planned_not_done, boilerplate_only, shares_no_word)


# ---------------------------------------------------------------- the calibrated score

FEATURES = ("dense", "coverage", "rare_coverage", "bias")


def features(query, ev: Evidence) -> list[float]:
    """The numbers the answerability model weighs (see FEATURES), as the question's language gives them."""
    return [ev.dense, ev.coverage, ev.rare_coverage, 1.0]


@dataclass(frozen=True)
class Calibration:
    """Weights and threshold of the answerability model, for one embedding model.

    English questions meet Chinese letters in a lower cosine band, and share no words with them. Rather
    than learn a separate English boundary (a test set rarely has English questions the letters cannot
    answer), an English question's cosine is shifted by the measured gap between the answerable English
    and Chinese rows, and its word coverage is taken as typical for an answerable Chinese question.
    """

    weights: tuple[float, ...]
    threshold: float
    fingerprint: str = ""
    source: str = ""            # the test set it was fitted on
    english_shift: float = 0.0  # median cosine of answerable Chinese rows minus that of English ones
    typical_coverage: tuple[float, float] = (0.5, 0.5)  # medians of coverage, rare_coverage (answerable Chinese)
    english_floor: float = 0.0  # lowest cosine of an answerable English row, less a margin

    def adjust(self, x: list[float], english: bool) -> list[float]:
        if not english:
            return list(x)
        return [x[0] + self.english_shift, *self.typical_coverage, *x[3:]]

    def probability(self, x: list[float], english: bool = False) -> float:
        z = sum(w * v for w, v in zip(self.weights, self.adjust(x, english)))
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def answerable(self, x: list[float], english: bool = False) -> bool:
        # Off-topic English questions score as high as answerable ones once shifted; the floor is what
        # tells them apart (measured: answerable English rows sit above it, "who won the World Cup" below).
        if english and x[0] < self.english_floor:
            return False
        return self.probability(x, english) >= self.threshold


def load_calibration(fingerprint: str, index_dir: Path | None) -> Calibration | None:
    """The calibration for this model: the index folder's own (from `letterqa calibrate`), else the shipped one."""
    for path in ([Path(index_dir) / CALIBRATION_FILE] if index_dir else []) + [Path(__file__).with_name(CALIBRATION_FILE)]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        entry = data.get(fingerprint)
        if entry and len(entry.get("weights", [])) == len(FEATURES):
            return Calibration(tuple(entry["weights"]), float(entry["threshold"]), fingerprint, entry.get("source", ""),
                               float(entry.get("english_shift", 0.0)),
                               tuple(entry.get("typical_coverage", (0.5, 0.5))), float(entry.get("english_floor", 0.0)))
    return None


def save_calibration(cal: Calibration, path: Path) -> None:
    """Add or replace this model's entry in a calibration file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[cal.fingerprint] = {"weights": [round(w, 5) for w in cal.weights], "threshold": round(cal.threshold, 4),
                             "features": list(FEATURES), "source": cal.source,
                             "english_shift": round(cal.english_shift, 4),
                             "typical_coverage": [round(v, 4) for v in cal.typical_coverage],
                             "english_floor": round(cal.english_floor, 4)}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def fit_logistic(xs: list[list[float]], ys: list[int], l2: float = 0.3, steps: int = 50) -> tuple[float, ...]:
    """Weights of an L2-regularised logistic regression, by Newton's method (a few features, a few hundred rows)."""
    import numpy as np

    raw, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    # Standardised, so the penalty treats a cosine (spread 0.05) like a share (spread 0.5); the bias is last.
    mean, std = raw[:, :-1].mean(axis=0), raw[:, :-1].std(axis=0)
    std[std == 0] = 1.0
    x = np.hstack([(raw[:, :-1] - mean) / std, raw[:, -1:]])
    w = np.zeros(x.shape[1])
    reg = l2 * np.eye(x.shape[1])
    reg[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + reg @ w
        hess = (x * (p * (1 - p))[:, None]).T @ x + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    scaled = w[:-1] / std
    return tuple(float(v) for v in scaled) + (float(w[-1] - scaled @ mean),)


def best_threshold(probs: list[float], ys: list[int], max_false_refusal: float = 0.05) -> float:
    """The threshold that refuses the most unanswerable rows while refusing at most this share of answerable ones."""
    answerable = sorted(p for p, y in zip(probs, ys) if y)
    if not answerable:
        return 0.5
    # Refusing below the q-quantile of the answerable rows refuses about q of them.
    allowed = int(max_false_refusal * len(answerable))
    return answerable[allowed] if allowed < len(answerable) else answerable[-1]
