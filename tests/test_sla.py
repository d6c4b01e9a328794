"""A ticket's SLA, derived from its event log: deadlines, pauses, changes, reopen, warnings.

Contract CCSB: 4h reaction (1h for P1), 18h resolution, warnings at 50/75/90 %, service time
SNAZ (Mon–Fri 08:00–17:00 Vienna). PREMIUM: 4h reaction around the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dialogs.why_text import why_text
from storage.directory import Contract, Directory, Priority
from storage.sla import SlaEvent, SlaEventKind, SlaState, TermsFor, sla_state, terms_from_directory

H, M = timedelta(hours=1), timedelta(minutes=1)
E = SlaEventKind


@pytest.fixture(scope="module")
def terms(directory: Directory) -> TermsFor:
    ccsb = directory.contracts["CCSB"].model_copy(
        update={"reaction_by_priority": {Priority.P1: "1h"}, "resolution": "18h"}
    )
    premium = Contract(name="Premium", service_time="24x7", reaction="4h")
    contracts = {"CCSB": ccsb, "PREMIUM": premium}
    return terms_from_directory(directory.model_copy(update={"contracts": contracts}))


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}:00+01:00")


def created(when: str, priority: Priority = Priority.P2, contract: str = "CCSB") -> SlaEvent:
    return SlaEvent(E.CREATED, at(when), priority=priority, contract=contract)


def event(kind: SlaEventKind, when: str, **extra: object) -> SlaEvent:
    return SlaEvent(kind, at(when), **extra)  # type: ignore[arg-type]


def state(terms: TermsFor, now: str, *events: SlaEvent) -> SlaState:
    return sla_state(list(events), terms, at(now))


def vienna(instant: datetime | None) -> str:
    assert instant is not None
    return instant.astimezone(datetime.fromisoformat("2026-01-07T00:00+01:00").tzinfo).strftime(
        "%m-%d %H:%M"
    )


def test_a_fresh_ticket_has_a_deadline_and_warnings(terms: TermsFor) -> None:
    sla = state(terms, "01-07T16:00", created("01-07T15:30"))
    reaction = sla.reaction

    assert (reaction.used, reaction.left) == (30 * M, 3 * H + 30 * M)
    assert vienna(reaction.deadline) == "01-08 10:30"
    assert [(m.percent, vienna(m.at)) for m in reaction.milestones] == [
        (50, "01-08 08:30"),
        (75, "01-08 09:30"),
        (90, "01-08 10:06"),
        (100, "01-08 10:30"),
    ]
    assert not reaction.breached
    assert vienna(sla.next_due(after=at("01-07T16:00"))) == "01-08 08:30"


def test_the_first_response_stops_the_reaction_clock(terms: TermsFor) -> None:
    sla = state(terms, "01-08T15:00", created("01-07T15:30"), event(E.RESPONDED, "01-08T09:00"))

    assert sla.reaction.used == 2 * H + 30 * M
    assert not sla.reaction.running
    assert not sla.reaction.breached
    assert sla.resolution is not None and sla.resolution.running
    # only the resolution clock is still watched
    assert sla.next_due() == sla.resolution.milestones[0].at


def test_no_response_in_time_is_a_breach(terms: TermsFor) -> None:
    sla = state(terms, "01-08T11:00", created("01-07T15:30"))
    assert sla.reaction.breached
    assert sla.reaction.left == -30 * M


def test_exactly_at_the_deadline_is_not_yet_a_breach(terms: TermsFor) -> None:
    sla = state(terms, "01-08T10:30", created("01-07T15:30"))
    assert not sla.reaction.breached
    assert sla.reaction.left == timedelta(0)


def test_waiting_for_the_customer_stops_the_clock(terms: TermsFor) -> None:
    log = [
        created("01-07T15:30"),
        event(E.PAUSED, "01-07T16:30", reason="waiting for logfiles"),
    ]
    waiting = state(terms, "01-08T09:00", *log)
    assert waiting.reaction.is_paused
    assert waiting.reaction.deadline is None
    assert waiting.reaction.used == H
    assert waiting.next_due() is None

    resumed = state(terms, "01-08T10:00", *log, event(E.RESUMED, "01-08T10:00"))
    # 1h counted Wednesday; paused 16:30–17:00 and 08:00–10:00; 3h left from Thursday 10:00
    assert resumed.reaction.paused == 2 * H + 30 * M
    assert vienna(resumed.reaction.deadline) == "01-08 13:00"


def test_a_priority_change_keeps_past_pauses(terms: TermsFor) -> None:
    log = [
        created("01-07T15:30", Priority.P3),
        event(E.PAUSED, "01-07T16:30"),
        event(E.RESUMED, "01-08T10:00"),
        event(E.PRIORITY_CHANGED, "01-08T10:15", priority=Priority.P1),
    ]
    sla = state(terms, "01-08T10:15", *log)

    # P1's 1h target was already used up on Wednesday 16:30, before the pause
    assert sla.reaction.target == H
    assert vienna(sla.reaction.deadline) == "01-07 16:30"
    assert sla.reaction.breached
    assert sla.reaction.paused == 2 * H + 30 * M


def test_a_lower_priority_gives_more_time_and_keeps_pauses(terms: TermsFor) -> None:
    log = [
        created("01-07T15:30", Priority.P1),
        event(E.PAUSED, "01-07T16:00"),
        event(E.RESUMED, "01-08T10:00"),
        event(E.PRIORITY_CHANGED, "01-08T10:00", priority=Priority.P2),
    ]
    sla = state(terms, "01-08T10:00", *log)
    # 30m used before the pause, 3h30 left from Thursday 10:00
    assert vienna(sla.reaction.deadline) == "01-08 13:30"


def test_a_contract_change_brings_its_own_service_time(terms: TermsFor) -> None:
    log = [
        created("03-06T16:00"),  # Friday
        event(E.CONTRACT_CHANGED, "03-06T16:30", contract="PREMIUM"),
    ]
    sla = state(terms, "03-06T16:30", *log)
    # 30m in SNAZ, then 3h30 around the clock: Friday 20:00, not Monday
    assert vienna(sla.reaction.deadline) == "03-06 20:00"
    assert sla.terms.service_time == "24x7"


def test_a_report_outside_the_service_time_starts_at_the_next_opening(terms: TermsFor) -> None:
    sla = state(terms, "03-07T12:00", created("03-07T10:00"))  # Saturday
    assert sla.reaction.used == timedelta(0)
    assert vienna(sla.reaction.deadline) == "03-09 12:00"


def test_a_reopen_starts_a_new_reaction_cycle(terms: TermsFor) -> None:
    log = [
        created("03-02T09:00"),
        event(E.RESPONDED, "03-02T10:00"),
        event(E.RESOLVED, "03-02T12:00"),
        event(E.REOPENED, "03-03T16:00"),
    ]
    sla = state(terms, "03-03T16:30", *log)

    assert sla.cycle == 2
    assert sla.reaction.running
    assert sla.reaction.used == 30 * M
    assert vienna(sla.reaction.deadline) == "03-04 11:00"
    assert sla.resolution is not None
    # resolution continues: 3h on Monday, nothing while resolved, 30m after the reopen
    assert sla.resolution.used == 3 * H + 30 * M


def test_the_resolution_clock_pauses_too(terms: TermsFor) -> None:
    log = [
        created("03-02T08:00"),
        event(E.RESPONDED, "03-02T08:30"),
        event(E.PAUSED, "03-02T09:00"),
        event(E.RESUMED, "03-02T10:00"),
        event(E.RESOLVED, "03-02T12:00"),
    ]
    sla = state(terms, "03-05T12:00", *log)
    assert sla.resolution is not None
    assert (sla.resolution.used, sla.resolution.paused) == (3 * H, H)
    assert not sla.resolution.running
    assert not sla.resolution.breached
    assert sla.next_due() is None


def test_a_log_must_start_with_the_report(terms: TermsFor) -> None:
    with pytest.raises(ValueError, match="starts with a `created` event"):
        sla_state([event(E.RESPONDED, "03-02T08:30")], terms, at("03-02T09:00"))


def test_explain_names_every_stretch_and_the_holiday(terms: TermsFor) -> None:
    from storage.sla_explain import LineKind, explain

    log = [created("01-05T15:00"), event(E.PAUSED, "01-05T16:00", reason="waiting for logfiles")]
    log.append(event(E.RESUMED, "01-09T09:00"))
    explanation = explain(log, terms, at("01-09T09:30"))

    kinds = [line.kind for line in explanation.lines]
    assert kinds == [
        LineKind.START,
        LineKind.COUNTED,
        LineKind.CHANGE,
        LineKind.PAUSED,
        LineKind.CHANGE,
        LineKind.COUNTED,
        LineKind.END,
    ]
    counted = [line for line in explanation.lines if line.kind is LineKind.COUNTED]
    assert [line.business for line in counted] == [H, 3 * H]
    paused = next(line for line in explanation.lines if line.kind is LineKind.PAUSED)
    # Mon 16–17, Wed and Thu 08–17, Fri 08–09 (Tue is Epiphany): 20h of service time
    assert paused.business == 20 * H
    text = why_text(explanation, "en")
    assert "Fri 09.01.2026 09:00 – Fri 09.01.2026 12:00: counted 3 hrs (total 4 hrs)" in text
    assert "paused (waiting for logfiles), 20 hrs of service time not counted" in text
    assert "deadline Fri 09.01.2026 12:00" in text
    german = why_text(explanation, "de")
    assert "Fr. 09.01.2026 09:00 – Fr. 09.01.2026 12:00: gezählt 3 Std. (gesamt 4 Std.)" in german
    assert "pausiert (wartet auf Logdateien), 20 Std. Servicezeit nicht gezählt" in german


def test_explain_shows_closed_days_and_nights(terms: TermsFor) -> None:
    from storage.sla_explain import explain

    text = why_text(explain([created("12-23T15:00")], terms, at("12-23T15:30")), "en")

    assert "closed: Thu 24.12. Christmas Eve, Fri 25.12. Christmas Day" in text
    assert text.splitlines()[-1].endswith("deadline Mon 28.12.2026 10:00: 4 hrs used up")


def test_explain_judges_a_late_first_response(terms: TermsFor) -> None:
    from storage.sla_explain import explain

    log = [created("01-07T15:30"), event(E.RESPONDED, "01-08T11:00")]
    text = why_text(explain(log, terms, at("01-09T12:00")), "en")

    assert "Wed 07.01.2026 17:00 – Thu 08.01.2026 08:00: outside the service time" in text
    assert text.splitlines()[-1].endswith("first response after 4 hrs 30 mins: too late")


def test_explain_a_reopened_ticket_starts_at_the_reopen(terms: TermsFor) -> None:
    from storage.sla_explain import explain

    log = [
        created("03-02T09:00"),
        event(E.RESPONDED, "03-02T10:00"),
        event(E.RESOLVED, "03-02T12:00"),
        event(E.REOPENED, "03-03T16:00"),
    ]
    lines = why_text(explain(log, terms, at("03-03T16:30")), "en").splitlines()
    assert lines[0].startswith("Tue 03.03.2026 16:00: reopened: a new reaction cycle")
    assert lines[-1].endswith("deadline Wed 04.03.2026 11:00: 4 hrs used up")


def test_explain_leaves_out_stretches_shorter_than_a_minute(terms: TermsFor) -> None:
    from storage.sla_explain import LineKind, explain

    report = at("03-02T09:00")
    log = [
        SlaEvent(SlaEventKind.CREATED, report, priority=Priority.P2, contract="CCSB"),
        SlaEvent(SlaEventKind.PAUSED, report + timedelta(seconds=20), reason="a question"),
        SlaEvent(SlaEventKind.RESUMED, report + timedelta(seconds=40)),
        SlaEvent(SlaEventKind.RESPONDED, report + 2 * H),
    ]
    explanation = explain(log, terms, report + 3 * H)

    text = why_text(explanation, "en")
    assert "09:00 – Mon 02.03.2026 09:00" not in text
    stretches = [
        line for line in explanation.lines if line.kind in {LineKind.COUNTED, LineKind.PAUSED}
    ]
    assert [(line.kind, line.business) for line in stretches] == [
        (LineKind.COUNTED, 2 * H - 40 * timedelta(seconds=1))
    ]
    # the pause and the resume stay as events; the seconds before them still count
    assert "paused: a question" in text and "resumed" in text
    assert text.splitlines()[-1].endswith("first response after 1 hr 59 mins: in time")
