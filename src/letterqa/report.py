"""Writing an evaluation down: per-question results, metrics, a report a person reads, a chart.

    out_dir/results.jsonl    one line per question per mode: the `ask --json` record + verdicts
    out_dir/metrics.json     the numbers per mode, by question type, and the recall@k curve
    out_dir/report.md        overall table (modes side by side), by type, and every failure
    out_dir/recall_at_k.png  recall@k for k = 1..10, one line per mode
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .answer import answer_to_dict

if TYPE_CHECKING:
    from .evaluate import EvalRun, Verdict

# (metric key, label, format): % = share, f = fraction with 3 decimals, n = a count or amount.
TABLE = (
    ("questions", "questions", "n"),
    ("answerable", "answerable", "n"),
    ("unanswerable", "unanswerable", "n"),
    ("hit@1", "hit@1", "%"),
    ("hit@1_one_passage", "hit@1, questions one passage answers", "%"),
    ("hit@1_any", "hit@1, top passage holds a needed quote", "%"),
    ("hit@3", "hit@3", "%"),
    ("hit@5", "hit@5", "%"),
    ("mrr@10", "MRR@10", "f"),
    ("keyword_accuracy", "keyword accuracy", "%"),
    ("citation_precision", "citation precision", "%"),
    ("refusal_rate", "refusal rate (unanswerable)", "%"),
    ("false_refusal_rate", "false refusals (answerable)", "%"),
    ("answer_chars_median", "answer length median (chars)", "n"),
    ("latency_p50_ms", "latency p50 (ms)", "n"),
    ("latency_p95_ms", "latency p95 (ms)", "n"),
)
DEFINITIONS = """\
- **hit@n**: a passage holding the gold quote is among the top n retrieved (for questions that
  need two sections, every evidence quote is); over answerable questions. **MRR@10** averages 1/rank.
  A question two passages answer cannot be hit at 1, so hit@1 is also given over the questions one
  passage answers, and as the share whose top passage holds one of the needed quotes (hit@1 as it is
  usually defined, where any relevant passage at rank 1 counts).
- **keyword accuracy**: the answer text states every expected fact (or an accepted alternative);
  a refused answerable question counts as wrong.
- **citation precision**: the share of an answer's citations whose passage holds a gold quote,
  averaged over answerable questions with at least one citation.
- **refusal rate**: unanswerable questions refused (higher is better); **false refusals**:
  answerable questions refused (lower is better).
- Latency is per question through `Engine.ask`, after one untimed warm-up; sentence vectors are
  cached across questions, so a later mode may run on a warmer cache.
"""


def fmt(value, kind: str) -> str:
    """One metric value as shown in tables; None (nothing to measure) as —."""
    if value is None:
        return "—"
    if kind == "%":
        return f"{100 * value:.1f}%"
    if kind == "f":
        return f"{value:.3f}"
    return f"{value:.0f}"


def summary_table(run: EvalRun) -> str:
    """A plain-text table for the terminal: one row per metric, one column per mode."""
    modes = [r.mode for r in run.results]
    width = max(len(label) for _, label, _ in TABLE)
    lines = [f"{'metric':<{width}}  " + "  ".join(f"{m:>8}" for m in modes)]
    for key, label, kind in TABLE:
        cells = [fmt(r.metrics.get(key), kind) for r in run.results]
        lines.append(f"{label:<{width}}  " + "  ".join(f"{c:>8}" for c in cells))
    return "\n".join(lines)


def write_report(run: EvalRun, out_dir: Path) -> None:
    """Write results.jsonl, metrics.json, report.md and recall_at_k.png into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_results(run, out_dir / "results.jsonl")
    (out_dir / "metrics.json").write_text(json.dumps(metrics_record(run), ensure_ascii=False, indent=2),
                                          encoding="utf-8")
    (out_dir / "report.md").write_text(markdown(run), encoding="utf-8")
    plot_recall(run, out_dir / "recall_at_k.png")


def result_record(v: Verdict) -> dict:
    """One results.jsonl line: who and how, the answer as `ask --json` gives it, then the verdicts."""
    head = {"id": v.row.id, "mode": v.mode, "type": v.row.type, "lang": v.row.lang}
    verdicts = {"hit_rank": v.hit_rank, "keyword_ok": v.keyword_ok, "refused": v.refused,
                "citation_precision": v.citation_precision}
    return {**head, **answer_to_dict(v.answer), **verdicts}


def _write_results(run: EvalRun, path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for result in run.results:
            for v in result.verdicts:
                fh.write(json.dumps(result_record(v), ensure_ascii=False) + "\n")


def metrics_record(run: EvalRun) -> dict:
    """The metrics.json document: per mode, the headline numbers, the by-type table and the curve."""
    modes = {r.mode: {**r.metrics, "by_type": r.by_type, "recall_at_k": list(r.recall_at_k)}
             for r in run.results}
    return {"testset": run.testset, "k": run.k, "problems": list(run.problems), "modes": modes}


def markdown(run: EvalRun) -> str:
    """report.md: what was run, the overall table, the by-type table, then every failure."""
    first = run.results[0].metrics if run.results else {}
    parts = [f"# letterqa evaluation\n\nTest set `{run.testset or '?'}`: {first.get('questions', 0)} "
             f"questions ({first.get('answerable', 0)} answerable, {first.get('unanswerable', 0)} "
             f"unanswerable); k = {run.k}; modes: {', '.join(r.mode for r in run.results)}.\n"]
    if run.problems:
        parts.append("Problems (lines that could not be used; letters missing from the index):\n\n"
                     + "\n".join(f"- {_cell(p)}" for p in run.problems) + "\n")
    parts += ["## Overall\n", _overall_table(run), "", DEFINITIONS, "## By question type\n",
              _type_table(run), "", "![recall@k](recall_at_k.png)\n"]
    parts += [_failures(result) for result in run.results]
    return "\n".join(parts)


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def _overall_table(run: EvalRun) -> str:
    modes = [r.mode for r in run.results]
    lines = [_row(["metric", *modes]), _row(["---"] + ["---:"] * len(modes))]
    for key, label, kind in TABLE:
        lines.append(_row([label, *(fmt(r.metrics.get(key), kind) for r in run.results)]))
    return "\n".join(lines)


def _type_table(run: EvalRun) -> str:
    columns = [(metric, r) for metric in ("hit@3", "keyword_accuracy", "refused") for r in run.results]
    names = {"hit@3": "hit@3", "keyword_accuracy": "keywords", "refused": "refused"}
    lines = [_row(["type", "n", *(f"{names[m]} {r.mode}" for m, r in columns)]),
             _row(["---", "---:"] + ["---:"] * len(columns))]
    for kind, counts in (run.results[0].by_type.items() if run.results else ()):
        cells = [fmt(r.by_type[kind][m], "%") for m, r in columns]
        lines.append(_row([kind, str(counts["count"]), *cells]))
    return "\n".join(lines)


def is_failure(v: Verdict) -> bool:
    """Wrong in the way a user would notice: a missing fact, a missed passage, a wrong refusal."""
    if not v.row.answerable:
        return not v.refused
    return v.hit_rank is None or v.keyword_ok is False


def _failures(result) -> str:
    failed = [v for v in result.verdicts if is_failure(v)]
    head = f"## Failures, {result.mode}: {len(failed)} of {len(result.verdicts)}\n"
    return head + "\n" + "\n".join(_failure(v) for v in failed) + "\n"


def _failure(v: Verdict) -> str:
    row = v.row
    if row.answerable:
        facts = ", ".join(options[0] for options in row.keywords) or "(no keywords)"
        expected = f"{facts} — “{' … '.join(row.needed)}” in {row.section or '?'}"
    else:
        expected = "a refusal: the letters do not answer this"
    return (f"- **{row.id}** ({row.type}, {row.lang}) {_cell(row.question)}  \n"
            f"  expected: {_cell(expected)}  \n  got ({_why(v)}): {_cell(_got(v))}")


def _why(v: Verdict) -> str:
    if not v.row.answerable:
        return "answered instead of refusing"
    reasons = ["not retrieved" if v.hit_rank is None else f"retrieved at rank {v.hit_rank}"]
    if v.refused:
        reasons.append("refused")
    elif v.keyword_ok is False:
        reasons.append("facts missing from the answer")
    return "; ".join(reasons)


def _got(v: Verdict) -> str:
    if v.refused and v.answer.hits:
        return "nearest passage: " + v.answer.hits[0].chunk.text
    return v.answer.text


def _cell(text: str, limit: int = 200) -> str:
    """Text safe inside one markdown line: no line breaks, no table pipes, no HTML, shortened."""
    text = " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plot_recall(run: EvalRun, path: Path) -> None:
    """recall@k for k = 1..10, one line per mode, drawn by Agg into a PNG."""
    # A bare Figure renders with Agg and leaves pyplot's global backend alone (the UI may share it).
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    for r in run.results:
        ks = range(1, len(r.recall_at_k) + 1)
        ax.plot(ks, [v if v is not None else float("nan") for v in r.recall_at_k], marker="o", label=r.mode)
    ax.set(xlabel="k (passages retrieved)", ylabel="recall@k (gold passage in top k)", ylim=(0, 1.02),
           title="recall@k by retrieval mode")
    ax.set_xticks(range(1, 11))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
