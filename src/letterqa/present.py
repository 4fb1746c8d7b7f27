"""How answers look to a person. The CLI's text and the chat's messages are made from these."""
from __future__ import annotations

from .records import Answer, Citation, Hit, Letter


def letter_label(letter: Letter) -> str:
    """`山东省工业和信息化厅 · 2024-08-25 · 《关于…的建议》`, leaving out what the letter does not state."""
    parts = [letter.sender or letter.source, letter.date]
    if letter.title:
        parts.append(f"《{letter.title}》")
    return " · ".join(p for p in parts if p)


def mark_quote(text: str, quote: str, left: str = "【", right: str = "】") -> str:
    """The passage with the quoted sentence bracketed, so a reader sees which part was used."""
    at = text.find(quote)
    if not quote or at < 0:
        return text
    return f"{text[:at]}{left}{quote}{right}{text[at + len(quote):]}"


def citation_text(c: Citation) -> str:
    """A citation as plain text: label, section path, and the passage with the quote marked."""
    return f"[{c.n}] {letter_label(c.letter)}\n    {c.chunk.section}\n    {mark_quote(c.chunk.text, c.quote)}"


def hit_text(i: int, hit: Hit, letters: dict[str, Letter]) -> str:
    """A retrieved passage as plain text, for refusals' 'nearest passages'."""
    letter = letters.get(hit.chunk.letter_id)
    label = letter_label(letter) if letter else hit.chunk.letter_id
    return f"({i}) {label}\n    {hit.chunk.section}  (score {hit.score:.3f})\n    {hit.chunk.text}"


def answer_text(answer: Answer, nearest: int = 3) -> str:
    """The whole answer for a terminal: answer, citations or nearest passages, latency."""
    lines = [answer.text, ""]
    if answer.answered:
        lines += [citation_text(c) for c in answer.citations]
    else:
        lines += [hit_text(i + 1, h, answer.letters) for i, h in enumerate(answer.hits[:nearest])]
    lines.append(f"({answer.latency_ms:.0f} ms)")
    return "\n".join(lines)
