"""The directory: who is who, under which contract, and where the bot talks to them.

It is a TOML file (`CHATOPS_DIRECTORY`, default `chatops.toml`, falling back to the shipped
`chatops.example.toml`). It never holds secrets. Loading validates everything at once and
reports every problem with its field path, so `chatops check` can list them all.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from storage.errors import ConfigurationError

_DURATION = re.compile(r"^\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m(?:in)?)?\s*$")
_WINDOW = re.compile(r"^(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$")
_CLOSED_DAY = re.compile(r"^(?:(?P<year>\d{4})-)?(?P<month>\d{2})-(?P<day>\d{2})$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Role(StrEnum):
    """What a person may do; staff roles come from the directory, contacts from their org."""

    CONTACT = "contact"
    ENGINEER = "engineer"
    MANAGER = "manager"


class Priority(StrEnum):
    """How bad a fault is, P1 (total outage) to P4 (question)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Product(StrEnum):
    """Products the provider supports (stable ids used in cards and the directory)."""

    WEBEX_CALLING = "webex-calling"
    WEBEX_CONTACT_CENTER = "webex-contact-center"
    MICROSOFT_CALLING = "microsoft-calling"
    LUWARE_ATTENDANT_CONSOLE = "luware-attendant-console"
    LUWARE_RECORDING = "luware-recording"
    LUWARE_CONTACT_CENTER = "luware-contact-center"
    OTHER = "other"


def parse_duration(text: str) -> timedelta:
    """`4h`, `90m`, `1h30m` → timedelta; raises ValueError on anything else or zero."""
    match = _DURATION.match(text)
    if not match or not (match["h"] or match["m"]):
        raise ValueError(f"{text!r} is not a duration like 4h, 90m or 1h30m")
    duration = timedelta(hours=int(match["h"] or 0), minutes=int(match["m"] or 0))
    if not duration:
        raise ValueError("a duration must be longer than zero")
    return duration


def _valid_duration(text: str) -> str:
    parse_duration(text)
    return text


# Kept as written ("4h") for display; `parse_duration` turns it into a timedelta.
Duration = Annotated[str, AfterValidator(_valid_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """One opening window on a weekday, in the service time's local time, as minutes after
    midnight: 08:00-17:00 is (480, 1020); `24:00` (1440) ends a window at midnight."""

    start_minute: Annotated[int, Field(ge=0, lt=1440)]
    end_minute: Annotated[int, Field(gt=0, le=1440)]

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end_minute <= self.start_minute:
            raise ValueError(f"window {self} ends before it starts")
        return self

    def __str__(self) -> str:
        return f"{_clock(self.start_minute)}-{_clock(self.end_minute)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_window(text: str) -> Window:
    match = _WINDOW.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a window like 08:00-17:00")
    start, end = _minutes(match["start"]), _minutes(match["end"])
    if end <= start:
        raise ValueError(f"window {text!r} ends before it starts")
    return Window(start_minute=start, end_minute=end)


def _minutes(clock: str) -> int:
    hours, minutes = (int(part) for part in clock.split(":"))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(f"{clock!r} is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes


class ClosedDay(_Strict):
    """A day the service is closed besides public holidays: every year (`month`, `day`) or
    once (`year` set too)."""

    month: int
    day: int
    year: int | None = None
    name: str = ""

    def applies_to(self, when: date) -> bool:
        """True when `when` is this closed day."""
        return (when.month, when.day) == (self.month, self.day) and self.year in (
            None,
            when.year,
        )


def _parse_closed_day(text: str) -> ClosedDay:
    """`12-24`, `12-24 Christmas Eve`, `2026-12-07` or `2026-12-07 Company event`."""
    spec, _, name = text.strip().partition(" ")
    match = _CLOSED_DAY.match(spec)
    if not match:
        raise ValueError(f"{text!r} is neither MM-DD (every year) nor YYYY-MM-DD, plus a name")
    year = int(match["year"]) if match["year"] else None
    month, day = int(match["month"]), int(match["day"])
    try:
        date(year or 2024, month, day)  # 2024: a leap year, so 02-29 is a valid yearly day
    except ValueError:
        raise ValueError(f"{spec!r} is not a date") from None
    return ClosedDay(month=month, day=day, year=year, name=name.strip())


class HolidaySource(_Strict):
    """Public holidays from the `holidays` package (`language` of the names, e.g. "en_US")."""

    country: str = "AT"
    subdivision: str | None = None
    categories: tuple[str, ...] = ("public",)
    # Always explicit: left unset, the package picks a language from the process environment.
    language: str = "en_US"

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        import holidays

        if value not in holidays.list_supported_countries():
            raise ValueError(f"{value!r} is not a country the holidays package knows")
        return value

    @model_validator(mode="after")
    def _known_language(self) -> HolidaySource:
        import holidays

        supported = holidays.country_holidays(self.country).supported_languages
        if self.language not in supported:
            raise ValueError(
                f"holiday names for {self.country} come in {', '.join(supported)}, "
                f"not {self.language!r}"
            )
        return self


class ServiceTime(_Strict):
    """A service-time class: weekly windows in a timezone, minus holidays and closed days."""

    name: str = ""
    timezone: str = "Europe/Vienna"
    always_open: bool = False
    windows: dict[str, tuple[Window, ...]] = Field(default_factory=dict)
    holidays: HolidaySource | None = None
    closed_days: tuple[ClosedDay, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"{value!r} is not an IANA timezone")
        return value

    @field_validator("windows", mode="before")
    @classmethod
    def _parse_windows(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        parsed: dict[str, list[object]] = {}
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
            items = [spans] if isinstance(spans, str) else spans
            parsed[day] = [_parse_window(s) if isinstance(s, str) else s for s in items]
        return parsed

    @field_validator("closed_days", mode="before")
    @classmethod
    def _parse_closed_days(cls, value: object) -> object:
        if not isinstance(value, list | tuple):
            return value
        return [_parse_closed_day(v) if isinstance(v, str) else v for v in value]

    @model_validator(mode="after")
    def _has_opening(self) -> ServiceTime:
        if not self.always_open and not any(self.windows.values()):
            raise ValueError("needs windows, or always_open = true for 24x7")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The timezone the windows are laid out in."""
        try:
            return ZoneInfo(self.timezone)
        except ZoneInfoNotFoundError as exc:  # pragma: no cover - validated above
            raise ConfigurationError([f"unknown timezone {self.timezone}"]) from exc


class DutySchedule(_Strict):
    """The contract's recurring duties: how often, and how early engineers are reminded."""

    review_every_months: Annotated[int, Field(ge=1, le=24)] = 6  # features and licences
    update_check_every_months: Annotated[int, Field(ge=1, le=24)] = 3  # device software
    security_updates_every_months: Annotated[int, Field(ge=1, le=24)] = 1
    onboarding_within_days: Annotated[int, Field(ge=1, le=90)] = 10  # business days
    remind_before_days: Annotated[int, Field(ge=0, le=30)] = 5  # business days


class Contract(_Strict):
    """A support contract: which service time, which targets, which products."""

    name: str
    version: str = ""
    service_time: str
    reaction: Duration = "4h"
    reaction_by_priority: dict[Priority, Duration] = Field(default_factory=dict)
    resolution: Duration | None = None
    warnings: tuple[Annotated[int, Field(gt=0, lt=100)], ...] = (50, 75, 90)
    duties: DutySchedule = DutySchedule()
    products: tuple[Product, ...] = tuple(p for p in Product if p is not Product.OTHER)

    def reaction_time(self, priority: Priority | None = None) -> timedelta:
        """The reaction target in business time (for `priority`, where it has its own)."""
        if priority is not None and priority in self.reaction_by_priority:
            return parse_duration(self.reaction_by_priority[priority])
        return parse_duration(self.reaction)

    @property
    def resolution_time(self) -> timedelta | None:
        """The resolution target in business time, if the contract has one."""
        return parse_duration(self.resolution) if self.resolution else None


class TeamsChannel(_Strict):
    """A Teams channel by team and channel id (the channel id starts with `19:`)."""

    team_id: str
    channel_id: str


class WebexSpace(_Strict):
    """A Webex space by room id."""

    room_id: str


class ChannelTarget(_Strict):
    """Where a named channel (engineers, managers) lives in each chat system."""

    teams: TeamsChannel | None = None
    webex: WebexSpace | None = None
    # The language of the bot's posts there (alerts, reminders, digests): a channel is read by
    # many, so it is the channel's, not one person's.
    language: Literal["de", "en"] = "en"

    @model_validator(mode="after")
    def _somewhere(self) -> ChannelTarget:
        if self.teams is None and self.webex is None:
            raise ValueError("needs a teams or a webex target (or both)")
        return self


class ContractOverrides(_Strict):
    """Per-customer deviations from the contract ("unless agreed otherwise")."""

    service_time: str | None = None
    reaction: Duration | None = None
    resolution: Duration | None = None

    @property
    def reaction_time(self) -> timedelta | None:
        """The customer's own reaction target, if agreed."""
        return parse_duration(self.reaction) if self.reaction else None

    @property
    def resolution_time(self) -> timedelta | None:
        """The customer's own resolution target, if agreed."""
        return parse_duration(self.resolution) if self.resolution else None


class Customer(_Strict):
    """A customer organisation and how the bot recognises its contacts."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    contract: str
    language: Literal["de", "en"] = "de"
    teams_tenant_ids: tuple[str, ...] = ()
    webex_org_ids: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    channels: dict[str, str] = Field(default_factory=dict)
    overrides: ContractOverrides = ContractOverrides()
    # When the contract started: onboarding and the recurring duties are scheduled from it.
    onboarded: date | None = None

    @field_validator("email_domains")
    @classmethod
    def _lower_domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(domain.lower().lstrip("@") for domain in value)


class StaffMember(_Strict):
    """Someone at the provider: an engineer, a manager, or both."""

    name: str
    email: str
    roles: tuple[Literal[Role.ENGINEER, Role.MANAGER], ...]
    teams_aad_object_ids: tuple[str, ...] = ()
    webex_person_ids: tuple[str, ...] = ()
    language: Literal["de", "en"] = "en"

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError(f"{value!r} is not an e-mail address")
        return value.lower()

    @field_validator("roles")
    @classmethod
    def _some_role(cls, value: tuple[Role, ...]) -> tuple[Role, ...]:
        if not value:
            raise ValueError("staff need at least one role: engineer or manager")
        return value


class Provider(_Strict):
    """The managed-service provider running the bot."""

    name: str = "Support"
    # Ticket numbers look like CCS-2026-000123.
    ticket_prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,10}$")] = "CCS"
    default_channels: dict[str, str] = Field(default_factory=dict)
    # Business time after which a customer asked for logs is reminded (once).
    logs_reminder_after: Duration = "4h"
    # Business time after which a ticket's owner is reminded to chase a vendor case.
    vendor_chase_after: Duration = "8h"
    # Warn engineers about business-hours tickets outside the service time too?
    notify_outside_service_time: bool = False
    # A customer may reopen their own ticket this many days after it was resolved.
    reopen_within_days: Annotated[int, Field(ge=0, le=365)] = 7


class Directory(_Strict):
    """The whole directory file."""

    provider: Provider = Provider()
    service_times: dict[str, ServiceTime]
    contracts: dict[str, Contract]
    channels: dict[str, ChannelTarget] = Field(default_factory=dict)
    customers: tuple[Customer, ...] = ()
    staff: tuple[StaffMember, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> Directory:
        problems = list(self._dangling_references())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _dangling_references(self) -> list[str]:
        problems: list[str] = []
        for key, contract in self.contracts.items():
            if contract.service_time not in self.service_times:
                problems.append(
                    f"contracts.{key}.service_time: unknown service time {contract.service_time!r}"
                )
        for index, customer in enumerate(self.customers):
            where = f"customers.{index}"
            if customer.contract not in self.contracts:
                problems.append(f"{where}.contract: unknown contract {customer.contract!r}")
            override = customer.overrides.service_time
            if override is not None and override not in self.service_times:
                problems.append(f"{where}.overrides.service_time: unknown {override!r}")
            for purpose, channel in customer.channels.items():
                if channel not in self.channels:
                    problems.append(f"{where}.channels.{purpose}: unknown channel {channel!r}")
        for purpose, channel in self.provider.default_channels.items():
            if channel not in self.channels:
                problems.append(f"provider.default_channels.{purpose}: unknown channel {channel!r}")
        problems.extend(self._duplicates())
        return problems

    def _duplicates(self) -> list[str]:
        problems: list[str] = []
        seen: dict[str, str] = {}
        for index, customer in enumerate(self.customers):
            claims = [("key", customer.key)]
            claims += [("teams tenant", t) for t in customer.teams_tenant_ids]
            claims += [("webex org", o) for o in customer.webex_org_ids]
            claims += [("e-mail domain", d) for d in customer.email_domains]
            for kind, value in claims:
                token = f"{kind} {value}"
                if token in seen:
                    problems.append(f"customers.{index}: {token} is already used by {seen[token]}")
                seen[token] = customer.key
        return problems

    def customer(self, key: str) -> Customer | None:
        """The customer with this key, if any."""
        # A scan, not a cache: a cached lookup would survive `model_copy` and go stale.
        return next((c for c in self.customers if c.key == key), None)

    def customer_for_tenant(self, tenant_id: str) -> Customer | None:
        """The customer whose Microsoft 365 tenant this is."""
        return next((c for c in self.customers if tenant_id in c.teams_tenant_ids), None)

    def customer_for_webex_org(self, org_id: str) -> Customer | None:
        """The customer whose Webex organisation this is."""
        return next((c for c in self.customers if org_id in c.webex_org_ids), None)

    def customer_for_email(self, email: str) -> Customer | None:
        """The customer owning the e-mail address's domain."""
        domain = email.rpartition("@")[2].lower()
        return next((c for c in self.customers if domain and domain in c.email_domains), None)

    def staff_by_email(self, email: str) -> StaffMember | None:
        """The staff member with this e-mail address."""
        wanted = email.lower()
        return next((s for s in self.staff if s.email == wanted), None)

    def staff_by_aad_object_id(self, object_id: str) -> StaffMember | None:
        """The staff member with this Entra ID (Azure AD) object id."""
        return next((s for s in self.staff if object_id in s.teams_aad_object_ids), None)

    def staff_by_webex_person(self, person_id: str) -> StaffMember | None:
        """The staff member with this Webex person id."""
        return next((s for s in self.staff if person_id in s.webex_person_ids), None)


def load_directory(path: Path) -> Directory:
    """Read and validate a directory file; raise `ConfigurationError` listing every problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError([f"{path}: directory file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError([f"{path}: not valid TOML: {exc}"]) from None
    try:
        return Directory.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc, path)) from None


def _describe(exc: ValidationError, path: Path) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if location:
            problems.append(f"{path}: {location}: {message}")
        else:  # cross-reference problems already carry their own paths
            problems.extend(f"{path}: {item}" for item in message.split("; "))
    return problems
