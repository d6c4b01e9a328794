"""Times and durations in words, as people write them in German and English.

`dateparser` reads the phrase once it is cut out of the sentence and cleaned of the words it
does not know ("seit", "um", "am", "nächsten", "9 Uhr"); durations are counted here, because
no library reads "anderthalb Stunden" or "1 h 30".
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import dateparser

Prefer = Literal["past", "future"]
# Ten years: anything longer is a typo, and timedelta would overflow on the absurd ones.
LONGEST_MINUTES = 10 * 366 * 24 * 60

NUMBER_WORDS = {
    "ein": 1, "eine": 1, "einer": 1, "einem": 1, "einen": 1, "one": 1, "a": 1, "an": 1,
    "zwei": 2, "two": 2, "drei": 3, "three": 3, "vier": 4, "four": 4, "fuenf": 5, "five": 5,
    "sechs": 6, "six": 6, "sieben": 7, "seven": 7, "acht": 8, "eight": 8, "zehn": 10, "ten": 10,
}  # fmt: skip
_FRACTIONS = {
    "anderthalb": 1.5, "eineinhalb": 1.5, "einundhalb": 1.5, "one and a half": 1.5,
    "an hour and a half": 1.5, "halbe": 0.5, "halben": 0.5, "half an": 0.5, "half a": 0.5,
    "zweieinhalb": 2.5, "dreiviertel": 0.75, "viertel": 0.25, "quarter of an": 0.25,
}  # fmt: skip
_UNIT_MINUTES = {
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60, "std": 60, "stunde": 60,
    "stunden": 60, "stdn": 60, "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "minuten": 1, "minuten.": 1, "tag": 480, "tage": 480, "day": 480, "days": 480,
}  # fmt: skip
_NUMBER = r"\d+(?:[.,]\d+)?"
_UNIT = r"(?:stunden|stunde|stdn|std|hours|hour|hrs|hr|h|minuten|minutes|minute|mins|min|m)"
_WORD_NUMBER = "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True))
_FRACTION = "|".join(sorted(map(re.escape, _FRACTIONS), key=len, reverse=True))
# "an hour and a half" names its unit inside: read before "an hour" can take the front of it
_HOUR_AND_A_HALF = r"(?:an?|one) hour and a half"
DURATION = re.compile(
    rf"\b(?:(?P<h>{_NUMBER})\s*(?:h|std|stunden?|hours?|hrs?)\s*(?:,|and|und)?\s*"
    rf"(?P<m>\d{{1,2}})(?:\s*(?:m|min|minuten|minutes))?\b"
    rf"|(?P<hh>{_HOUR_AND_A_HALF})\b"
    rf"|(?P<num>{_NUMBER})\s*(?P<unit>{_UNIT})\b"
    rf"|\b(?P<word>{_WORD_NUMBER}|{_FRACTION})\s+(?P<wunit>{_UNIT})\b)"
)
_BARE_HOUR_MINUTES = re.compile(rf"\b(?P<h>{_NUMBER})\s*h\s*(?P<m>\d{{1,2}})\b")


def duration_in(text: str) -> tuple[timedelta, tuple[int, int]] | None:
    """The first duration in a folded text and where it stands, or None."""
    match = DURATION.search(text)
    if match is None:
        return None
    if match["h"] is not None:
        minutes = float(match["h"].replace(",", ".")) * 60 + int(match["m"])
    elif match["hh"] is not None:
        minutes = 90
    else:
        amount = _amount(match["num"] or match["word"])
        minutes = amount * _UNIT_MINUTES.get(match["unit"] or match["wunit"], 60)
    if not 0 < minutes <= LONGEST_MINUTES:  # "99999999999999 h" is a typo, not a duration
        return None
    return timedelta(minutes=round(minutes)), match.span()


def _amount(word: str) -> float:
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    if word in _FRACTIONS:
        return _FRACTIONS[word]
    return float(word.replace(",", "."))


def compact(duration: timedelta) -> str:
    """`1h30m`, `45m`, `2h`: what the effort and maintenance commands take."""
    hours, minutes = divmod(int(duration.total_seconds() // 60), 60)
    return f"{hours}h{minutes}m" if hours and minutes else f"{hours}h" if hours else f"{minutes}m"


# --- points in time -----------------------------------------------------------------------

_PART_OF_DAY = {
    "frueh": "08:00", "morgens": "08:00", "vormittag": "09:00",
    "mittag": "12:00", "nachmittag": "14:00", "abend": "18:00", "abends": "18:00",
    "nacht": "22:00", "morning": "08:00", "afternoon": "14:00", "evening": "18:00",
    "night": "22:00", "noon": "12:00", "lunch": "12:00", "lunchtime": "12:00",
}  # fmt: skip
_FILLER = re.compile(
    r"\b(?:seit|since|ab|from|um|at|am|on|the|den|dem|des|ca|circa|about|around|etwa|gegen|"
    r"naechsten|naechste|kommenden|kommende|diesen|diesem|this|in der frueh|uhr|o'clock|"
    r"oclock|so|ungefaehr|approx|approximately|early|late|spaet|frueh am|von|starting|started|"
    r"begann|begonnen|angefangen)\b"
)
_HALF = re.compile(r"\bhalb (\d{1,2})\b")
_CLOCK = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(?:uhr|h\b|o'?clock|am\b|pm\b)?")
_DATE_NO_YEAR = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(?!\d)")
_WEEKDAY_OR_DAY = re.compile(
    r"\b(heute|today|gestern|yesterday|vorgestern|morgen|tomorrow|uebermorgen|montag|dienstag|"
    r"mittwoch|donnerstag|freitag|samstag|sonntag|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|next \w+|\d{1,2}\.\d{1,2}\.(?:\d{4})?|\d{4}-\d{2}-\d{2})\b"
)
# "seit 20 Minuten", "since 2 hours", "for the last hour" count back from now, like "vor 2
# Stunden": dateparser would take "seit 20" for 20:00 and "seit 3 Tagen" for 03:00.
_ARTICLE = r"(?:(?:einer|einem|ner|a|an)\s+)?"
_COUNTED_SINCE = r"(?:seit|since|for the (?:last|past))"
_RELATIVE = re.compile(
    rf"\b(?:vor\s+(?P<de>{_NUMBER}|{_WORD_NUMBER}|{_FRACTION})\s*(?P<deu>{_UNIT}|tagen|tag)"
    rf"|(?P<en>{_NUMBER}|{_WORD_NUMBER}|{_FRACTION})\s*(?P<enu>{_UNIT}|days?)\s+ago"
    rf"|{_COUNTED_SINCE}\s+(?:(?P<hh>{_HOUR_AND_A_HALF})|{_ARTICLE}"
    rf"(?P<since>{_NUMBER}|{_FRACTION}|{_WORD_NUMBER})\s*(?P<sinceu>{_UNIT}|tagen|tage|days?)))\b"
)
SINCE = re.compile(
    r"\b(?:seit|since|ab|starting|started|begann|begonnen|angefangen)\b"
    r"(?P<phrase>(?:\s+(?!fuer\b|for\b|bei\b|und\b|and\b|in\b(?! der frueh)|we\b|wir\b|alle\b|"
    r"all\b)[\w:.']+){1,4})"
)
PART_OF_DAY_PHRASE = re.compile(
    r"\b(?:(?:heute|today|gestern|yesterday|this|letzte|last|diesen|heut)\s+"
    r"(?:frueh|morgen|morgens|vormittag|mittag|nachmittag|abend|nacht|morning|afternoon|"
    r"evening|night)|last night|heute frueh|in der frueh|gestern|yesterday)\b"
)


def moment_in(
    text: str, *, now: datetime, zone: ZoneInfo, prefer: Prefer, with_clock: bool = False
) -> tuple[datetime, tuple[int, int]] | None:
    """The first point in time a folded text names ("seit 9 Uhr", "vor 2 Stunden",
    "gestern Abend", "am Dienstag um 9") as an aware instant, and its span; None if none.
    `with_clock`: only one with a time of day ("Dienstag passt nicht, Donnerstag um 10")."""
    for match in candidates(text, prefer):
        if with_clock and not CLOCK_TIME.search(match.group(0)):
            continue
        if match.group(0).strip() in _JUST_TODAY:
            continue  # "Stand heute geht nichts": today, but no point in time
        start, words = match.start(), match.group(0).split()
        # "seit 9", "vor 2 Stunden" always look back, whatever else the message is about
        looking = "past" if match.re in (SINCE, _RELATIVE) else prefer
        # "seit 9 uhr kein telefon": the phrase ends where dateparser stops understanding it
        for length in range(len(words), 0, -1):
            phrase = " ".join(words[:length])
            instant = parse_moment(phrase, now=now, zone=zone, prefer=looking)
            if instant is not None:
                return instant, (start, start + len(phrase))
    return None


def candidates(text: str, prefer: Prefer) -> list[re.Match[str]]:
    """Where a folded text may name a point in time, first first (not yet parsed)."""
    found = [*_RELATIVE.finditer(text), *SINCE.finditer(text)]
    if prefer == "future" or not found:
        found += [*_FUTURE.finditer(text), *PART_OF_DAY_PHRASE.finditer(text)]
    return sorted(found, key=lambda m: m.start())


_FUTURE = re.compile(
    r"\b(?:(?:am|on|next|naechsten|kommenden|this)\s+)?"
    r"(?:heute|today|morgen|tomorrow|uebermorgen|montag|dienstag|mittwoch|donnerstag|freitag|"
    r"samstag|sonntag|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"\d{1,2}\.\d{1,2}\.(?:\d{4})?|\d{4}-\d{2}-\d{2})"
    r"(?:\s*,?\s*(?:um|at|ab|from|von)?\s*(?:halb\s+)?\d{1,2}(?:[:.]\d{2})?\s*(?:uhr|h|am|pm)?)?"
)


def parse_moment(phrase: str, *, now: datetime, zone: ZoneInfo, prefer: Prefer) -> datetime | None:
    """One time phrase → an aware instant in `zone`'s reading, or None."""
    relative = _RELATIVE.search(phrase)
    if relative is not None:
        amount = _amount(relative["de"] or relative["en"] or relative["since"] or "1.5")
        unit = relative["deu"] or relative["enu"] or relative["sinceu"] or "h"
        per_unit = 24 * 60 if unit.startswith(("tag", "day")) else _UNIT_MINUTES[unit]
        if amount * per_unit > LONGEST_MINUTES:  # "vor 1000000 Tagen"
            return None
        return now - timedelta(minutes=amount * per_unit)
    cleaned = _clean(phrase, now, zone)
    if not cleaned:
        return None
    local_now = now.astimezone(zone).replace(tzinfo=None)
    parsed: datetime | None = dateparser.parse(
        cleaned,
        languages=["de", "en"],
        settings={
            "PREFER_DATES_FROM": prefer,
            "RELATIVE_BASE": local_now,
            "DATE_ORDER": "DMY",
            "PREFER_DAY_OF_MONTH": "first",
        },
    )
    if parsed is None or parsed.tzinfo is not None:
        # a zone in the words is mostly a German word read as one ("ist" → IST, India)
        return None
    parsed = parsed.replace(tzinfo=zone)
    if not _CLOCK_GIVEN.search(cleaned) and _WEEKDAY_OR_DAY.fullmatch(cleaned):
        parsed = parsed.replace(hour=0, minute=0) if prefer == "future" else parsed
    return parsed


_JUST_TODAY = frozenset({"heute", "today", "heut"})
_CLOCK_GIVEN = re.compile(r"\d{1,2}:\d{2}")
CLOCK_TIME = re.compile(
    r"\b\d{1,2}(?::\d{2}|\.\d{2}\b|\s*uhr|\s*h\b|\s*am\b|\s*pm\b)|\b(?:um|at|ab|halb) \d{1,2}\b"
)


def _clean(phrase: str, now: datetime, zone: ZoneInfo) -> str:
    """The phrase in a form dateparser reads: "seit 9 uhr" → "9:00", "gestern abend" →
    "gestern 18:00", "am dienstag um halb 10" → "dienstag 9:30", "3.3." → "3.3.2026"."""
    text = _HALF.sub(lambda m: f"{int(m[1]) - 1}:30", phrase.lower())
    # Austrian "heut", and "in der Früh" (the morning) before its "Früh" becomes 08:00
    text = re.sub(r"\bheut\b", "heute", text).replace("in der frueh", "frueh")
    year = now.astimezone(zone).year
    text = _DATE_NO_YEAR.sub(lambda m: f"{m[1]}.{m[2]}.{year}", text)
    # "morgen" alone is tomorrow; after today or yesterday it is the morning
    text = re.sub(r"\b(heute|gestern) morgen\b", r"\1 08:00", text)
    for word, clock in _PART_OF_DAY.items():
        text = re.sub(rf"\b{word}\b", clock, text)
    text = _FILLER.sub(" ", text)
    text = re.sub(r"\b(\d{1,2})[.](\d{2})\b(?!\.)", r"\1:\2", text)
    text = re.sub(r"(?<![\d:.])\b(\d{1,2})\b(?![:.\d])", r"\1:00", text)
    text = text.replace("letzte 22:00", "gestern 22:00").replace("last 22:00", "gestern 22:00")
    words = [w for w in text.split() if w not in {",", "-"}]
    return " ".join(words)
