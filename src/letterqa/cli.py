"""`letterqa` commands: plain functions over the library. Only here do errors become exit codes."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .config import Settings
from .errors import LetterQAError

log = logging.getLogger("letterqa")


def _settings(args) -> Settings:
    return Settings().but(corpus=args.corpus, index=args.index, model=args.model,
                          max_chunk_chars=getattr(args, "max_chunk_chars", None),
                          max_file_mb=getattr(args, "max_file_mb", None),
                          mode=_mode(args), k=getattr(args, "k", None), backend=getattr(args, "backend", None),
                          milvus_uri=getattr(args, "milvus_uri", None))


def _mode(args) -> str | None:
    mode = getattr(args, "mode", None)
    return mode if mode != "all" else None


def cmd_build(args) -> int:
    from .build import build_index

    report = build_index(_settings(args))
    _print_report(report)
    return 0


def cmd_add(args) -> int:
    from .build import add_letters

    report = add_letters(_settings(args), [Path(p) for p in args.files])
    _print_report(report)
    return 1 if report.errors and not report.added else 0


def _print_report(report) -> None:
    if report.repaired:
        print(f"repaired: {report.repaired}", file=sys.stderr)
    for line in report.renamed:
        print(f"renamed {line}", file=sys.stderr)
    for name in report.added:
        print(f"added {name}")
    for line in report.errors:
        print(f"refused {line}", file=sys.stderr)
    for line in report.duplicates:
        print(f"skipped {line}", file=sys.stderr)
    if report.letters:
        print(report.summary())


def cmd_ask(args) -> int:
    from .answer import answer_to_dict
    from .engine import Engine
    from .present import answer_text

    questions = [q for q in args.questions]
    if not questions or any(not q.strip() for q in questions):
        from .errors import EmptyQuestionError

        raise EmptyQuestionError()
    engine = Engine.open(_settings(args))  # the model loads once for all questions
    for q in questions:
        answer = engine.ask(q, k=args.k, mode=args.mode, sender=args.sender, year=args.year, letter=args.letter)
        if args.json:
            print(json.dumps(answer_to_dict(answer), ensure_ascii=False), flush=True)
        else:
            print(answer_text(answer), end="\n\n", flush=True)
    return 0


def cmd_letters(args) -> int:
    from .errors import NoIndexError
    from .store import load_manifest

    settings = _settings(args)
    if args.problems:
        return _print_problems(settings)
    manifest = load_manifest(settings.index)
    if manifest is None:
        raise NoIndexError(settings.index)
    print(f"{'id':16}  {'date':10}  {'chunks':>6}  sender · title · file")
    for entry in manifest["letters"]:
        rows = entry["rows"][1] - entry["rows"][0]
        title = f"《{entry['title']}》" if entry["title"] else ""
        print(f"{entry['letter_id']:16}  {entry['date'] or '-':10}  {rows:>6}  "
              f"{entry['sender'] or '-'} · {title or '-'} · {entry['source']}")
    waiting = len(_unindexed(settings, manifest))
    if waiting:
        print(f"letterqa: {waiting} files in {settings.corpus} are not in the index: "
              "`letterqa letters --problems` says why", file=sys.stderr)
    return 0


def _print_problems(settings: Settings) -> int:
    """Corpus files that are not in the index: refused by the last build (with its reason), or not built yet."""
    from .build import read_problems
    from .store import load_manifest

    manifest = load_manifest(settings.index) or {"letters": []}
    reasons = {p.get("source"): p.get("reason", "") for p in read_problems(settings.index).get("problems", [])}
    missing = _unindexed(settings, manifest)
    for name in missing:
        print(f"{name}: {reasons.get(name) or 'not indexed yet: run `letterqa build`'}")
    if not missing:
        print(f"every letter file in {settings.corpus} is indexed")
    return 1 if missing else 0


def _unindexed(settings: Settings, manifest: dict) -> list[str]:
    from .build import corpus_files
    from .errors import file_label

    indexed = {e["source"] for e in manifest["letters"]}
    return [file_label(p) for p in corpus_files(settings.corpus) if p.name not in indexed]


def cmd_eval(args) -> int:
    from .evaluate import main_eval, summary_table

    run = main_eval(_settings(args), Path(args.file), Path(args.out), mode=args.mode or "hybrid", k=args.k or 10,
                    sender=args.sender, year=args.year, scope=args.scope)
    print(summary_table(run))
    print(f"\nwrote {args.out}/results.jsonl, metrics.json, report.md, recall_at_k.png")
    return 0


def cmd_calibrate(args) -> int:
    from .calibrate import main_calibrate

    print(main_calibrate(_settings(args), Path(args.file), Path(args.out) if args.out else None))
    return 0


def cmd_serve(args) -> int:
    from .app import serve

    serve(_settings(args), host=args.host, port=args.port, password=os.environ.get("LETTERQA_ADMIN_PASSWORD"))
    return 0


def cmd_feedback(args) -> int:
    from .feedback import export, feedback_path

    settings = _settings(args)
    written, skipped = export(settings.index, Path(args.export))
    print(f"wrote {written} test rows to {args.export} from {feedback_path(settings.index)}"
          f" ({skipped} 👎 without a correct passage skipped)")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad value is one line (no usage block), like every other error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} -h`)\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--corpus", type=Path, help="folder of letter files (default ./corpus)")
    common.add_argument("--index", type=Path, help="index folder (default ./index)")
    common.add_argument("--model", help="sentence-transformers model name or folder (default: the bundled e5-small)")
    common.add_argument("--max-chunk-chars", type=_whole(20, 5000), dest="max_chunk_chars",
                        help="cut longer sections (20-5000, default 300)")
    common.add_argument("--max-file-mb", type=_positive_float, dest="max_file_mb",
                        help="refuse larger letter files (default 20)")
    common.add_argument("--backend", choices=("faiss", "milvus"), help="where `build` puts the search side (default faiss)")
    common.add_argument("--milvus-uri", dest="milvus_uri", help="Milvus Lite file (x.db) or server URI (http://host:19530)")
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    p = _Parser(prog="letterqa", description="Ask questions of official reply letters (答复函).")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("build", parents=[common], help="sync index/ with corpus/").set_defaults(func=cmd_build)
    add = sub.add_parser("add", parents=[common], help="copy letter files into corpus/ and index them")
    add.add_argument("files", nargs="+")
    add.set_defaults(func=cmd_add)
    ask = sub.add_parser("ask", parents=[common], help="answer questions with cited sentences")
    ask.add_argument("questions", nargs="*")
    ask.add_argument("--json", action="store_true", help="one JSON object per question, one per line")
    ask.add_argument("--letter", help="ask this letter only (an id or file name from `letterqa letters`)")
    _retrieval_flags(ask)
    ask.set_defaults(func=cmd_ask)
    letters = sub.add_parser("letters", parents=[common], help="list the indexed letters")
    letters.add_argument("--problems", action="store_true",
                         help="list the corpus files that are not indexed, and why (exit 1 if any)")
    letters.set_defaults(func=cmd_letters)
    ev = sub.add_parser("eval", parents=[common], help="score answers against a test set (JSONL)")
    ev.add_argument("file")
    ev.add_argument("--out", default="report", help="folder for results.jsonl, metrics.json, report.md, recall_at_k.png")
    _retrieval_flags(ev, allow_all=True)
    ev.add_argument("--scope", choices=["all", "letter"], default="all",
                    help="letter: ask each row within its own letter (its `letter` field), as 只问这封 does")
    ev.set_defaults(func=cmd_eval)
    cal = sub.add_parser("calibrate", parents=[common],
                         help="fit when to refuse on a test set, cross-validated by letter")
    cal.add_argument("file")
    cal.add_argument("--out", help="calibration file to write (default: calibration.json in the index folder)")
    cal.set_defaults(func=cmd_calibrate)
    serve = sub.add_parser("serve", parents=[common], help="the web chat")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    serve.set_defaults(func=cmd_serve)
    feedback = sub.add_parser("feedback", parents=[common], help="export the chat's 👍/👎 as a test set for eval")
    feedback.add_argument("--export", required=True, metavar="FILE", help="JSONL file to write")
    feedback.set_defaults(func=cmd_feedback)
    return p


def _retrieval_flags(p, allow_all: bool = False) -> None:
    modes = ["dense", "lexical", "hybrid"] + (["all"] if allow_all else [])
    p.add_argument("-k", type=_whole(1, 100), help="passages to retrieve, 1-100 (default 5; eval: 10)")
    p.add_argument("--mode", choices=modes, help="retrieval mode (default hybrid)")
    p.add_argument("--sender", help="only letters whose sender contains this")
    p.add_argument("--year", type=_year, help="only letters signed in this year, or years (2021-2023)")


def _whole(low: int, high: int):
    """An argparse type: a whole number within [low, high], else a message naming the range."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        return value
    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _year(text: str) -> str:
    """A signing year (2023) or a range (2021-2023), checked here so a typo fails before the model loads."""
    from .engine import year_range

    try:
        year_range(text)
    except LetterQAError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year from 1900 to 2099 or a range such as 2021-2023")
    return text.strip()


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors become one line on stderr and exit code 1."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # transformers draws a "Loading weights" bar on every model load: noise at a terminal.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        return args.func(args)
    except LetterQAError as exc:
        print(f"letterqa: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("letterqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `letterqa letters | head`: the reader left, which is fine
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
