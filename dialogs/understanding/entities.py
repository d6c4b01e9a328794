"""The things people name in a message: tickets, products, priorities, times, durations,
months, customers, colleagues, vendor cases, windows, duties and languages.

Extraction works on the folded text (`normalize.fold`) and reports each entity together with
the span it took, so the classifier can see "_ticket_" instead of "CCS-2026-000012" and learn
the phrasing, not the numbers. Names of customers and colleagues come from the directory and
are matched with `rapidfuzz`, so "Adel" and "Contosso" are still found.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from dialogs.context import Language
from dialogs.understanding import when
from storage.directory import Directory, Priority, Product

RefKind = Literal["number", "sequence", "last", "day", "product"]


@dataclass(frozen=True, slots=True)
class TicketRef:
    """A ticket as the person named it; resolved against what they may see by the router."""

    kind: RefKind
    value: str = ""  # the full number, the sequence ("12"), the day ("yesterday"), a product

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value}


@dataclass(slots=True)
class Entities:
    """Everything found in one message (None: not named)."""

    ticket: TicketRef | None = None
    product: Product | None = None
    priority: Priority | None = None
    moment: datetime | None = None
    duration: timedelta | None = None
    month: str | None = None
    period: str | None = None
    customer: str | None = None
    person: str | None = None
    vendor: str | None = None
    case: str | None = None
    window: str | None = None
    duty: str | None = None
    language: Language | None = None
    switch: str | None = None
    spans: list[tuple[int, int, str]] = field(default_factory=list)

    def as_json(self, zone: ZoneInfo, slots: set[str]) -> dict[str, Any]:
        """The entities of these slots that were found, as plain JSON values."""
        found: dict[str, Any] = {}
        for name in (
            "product", "priority", "month", "period", "customer", "person", "vendor", "case",
            "window", "duty", "language", "switch",
        ):  # fmt: skip
            value = getattr(self, name)
            if value is not None and name in slots:
                found[name] = str(value.value if hasattr(value, "value") else value)
        if self.ticket is not None and "ticket" in slots:
            found["ticket"] = self.ticket.as_json()
        if self.moment is not None and "moment" in slots:
            found["time"] = self.moment.astimezone(zone).isoformat(timespec="minutes")
        if self.duration is not None and "duration" in slots:
            found["duration"] = when.compact(self.duration)
        return found


# --- the directory's names ------------------------------------------------------------------

_LEGAL_FORMS = re.compile(r"\b(gmbh|ag|kg|og|e\.?u\.?|ltd|inc|llc|se|co|customer)\b\.?")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The names the directory knows, folded once: customers and staff."""

    customers: dict[str, str]  # folded name or key → customer key
    staff: dict[str, str]  # folded full name, first name or e-mail → full name
    ticket_prefix: str

    def with_names_of(self, other: Vocabulary) -> Vocabulary:
        """These names, and the other's where they do not clash."""
        return Vocabulary(
            {**other.customers, **self.customers}, {**other.staff, **self.staff}, self.ticket_prefix
        )

    @classmethod
    def of(cls, directory: Directory, ticket_prefix: str = "CCS") -> Vocabulary:
        from dialogs.understanding.normalize import fold

        customers: dict[str, str] = {}
        for customer in directory.customers:
            customers[fold(customer.key)] = customer.key
            customers[fold(customer.name)] = customer.key
            short = _LEGAL_FORMS.sub("", fold(customer.name)).strip()
            if len(short) >= 3:
                customers[short] = customer.key
        staff: dict[str, str] = {}
        for member in directory.staff:
            staff[fold(member.name)] = member.name
            staff[fold(member.name).split()[0]] = member.name
            if member.email:
                staff[member.email.lower()] = member.name
        return cls(customers, staff, ticket_prefix.lower())


# --- tickets ----------------------------------------------------------------------------------

_FULL_NUMBER = re.compile(r"\b[a-z]{2,10}-\d{4}-\d{6}\b")
_HASH_NUMBER = re.compile(r"#\s?(\d{1,6})\b")
_NAMED_NUMBER = re.compile(
    r"\b(?:ticket|tiket|tickets|tix|case|fall|meldung|stoerung|incident|nr|nummer|number|no|"
    r"num|anfrage)\s*(?:nr\.?|nummer|number|no\.?|#)?\s*\.?\s*(\d{1,6})\b"
)
_LAST = re.compile(
    r"\b(?:the\s+|my\s+|our\s+|das\s+|mein\s+|meinem\s+|unser\s+|dem\s+)?"
    r"(?:last|latest|newest|recent|most recent|letzte|letzten|letztes|neueste|neuesten|neuestes|"
    r"aktuelle|aktuellen)\s+(?:one|ticket|case|fall|meldung|stoerung|issue|report)s?\b"
    r"|\b(?:das|the)\s+(?:letzte|last one|latest one)\b"
)
_DAY_REF = re.compile(
    r"\b(?:ticket|case|fall|meldung|stoerung|one|das|the)\s+(?:von|from|of)\s+"
    r"(?P<day>gestern|heute|yesterday|today|vorgestern)\b"
    r"|\b(?P<day2>yesterday|today)'?s\s+(?:ticket|case|one|issue)\b"
    r"|\b(?P<day3>gestrige|gestrigen|heutige|heutigen)\s+(?:ticket|fall|meldung|stoerung)\b"
)
_DAYS = {
    "gestern": "yesterday", "yesterday": "yesterday", "gestrige": "yesterday",
    "gestrigen": "yesterday", "heute": "today", "today": "today", "heutige": "today",
    "heutigen": "today", "vorgestern": "day-before-yesterday",
}  # fmt: skip
# "the Luware one", "das WxCC-Ticket", "zum Luware-Ticket", "vom Teams-Ticket": up to four words
# after the nearest article ("die Adele aufs WxCC-Ticket" names Adele and the WxCC ticket)
_ARTICLES = r"(?:the|this|that|das|dem|den|die|zum|vom|aufs|ins|im|beim)"
_PRODUCT_REF = re.compile(
    rf"\b{_ARTICLES}\s+(?P<product>(?:(?!{_ARTICLES}\b)[\w-]+ ?){{1,4}}?)[- ]?"
    r"(?:one|ticket|case|fall|thing|problem|issue|stoerung|sache|thema)\b"
)
# A bare number is a ticket only where nothing else explains it (a time, a count of users…)
_BARE_NUMBER = re.compile(r"(?<![\w:.,+/-])(\d{1,6})(?![\w%/-]|[:.,]\d)")
_COUNT_WORDS = re.compile(
    r"^\s*(?:users?|user|benutzer|leute|personen|people|mitarbeiter|mitarbeitende|agents?|"
    r"agent|plaetze|seats?|telefone|phones?|geraete|devices?|standorte?|sites?|uhr|min|minuten|"
    r"minutes|stunden|hours?|h|std|tage|days?|prozent|%|calls?|anrufe)\b"
)
_TIME_BEFORE = re.compile(r"\b(?:um|at|seit|since|ab|gegen|bis|until|von|from|vor|halb)\s*$")
# For a command that takes no time, "von 14" and "from 14" are the ticket's ("der Kunde von 14")
_CLOCK_BEFORE = re.compile(r"\b(?:um|at|seit|since|ab|gegen|bis|until|vor|halb)\s*$")


def ticket_ref(
    text: str, taken: list[tuple[int, int, str]], prefix: str
) -> tuple[TicketRef, tuple[int, int]] | None:
    """The ticket a folded text names, strongest form first ("CCS-12" only with the provider's
    own prefix: "ABC-123" is somebody else's number)."""
    if match := _FULL_NUMBER.search(text):
        return TicketRef("number", match[0].upper()), match.span()
    prefixed = re.compile(rf"\b{re.escape(prefix)}-?(\d{{1,6}})\b")
    for pattern in (_NAMED_NUMBER, _HASH_NUMBER, prefixed):
        for match in pattern.finditer(text):
            if not _overlaps(match.span(), taken):
                return TicketRef("sequence", str(int(match[1]))), match.span()
    # the product before the day: "das Luware-Ticket von heute" is the Luware one
    if found := _product_ref(text):
        return found
    if match := _DAY_REF.search(text):
        day = match["day"] or match["day2"] or match["day3"]
        return TicketRef("day", _DAYS[day]), match.span()
    if match := _LAST.search(text):
        return TicketRef("last"), match.span()
    return None


def _product_ref(text: str) -> tuple[TicketRef, tuple[int, int]] | None:
    if match := _PRODUCT_REF.search(text):
        named = match["product"]
        family = next((f for f in _FAMILIES if re.search(rf"\b{f}\b", named)), None)
        product = product_in(named)
        if family is not None and (product is None or not product[0].value.startswith(family)):
            return TicketRef("product", family), match.span()
        if product is not None:
            return TicketRef("product", product[0].value), match.span()
    return None


# "the Luware one": any product of the family
_FAMILIES = ("luware", "webex")


def bare_number(
    text: str, taken: list[tuple[int, int, str]], *, times: bool = True
) -> tuple[TicketRef, tuple[int, int]] | None:
    """A standalone number that nothing else explains, as a ticket's sequence number.
    `times`: whether the message may name a point in time at all (False for a command that
    takes none: "richte dem Kunden von 12 aus …" names ticket 12, not 12 o'clock)."""
    if not times:
        taken = [span for span in taken if span[2] != "time"]
    before = _TIME_BEFORE if times else _CLOCK_BEFORE
    for match in _BARE_NUMBER.finditer(text):
        if _overlaps(match.span(), taken):
            continue
        if _COUNT_WORDS.match(text[match.end() :]) or before.search(text[: match.start()]):
            continue
        return TicketRef("sequence", str(int(match[1]))), match.span()
    return None


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int, str]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end, _ in taken)


# --- products and priorities ----------------------------------------------------------------

_PRODUCT_NAMES: tuple[tuple[Product, tuple[str, ...]], ...] = (
    (Product.WEBEX_CONTACT_CENTER, (
        "webex contact center", "webex contact centre", "webex cc", "wxcc", "wx cc",
        "contact center", "contact centre", "contactcenter", "agent desktop", "callcenter",
        "call center",
    )),
    (Product.LUWARE_CONTACT_CENTER, (
        "luware contact center", "luware cc", "nimbus", "luware nimbus",
    )),
    (Product.LUWARE_ATTENDANT_CONSOLE, (
        "attendant console", "attendant", "luware attendant", "vermittlung", "vermittlungsplatz",
        "vermittlungskonsole", "telefonzentrale", "zentrale",
    )),
    (Product.LUWARE_RECORDING, (
        "luware recording", "recording", "aufzeichnung", "aufzeichnungen", "aufnahme",
        "aufnahmen", "mitschnitt", "mitschnitte", "gespraechsaufzeichnung", "recordings",
    )),
    (Product.WEBEX_CALLING, (
        "webex calling", "webex telefonie", "webex", "webex app", "cisco calling", "cisco phone",
        "cisco telefon", "cisco", "wxc",
    )),
    (Product.MICROSOFT_CALLING, (
        "teams telefonie", "teams-telefonie", "teams calling", "teams phone", "teams telefon",
        "microsoft calling", "microsoft teams", "ms teams", "teams", "direct routing",
        "operator connect", "microsoft", "sbc",
    )),
)  # fmt: skip
_PRODUCT_LOOKUP = {name: product for product, names in _PRODUCT_NAMES for name in names}
_PRODUCT_PATTERN = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _PRODUCT_LOOKUP), key=len, reverse=True)) + r")\b"
)
_PRODUCT_WORDS = sorted({w for name in _PRODUCT_LOOKUP for w in name.split() if len(w) >= 5})


def product_in(text: str) -> tuple[Product, tuple[int, int]] | None:
    """The product a folded text names, by its everyday name; typos forgiven."""
    if match := _PRODUCT_PATTERN.search(text):
        return _PRODUCT_LOOKUP[match[1]], match.span()
    for word in re.finditer(r"[a-z]{5,}", text):
        hit = process.extractOne(word[0], _PRODUCT_WORDS, scorer=fuzz.ratio, score_cutoff=84)
        if hit is not None:
            repaired = text[: word.start()] + hit[0] + text[word.end() :]
            if found := _PRODUCT_PATTERN.search(repaired):
                return _PRODUCT_LOOKUP[found[1]], word.span()
    return None


_PRIORITY_HINTS: tuple[tuple[Priority, re.Pattern[str]], ...] = (
    (Priority.P4, re.compile(
        r"\b(?:p4|prio(?:ritaet|rity)? ?4|question|frage|wie kann ich|how do i|how can i|"
        r"info(?:rmation)? only|nicht dringend|not urgent|no rush|keine eile|wenn zeit ist)"
    )),
    (Priority.P1, re.compile(
        r"\b(?:p1|prio(?:ritaet|rity)? ?1|total(?:ausfall)?|komplett(?:ausfall)?|complete outage|"
        r"totally down|nobody can|no one can|niemand kann|keiner kann|niemand mehr|"
        r"alle (?:\d+ )?(?:user|benutzer|mitarbeiter|standorte|telefone)|"
        r"all (?:\d+ )?(?:users|agents|sites|phones)|whole company|ganze firma|gesamte|"
        r"sehr dringend|very urgent|extrem dringend|critical|kritisch|"
        r"notfall|emergency|gar nichts|nothing works|nix geht|nichts geht|everything is down|"
        r"alles (?:ist )?(?:tot|down|ausgefallen|weg)|kein (?:einziges )?telefon|keine anrufe|"
        r"no calls|no phone (?:rings|works)|no incoming calls|keine eingehenden|"
        r"nicht erreichbar|unreachable|ausgefallen|komplett weg|outage)"
    )),
    (Priority.P2, re.compile(
        r"\b(?:p2|prio(?:ritaet|rity)? ?2|dringend|urgent|asap|many users|viele (?:user|benutzer|"
        r"mitarbeiter)|mehrere (?:user|benutzer|mitarbeiter)|several users|half of|die haelfte|"
        r"ganze abteilung|whole department|major|schwerwiegend|wichtig)"
    )),
    (Priority.P3, re.compile(
        r"\b(?:p3|prio(?:ritaet|rity)? ?3|one user|ein user|ein benutzer|eine kollegin|ein kollege|"
        r"single user|only me|nur ich|nur bei mir|manchmal|sometimes|occasionally|ab und zu|minor)"
    )),
)  # fmt: skip


def priority_hint(text: str) -> Priority | None:
    """The priority the words suggest ("nobody can call" → P1); the contact confirms it.
    Words after a negation do not count ("nicht dringend", "not critical")."""
    for priority, pattern in _PRIORITY_HINTS:
        for match in pattern.finditer(text):
            if not _NEGATED.search(text[max(0, match.start() - 12) : match.start()]):
                return priority
    return None


_NEGATED = re.compile(r"\b(?:nicht|not|kein|keine|no|never|nie)\s+(?:so\s+|very\s+|sehr\s+)?$")


# --- months and periods -----------------------------------------------------------------------

_MONTHS = {
    "januar": 1, "jaenner": 1, "janner": 1, "january": 1, "jan": 1, "februar": 2,
    "feber": 2, "february": 2, "feb": 2, "maerz": 3, "marz": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4, "mai": 5, "may": 5, "juni": 6, "june": 6, "jun": 6, "juli": 7,
    "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11,
    "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}  # fmt: skip
_MONTH_NAME = re.compile(
    r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?(?:\s+(\d{4}))?"
)
_PLAUSIBLE_YEARS = (2000, 2100)
_ISO_MONTH = re.compile(r"\b(\d{4})-(\d{2})\b(?!-)")
_PERIODS = (
    ("last week", re.compile(r"\b(?:last week|letzte[nr]? woche|vorige[nr]? woche|vorwoche)\b")),
    ("this week", re.compile(r"\b(?:this week|diese[rn]? woche|current week|aktuelle[rn]? woche|"
                             r"bisher diese woche|der woche)\b")),
    ("last month", re.compile(r"\b(?:last month|previous month|letzte[nr]? monat|vormonat|"
                              r"vorige[nr]? monat|vergangene[nr]? monat)\b")),
    ("this month", re.compile(r"\b(?:this month|diese[nr]? monat|current month|aktuelle[nr]? "
                              r"monat|laufende[nr]? monat|bisher)\b")),
)  # fmt: skip


def month_in(text: str, now: datetime, zone: ZoneInfo) -> tuple[str, tuple[int, int]] | None:
    """A month as `YYYY-MM`: "Oktober", "October 2025", "2026-10", "last month". A month
    name without a year is the latest such month that has begun."""
    today = now.astimezone(zone).date()
    if (match := _ISO_MONTH.search(text)) and _PLAUSIBLE_YEARS[0] <= int(
        match[1]
    ) <= _PLAUSIBLE_YEARS[1]:
        return f"{match[1]}-{match[2]}", match.span()
    if match := _MONTH_NAME.search(text):
        number = _MONTHS[match[1]]
        year = int(match[2]) if match[2] else today.year - (number > today.month)
        if not _PLAUSIBLE_YEARS[0] <= year <= _PLAUSIBLE_YEARS[1]:
            return None  # "December 9999" is no month anybody reports on
        return f"{year:04d}-{number:02d}", match.span()
    for label, pattern in _PERIODS:
        if "month" in label and (found := pattern.search(text)):
            first = today.replace(day=1)
            if label == "last month":
                first = (first - timedelta(days=1)).replace(day=1)
            return f"{first:%Y-%m}", found.span()
    return None


def period_in(text: str, now: datetime, zone: ZoneInfo) -> tuple[str, tuple[int, int]] | None:
    """A reporting period: this/last week or month, or a month (`YYYY-MM`)."""
    for label, pattern in _PERIODS:
        if "week" in label and (match := pattern.search(text)):
            return label, match.span()
    return month_in(text, now, zone)


# --- customers and colleagues -----------------------------------------------------------------


_NAME_LIKE = re.compile(r"[a-z][a-z.@-]{3,}")


@functools.lru_cache(maxsize=1024)
def _whole_name(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@.]){re.escape(name)}(?![\w@])")


def name_in(
    text: str, names: dict[str, str], taken: list[tuple[int, int, str]], cutoff: int
) -> tuple[str, tuple[int, int]] | None:
    """A directory name in a folded text: exact words first, then close spellings."""
    for name in sorted(names, key=len, reverse=True):
        if name not in text:
            continue  # most names are not in most texts: no pattern to run
        for match in _whole_name(name).finditer(text):
            if not _overlaps(match.span(), taken):
                return names[name], match.span()
    choices = list(names)
    for match in _NAME_LIKE.finditer(text):
        word, span = match[0], match.span()
        if _overlaps(span, taken):
            continue
        hit = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
        if hit is not None:
            return names[hit[0]], span
    return None


# --- small things -----------------------------------------------------------------------------

_VENDOR = re.compile(r"\b(cisco|tac|microsoft|msft|ms|luware|nimbus|premier|unified support)\b")
_VENDOR_NAMES = {"tac": "cisco", "msft": "microsoft", "ms": "microsoft", "premier": "microsoft",
                 "unified support": "microsoft", "nimbus": "luware"}  # fmt: skip
_CASE_ID = re.compile(
    r"\b(?:sr|case|fall|ticket|trackingid|tracking id)?\s*#?\s*([a-z]{0,4}\d{6,})\b"
)
_WINDOW = re.compile(r"\bw\s?(\d{1,8})\b")
_DUTY = re.compile(r"\bd\s?(\d{1,8})\b")
_LANGUAGES: tuple[tuple[Language, re.Pattern[str]], ...] = (
    ("de", re.compile(r"\b(?:deutsch|german|auf deutsch|in german|germ|dt)\b")),
    ("en", re.compile(r"\b(?:english|englisch|engl|in english|auf englisch|en)\b")),
)
_OFF = re.compile(
    r"\b(?:off|aus|ausschalten|abschalten|deaktivieren|abbestellen|stop|stopp|stoppen|"
    r"nicht mehr|no more|unsubscribe|disable|pause|keine|kein|mute|beenden)\b"
)
_ON = re.compile(
    r"\b(?:on|ein|an|einschalten|anschalten|aktivieren|abonnieren|start|starten|enable|"
    r"subscribe|wieder|resume|bitte schicken|turn on|switch on)\b"
)


def vendor_in(text: str) -> tuple[str, tuple[int, int]] | None:
    if match := _VENDOR.search(text):
        return _VENDOR_NAMES.get(match[1], match[1]), match.span()
    return None


def case_in(text: str, taken: list[tuple[int, int, str]]) -> tuple[str, tuple[int, int]] | None:
    for match in _CASE_ID.finditer(text):
        if not _overlaps(match.span(1), taken):
            return match[1].upper(), match.span(1)
    return None


def id_in(pattern: re.Pattern[str], prefix: str, text: str) -> tuple[str, tuple[int, int]] | None:
    if match := pattern.search(text):
        return f"{prefix}{int(match[1])}", match.span()
    return None


def language_in(text: str) -> Language | None:
    return next((lang for lang, pattern in _LANGUAGES if pattern.search(text)), None)


def switch_in(text: str) -> str | None:
    if _OFF.search(text):
        return "off"
    return "on" if _ON.search(text) else None


@dataclass(frozen=True, slots=True)
class Frame:
    """What the extractor needs besides the text: the clock and the asker's zone."""

    now: datetime
    zone: ZoneInfo
    vocabulary: Vocabulary
    # False: only find where times are (for the classifier), do not read them (dateparser)
    read_times: bool = True


def extract(text: str, frame: Frame) -> Entities:
    """Every entity in a folded text, with the spans they took (for masking)."""
    found = Entities()
    spans = found.spans

    def keep(kind: str, hit: tuple[Any, tuple[int, int]] | None) -> Any:
        if hit is None:
            return None
        spans.append((hit[1][0], hit[1][1], kind))
        return hit[0]

    vocabulary = frame.vocabulary
    found.window = keep("window", id_in(_WINDOW, "W", text))
    found.duty = keep("duty", id_in(_DUTY, "D", text))
    if frame.read_times:
        found.moment = keep(
            "time", when.moment_in(text, now=frame.now, zone=frame.zone, prefer=_prefer(text))
        )
    elif places := when.candidates(text, _prefer(text)):
        spans.append((*places[0].span(), "time"))
    found.duration = keep("duration", _duration(text, spans))
    found.period = keep("period", period_in(text, frame.now, frame.zone))
    if found.period is not None and "week" not in found.period:
        month = month_in(text, frame.now, frame.zone)
        found.month = month[0] if month else None
    vendor = vendor_in(text)
    found.vendor = vendor[0] if vendor else None
    found.case = keep("case", case_in(text, spans) if found.vendor else None)
    product = product_in(text)
    found.product = product[0] if product else None
    found.ticket = keep("ticket", ticket_ref(text, spans, vocabulary.ticket_prefix))
    if product is not None and not _overlaps(product[1], spans):
        spans.append((product[1][0], product[1][1], "product"))
    found.customer = keep("customer", name_in(text, vocabulary.customers, spans, 86))
    found.person = keep("person", name_in(text, vocabulary.staff, spans, 84))
    found.priority = priority_hint(text)
    found.language = language_in(text)
    found.switch = switch_in(text)
    return found


def _duration(
    text: str, taken: list[tuple[int, int, str]]
) -> tuple[timedelta, tuple[int, int]] | None:
    hit = when.duration_in(text)
    if hit is None or _overlaps(hit[1], taken):
        # "vor 2 Stunden" is a moment; look behind it for a real duration
        rest_start = max((end for _, end, kind in taken if kind == "time"), default=-1)
        if rest_start < 0:
            return None
        later = when.duration_in(text[rest_start:])
        if later is None:
            return None
        return later[0], (later[1][0] + rest_start, later[1][1] + rest_start)
    return hit


_FUTURE_WORDS = re.compile(
    r"\b(?:wartung|maintenance|wartungsfenster|planen|plan|schedule|einplanen|termin|next|"
    r"naechste|kommende|tomorrow|uebermorgen|move|verschieben)\b|(?<!guten )\bmorgen\b"
)


def _prefer(text: str) -> when.Prefer:
    return "future" if _FUTURE_WORDS.search(text) else "past"


def masked(text: str, spans: list[tuple[int, int, str]]) -> str:
    """The text with every entity replaced by its kind ("ack _ticket_ pls")."""
    out, position = [], 0
    for start, end, kind in sorted(spans):
        if start < position:
            continue
        out += [text[position:start], f" _{kind}_ "]
        position = end
    out.append(text[position:])
    return " ".join("".join(out).split())
