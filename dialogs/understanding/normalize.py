"""Text as the understanding step compares it: case, umlauts, greetings and politeness folded
away, so "Grüß Gott, Störung bitte!" and "stoerung" meet."""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e"})
# People who cannot type umlauts write "ae" or just "a": both fold to the bare vowel, for the
# classifier's features only (entity extraction reads the lightly folded text).
_DIGRAPHS = re.compile(r"(?<=[a-z])(ae|oe|ue)")
_DIGRAPH_VOWEL = {"ae": "a", "oe": "o", "ue": "u"}
_SPACES = re.compile(r"\s+")
# Pictographs are words in a chat ("👀 12" is "seen, 12"): each kept, as a word of its own.
_EMOJI = "\u2600-\u27bf\U0001f300-\U0001faff"
_PICTOGRAPH = re.compile(f"([{_EMOJI}])")
_PUNCTUATION = re.compile(f"[^\\w\\s#:./,+'{_EMOJI}-]")

# Leading greetings and trailing politeness that carry no request. Longest first.
_GREETINGS = (
    "guten morgen", "guten tag", "guten abend", "gruess gott", "gruss gott", "gruezi",
    "grueezi", "hallo zusammen", "hallo", "hallihallo", "servus", "moin moin", "moin", "hey",
    "hi there", "hello there", "good morning", "good afternoon", "good evening", "hello", "hi",
    "hoi", "salut", "liebe gruesse", "lg", "dear team", "liebes team", "team",
)  # fmt: skip
_POLITENESS = (
    "bitte", "danke", "thanks", "thank you", "please", "pls", "plz", "merci", "vielen dank",
    "danke schoen", "dankeschoen", "cheers", "lg",
)  # fmt: skip
# Words that, alone, are a pleasantry; inside a request they are just words.
_PLEASANTRIES = frozenset({
    "ok", "okay", "oki", "k", "kk", "top", "super", "spitze", "perfekt", "perfect", "passt",
    "great", "awesome", "cool", "nice", "fein", "toll", "prima", "klasse", "gut", "good",
    "alles klar", "got it", "no worries", "kein problem", "no problem", "np", "ty", "thx",
    "tnx", "danke", "thanks", "merci", "well done", "gut gemacht", "sehr gut", "very good",
    "bis dann", "bye", "tschuess", "ciao", "baba", "pfiat di", "pfiat eich", "schoenen tag",
    "have a nice day", "schoenes wochenende", "nice weekend", "frohe weihnachten",
    "merry christmas", "vergelts gott", "vergelt's gott", "gruess di", "wie gehts",
    "how are you", "lol", "haha", "yes", "ja", "jep", "yep", "jo", "genau",
    "👍", "👌", "🙏", "🙂", "😊", "😀", "😃", "😄", "😉", "👏", "💪", "✅", "🎉", "❤", "🙌",
})  # fmt: skip
_GREETING = re.compile(
    r"^(?:(?:" + "|".join(re.escape(g) for g in _GREETINGS) + r")\b[\s,!.:;-]*)+"
)
_TRAILING = re.compile(
    r"(?:[\s,!.:;-]*\b(?:" + "|".join(re.escape(p) for p in _POLITENESS) + r"))+[\s!.?]*$"
)


def fold(text: str) -> str:
    """Lower case, umlauts as digraphs, accents and odd punctuation gone, single spaces."""
    lowered = unicodedata.normalize("NFKC", text).lower().translate(_UMLAUTS)
    spaced = _PICTOGRAPH.sub(r" \1 ", _PUNCTUATION.sub(" ", lowered))
    return _SPACES.sub(" ", spaced).strip()


def fold_hard(text: str) -> str:
    """`fold`, then umlaut digraphs to the bare vowel ("stoerung", "storung" → "storung")."""
    return _DIGRAPHS.sub(lambda m: _DIGRAPH_VOWEL[m[1]], fold(text))


def strip_greeting(folded: str) -> str:
    """A folded text without its leading greeting ("hallo, status 12" → "status 12")."""
    return _GREETING.sub("", folded)


def strip_courtesy(folded: str) -> str:
    """A folded text without its leading greeting and trailing please/thanks."""
    core = _GREETING.sub("", folded)
    core = _TRAILING.sub("", core).strip(" ,!.?;:-")
    return core


def is_pleasantry(core: str) -> bool:
    """True when a folded text without greetings is nothing but pleasantries ("ok, danke")."""
    parts = [p.strip() for p in re.split(r"[,.!;]+|\s+(?:und|and|&)\s+", core) if p.strip()]
    return bool(parts) and all(_pleasant(part) for part in parts)


def _pleasant(part: str) -> bool:
    return part in _PLEASANTRIES or all(word in _PLEASANTRIES for word in part.split())
