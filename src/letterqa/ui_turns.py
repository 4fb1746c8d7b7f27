"""The chat's records: an Answer as a JSON-safe turn (kept in the browser), and what the loaded letters
offer to ask (examples, follow-ups), read from the index rather than written as fixed strings."""
from __future__ import annotations

import re
import uuid

from .records import Answer, Citation, Chunk, Hit, Letter

# A heading's own number (一、 (二) 3. （4） 一是 第五，) is not part of what it is about.
_HEADING_MARK = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、是]|[（(][一二三四五六七八九十\d]{1,3}[）)]"
                           r"|\d{1,2}[.．、]|第[一二三四五六七八九十]{1,3}[，,、：:])\s*")
_ENDS = ("开头", "落款", "结语")


def letter_record(letter: Letter) -> dict:
    """What the UI shows of a letter; 文号 and recipient from the page's metadata when the text lacks them."""
    meta = getattr(letter, "meta", None) or {}
    return {"letter_id": letter.letter_id, "source": letter.source, "sender": letter.sender or meta.get("发布机构") or meta.get("来源", ""),
            "date": letter.date, "title": letter.title, "doc_number": letter.doc_number or meta.get("文号", ""),
            "recipient": letter.recipient}


def passage_record(chunk: Chunk, letter: Letter, n: int | None = None, quote: str = "") -> dict:
    return {"n": n, "letter_id": chunk.letter_id, "chunk_id": chunk.chunk_id, "path": list(chunk.path),
            "text": chunk.text, "quote": quote, "letter": letter_record(letter)}


def turn_record(answer: Answer, filters: dict, suggestions: list[str]) -> dict:
    """An answered (or refused) question as the UI keeps it: cited passages first, then the others."""
    cited = {c.chunk.chunk_id for c in answer.citations}
    others = [passage_record(h.chunk, answer.letters[h.chunk.letter_id]) for h in answer.hits
              if h.chunk.chunk_id not in cited and h.chunk.letter_id in answer.letters]
    return {"id": uuid.uuid4().hex[:12], "question": answer.question, "text": answer.text,
            "answered": answer.answered, "understood": getattr(answer, "understood", "") or "",
            "reason": getattr(answer, "reason", "") or "", "latency_ms": round(answer.latency_ms, 1),
            "scope": list(getattr(answer, "scope", ()) or ()),
            "citations": [passage_record(c.chunk, c.letter, c.n, c.quote) for c in answer.citations],
            "others": others, "filters": dict(filters), "suggestions": suggestions}


def error_record(question: str, message: str) -> dict:
    return {"id": uuid.uuid4().hex[:12], "question": question, "error": message, "answered": False,
            "text": "", "citations": [], "others": []}


def answer_of(turn: dict, stored) -> Answer | None:
    """The turn as an Answer again (for `previous=`), if the index still holds its passages unchanged."""
    if not turn or turn.get("error"):
        return None
    try:
        def chunk(p):
            c = stored.chunks[p["chunk_id"]]
            if c.letter_id != p["letter_id"] or c.text != p["text"]:
                raise LookupError(p["chunk_id"])
            return c
        citations = tuple(Citation(p["n"], stored.letters[p["letter_id"]], chunk(p), p["quote"], 0.0)
                          for p in turn["citations"])
        hits = tuple(Hit(chunk(p), 0.0) for p in turn["citations"] + turn["others"])
    except (LookupError, KeyError, TypeError):
        return None
    extra = {"understood": turn.get("understood", ""), "reason": turn.get("reason", ""),
             "scope": tuple(turn.get("scope") or dict.fromkeys(p["letter_id"] for p in turn["citations"]))}
    fields = Answer.__dataclass_fields__
    return Answer(turn["question"], turn["text"], turn["answered"], citations, hits, 0.0, stored.letters,
                  **{k: v for k, v in extra.items() if k in fields})


def topic(heading: str) -> str:
    """一是加快制造业创新中心建设 → 加快制造业创新中心建设."""
    return _HEADING_MARK.sub("", heading).strip(" 。：:")


def topic_question(path: tuple[str, ...] | list[str]) -> str:
    """A question about one section, worded for a plan when it sits under 下步/下一步/今后 (else for what was done)."""
    about = topic(path[-1]) if path else ""
    if not 4 <= len(about) <= 24:
        return ""
    if any(w in path[0] for w in ("下步", "下一步", "今后", "计划")):
        return f"下一步在{about}方面有什么打算?"
    return f"{about}有哪些进展?"


def followups(answer: Answer, stored, limit: int = 3) -> list[str]:
    """Questions about the cited section's siblings in the same letter, then who signed the letter."""
    if not answer.answered or not answer.citations:
        return []
    chunk = answer.citations[0].chunk
    parent = chunk.path[:-1]
    found: list[str] = []
    for row in stored.rows_of(chunk.letter_id):
        other = stored.chunks[row]
        if other.path[:-1] == parent and other.path != chunk.path and other.path[-1] not in _ENDS:
            ask = topic_question(other.path)
            if ask and ask not in found:
                found.append(ask)
    found = found[: limit - 1]  # siblings come in the letter's order, which reads naturally
    one_letter = len({c.letter.letter_id for c in answer.citations}) == 1
    if one_letter and "签发" not in answer.question and "落款" not in answer.question:
        found.append("这封答复是哪个单位、哪天落款的?")
    return [q for q in found if q != answer.question][:limit]


def examples(stored, limit: int = 4) -> list[str]:
    """Example questions made from the loaded letters' own section headings, one letter after another."""
    per_letter: list[list[str]] = []
    for letter_id in list(stored.letters)[:limit]:
        headings: list[str] = []
        for row in stored.rows_of(letter_id):
            path = stored.chunks[row].path
            if len(path) >= 2 and path[0] not in _ENDS:
                ask = topic_question(path)
                if ask and ask not in headings:
                    headings.append(ask)
        letter = stored.letters[letter_id]
        asks = headings[:2]
        if letter.title:
            asks.append(f"《{letter.title}》是哪个单位答复的?")
        per_letter.append(asks)
    picked: list[str] = []
    while len(picked) < limit and any(per_letter):
        for asks in per_letter:
            if asks and len(picked) < limit:
                picked.append(asks.pop(0))
    return picked


def library_rows(stored) -> list[dict]:
    """One row per letter for the library table, in date order, newest first."""
    rows = []
    for letter_id, letter in stored.letters.items():
        rows.append({**letter_record(letter), "passages": len(stored.rows_of(letter_id))})
    return sorted(rows, key=lambda r: (r["date"] or "", r["source"]), reverse=True)


def letter_blocks(stored, letter_id: str) -> list[dict]:
    """The letter's text cut at its chunks, in order, so the viewer can show and mark any passage."""
    letter = stored.letters[letter_id]
    blocks, at = [], 0
    for row in stored.rows_of(letter_id):
        c = stored.chunks[row]
        if c.start > at and letter.text[at:c.start].strip():
            blocks.append({"chunk_id": -1, "path": [], "text": letter.text[at:c.start].strip()})
        blocks.append({"chunk_id": c.chunk_id, "path": list(c.path), "text": letter.text[c.start:c.end]})
        at = max(at, c.end)
    if letter.text[at:].strip():
        blocks.append({"chunk_id": -1, "path": [], "text": letter.text[at:].strip()})
    return blocks
