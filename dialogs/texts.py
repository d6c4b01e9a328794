"""The bot's words in the languages it speaks. Keys are stable; every key exists in both."""

from __future__ import annotations

from typing import Final

from dialogs.context import Language

TEXTS: Final[dict[str, dict[Language, str]]] = {
    "not_registered": {
        "en": (
            "Hello! I am the support bot of {provider}. I don't know you yet, so I can't help "
            "you here. Please ask your account manager at {provider} to register you."
        ),
        "de": (
            "Hallo! Ich bin der Support-Bot von {provider}. Ich kenne Sie noch nicht und kann "
            "Ihnen hier daher nicht helfen. Bitte lassen Sie sich von Ihrer Ansprechperson bei "
            "{provider} registrieren."
        ),
    },
    "help_title": {
        "en": "What I can do for you",
        "de": "Was ich für Sie tun kann",
    },
    "help_intro": {
        "en": "Hello {name}, you are signed in as **{role}**{customer}. Type a command or press a button.",
        "de": "Hallo {name}, Sie sind als **{role}**{customer} angemeldet. Tippen Sie einen Befehl oder wählen Sie eine Schaltfläche.",
    },
    "help_customer_suffix": {"en": " for {customer}", "de": " für {customer}"},
    "role_contact": {"en": "customer contact", "de": "Kundenkontakt"},
    "role_engineer": {"en": "engineer", "de": "Techniker:in"},
    "role_manager": {"en": "manager", "de": "Manager:in"},
    "cmd_help": {"en": "show this overview", "de": "diese Übersicht anzeigen"},
    "cmd_whoami": {
        "en": "show who I think you are, your role and your contract",
        "de": "anzeigen, wer Sie für mich sind, Ihre Rolle und Ihren Vertrag",
    },
    "whoami_title": {"en": "Who you are to me", "de": "Wer Sie für mich sind"},
    "fact_name": {"en": "Name", "de": "Name"},
    "fact_role": {"en": "Role", "de": "Rolle"},
    "fact_customer": {"en": "Customer", "de": "Kunde"},
    "fact_contract": {"en": "Contract", "de": "Vertrag"},
    "fact_reaction": {"en": "Reaction time", "de": "Reaktionszeit"},
    "fact_service_time": {"en": "Service time", "de": "Servicezeit"},
    "fact_channel": {"en": "Channel", "de": "Kanal"},
    "something_went_wrong": {
        "en": "Sorry, something went wrong on my side. Nothing you sent is lost; please try again in a minute.",
        "de": "Entschuldigung, bei mir ist etwas schiefgegangen. Ihre Nachricht ist nicht verloren; bitte versuchen Sie es in einer Minute erneut.",
    },
    # --- maintenance windows and billable effort (dialogs/maintenance.py, dialogs/billing.py)
    "cmd_maintenance": {
        "en": "propose a maintenance window inside the service time; list, move, cancel",
        "de": "Wartungsfenster in der Servicezeit vorschlagen; auflisten, verschieben, absagen",
    },
    "cmd_windows": {
        "en": "your organisation's maintenance windows: confirm or propose another time",
        "de": "Wartungsfenster Ihrer Organisation: bestätigen oder anderen Termin vorschlagen",
    },
    "cmd_effort": {
        "en": "log effort on a ticket (change requests are billed), or show its total",
        "de": "Aufwand zu einem Ticket erfassen (Änderungen werden verrechnet) oder Summe zeigen",
    },
    "cmd_billing": {
        "en": "billable effort of a month per customer, with CSV",
        "de": "verrechenbarer Aufwand eines Monats je Kunde, mit CSV",
    },
    "maintenance_outside": {
        "en": "{span} does not lie entirely inside the service time ({service_time}).",
        "de": "{span} liegt nicht vollständig in der Servicezeit ({service_time}).",
    },
    "maintenance_in_past": {
        "en": "{span} lies in the past.",
        "de": "{span} liegt in der Vergangenheit.",
    },
    "maintenance_next_slot": {
        "en": "The next possible slot: {span}.",
        "de": "Der nächste mögliche Termin: {span}.",
    },
    "maintenance_no_slot": {
        "en": "No single service-time stretch is {duration} long; please split the work.",
        "de": "Kein zusammenhängender Servicezeit-Abschnitt ist {duration} lang; bitte teilen Sie die Arbeit auf.",
    },
    "maintenance_try": {
        "en": "Write `move {start}` to take it.",
        "de": "Mit `move {start}` übernehmen Sie ihn.",
    },
    "maintenance_proposal_title": {
        "en": "Maintenance window proposed",
        "de": "Wartungsfenster vorgeschlagen",
    },
    "maintenance_proposal_intro": {
        "en": "{provider} would like to carry out planned work: **{title}**.",
        "de": "{provider} möchte geplante Arbeiten durchführen: **{title}**.",
    },
    "maintenance_proposal_hint": {
        "en": "Reply **confirm**, or **move YYYY-MM-DD HH:MM** to propose another time within normal working hours.",
        "de": "Antworten Sie **confirm** (bestätigen) oder **move JJJJ-MM-TT HH:MM**, um einen anderen Termin in der Normalarbeitszeit vorzuschlagen.",
    },
    "maintenance_fact_what": {"en": "Work", "de": "Arbeiten"},
    "maintenance_fact_when": {"en": "When", "de": "Wann"},
    "maintenance_fact_ref": {"en": "Reference", "de": "Referenz"},
    "maintenance_other_time": {
        "en": "Another start (YYYY-MM-DD HH:MM)",
        "de": "Anderer Beginn (JJJJ-MM-TT HH:MM)",
    },
    "maintenance_button_confirm": {"en": "Confirm", "de": "Bestätigen"},
    "maintenance_button_move": {"en": "Propose another time", "de": "Anderen Termin vorschlagen"},
    "maintenance_status_proposed": {"en": "proposed", "de": "vorgeschlagen"},
    "maintenance_status_confirmed": {"en": "confirmed", "de": "bestätigt"},
    "maintenance_status_cancelled": {"en": "cancelled", "de": "abgesagt"},
    "maintenance_status_done": {"en": "done", "de": "erledigt"},
    "maintenance_list_title": {"en": "Maintenance windows", "de": "Wartungsfenster"},
    "maintenance_none": {
        "en": "No maintenance windows are planned for your organisation.",
        "de": "Für Ihre Organisation sind keine Wartungsfenster geplant.",
    },
    "maintenance_unknown": {
        "en": "I know no maintenance window of your organisation by that reference.",
        "de": "Ein Wartungsfenster Ihrer Organisation mit dieser Referenz kenne ich nicht.",
    },
    "maintenance_answer_hint": {
        "en": "Your answer to maintenance window {ref}: **confirm**, or another start such as “Thursday 10:00” (or **move YYYY-MM-DD HH:MM**). To answer later, write **cancel**; **windows** brings it back.",
        "de": "Ihre Antwort zum Wartungsfenster {ref}: **bestätigen**, oder ein anderer Beginn wie „Donnerstag 10:00“ (oder **move JJJJ-MM-TT HH:MM**). Um später zu antworten, schreiben Sie **abbrechen**; mit **windows** kommt es wieder.",
    },
    "maintenance_move_how": {
        "en": "When would suit you for {ref}? Write a day and time, e.g. “Thursday 10:00” or move 2026-03-04 10:00.",
        "de": "Wann passt es Ihnen für {ref}? Schreiben Sie Tag und Uhrzeit, z. B. „Donnerstag 10:00“ oder move 2026-03-04 10:00.",
    },
    "maintenance_confirmed": {
        "en": "Thank you: maintenance window {ref} is confirmed for {span}. I'll remind you on the morning of the day.",
        "de": "Danke: Wartungsfenster {ref} ist für {span} bestätigt. Ich erinnere Sie am Morgen des Tages.",
    },
    "maintenance_moved": {
        "en": "Thank you: maintenance window {ref} is moved to {span} and confirmed. The engineers are told; I'll remind you on the morning of the day.",
        "de": "Danke: Wartungsfenster {ref} ist auf {span} verschoben und bestätigt. Die Technik ist informiert; ich erinnere Sie am Morgen des Tages.",
    },
    "maintenance_already": {
        "en": "Maintenance window {ref} is already confirmed for {span}.",
        "de": "Wartungsfenster {ref} ist bereits für {span} bestätigt.",
    },
    "maintenance_closed": {
        "en": "Maintenance window {ref} is no longer open for an answer.",
        "de": "Wartungsfenster {ref} kann nicht mehr beantwortet werden.",
    },
    "maintenance_start_passed": {
        "en": "The proposed start of {ref} has passed; please propose another time with **move YYYY-MM-DD HH:MM**.",
        "de": "Der vorgeschlagene Beginn von {ref} ist vorbei; bitte schlagen Sie mit **move JJJJ-MM-TT HH:MM** einen anderen Termin vor.",
    },
    "maintenance_cancelled": {
        "en": "Maintenance window {ref} “{title}” ({span}) is cancelled.",
        "de": "Wartungsfenster {ref} „{title}“ ({span}) ist abgesagt.",
    },
    "maintenance_reminder": {
        "en": "Reminder: maintenance window {ref} “{title}” is today, {span}.",
        "de": "Erinnerung: Wartungsfenster {ref} „{title}“ ist heute, {span}.",
    },
}


INTAKE_TEXTS: Final[dict[str, dict[Language, str]]] = {
    "cmd_report": {
        "en": "report a fault: I ask a few questions and open a ticket",
        "de": "eine Störung melden: ich stelle ein paar Fragen und eröffne ein Ticket",
    },
    "cmd_ack": {
        "en": "acknowledge a ticket: the first response, the customer is told",
        "de": "Ticket bestätigen: die erste Reaktion, der Kunde wird informiert",
    },
    "cmd_take": {"en": "take a ticket: you own it", "de": "Ticket übernehmen"},
    "cmd_assign": {"en": "give a ticket to another engineer", "de": "Ticket zuweisen"},
    "cmd_reply": {"en": "write to the ticket's customer", "de": "dem Kunden des Tickets schreiben"},
    "cmd_ask_logs": {
        "en": "ask the customer for logs (SLA paused)",
        "de": "Logs beim Kunden anfordern (SLA pausiert)",
    },
    "cmd_note": {"en": "internal note on a ticket", "de": "interne Notiz zu einem Ticket"},
    "cmd_vendor": {"en": "record a manufacturer case", "de": "Herstellerfall erfassen"},
    "cmd_resolve": {"en": "resolve a ticket", "de": "Ticket lösen"},
    "cmd_reopen": {"en": "reopen a resolved ticket", "de": "gelöstes Ticket wieder öffnen"},
    "cmd_show": {"en": "a ticket's card and SLA state", "de": "Karte und SLA-Stand eines Tickets"},
    "cmd_mine": {"en": "your open tickets by deadline", "de": "Ihre offenen Tickets nach Frist"},
    "cmd_queue": {"en": "all open tickets by deadline", "de": "alle offenen Tickets nach Frist"},
    "customer_message_added": {
        "en": "Added to {number}; the engineers see it.",
        "de": "Zu {number} hinzugefügt; die Technik sieht es.",
    },
    "cmd_report_sla": {
        "en": "SLA report of a month with chart and CSV",
        "de": "SLA-Bericht eines Monats mit Grafik und CSV",
    },
    "cmd_breaches": {
        "en": "late first reactions in a period",
        "de": "verspätete Reaktionen in einem Zeitraum",
    },
    "cmd_digest": {
        "en": "daily and weekly summary in the managers' channel",
        "de": "tägliche und wöchentliche Zusammenfassung",
    },
    "cmd_status": {
        "en": "where a ticket stands (managers: the whole service)",
        "de": "Stand eines Tickets",
    },
    "cmd_my_tickets": {"en": "the tickets you reported", "de": "Ihre gemeldeten Tickets"},
    "cmd_why": {
        "en": "why a ticket's deadline is where it is",
        "de": "warum die Frist eines Tickets dort liegt",
    },
    "cmd_onboarding": {
        "en": "a customer's onboarding checklist; tick an item, ask the customer again",
        "de": "Onboarding-Checkliste eines Kunden; Punkt abhaken, Kunden erneut fragen",
    },
    "cmd_duties": {
        "en": "contract duties: overdue, due and done (reviews, update checks, security updates)",
        "de": "Vertragspflichten: überfällig, fällig, erledigt (Reviews, Update-Checks, Updates)",
    },
    "cmd_done": {
        "en": "record a contract duty's result (a review's goes to the customer)",
        "de": "Ergebnis einer Vertragspflicht erfassen (ein Review geht an den Kunden)",
    },
    "cmd_onboarding_questions": {
        "en": "answer the onboarding questions",
        "de": "die Onboarding-Fragen beantworten",
    },
    "status_unknown": {
        "en": "I know no ticket {number} that you may see.",
        "de": "Ein Ticket {number}, das Sie sehen dürfen, kenne ich nicht.",
    },
    "my_tickets_none": {
        "en": "You have not reported any ticket yet. Type **report a fault** to report one.",
        "de": "Sie haben noch kein Ticket gemeldet. Mit **störung melden** melden Sie eines.",
    },
    "my_tickets_title": {"en": "Your tickets", "de": "Ihre Tickets"},
    "status_state": {"en": "State", "de": "Stand"},
    "status_owner": {"en": "Engineer", "de": "Techniker:in"},
    "status_reaction": {"en": "Reaction", "de": "Reaktion"},
    "status_waiting": {"en": "Waiting for", "de": "Wartet auf"},
    "state_new": {"en": "new", "de": "neu"},
    "state_in_progress": {"en": "in progress", "de": "in Bearbeitung"},
    "state_waiting_customer": {"en": "waiting for the customer", "de": "wartet auf den Kunden"},
    "state_waiting_vendor": {"en": "waiting for the vendor", "de": "wartet auf den Hersteller"},
    "state_resolved": {"en": "resolved", "de": "gelöst"},
    "reaction_met": {"en": "in time", "de": "rechtzeitig"},
    "reaction_breached": {"en": "late", "de": "verspätet"},
    "reaction_paused": {"en": "paused", "de": "pausiert"},
    "reaction_due": {"en": "due {when}", "de": "fällig {when}"},
    "reaction_breached_due": {"en": "overdue since {when}", "de": "überfällig seit {when}"},
    "waiting_for_you": {
        "en": "you (logfiles or an answer)",
        "de": "Sie (Logdateien oder eine Antwort)",
    },
    "waiting_for_engineer": {
        "en": "an engineer to pick it up",
        "de": "eine Technikerin oder einen Techniker",
    },
    "waiting_for_work": {
        "en": "nothing from you – we are on it",
        "de": "nichts von Ihnen – wir arbeiten daran",
    },
    "card_expired": {
        "en": "That form was already sent or has expired. Type **help** to start again.",
        "de": "Dieses Formular wurde schon gesendet oder ist abgelaufen. Mit **hilfe** beginnen Sie neu.",
    },
    "cmd_language": {
        "en": "answer in German or English",
        "de": "auf Deutsch oder Englisch antworten",
    },
    "cmd_add_logs": {
        "en": "send logfiles for a ticket",
        "de": "Logdateien zu einem Ticket senden",
    },
    "language_set": {
        "en": "From now on I answer in English.",
        "de": "Ab jetzt antworte ich auf Deutsch.",
    },
    "language_usage": {
        "en": "Please write `language de` or `language en`.",
        "de": "Bitte schreiben Sie `sprache de` oder `sprache en`.",
    },
    "intake_title": {"en": "Report a fault", "de": "Störung melden"},
    "intake_intro": {
        "en": "Please describe the fault. Fields marked * are required.",
        "de": "Bitte beschreiben Sie die Störung. Felder mit * sind Pflichtfelder.",
    },
    "intake_looks_like_fault": {
        "en": "That sounds like a fault – let's report it. (Type **cancel** to stop.)",
        "de": "Das klingt nach einer Störung – melden wir sie. (Mit **abbrechen** beenden Sie.)",
    },
    "intake_text_hint": {
        "en": "You can also answer step by step in text; type **back** to change the previous answer, **cancel** to stop.",
        "de": "Sie können auch Schritt für Schritt im Text antworten; **zurück** ändert die vorige Antwort, **abbrechen** beendet.",
    },
    "field_product": {"en": "Affected product *", "de": "Betroffenes Produkt *"},
    "field_priority": {"en": "How bad is it? *", "de": "Wie schlimm ist es? *"},
    "field_description": {"en": "What is wrong? *", "de": "Was funktioniert nicht? *"},
    "field_since": {
        "en": "Since when? (e.g. today 09:30; empty = now)",
        "de": "Seit wann? (z. B. heute 09:30; leer = jetzt)",
    },
    "field_affected": {
        "en": "Who or what is affected? (users, numbers, sites) *",
        "de": "Wer oder was ist betroffen? (Benutzer, Nummern, Standorte) *",
    },
    "field_tested": {"en": "What did you already try? *", "de": "Was haben Sie schon versucht? *"},
    "field_phone": {"en": "Callback number *", "de": "Rückrufnummer *"},
    "ask_product": {"en": "Which product is affected?", "de": "Welches Produkt ist betroffen?"},
    "ask_priority": {"en": "How bad is it?", "de": "Wie schlimm ist es?"},
    "priority_suggested": {
        "en": "From what you wrote I'd say **{priority}**: reply **yes** to take it, or choose another.",
        "de": "Nach Ihrer Beschreibung würde ich **{priority}** wählen: antworten Sie **ja**, oder wählen Sie eine andere.",
    },
    "ask_description": {
        "en": "What is wrong? Please describe the fault in a few sentences.",
        "de": "Was funktioniert nicht? Bitte beschreiben Sie die Störung in ein paar Sätzen.",
    },
    "ask_since": {
        "en": "Since when does it happen? (e.g. `today 09:30`, `yesterday 14:00`, `07.01. 15:30`, or `now`)",
        "de": "Seit wann tritt es auf? (z. B. `heute 09:30`, `gestern 14:00`, `07.01. 15:30` oder `jetzt`)",
    },
    "ask_affected": {
        "en": "Who or what is affected? (users, phone numbers, sites)",
        "de": "Wer oder was ist betroffen? (Benutzer, Rufnummern, Standorte)",
    },
    "ask_tested": {
        "en": "What did you already try? (e.g. restarted the app, other device)",
        "de": "Was haben Sie schon versucht? (z. B. App neu gestartet, anderes Gerät)",
    },
    "ask_phone": {
        "en": "Which number can we call you back on?",
        "de": "Unter welcher Nummer können wir Sie zurückrufen?",
    },
    "ask_followup": {
        "en": "{label}? (optional – type **skip** to leave it out)",
        "de": "{label}? (optional – mit **weiter** auslassen)",
    },
    "priority_P1": {
        "en": "P1 – total outage: nobody can make or take calls",
        "de": "P1 – Totalausfall: niemand kann telefonieren",
    },
    "priority_P2": {
        "en": "P2 – major: many users or an important function are affected",
        "de": "P2 – schwer: viele Benutzer oder eine wichtige Funktion betroffen",
    },
    "priority_P3": {
        "en": "P3 – minor: single users, or a workaround exists",
        "de": "P3 – gering: einzelne Benutzer oder es gibt eine Umgehung",
    },
    "priority_P4": {
        "en": "P4 – question or request for information",
        "de": "P4 – Frage oder Auskunft",
    },
    "bad_product": {
        "en": "I don't know that product. Please answer with its number (1–{count}) or its name.",
        "de": "Dieses Produkt kenne ich nicht. Bitte antworten Sie mit der Nummer (1–{count}) oder dem Namen.",
    },
    "bad_priority": {
        "en": "Please answer with P1, P2, P3 or P4.",
        "de": "Bitte antworten Sie mit P1, P2, P3 oder P4.",
    },
    "bad_description": {
        "en": "Please describe the fault in a few more words (at least {minimum} characters).",
        "de": "Bitte beschreiben Sie die Störung etwas genauer (mindestens {minimum} Zeichen).",
    },
    "bad_since": {
        "en": "I could not read that time. Please write e.g. `today 09:30`, `07.01. 15:30` or `now`.",
        "de": "Diese Zeitangabe verstehe ich nicht. Bitte z. B. `heute 09:30`, `07.01. 15:30` oder `jetzt`.",
    },
    "old_since": {
        "en": "That is more than a year ago, so I cannot use it. When did the fault start? (e.g. `today 09:30`, `07.01. 15:30` or `now`)",
        "de": "Das liegt mehr als ein Jahr zurück, damit kann ich nicht rechnen. Wann hat die Störung begonnen? (z. B. `heute 09:30`, `07.01. 15:30` oder `jetzt`)",
    },
    "future_since": {
        "en": "That time lies in the future. When did the fault start?",
        "de": "Dieser Zeitpunkt liegt in der Zukunft. Wann hat die Störung begonnen?",
    },
    "bad_required": {
        "en": "Please fill this in; a short answer is fine.",
        "de": "Bitte füllen Sie das aus; eine kurze Antwort genügt.",
    },
    "bad_phone": {
        "en": "That does not look like a phone number. Please write it with digits, e.g. +43 1 234 5678.",
        "de": "Das sieht nicht wie eine Rufnummer aus. Bitte mit Ziffern, z. B. +43 1 234 5678.",
    },
    "form_errors": {"en": "Please check these fields:", "de": "Bitte prüfen Sie diese Felder:"},
    "nothing_to_go_back": {
        "en": "This is the first question; there is nothing before it.",
        "de": "Das ist die erste Frage; davor gibt es nichts.",
    },
    "scope_continue": {
        "en": "Do you still want to report it as a fault? (**yes** / **no**)",
        "de": "Möchten Sie es trotzdem als Störung melden? (**ja** / **nein**)",
    },
    "change_consent": {
        "en": "Do you agree that this change is billed by effort? (**yes** / **no**)",
        "de": "Sind Sie einverstanden, dass diese Änderung nach Aufwand verrechnet wird? (**ja** / **nein**)",
    },
    "answer_yes_no": {
        "en": "Please answer **yes** or **no**.",
        "de": "Bitte antworten Sie mit **ja** oder **nein**.",
    },
    "no_ticket": {
        "en": "Understood – I did not open a ticket. Type **help** if you need anything else.",
        "de": "Verstanden – ich habe kein Ticket eröffnet. Mit **hilfe** sehen Sie, was ich sonst kann.",
    },
    "followup_title": {
        "en": "A few details for the engineer (optional)",
        "de": "Ein paar Details für die Technik (optional)",
    },
    "button_continue": {"en": "Continue", "de": "Weiter"},
    "button_skip": {"en": "Skip", "de": "Überspringen"},
    "button_send": {"en": "Send report", "de": "Meldung senden"},
    "button_change": {"en": "Change", "de": "Ändern"},
    "button_cancel": {"en": "Cancel", "de": "Abbrechen"},
    "button_yes": {"en": "Yes", "de": "Ja"},
    "button_no": {"en": "No", "de": "Nein"},
    "summary_title": {"en": "Please check your report", "de": "Bitte prüfen Sie Ihre Meldung"},
    "summary_change_request": {
        "en": "Change request (billed by effort, with your consent)",
        "de": "Änderungsauftrag (Verrechnung nach Aufwand, mit Ihrer Zustimmung)",
    },
    "summary_confirm": {
        "en": "Reply **yes** to send it, **back** to change the last answer, or **cancel**.",
        "de": "Antworten Sie **ja** zum Senden, **zurück** zum Ändern der letzten Antwort oder **abbrechen**.",
    },
    "label_kind": {"en": "Type", "de": "Art"},
    "label_product": {"en": "Product", "de": "Produkt"},
    "label_priority": {"en": "Priority", "de": "Priorität"},
    "label_details": {"en": "Details", "de": "Details"},
    "since_now": {"en": "now", "de": "jetzt"},
    "ticket_opened": {
        "en": "Ticket **{number}** is open: {product}, {priority}. We will react by **{deadline}** ({reaction} of service time, {service_time}). Our automatic confirmation does not count as that reaction – an engineer will get back to you.",
        "de": "Ticket **{number}** ist eröffnet: {product}, {priority}. Wir reagieren bis **{deadline}** ({reaction} Servicezeit, {service_time}). Diese automatische Bestätigung zählt nicht als Reaktion – eine Technikerin oder ein Techniker meldet sich bei Ihnen.",
    },
    "change_request_opened": {
        "en": "Change request **{number}** is recorded: {product}. It is billed by effort with your consent; we will get back to you by **{deadline}** to plan it within normal working hours.",
        "de": "Änderungsauftrag **{number}** ist erfasst: {product}. Er wird mit Ihrer Zustimmung nach Aufwand verrechnet; wir melden uns bis **{deadline}**, um ihn in der Normalarbeitszeit einzuplanen.",
    },
    "draft_reminder": {
        "en": "Your fault report is not finished yet. Answer the last question to continue, or type **cancel**.",
        "de": "Ihre Störungsmeldung ist noch nicht fertig. Beantworten Sie die letzte Frage, um fortzufahren, oder schreiben Sie **abbrechen**.",
    },
    "draft_expired": {
        "en": "Your unfinished fault report has expired and was discarded. Type **report a fault** to start again.",
        "de": "Ihre unfertige Störungsmeldung ist abgelaufen und wurde verworfen. Mit **störung melden** beginnen Sie neu.",
    },
    "logs_received": {
        "en": "Received **{name}** ({size}) for {number}.",
        "de": "**{name}** ({size}) zu {number} erhalten.",
    },
    "logs_receiving": {
        "en": "📥 Receiving **{name}** for {number} … I'll tell you here as soon as it is stored.",
        "de": "📥 Ich empfange **{name}** zu {number} … Sobald die Datei gespeichert ist, melde ich mich hier.",
    },
    "logs_receiving_draft": {
        "en": "📥 Receiving **{name}** … it will be attached to your ticket; I'll tell you here when it is stored.",
        "de": "📥 Ich empfange **{name}** … die Datei kommt zu Ihrem Ticket; sobald sie gespeichert ist, melde ich mich hier.",
    },
    "logs_timed_out": {
        "en": "The upload of **{name}** took too long (more than {limit}), so I stopped it. Please send it again.",
        "de": "Das Hochladen von **{name}** hat zu lange gedauert (mehr als {limit}), deshalb habe ich es abgebrochen. Bitte senden Sie die Datei noch einmal.",
    },
    "duration_seconds": {
        "en": "{count} seconds",
        "de": "{count} Sekunden",
    },
    "duration_minutes": {
        "en": "{count} minutes",
        "de": "{count} Minuten",
    },
    "logs_kept": {
        "en": "Received **{name}** ({size}); it will be attached to your ticket.",
        "de": "**{name}** ({size}) erhalten; ich hänge sie an Ihr Ticket.",
    },
    "logs_duplicate": {
        "en": "I already have **{name}** for {number} (same content); nothing to do.",
        "de": "**{name}** habe ich zu {number} schon (gleicher Inhalt); nichts zu tun.",
    },
    "logs_too_large": {
        "en": "**{name}** is larger than {limit}; please split it or compress it.",
        "de": "**{name}** ist größer als {limit}; bitte teilen oder komprimieren Sie die Datei.",
    },
    "logs_wrong_type": {
        "en": "I cannot accept **{name}**: logfiles should be archives, logs or text, HAR, JSON, CSV, captures or screenshots.",
        "de": "**{name}** kann ich nicht annehmen: Logdateien bitte als Archiv, Log oder Text, HAR, JSON, CSV, Mitschnitt oder Screenshot.",
    },
    "logs_infected": {
        "en": "**{name}** was flagged as infected by the malware scan and was not taken.",
        "de": "**{name}** wurde vom Virenscan als infiziert gemeldet und nicht übernommen.",
    },
    "logs_unscannable": {
        "en": "**{name}** could not be scanned for malware and was not taken; please send it as a ZIP.",
        "de": "**{name}** konnte nicht auf Schadsoftware geprüft werden und wurde nicht übernommen; bitte als ZIP senden.",
    },
    "logs_not_ready": {
        "en": "**{name}** is still being scanned for malware; please send it again in a minute.",
        "de": "**{name}** wird noch auf Schadsoftware geprüft; bitte senden Sie sie in einer Minute noch einmal.",
    },
    "logs_failed": {
        "en": "I could not download **{name}**; please send it again.",
        "de": "**{name}** konnte ich nicht herunterladen; bitte senden Sie sie noch einmal.",
    },
    "logs_untrusted_source": {
        "en": "I did not download **{name}**: it does not come from where Teams keeps attached files, so I cannot trust the link. Please attach the file again with the paperclip (Attach) button in our 1:1 chat.",
        "de": "**{name}** habe ich nicht heruntergeladen: Die Datei liegt nicht dort, wo Teams angehängte Dateien ablegt, deshalb kann ich dem Link nicht vertrauen. Bitte hängen Sie die Datei in unserem 1:1-Chat noch einmal mit der Büroklammer (Anfügen) an.",
    },
    "logs_wrong_place": {
        "en": "I cannot receive files in channels or group chats. Please send them to me in our 1:1 chat.",
        "de": "In Kanälen und Gruppenchats kann ich keine Dateien empfangen. Bitte senden Sie sie mir im 1:1-Chat.",
    },
    "logs_resumed": {
        "en": "Thank you – {number} no longer waits for you; the SLA clock runs again.",
        "de": "Danke – {number} wartet nicht mehr auf Sie; die SLA-Uhr läuft wieder.",
    },
    "logs_which_ticket": {
        "en": "You have several open tickets ({numbers}). Please write `add logs <ticket>` and send the files.",
        "de": "Sie haben mehrere offene Tickets ({numbers}). Bitte schreiben Sie `logs hinzufügen <Ticket>` und senden Sie die Dateien.",
    },
    "logs_no_ticket": {
        "en": "You have no open ticket to attach files to. Type **report a fault** first.",
        "de": "Sie haben kein offenes Ticket, an das ich Dateien hängen kann. Bitte zuerst **störung melden**.",
    },
    "logs_unknown_ticket": {
        "en": "I found no open ticket {number} of yours.",
        "de": "Ein offenes Ticket {number} von Ihnen habe ich nicht gefunden.",
    },
    "logs_send_now": {
        "en": "Please send the files for {number} now (in this 1:1 chat). Type **done** when you are finished.",
        "de": "Bitte senden Sie jetzt die Dateien zu {number} (hier im 1:1-Chat). Schreiben Sie **fertig**, wenn Sie fertig sind.",
    },
    "logs_done": {
        "en": "Thanks, that's all for {number}.",
        "de": "Danke, das war alles zu {number}.",
    },
    "logs_waiting": {
        "en": "I'm waiting for files for {number}; send them, or type **done**.",
        "de": "Ich warte auf Dateien zu {number}; senden Sie sie oder schreiben Sie **fertig**.",
    },
}


CONVERSATION_TEXTS: Final[dict[str, dict[Language, str]]] = {
    "cmd_message": {
        "en": "add a message to one of your tickets",
        "de": "eine Nachricht zu einem Ihrer Tickets hinzufügen",
    },
    "not_for_you": {
        "en": "That is something {who} do, so I can't do it for you. Here is what I can do for you:",
        "de": "Das machen {who}, daher kann ich das für Sie nicht tun. Das kann ich für Sie tun:",
    },
    "who_engineer": {"en": "our engineers", "de": "unsere Techniker:innen"},
    "who_manager": {"en": "managers", "de": "Manager:innen"},
    "who_staff": {"en": "our staff", "de": "unsere Mitarbeiter:innen"},
    "who_contact": {"en": "customer contacts", "de": "Kundenkontakte"},
    "label_cmd_help": {"en": "What I can do", "de": "Was ich kann"},
    "confirm_action": {
        "en": "I'm not sure you want me to do this now. Shall I?",
        "de": "Ich bin nicht sicher, ob ich das jetzt tun soll. Soll ich?",
    },
    "understood_title": {
        "en": "From your message I understood (please check):",
        "de": "Aus Ihrer Nachricht habe ich verstanden (bitte prüfen):",
    },
    "no_idea": {
        "en": "I'm not sure what you mean by “{text}”. Is it one of these?",
        "de": "Ich bin nicht sicher, was Sie mit „{text}“ meinen. Ist es eines davon?",
    },
    "clarify": {
        "en": "Did you mean:",
        "de": "Meinten Sie:",
    },
    "clarify_hint": {
        "en": "Press a button or reply with its number.",
        "de": "Wählen Sie eine Schaltfläche oder antworten Sie mit der Nummer.",
    },
    "which_ticket": {
        "en": "You have several open tickets. Which one is this about?",
        "de": "Sie haben mehrere offene Tickets. Worum geht es?",
    },
    "option_add_to": {"en": "Add this to {number}", "de": "Zu {number} hinzufügen"},
    "option_new_fault": {"en": "Report a new fault", "de": "Neue Störung melden"},
    "option_reopen": {"en": "Reopen {number}", "de": "{number} wieder öffnen"},
    "option_ticket": {"en": "{number}: {summary}", "de": "{number}: {summary}"},
    "option_command": {"en": "{summary}", "de": "{summary}"},
    "offer_reopen": {
        "en": "{number} was resolved recently. Is the fault back? I can reopen it; the engineers are told at once.",
        "de": "{number} wurde kürzlich gelöst. Ist der Fehler wieder da? Ich kann das Ticket wieder öffnen; die Techniker:innen werden sofort informiert.",
    },
    "nothing_to_cancel": {
        "en": "There is nothing to cancel right now.",
        "de": "Gerade gibt es nichts abzubrechen.",
    },
    "smalltalk_hello": {
        "en": "Hello {name}! What can I do for you?",
        "de": "Hallo {name}! Was kann ich für Sie tun?",
    },
    "smalltalk_thanks": {
        "en": "You're welcome, {name}!",
        "de": "Gern geschehen, {name}!",
    },
    "smalltalk_other": {
        "en": "Glad to hear, {name}. Anything else I can do for you?",
        "de": "Freut mich, {name}. Kann ich sonst noch etwas für Sie tun?",
    },
    "ticket_not_found": {
        "en": "I can't find a ticket “{ref}” among yours. `my tickets` lists them.",
        "de": "Ein Ticket „{ref}“ finde ich bei Ihnen nicht. `meine tickets` zeigt Ihre Tickets.",
    },
    "ticket_not_found_staff": {
        "en": "I can't find a ticket “{ref}”.",
        "de": "Ein Ticket „{ref}“ finde ich nicht.",
    },
    "which_ticket_unknown": {
        "en": "Which ticket? Write its number, e.g. `status CCS-2026-000012`, or `my tickets` for the list.",
        "de": "Welches Ticket? Schreiben Sie die Nummer, z. B. `status CCS-2026-000012`, oder `meine tickets` für die Liste.",
    },
    "ticket_resolved_reopen": {
        "en": "{number} is resolved. If the fault is back, write `reopen {number}`.",
        "de": "{number} ist gelöst. Ist der Fehler wieder da, schreiben Sie `reopen {number}`.",
    },
    "reopen_nothing": {
        "en": "I found no ticket of yours resolved in the last days. Shall we report a new fault? Type **report a fault**.",
        "de": "Ich finde kein kürzlich gelöstes Ticket von Ihnen. Wollen wir eine neue Störung melden? Schreiben Sie **störung melden**.",
    },
    "reopen_still_open": {
        "en": "{number} is still open; the engineers are on it. Anything you write about it reaches them.",
        "de": "{number} ist noch offen; die Techniker:innen arbeiten daran. Was Sie dazu schreiben, erreicht sie.",
    },
    "reopen_too_late": {
        "en": "{number} was resolved too long ago to reopen it. Please report a new fault (**report a fault**); mention {number} in it.",
        "de": "{number} wurde vor zu langer Zeit gelöst, um es wieder zu öffnen. Bitte melden Sie eine neue Störung (**störung melden**) und nennen Sie {number} darin.",
    },
    "reopened_by_contact": {
        "en": "I reopened {number} and told the engineers. The new reaction deadline is {deadline}.",
        "de": "Ich habe {number} wieder geöffnet und die Techniker:innen informiert. Die neue Reaktionsfrist ist {deadline}.",
    },
    "dialog_ended_by_error": {
        "en": "Sorry, I could not continue our conversation because of an error on my side, so I have ended it (a ticket you already have is not affected). Please start again – for example with **report a fault** – or type **help** to see what I can do.",
        "de": "Entschuldigung, wegen eines Fehlers auf meiner Seite konnte ich unser Gespräch nicht fortsetzen und habe es beendet (bestehende Tickets sind davon nicht betroffen). Bitte beginnen Sie neu – zum Beispiel mit **störung melden** – oder schreiben Sie **hilfe**, um zu sehen, was ich kann.",
    },
    "quote_description": {
        "en": "Description, as reported:",
        "de": "Beschreibung, wie gemeldet:",
    },
    "still_in_dialog": {
        "en": "We're still in the middle of something; answer the last question, or type **cancel**.",
        "de": "Wir sind noch mittendrin; beantworten Sie die letzte Frage oder schreiben Sie **abbrechen**.",
    },
    "no_open_ticket_message": {
        "en": "You have no open ticket I could add this to. Is it a new fault?",
        "de": "Sie haben kein offenes Ticket, zu dem ich das hinzufügen könnte. Ist es eine neue Störung?",
    },
}


def t(key: str, language: Language, **values: object) -> str:
    """The text for `key` in `language`, with `{placeholders}` filled in."""
    entry = TEXTS.get(key) or INTAKE_TEXTS.get(key) or CONVERSATION_TEXTS[key]
    return entry[language].format(**values)
