"""Fault intake: a customer contact reports a fault and gets a ticket number and a deadline.

Two ways through the same draft:
- **card**: one Adaptive Card form (input ids `product`, `priority`, `description`, `since`,
  `affected`, `tested`, `phone`; the submit button's data carries
  `"action": "submit_fault_report"` — a stable contract for integrations), then a card of
  product-specific follow-ups, then a summary card to confirm.
- **text**: the same questions one by one; every answer is validated and asked again with the
  reason when it does not fit; `back` returns to the previous question.
A typed answer while the form is shown switches to text. `cancel` is handled by the router.

Between the description and the rest stands the contract's scope guard: hardware replacement
and client-side connectivity are explained as not covered (the contact may still report), a
configuration change becomes a change request once the contact consents to billing by effort.

States (`Draft.step`): product → priority → description → [scope | consent] → since →
affected → tested → phone → follow-ups… → confirm → (ticket created, dialog ends).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from adapters.model import Card, Choice, ChoiceInput, Fact, Outgoing, SubmitAction, TextInput
from dialogs import formats
from dialogs.base import DialogStep
from dialogs.coaching import FOLLOW_UP_QUESTIONS, FollowUp, priority_name, product_name
from dialogs.context import Language, Turn, service_zone
from dialogs.downloads import received_for_draft
from dialogs.i18n import N_, gettext_for
from dialogs.logfiles import (
    ReceivedFile,
    Uploader,
    attach,
    queue_downloads,
    received_from_state,
)
from dialogs.prefill import asks_only_to_report, prefill
from dialogs.scope import Scope, assess, explanation, out_of_contract_product
from dialogs.tickets import open_ticket
from dialogs.understanding.entities import priority_hint, product_in
from dialogs.understanding.normalize import fold
from dialogs.understanding.when import moment_in
from storage.directory import Contract, Priority, Product

if TYPE_CHECKING:
    from dialogs.commands import CommandContext

FIELDS = ("product", "priority", "description", "since", "affected", "tested", "phone")
PRODUCTS = tuple(Product)
_FIELD_LABELS: Final = {
    "product": N_("Affected product *"),
    "priority": N_("How bad is it? *"),
    "description": N_("What is wrong? *"),
    "since": N_("Since when? (e.g. today 09:30; empty = now)"),
    "affected": N_("Who or what is affected? (users, numbers, sites) *"),
    "tested": N_("What did you already try? *"),
    "phone": N_("Callback number *"),
}
_QUESTIONS: Final = {
    "product": N_("Which product is affected?"),
    "priority": N_("How bad is it?"),
    "description": N_("What is wrong? Please describe the fault in a few sentences."),
    "since": N_(
        "Since when does it happen? (e.g. `today 09:30`, `yesterday 14:00`, `07.01. 15:30`, "
        "or `now`)"
    ),
    "affected": N_("Who or what is affected? (users, phone numbers, sites)"),
    "tested": N_("What did you already try? (e.g. restarted the app, other device)"),
    "phone": N_("Which number can we call you back on?"),
}
#: The yes/no question after the scope check: a change request needs consent to billing.
_GATE_QUESTIONS: Final = {
    "consent": N_("Do you agree that this change is billed by effort? (**yes** / **no**)"),
    "scope": N_("Do you still want to report it as a fault? (**yes** / **no**)"),
}
MIN_DESCRIPTION = 10
YES = frozenset({"yes", "y", "ja", "j", "ok", "okay", "send", "senden"})
NO = frozenset({"no", "n", "nein"})
BACK = frozenset({"back", "zurück", "zurueck"})
SKIP = frozenset({"skip", "weiter", "-", "none", "keine", "nein", "no"})
NOW_WORDS = frozenset({"", "now", "jetzt", "-", "sofort", "gerade"})
_PHONE = re.compile(r"^\+?[0-9 ()/.\-]{6,25}$")
FORM_ACTION = "submit_fault_report"


@dataclass(slots=True)
class Draft:
    """The report so far; stored as the dialog's JSON state."""

    step: str = "product"
    mode: str = "card"
    report: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    kind: str = "fault"
    reminded: bool = False
    # Files received by drafts saved before downloads ran in the background (now queued as
    # download jobs under the report's source key instead).
    files: list[dict[str, Any]] = field(default_factory=list)
    # Files were queued for download while writing: the confirmation looks for them (and a
    # report without files costs no query).
    sent_files: bool = False
    language: str = "en"
    draft_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def load(cls, state: dict[str, Any]) -> Draft:
        return cls(**{key: state[key] for key in cls.__slots__ if key in state})

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def product(self) -> Product:
        return Product(self.report["product"])

    def follow_ups(self) -> list[FollowUp]:
        return FOLLOW_UP_QUESTIONS.get(self.product, []) if "product" in self.report else []


class IntakeDialog:
    """The fault-report dialog (see the module docstring)."""

    name = "intake"

    async def start(self, turn: Turn, context: CommandContext, args: str) -> DialogStep:
        draft = Draft(language=turn.actor.language)
        if len(args.strip()) >= MIN_DESCRIPTION and not asks_only_to_report(args):
            self._prefill(turn, context, draft, args)
        return DialogStep([self._form(turn, draft, errors=())], draft.dump())

    def _prefill(self, turn: Turn, context: CommandContext, draft: Draft, text: str) -> None:
        """Fill in what the contact's own words already say; the rest is asked."""
        zone = _zone(turn, context)
        said = prefill(text, now=turn.now, zone=zone)
        report = draft.report
        report["description"] = said.description[:4000]
        if said.product is not None:
            report["product"] = said.product.value
        if said.since is not None and not _plausible_since(said.since, turn.now, "en")[1]:
            report["since"] = said.since.isoformat()
            report["raw_since"] = said.since.astimezone(zone).strftime("%d.%m.%Y %H:%M")
        if said.affected:
            report["affected"] = said.affected[:1000]
        if said.tested:
            report["tested"] = said.tested[:2000]
        if said.priority is not None:  # a suggestion: the form preselects it, text asks
            report["hint_priority"] = said.priority.value
        draft.history = [name for name in FIELDS if name in report]
        report["prefilled"] = "yes"  # shown as "understood" until the contact sends the form

    async def resume(
        self, turn: Turn, context: CommandContext, state: dict[str, Any]
    ) -> DialogStep:
        draft = Draft.load(state)
        if turn.incoming.files or turn.incoming.unreadable_files:
            return await self._on_files(turn, context, draft)
        value = turn.incoming.value or {}
        action = str(value.get("action", ""))
        if action:
            return await self._on_action(turn, context, draft, action, value)
        draft.mode = "text"
        answer = turn.incoming.text.strip()
        if answer.lower() in BACK:
            return self._back(turn, context, draft)
        return await self._on_answer(turn, context, draft, answer)

    # ----------------------------------------------------------------- card actions

    async def _on_action(
        self,
        turn: Turn,
        context: CommandContext,
        draft: Draft,
        action: str,
        value: Any,
    ) -> DialogStep:
        _ = gettext_for(turn.actor.language)
        match action:
            case "submit_fault_report":
                return self._on_form(turn, context, draft, value)
            case "gate_yes" | "gate_no":
                return await self._on_answer(turn, context, draft, action.removeprefix("gate_"))
            case "submit_followups" | "skip_followups":
                keep = action == "submit_followups"
                for question in draft.follow_ups():
                    answer = str(value.get(question.id, "")).strip() if keep else ""
                    if answer:
                        draft.details[question.id] = answer[:500]
                draft.step = "confirm"
                return DialogStep([self._summary(turn, context, draft)], draft.dump())
            case "confirm_report":
                if draft.step != "confirm" or any(name not in draft.report for name in FIELDS):
                    # an old summary's button: answer the question that is open now
                    return DialogStep([self._question(turn, context, draft)], draft.dump())
                return await self._confirm(turn, context, draft)
            case "edit_report":
                draft.mode, draft.step = "card", "product"
                return DialogStep([self._form(turn, draft, errors=())], draft.dump())
            case "cancel_report":
                return DialogStep(
                    [
                        turn.reply(
                            _(
                                "Understood – I did not open a ticket. Type **help** if you need "
                                "anything else."
                            )
                        )
                    ],
                    None,
                )
        return DialogStep([self._question(turn, context, draft)], draft.dump())

    def _on_form(self, turn: Turn, context: CommandContext, draft: Draft, value: Any) -> DialogStep:
        errors: list[str] = []
        lang = turn.actor.language
        draft.report.pop("prefilled", None)
        for name in FIELDS:
            raw = str(value.get(name, "")).strip()
            parsed, problem = self._parse(turn, context, name, raw)
            if problem:
                errors.append(f"{short_label(name, lang)}: {problem}")
                draft.report.pop(name, None)
            else:
                draft.report[name] = parsed
        for name in FIELDS:  # keep what was typed, so the form comes back filled in
            draft.report.setdefault(f"raw_{name}", str(value.get(name, "")).strip()[:4000])
        if errors:
            return DialogStep([self._form(turn, draft, errors=errors)], draft.dump())
        draft.history = list(FIELDS)
        return self._advance(turn, context, draft)

    # ----------------------------------------------------------------- text answers

    async def _on_answer(
        self, turn: Turn, context: CommandContext, draft: Draft, answer: str
    ) -> DialogStep:
        lang, word = turn.actor.language, answer.strip().lower()
        _ = gettext_for(lang)
        if draft.step in ("scope", "consent"):
            if word not in YES | NO:
                return self._again(turn, context, draft, _("Please answer **yes** or **no**."))
            if word in NO:
                return DialogStep(
                    [
                        turn.reply(
                            _(
                                "Understood – I did not open a ticket. Type **help** if you need "
                                "anything else."
                            )
                        )
                    ],
                    None,
                )
            draft.report["scope"] = "confirmed"
            if draft.step == "consent":
                draft.kind = "change_request"
            draft.history.append(draft.step)
            return self._advance(turn, context, draft)
        if draft.step == "followup":
            return self._on_follow_up(turn, context, draft, answer)
        if draft.step == "confirm":
            if word in YES:
                return await self._confirm(turn, context, draft)
            if word in NO:
                return DialogStep(
                    [
                        turn.reply(
                            _(
                                "Understood – I did not open a ticket. Type **help** if you need "
                                "anything else."
                            )
                        )
                    ],
                    None,
                )
            return self._again(
                turn,
                context,
                draft,
                _("Reply **yes** to send it, **back** to change the last answer, or **cancel**."),
            )
        hint = draft.report.get("hint_priority")
        if draft.step == "priority" and hint and word in YES:
            answer = hint  # "yes" to the suggested priority
        parsed, problem = self._parse(turn, context, draft.step, answer)
        if problem:
            return self._again(turn, context, draft, problem)
        draft.report[draft.step] = parsed
        draft.history.append(draft.step)
        return self._advance(turn, context, draft, notes=self._notes(turn, context, draft))

    def _on_follow_up(
        self, turn: Turn, context: CommandContext, draft: Draft, answer: str
    ) -> DialogStep:
        question = next(q for q in draft.follow_ups() if q.id not in draft.details)
        draft.details[question.id] = "" if answer.lower() in SKIP else answer[:500]
        draft.history.append(f"followup:{question.id}")
        return self._advance(turn, context, draft)

    def _back(self, turn: Turn, context: CommandContext, draft: Draft) -> DialogStep:
        _ = gettext_for(turn.actor.language)
        if not draft.history:
            return self._again(
                turn, context, draft, _("This is the first question; there is nothing before it.")
            )
        previous = draft.history.pop()
        if previous.startswith("followup:"):
            draft.details.pop(previous.removeprefix("followup:"), None)
        elif previous in ("scope", "consent"):
            draft.report.pop("scope", None)
            draft.kind = "fault"
        else:
            draft.report.pop(previous, None)
            if previous == "description":
                draft.report.pop("scope", None)
        draft.step = previous.partition(":")[0]
        return DialogStep([self._question(turn, context, draft)], draft.dump())

    def _again(self, turn: Turn, context: CommandContext, draft: Draft, problem: str) -> DialogStep:
        """The reason, and the same question once more."""
        question = self._question(turn, context, draft)
        answer = Outgoing(
            conversation=question.conversation,
            text=f"{problem}\n\n{question.text}",
            card=question.card,
            reply_to=question.reply_to,
        )
        return DialogStep([answer], draft.dump())

    # ----------------------------------------------------------------- flow

    def _advance(
        self, turn: Turn, context: CommandContext, draft: Draft, notes: tuple[str, ...] = ()
    ) -> DialogStep:
        """Ask whatever comes next: a missing field, the scope gate, a follow-up, or confirm."""
        missing = [name for name in FIELDS if name not in draft.report]
        if "description" in draft.report and "scope" not in draft.report:
            gate = self._gate(turn, context, draft)
            if gate is not None:
                return gate
        if missing and (draft.mode == "text" or draft.step != "confirm"):
            draft.step = missing[0]
        elif any(q.id not in draft.details for q in draft.follow_ups()):
            draft.step = "followup"
        else:
            draft.step = "confirm"
        if draft.mode == "card" and draft.step == "followup":
            return DialogStep([self._follow_up_card(turn, draft)], draft.dump())
        if draft.step == "confirm":
            return DialogStep([self._summary(turn, context, draft)], draft.dump())
        question = self._question(turn, context, draft)
        if notes:
            question = Outgoing(
                conversation=question.conversation,
                text="\n\n".join((*notes, question.text)),
                reply_to=question.reply_to,
            )
        return DialogStep([question], draft.dump())

    def _gate(self, turn: Turn, context: CommandContext, draft: Draft) -> DialogStep | None:
        assessment = assess(draft.report["description"])
        if assessment.scope is Scope.IN_SCOPE:
            draft.report["scope"] = "in"
            return None
        lang = turn.actor.language
        draft.step = "consent" if assessment.scope is Scope.CHANGE_REQUEST else "scope"
        _ = gettext_for(lang)
        question = _(_GATE_QUESTIONS[draft.step])
        text = f"{explanation(assessment, lang)}\n\n{question}"
        card = Card(
            title=_("Report a fault"),
            paragraphs=(explanation(assessment, lang), question),
            actions=(
                SubmitAction(_("Yes"), {"action": "gate_yes"}),
                SubmitAction(_("No"), {"action": "gate_no"}),
            ),
        )
        return DialogStep([turn.reply(text, card=card)], draft.dump())

    def _notes(self, turn: Turn, context: CommandContext, draft: Draft) -> tuple[str, ...]:
        """What the contact should know right after an answer (a product outside the
        contract is named, never refused silently)."""
        if draft.history[-1:] != ["product"]:
            return ()
        contract = _contract(turn, context)
        note = out_of_contract_product(draft.product, contract.products, turn.actor.language)
        return (note,) if note else ()

    async def _confirm(self, turn: Turn, context: CommandContext, draft: Draft) -> DialogStep:
        ticket, answers = await open_ticket(
            turn,
            context,
            draft.report,
            draft.details,
            kind=draft.kind,
            source_key=_source_key(draft),
        )
        files = received_from_state(draft.files)
        if draft.sent_files:
            files += await _downloaded_for(context, draft)
        if files:
            sentences = await attach(context.services, ticket, files, Uploader.of(turn))
            answers.insert(1, turn.reply("\n".join(sentences)))
        return DialogStep(answers, None)

    async def _on_files(self, turn: Turn, context: CommandContext, draft: Draft) -> DialogStep:
        """Files sent during the report are kept and attached once the ticket exists; words
        sent with them answer the question like any message."""
        lang = turn.actor.language
        _ = gettext_for(lang)
        if turn.incoming.unreadable_files:
            return self._again(
                turn,
                context,
                draft,
                _(
                    "I cannot receive files in channels or group chats. Please send them "
                    "to me in our 1:1 chat."
                ),
            )
        sentences = await queue_downloads(
            turn, context, turn.incoming.files, draft_key=_source_key(draft)
        )
        draft.sent_files = True
        words = turn.incoming.text.strip()
        if not words:
            return self._again(turn, context, draft, "\n".join(sentences))
        draft.mode = "text"
        answered = await self._on_answer(turn, context, draft, words)
        received = [turn.reply("\n".join(sentences))] if sentences else []
        return DialogStep([*received, *answered.answers], answered.state, answered.follow)

    # ----------------------------------------------------------------- parsing

    def _parse(self, turn: Turn, context: CommandContext, name: str, raw: str) -> tuple[str, str]:
        """(normalised value, "") or ("", the reason it does not fit)."""
        zone = _zone(turn, context)
        return parse_field(name, raw, now=turn.now, zone=zone, language=turn.actor.language)

    # ----------------------------------------------------------------- rendering

    def _question(self, turn: Turn, context: CommandContext, draft: Draft) -> Outgoing:
        if draft.step == "confirm":
            return self._summary(turn, context, draft)
        return self._ask(turn, draft)

    def _ask(self, turn: Turn, draft: Draft) -> Outgoing:
        """The question of the current step, in text."""
        lang = turn.actor.language
        _ = gettext_for(lang)
        if draft.step == "product":
            options = "\n".join(
                f"{i}. {product_name(p, lang)}" for i, p in enumerate(PRODUCTS, start=1)
            )
            return turn.reply(f"{_(_QUESTIONS['product'])}\n\n{options}")
        if draft.step == "priority":
            options = "\n".join(f"- {priority_name(p, lang)}" for p in Priority)
            hint = draft.report.get("hint_priority")
            suggestion = _(
                "From what you wrote I'd say **{priority}**: reply **yes** to take it, or "
                "choose another."
            )
            suggested = (
                f"\n\n{suggestion.format(priority=priority_name(hint, lang))}" if hint else ""
            )
            return turn.reply(f"{_(_QUESTIONS['priority'])}\n\n{options}{suggested}")
        if draft.step in _GATE_QUESTIONS:
            return turn.reply(_(_GATE_QUESTIONS[draft.step]))
        if draft.step == "followup":
            question = next(q for q in draft.follow_ups() if q.id not in draft.details)
            return turn.reply(
                _("{label}? (optional – type **skip** to leave it out)").format(
                    label=_(question.label)
                )
            )
        return turn.reply(_(_QUESTIONS[draft.step]))

    def _form(self, turn: Turn, draft: Draft, *, errors: tuple[str, ...] | list[str]) -> Outgoing:
        """The form card; its text fallback is the first text question (for clients
        without cards, and so that typing an answer simply starts the text path)."""
        lang = turn.actor.language
        raw = {name: draft.report.get(f"raw_{name}", draft.report.get(name, "")) for name in FIELDS}
        raw["priority"] = raw["priority"] or draft.report.get("hint_priority", "")
        if "raw_since" not in draft.report:  # answered in text: shown as people write it
            raw["since"] = readable_since(raw["since"])
        _ = gettext_for(lang)
        paragraphs = [_("Please describe the fault. Fields marked * are required.")]
        understood = _understood(draft, lang)
        if understood:
            paragraphs.append(_("From your message I understood (please check):"))
        if errors:
            paragraphs += [_("Please check these fields:"), *(f"• {problem}" for problem in errors)]
        typing_hint = _(
            "You can also answer step by step in text; type **back** to change "
            "the previous answer, **cancel** to stop."
        )
        card = Card(
            title=_("Report a fault"),
            paragraphs=(*paragraphs, typing_hint),  # typing works as well as the form
            facts=understood,
            inputs=_form_inputs(lang, raw),
            actions=(SubmitAction(_("Continue"), {"action": FORM_ACTION}),),
        )
        draft.step = next((name for name in FIELDS if name not in draft.report), "product")
        question = self._ask(turn, draft)
        fallback = "\n\n".join([*(paragraphs[1:] if errors else ()), question.text, typing_hint])
        return turn.reply(fallback, card=card)

    def _follow_up_card(self, turn: Turn, draft: Draft) -> Outgoing:
        lang = turn.actor.language
        questions = draft.follow_ups()
        _ = gettext_for(lang)
        card = Card(
            title=_("A few details for the engineer (optional)"),
            inputs=tuple(
                TextInput(q.id, _(q.label), placeholder=_(q.placeholder)) for q in questions
            ),
            actions=(
                SubmitAction(_("Continue"), {"action": "submit_followups"}),
                SubmitAction(_("Skip"), {"action": "skip_followups"}),
            ),
        )
        first = questions[0]
        return turn.reply(
            _("{label}? (optional – type **skip** to leave it out)").format(label=_(first.label)),
            card=card,
        )

    def _summary(self, turn: Turn, context: CommandContext, draft: Draft) -> Outgoing:
        lang = turn.actor.language
        facts = summary_facts(draft, lang, _zone(turn, context))
        _ = gettext_for(lang)
        confirm_hint = _(
            "Reply **yes** to send it, **back** to change the last answer, or **cancel**."
        )
        card = Card(
            title=_("Please check your report"),
            paragraphs=(confirm_hint,),  # typing works as well as the buttons
            facts=facts,
            actions=(
                SubmitAction(_("Send report"), {"action": "confirm_report"}),
                SubmitAction(_("Change"), {"action": "edit_report"}),
                SubmitAction(_("Cancel"), {"action": "cancel_report"}),
            ),
        )
        lines = [f"**{card.title}**", *(f"- {f.label}: {f.value}" for f in facts), ""]
        lines.append(confirm_hint)
        return turn.reply("\n".join(lines), card=card)


def _understood(draft: Draft, lang: Language) -> tuple[Fact, ...]:
    """What the first message already told, so the contact can check it."""
    report, facts = draft.report, []
    if not report.get("prefilled"):
        return ()
    if "product" in report:
        facts.append(Fact(_plain(short_label("product", lang)), product_name(draft.product, lang)))
    if report.get("raw_since"):
        facts.append(Fact(_plain(short_label("since", lang)), report["raw_since"]))
    for name in ("affected", "tested"):
        if report.get(name):
            facts.append(Fact(_plain(short_label(name, lang)), report[name]))
    if hint := report.get("hint_priority"):
        facts.append(Fact(_plain(short_label("priority", lang)), priority_name(hint, lang)))
    return tuple(facts)


def _plain(label: str) -> str:
    return label.rstrip("?")


def short_label(name: str, lang: Language) -> str:
    """A field's label without the hint in brackets and the required-star."""
    return gettext_for(lang)(_FIELD_LABELS[name]).split(" (")[0].rstrip(" *")


def summary_facts(draft: Draft, lang: Language, zone: ZoneInfo) -> tuple[Fact, ...]:
    """The report as label/value rows, in the contact's language."""
    report = draft.report
    since = report.get("since") or ""
    _ = gettext_for(lang)
    since_text = _("now")
    if since:
        started = datetime.fromisoformat(since)
        since_text = (
            f"{formats.day(started, lang, zone=zone)} {formats.clock(started, lang, zone=zone)}"
        )
    values = {
        "product": product_name(draft.product, lang),
        "priority": priority_name(report["priority"], lang),
        "since": since_text,
    }
    facts = [
        Fact(short_label(name, lang), values[name] if name in values else report.get(name, ""))
        for name in FIELDS
    ]
    if draft.kind == "change_request":
        facts.insert(0, Fact(_("Type"), _("Change request (billed by effort, with your consent)")))
    details = [
        f"{_(q.label)}: {draft.details[q.id]}"
        for q in draft.follow_ups()
        if draft.details.get(q.id)
    ]
    if details:
        facts.append(Fact(_("Details"), "; ".join(details)))
    return tuple(facts)


def _form_inputs(lang: Language, raw: dict[str, str]) -> tuple[TextInput | ChoiceInput, ...]:
    _ = gettext_for(lang)

    def label(name: str) -> str:
        return gettext_for(lang)(_FIELD_LABELS[name])

    return (
        ChoiceInput(
            "product",
            label("product"),
            tuple(Choice(product_name(p, lang), p.value) for p in PRODUCTS),
            value=raw["product"],
            required=True,
            error=_("Please choose the product that does not work."),
        ),
        ChoiceInput(
            "priority",
            label("priority"),
            tuple(Choice(priority_name(p, lang), p.value) for p in Priority),
            value=raw["priority"] or Priority.P3.value,
            required=True,
            expanded=True,
            error=_("Please choose how bad it is, from P1 (total outage) to P4 (a question)."),
        ),
        TextInput(
            "description",
            label("description"),
            value=raw["description"],
            multiline=True,
            required=True,
            max_length=4000,
            error=_("Please describe what does not work, in a sentence or two."),
        ),
        TextInput(
            "since",
            label("since"),
            value=raw["since"],
            placeholder=_("e.g. today 09:30 or 30.11. 18:00"),
        ),
        TextInput(
            "affected",
            label("affected"),
            value=raw["affected"],
            multiline=True,
            required=True,
            error=_("Please name who or what is affected: users, numbers or sites."),
        ),
        TextInput(
            "tested",
            label("tested"),
            value=raw["tested"],
            multiline=True,
            required=True,
            error=_('Please say what you already tried, or write "nothing yet".'),
        ),
        TextInput(
            "phone",
            label("phone"),
            value=raw["phone"],
            required=True,
            error=_("Please give a number we can call you back on, e.g. +43 1 234 5678."),
        ),
    )


_PRODUCT_WORDS: tuple[tuple[tuple[str, ...], Product], ...] = (
    (("contact center", "contact centre", "wxcc", "contactcenter"), Product.WEBEX_CONTACT_CENTER),
    (("attendant",), Product.LUWARE_ATTENDANT_CONSOLE),
    (("recording", "aufzeichnung", "aufnahme"), Product.LUWARE_RECORDING),
    (("nimbus", "luware contact", "luware cc"), Product.LUWARE_CONTACT_CENTER),
    (("webex",), Product.WEBEX_CALLING),
    (
        ("teams", "microsoft", "ms calling", "direct routing", "operator connect"),
        Product.MICROSOFT_CALLING,
    ),
    (("other", "anderes", "sonstiges", "unklar", "weiß nicht", "not sure"), Product.OTHER),
)


def parse_field(
    name: str, raw: str, *, now: datetime, zone: ZoneInfo, language: Language
) -> tuple[str, str]:
    """A report's field as the intake takes it (chat form, text answers and the integration
    API alike): (normalised value, "") or ("", the reason it does not fit)."""
    lang = language
    _ = gettext_for(lang)
    match name:
        case "product":
            product = parse_product(raw) or _product_in_words(raw)
            return (
                (product.value, "")
                if product
                else (
                    "",
                    _(
                        "I don't know that product. Please answer with its number (1–{count}) "
                        "or its name."
                    ).format(count=len(PRODUCTS)),
                )
            )
        case "priority":
            priority = parse_priority(raw) or priority_hint(fold(raw))
            return (
                (priority.value, "")
                if priority
                else ("", _("Please answer with P1, P2, P3 or P4."))
            )
        case "description":
            if len(raw) < MIN_DESCRIPTION:
                return "", _(
                    "Please describe the fault in a few more words (at least {minimum} characters)."
                ).format(minimum=MIN_DESCRIPTION)
            return raw[:4000], ""
        case "since":
            return _since(raw, now, zone, lang)
        case "phone":
            digits = sum(ch.isdigit() for ch in raw)
            ok = bool(_PHONE.match(raw)) and 6 <= digits <= 15
            return (
                (raw, "")
                if ok
                else (
                    "",
                    _(
                        "That does not look like a phone number. Please write it with digits, "
                        "e.g. +43 1 234 5678."
                    ),
                )
            )
        case _:
            limit = 1000 if name == "affected" else 2000  # the ticket's column sizes
            return (
                (raw[:limit], "")
                if len(raw) >= 2
                else ("", _("Please fill this in; a short answer is fine."))
            )


def _product_in_words(text: str) -> Product | None:
    found = product_in(fold(text))
    return found[0] if found else None


def parse_product(text: str) -> Product | None:
    """A product from its number in the list, its id, or words from its name."""
    word = text.strip().lower().rstrip(".")
    if word.isdigit() and 1 <= int(word) <= len(PRODUCTS):
        return PRODUCTS[int(word) - 1]
    if word in {p.value for p in Product}:
        return Product(word)
    for names, product in _PRODUCT_WORDS:
        if any(name in word for name in names):
            # "webex contact center" must not fall through to Webex Calling
            return product
    return None


_PRIORITY_WORDS: dict[str, Priority] = {
    "total": Priority.P1, "outage": Priority.P1, "totalausfall": Priority.P1,
    "major": Priority.P2, "schwer": Priority.P2,
    "minor": Priority.P3, "gering": Priority.P3,
    "question": Priority.P4, "frage": Priority.P4,
}  # fmt: skip


def parse_priority(text: str) -> Priority | None:
    """P1–P4 from `P2`, `2`, or a word of its explanation."""
    word = text.strip().lower()
    if word.removeprefix("p") in {"1", "2", "3", "4"}:
        return Priority(f"P{word.removeprefix('p')}")
    return next((p for key, p in _PRIORITY_WORDS.items() if key in word), None)


# A fault that started longer ago than this is not what the intake's "since" is for.
OLDEST_SINCE = timedelta(days=366)
_RELATIVE_DAY = {"today": 0, "heute": 0, "yesterday": -1, "gestern": -1}
_TIME = re.compile(r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})")


def _since(raw: str, now: datetime, zone: ZoneInfo, lang: Language) -> tuple[str, str]:
    """When the fault started, as an ISO instant ("" for now), or the reason it can't be read."""
    text = raw.strip().lower()
    if text in NOW_WORDS:
        return "", ""
    instant = parse_local_time(text, now, zone)
    if instant is None:  # "seit gestern Abend", "vor 2 Stunden", "this morning"
        found = moment_in(fold(raw), now=now, zone=zone, prefer="past")
        instant = found[0] if found else None
    _ = gettext_for(lang)
    if instant is None:
        return "", _(
            "I could not read that time. Please write e.g. `today 09:30`, `07.01. 15:30` or `now`."
        )
    return _plausible_since(instant, now, lang)


def readable_since(value: str) -> str:
    """A stored start (ISO, in the service time's offset) as the form shows it: `30.11.2026
    18:00`; anything else as it is."""
    try:
        return datetime.fromisoformat(value).strftime("%d.%m.%Y %H:%M") if value else ""
    except ValueError:
        return value


def _plausible_since(instant: datetime, now: datetime, lang: Language) -> tuple[str, str]:
    """A start the SLA arithmetic can use: not in the future, not more than a year ago (a
    date like 0001-01-01 cannot even be converted to UTC, and would fail every later step)."""
    _ = gettext_for(lang)
    future = _("That time lies in the future. When did the fault start?")
    too_old = _(
        "That is more than a year ago, so I cannot use it. When did the fault "
        "start? (e.g. `today 09:30`, `07.01. 15:30` or `now`)"
    )
    try:
        utc = instant.astimezone(UTC)
    except (OverflowError, ValueError):
        return "", too_old if instant.year < now.year else future
    if utc > now + timedelta(minutes=5):
        return "", future
    if utc < now - OLDEST_SINCE:
        return "", too_old
    return instant.isoformat(), ""


def parse_local_time(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """`09:30`, `today 09:30`, `gestern 14:00`, `07.01. 15:30`, `07.01.2026 15:30`,
    `2026-01-07 15:30` or ISO 8601, in the contact's local time."""
    try:
        parsed = datetime.fromisoformat(text.upper().replace(" ", "T", 1))
    except ValueError:
        parsed = None
    if parsed is not None:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    local_now = now.astimezone(zone)
    day = local_now.date()
    words = text.split()
    if words and words[0] in _RELATIVE_DAY:
        day += timedelta(days=_RELATIVE_DAY[words.pop(0)])
    elif words and (date_match := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})?", words[0])):
        words.pop(0)
        try:
            day = day.replace(
                year=int(date_match[3] or day.year),
                month=int(date_match[2]),
                day=int(date_match[1]),
            )
        except ValueError:
            return None
    clock = _TIME.fullmatch(" ".join(words))
    if clock is None or int(clock["hour"]) > 23 or int(clock["minute"]) > 59:
        return None
    wall = datetime(day.year, day.month, day.day, int(clock["hour"]), int(clock["minute"]))  # noqa: DTZ001
    return wall.replace(tzinfo=zone)


def _contract(turn: Turn, context: CommandContext) -> Contract:
    customer = turn.actor.customer
    assert customer is not None
    return context.directory.contracts[customer.contract]


def _zone(turn: Turn, context: CommandContext) -> ZoneInfo:
    return service_zone(turn.actor, context.directory)


def _source_key(draft: Draft) -> str:
    """Names the report: its ticket's unique source, and the files sent while writing it."""
    return f"intake:{draft.draft_id}"


async def _downloaded_for(context: CommandContext, draft: Draft) -> list[ReceivedFile]:
    """Files sent during the report whose download has finished (the rest find the ticket
    themselves when they finish)."""
    return await received_for_draft(context.services, _source_key(draft))
