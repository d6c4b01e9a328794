"""Every command the bot understands, and what it does with a message that is none of them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters.model import Outgoing
from dialogs import billing, engineering, maintenance, managers, queue, status
from dialogs.commands import EVERYONE, Command, CommandContext, foundation_commands
from dialogs.context import Turn, as_language
from dialogs.customer_tickets import message_command, reopen_command
from dialogs.duties import (
    DUTIES_WORDS,
    ONBOARDING_WORDS,
    QUESTIONS,
    OnboardingQuestions,
    done_command,
    duties_args,
    duties_command,
    onboarding_args,
    onboarding_command,
)
from dialogs.engineering import ENGINEERS
from dialogs.i18n import N_, gettext_for
from dialogs.intake import IntakeDialog
from dialogs.logfiles import LogfilesDialog
from dialogs.maintenance import CONTACT_WORDS, ENGINEER_WORDS, maintenance_args
from dialogs.understanding import (
    CANCEL,
    MESSAGE,
    NONE,
    SMALLTALK,
    Intent,
    Phrasing,
    Understander,
    Vocabulary,
    corpus,
)
from storage.directory import Directory, Role

CONTACTS = frozenset({Role.CONTACT})
REOPENERS = frozenset({Role.CONTACT, Role.ENGINEER})
STAFF = frozenset({Role.ENGINEER, Role.MANAGER})
MANAGERS = frozenset({Role.MANAGER})
REPORT_A_FAULT = N_("report a fault")


async def language_command(turn: Turn, context: CommandContext, args: str) -> list[Outgoing]:
    """`language de|en`: answer in this language from now on."""
    choice = as_language(args.strip().lower()[:2])
    if choice is None:
        _ = gettext_for(turn.actor.language)
        return [turn.reply(_("Please write `language de` or `language en`."))]
    await context.services.store.contacts.set_language(
        channel=turn.incoming.channel.value, user_id=turn.actor.user_id, language=choice
    )
    _ = gettext_for(choice)
    return [turn.reply(_("From now on I answer in English."))]


def default_commands() -> list[Command]:
    """The commands of the running bot."""
    return [
        *foundation_commands(),
        Command(
            REPORT_A_FAULT,
            N_("report a fault: I ask a few questions and open a ticket"),
            CONTACTS,
            dialog=IntakeDialog(),
            aliases=(
                "report fault", "new ticket", "new fault", "fault", "störung melden",
                "stoerung melden", "störung", "neues ticket", "problem melden",
            ),
            phrasing=Phrasing((
                "I want to report a fault", "could you log a ticket for us?",
                "ich möchte eine Störung melden", "bitte ein neues Ticket aufmachen",
                "our phones have no dial tone since 9", "Webex Calling is down for all users",
                "bei uns klingelt seit 9 Uhr kein Telefon", "Teams-Telefonie geht nicht mehr",
                "die Aufzeichnung funktioniert seit gestern nicht",
                "agents cannot log in to the contact center",
            ), takes=("product", "priority", "moment")),
        ),
        Command(
            "add logs",
            N_("send logfiles for a ticket"),
            CONTACTS,
            dialog=LogfilesDialog(),
            usage=N_("add logs <ticket>"),
            aliases=("logs hinzufügen", "add log", "logfiles", "logs"),
            phrasing=Phrasing((
                "I want to upload logs for 12", "how do I send you the logfiles",
                "wie schick ich euch die Logs", "ich hätte Logdateien zu Ticket 12",
                "can I attach the HAR file to my ticket", "Logs nachreichen",
            ), takes=("ticket",)),
        ),
        *engineer_commands(),
        Command("status", N_("where a ticket stands (managers: the whole service)"), EVERYONE,
                status.status_command,
                usage=N_("status <ticket>"), aliases=("stand",),
                phrasing=Phrasing((
                    "hätte gern einen Status zu 12", "what's happening with my case",
                    "any news on ticket 12?", "wie schaut's aus mit meiner Störung",
                    "how are we doing today", "status demo", "anything at risk right now?",
                ), takes=("ticket", "customer"))),
        Command(N_("my tickets"), N_("the tickets you reported"), CONTACTS, status.my_tickets,
                aliases=("meine tickets", "tickets", "my ticket"),
                phrasing=Phrasing((
                    "show me all my tickets", "which tickets do we have open",
                    "welche Tickets haben wir offen", "Liste meiner Meldungen",
                    "what have I reported so far",
                ), twins=("mine",))),
        Command("why", N_("why a ticket's deadline is where it is"), STAFF, status.why_command,
                usage=N_("why <ticket>"),
                aliases=("warum",),
                phrasing=Phrasing((
                    "why is 12 breached", "explain the deadline of 14",
                    "wieso ist die Frist bei 14 so spät", "warum läuft die Uhr bei 12 noch",
                    "how was the SLA of ticket 12 computed",
                ), takes=("ticket",))),
        Command("onboarding",
                N_("a customer's onboarding checklist; tick an item, ask the customer again"),
                STAFF, onboarding_command,
                usage=N_("onboarding <customer> [done <item> [note] | ask]"),
                subcommands=ONBOARDING_WORDS,
                phrasing=Phrasing((
                    "onboarding status for demo", "how far is the onboarding of Contoso",
                    "Onboarding-Checkliste für demo", "wie weit sind wir mit dem Onboarding",
                ), takes=("customer", "text"), shape=onboarding_args)),
        Command("duties",
                N_(
                    "contract duties: overdue, due and done (reviews, update checks, security "
                    "updates)"
                ),
                STAFF, duties_command,
                usage=N_("duties [customer] | duties take D<n>"), aliases=("pflichten",),
                subcommands=DUTIES_WORDS,
                phrasing=Phrasing((
                    "which duties are due", "welche Pflichten sind überfällig",
                    "I'll take D12", "what reviews are coming up for demo",
                    "Vertragspflichten von Contoso",
                ), takes=("duty", "customer"), shape=duties_args)),
        Command("done", N_("record a contract duty's result (a review's goes to the customer)"),
                STAFF, done_command, usage=N_("done D<n> <summary>"),
                aliases=("erledigt",),
                phrasing=Phrasing((
                    "D7 done, licences reviewed", "D12 erledigt: Updates eingespielt",
                    "mark duty D3 as done", "Pflicht D5 abgeschlossen, alles aktuell",
                ), takes=("duty", "text"))),
        # Nobody starts it: the duty watcher puts a customer's contact into it.
        Command(QUESTIONS, N_("answer the onboarding questions"), frozenset(),
                dialog=OnboardingQuestions()),
        Command("report", N_("SLA report of a month with chart and CSV"), MANAGERS,
                managers.report_command,
                usage=N_("report [YYYY-MM] [customer]"), aliases=("bericht", "sla report"),
                phrasing=Phrasing((
                    "give me the SLA numbers for October", "SLA-Bericht November für demo",
                    "how did we do last month", "wie war die Quote im Oktober",
                    "SLA attainment for Contoso",
                ), takes=("month", "customer"))),
        Command("breaches", N_("late first reactions in a period"), MANAGERS,
                managers.breaches_command,
                usage=N_("breaches [this week|this month|YYYY-MM]"),
                aliases=("verletzungen", "sla-verletzungen"),
                phrasing=Phrasing((
                    "anything breached this week?", "welche SLA-Verletzungen gab es im Oktober",
                    "which tickets were late last month", "Fristüberschreitungen diese Woche",
                ), takes=("period",))),
        Command("digest", N_("daily and weekly summary in the managers' channel"), MANAGERS,
                managers.digest_command,
                usage=N_("digest on|off"), aliases=("zusammenfassung",),
                subcommands=managers.DIGEST_WORDS,
                phrasing=Phrasing((
                    "stop the daily summary", "Tageszusammenfassung einschalten",
                    "send me the morning digest again", "keine Zusammenfassung mehr bitte",
                ), takes=("switch",))),
        Command("maintenance",
                N_("propose a maintenance window inside the service time; list, move, cancel"),
                ENGINEERS, maintenance.maintenance_command,
                usage=N_("maintenance [customer] [YYYY-MM-DD HH:MM duration title]"),
                aliases=("wartung",), subcommands=ENGINEER_WORDS,
                phrasing=Phrasing((
                    "Wartung für demo am Dienstag um 9 für 2 Stunden",
                    "schedule maintenance for Contoso on Friday 10:00 for 1h firmware",
                    "which maintenance windows are planned", "cancel W12",
                    "Wartungsfenster für demo planen", "list maintenance for demo",
                ), takes=("customer", "moment", "duration", "window", "text"),
                shape=maintenance_args, twins=("windows",))),
        Command(maintenance.CONTACT_COMMAND,
                N_("your organisation's maintenance windows: confirm or propose another time"),
                CONTACTS,
                dialog=maintenance.MaintenanceAnswerDialog(),
                aliases=("wartungsfenster", "maintenance windows"), subcommands=CONTACT_WORDS,
                phrasing=Phrasing((
                    "which maintenance is planned", "passt, Wartung bestätigt",
                    "when is the next maintenance", "gibt es geplante Wartungen",
                ), twins=("maintenance",))),
        Command("effort",
                N_("log effort on a ticket (change requests are billed), or show its total"),
                ENGINEERS,
                engineering.on_ticket(billing.effort, open_only=False),
                usage=N_("effort <ticket> [45m note]"), aliases=("aufwand",),
                phrasing=Phrasing((
                    "log 45 min on 12 for the dial plan", "1,5h auf 14 buchen",
                    "how much time did we spend on 12", "Aufwand für 12: 30 min Konfiguration",
                    "book 2 hours on the Contoso change",
                ), takes=("ticket", "duration", "text"))),
        Command("billing", N_("billable effort of a month per customer, with CSV"), MANAGERS,
                billing.billing_command,
                usage=N_("billing [YYYY-MM] [customer]"), aliases=("abrechnung",),
                phrasing=Phrasing((
                    "what can we bill for November", "Abrechnung Oktober für demo",
                    "billable hours last month", "was können wir Contoso verrechnen",
                ), takes=("month", "customer"))),
        # Nobody types it: the buttons behind "add this to CCS-…" send it.
        Command(MESSAGE, N_("add a message to one of your tickets"), CONTACTS, message_command,
                usage=N_("message <ticket> <text>"),
                listed=False),
        Command(
            "language",
            N_("answer in German or English"),
            EVERYONE,
            language_command,
            usage=N_("language de|en"),
            aliases=("sprache",),
            phrasing=Phrasing((
                "Deutsch bitte", "can you speak English", "auf Englisch umstellen",
                "switch to German", "please answer in English",
            ), takes=("language",)),
        ),
    ]  # fmt: skip


def engineer_commands() -> list[Command]:
    """What engineers do with tickets (see dialogs/engineering.py)."""
    e = engineering
    return [
        Command("ack", N_("acknowledge a ticket: the first response, the customer is told"),
                ENGINEERS, e.on_ticket(e.ack), usage=N_("ack <ticket>"),
                aliases=("acknowledge", "quittieren"),
                phrasing=Phrasing((
                    "ack 12", "seen, on it", "hab's gesehen", "acknowledge the Webex one",
                    "bestätige 14", "got it, looking into it",
                ), takes=("ticket",))),
        Command("take", N_("take a ticket: you own it"), ENGINEERS, e.on_ticket(e.take),
                usage=N_("take <ticket>"),
                aliases=("übernehmen", "uebernehmen"),
                phrasing=Phrasing((
                    "I'll take that one", "can someone take the Luware one", "nehm ich",
                    "ich übernehme 12", "mine, I'll handle 14", "das übernehme ich",
                ), takes=("ticket",))),
        Command("assign", N_("give a ticket to another engineer"), ENGINEERS,
                e.on_ticket(e.assign, needs_text=N_("a name")),
                usage=N_("assign <ticket> <person>"), aliases=("zuweisen",),
                phrasing=Phrasing((
                    "assign 12 to Adele", "gib das Ticket an Megan", "hand 14 over to Adele",
                    "Megan soll sich 12 anschauen",
                ), takes=("ticket", "person"))),
        Command("reply", N_("write to the ticket's customer"), ENGINEERS, e.on_ticket(e.reply,
                needs_text=N_("the text")),
                usage=N_("reply <ticket> <text>"), aliases=("antworten",),
                phrasing=Phrasing((
                    "tell the customer on 12 that we are on it",
                    "schreib dem Kunden zu 14: wir melden uns bis Mittag",
                    "let them know the fix is rolling out",
                    "antworte auf 12: bitte Handy neu starten",
                ), takes=("ticket", "text"), twins=(MESSAGE,))),
        Command("ask-logs", N_("ask the customer for logs (SLA paused)"), ENGINEERS,
                e.on_ticket(e.ask_logs),
                usage=N_("ask-logs <ticket> [what]"), aliases=("asklogs", "ask logs",
                "logs anfordern"),
                phrasing=Phrasing((
                    "ask them for the HAR file on 12", "Logs anfordern für 14",
                    "we need the client logs from the customer", "frag nach den Logdateien",
                ), takes=("ticket", "text"))),
        Command("note", N_("internal note on a ticket"), ENGINEERS,
                e.on_ticket(e.note, needs_text=N_("the note"), open_only=False),
                usage=N_("note <ticket> <text>"), aliases=("notiz",),
                phrasing=Phrasing((
                    "note on 12: waiting for the carrier", "interne Notiz zu 14: SBC getauscht",
                    "add an internal note that the trunk was reset", "für uns: Kunde ist VIP",
                ), takes=("ticket", "text"))),
        Command("vendor", N_("record a manufacturer case"), ENGINEERS, e.on_ticket(e.vendor),
                usage=N_("vendor <ticket> cisco|microsoft|luware <case id>"),
                aliases=("hersteller",),
                phrasing=Phrasing((
                    "opened Cisco TAC case 694123456 for 12",
                    "Microsoft-Case 2411250040001234 zu 14 eröffnet",
                    "Luware ticket 12345678 for the recording issue",
                ), takes=("ticket", "vendor", "case"))),
        Command("resolve", N_("resolve a ticket"), ENGINEERS, dialog=e.ResolveDialog(),
                usage=N_("resolve <ticket> <summary>"), aliases=("lösen", "loesen"),
                phrasing=Phrasing((
                    "mark 14 as fixed, trunk was down", "12 erledigt: Lizenz fehlte",
                    "close the ticket, the customer confirmed it works",
                    "kannst du 12 schließen, war ein Konfigurationsfehler",
                ), takes=("ticket", "text"))),
        Command("reopen", N_("reopen a resolved ticket"), REOPENERS, reopen_command,
                usage=N_("reopen <ticket>"), aliases=("wieder öffnen", "wiedereröffnen"),
                phrasing=Phrasing((
                    "reopen 12", "it's still not working", "geht schon wieder nicht",
                    "das Problem ist wieder da", "the issue is back since this morning",
                    "bitte 14 wieder aufmachen",
                ), takes=("ticket",))),
        Command("show", N_("a ticket's card and SLA state"), ENGINEERS, e.on_ticket(e.show,
                open_only=False),
                usage=N_("show <ticket>"), aliases=("zeigen",),
                phrasing=Phrasing((
                    "show me 12", "details zu CCS-2026-000012", "pull up the Luware ticket",
                    "zeig mal das Ticket von gestern",
                ), takes=("ticket",), twins=("status",))),
        Command(N_("mine"), N_("your open tickets by deadline"), ENGINEERS, queue.mine,
                aliases=("meine",),
                phrasing=Phrasing((
                    "what's on my plate", "meine offenen Tickets", "what am I working on",
                    "was hab ich offen",
                ), twins=("my tickets",))),
        Command(N_("queue"), N_("all open tickets by deadline"), ENGINEERS, queue.queue,
                aliases=("warteschlange",),
                phrasing=Phrasing((
                    "what's in the queue", "was ist offen", "show all open tickets",
                    "alle offenen Tickets bitte",
                ), twins=("my tickets",))),
    ]  # fmt: skip


# Readings that are no command: their examples come from the corpus, these are the seed.
PSEUDO_PHRASING = {
    SMALLTALK: Phrasing(("good morning", "thanks a lot", "danke, passt", "how are you", "👍")),
    CANCEL: Phrasing(("forget it", "lass gut sein", "doch nicht", "never mind")),
    NONE: Phrasing(("what's the weather", "bestell mir eine Pizza", "tell me a joke")),
}


def build_understander(
    commands: Sequence[Command], directory: Directory, cache: Path | None = None
) -> Understander:
    """The understanding step for these commands, trained on their phrasing and the corpus
    (or found in `cache`, trained on the same by an earlier start)."""
    intents = [Intent(c.name, (c.name, *c.aliases), c.phrasing) for c in commands if c.roles]
    vocabulary = Vocabulary.of(directory, directory.provider.ticket_prefix)
    return Understander(intents, vocabulary, corpus.load(), pseudo=PSEUDO_PHRASING, cache=cache)
