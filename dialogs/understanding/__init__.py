"""Understanding people: German and English, typos, greetings and questions → a command, its
entities and a confidence. Channel-neutral and offline; see `understander.Understander`."""

from dialogs.understanding import corpus
from dialogs.understanding.entities import Entities, TicketRef, Vocabulary
from dialogs.understanding.phrasing import Phrasing, Slot
from dialogs.understanding.reading import CANCEL, MESSAGE, NONE, SMALLTALK, Reading
from dialogs.understanding.understander import Intent, Understander

__all__ = [
    "CANCEL",
    "MESSAGE",
    "NONE",
    "SMALLTALK",
    "Entities",
    "Intent",
    "Phrasing",
    "Reading",
    "Slot",
    "TicketRef",
    "Understander",
    "Vocabulary",
    "corpus",
]
