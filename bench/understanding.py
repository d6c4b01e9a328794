"""How well and how fast the bot understands people: accuracy on the held-out part of the
corpus (which the classifier never sees), per command and language, the pairs it confuses, the
time per message, the time to train at start-up and the memory it takes.

Each held-out line is read as a person of the role whose words it is (a contact's line by a
contact, an engineer's by an engineer…), as the bot reads it in chat. Run: `make bench` or
`.venv/bin/python bench/understanding.py [--errors]`.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dialogs.catalog import build_understander, default_commands
from dialogs.context import Actor
from dialogs.understanding import Understander, corpus
from dialogs.understanding.understander import forget_trained
from storage.directory import Role, load_directory

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Vienna")
# A command "with enough examples" for the per-command bar: at least this many held-out lines.
ENOUGH = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--errors", action="store_true", help="print every misread line")
    options = parser.parse_args()
    directory = load_directory(ROOT / "chatops.example.toml")
    commands = default_commands()
    started, cpu = time.perf_counter(), time.process_time()
    understander = build_understander(commands, directory)
    trained, trained_cpu = time.perf_counter() - started, time.process_time() - cpu
    forget_trained()  # once more, counting memory (which slows it down)
    tracemalloc.start()
    build_understander(commands, directory)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    weights = understander.classifier.weights_bytes()
    may = {
        role.value: [c.name for c in commands if c.allowed(Actor("u", "n", role, "en"))]
        for role in Role
    }
    lines = corpus.load()
    held_out = corpus.held_out(lines)
    print(
        f"corpus: {len(lines)} lines, {len(lines) - len(held_out)} for training, "
        f"{len(held_out)} held out"
    )
    print(
        f"training at start-up: {trained * 1000:.0f} ms ({trained_cpu * 1000:.0f} ms of CPU); "
        f"memory while training (peak, Python "
        f"allocations) {peak / 2**20:.0f} MiB, the model kept {weights / 2**20:.1f} MiB"
    )
    _accuracy(understander, held_out, may, show_errors=options.errors)
    _calibration(understander, held_out, may)
    _baseline(understander, held_out, may)
    _timing(understander, held_out, may)


def _calibration(
    understander: Understander, held_out: list[corpus.Utterance], may: dict[str, list[str]]
) -> None:
    """How often a reading of a given confidence is right: the bot acts, asks or offers by
    these numbers, so they should mean what they say."""
    buckets: dict[float, list[bool]] = {}
    for line in held_out:
        reading = understander.read(
            line.text, now=NOW, zone=ZONE, may=may.get(line.role), role=line.role
        )
        if not reading.exact:
            low = min(int(reading.confidence * 5), 4) / 5
            buckets.setdefault(low, []).append((reading.command or "none") == line.intent)
    print("\nconfidence of a classified reading → how often it was right (held-out):")
    for low, right in sorted(buckets.items()):
        print(f"  {low:.1f}–{low + 0.2:.1f}: {sum(right) / len(right):6.1%} of {len(right):5}")


def _accuracy(
    understander: Understander,
    held_out: list[corpus.Utterance],
    may: dict[str, list[str]],
    *,
    show_errors: bool,
) -> None:
    right: Counter[tuple[str, str]] = Counter()
    seen: Counter[tuple[str, str]] = Counter()
    confused: Counter[tuple[str, str]] = Counter()
    for line in held_out:
        reading = understander.read(
            line.text, now=NOW, zone=ZONE, may=may.get(line.role), role=line.role
        )
        got = reading.command or "none"
        seen[line.intent, line.language] += 1
        if got == line.intent:
            right[line.intent, line.language] += 1
        else:
            confused[line.intent, got] += 1
            if show_errors:
                print(f"  {line.role:8} {line.intent:>14} → {got:<14} {line.text}")
    for language in ("de", "en"):
        total = sum(n for (_, lang), n in seen.items() if lang == language)
        good = sum(n for (_, lang), n in right.items() if lang == language)
        print(f"held-out accuracy {language}: {good / total:.1%} ({good}/{total})")
    print(f"held-out accuracy overall: {sum(right.values()) / sum(seen.values()):.1%}")
    print("\nper command (held-out lines: de / en accuracy):")
    for intent in sorted({i for i, _ in seen}):
        cells = []
        for language in ("de", "en"):
            n = seen[intent, language]
            mark = "" if n >= ENOUGH else "*"
            cells.append(f"{right[intent, language] / n:6.1%} of {n:3}{mark}" if n else "   –")
        print(f"  {intent:16} {cells[0]}   {cells[1]}")
    print(f"  (* fewer than {ENOUGH} held-out lines)")
    print("\nmost confused (meant → read):")
    for (meant, read), count in confused.most_common(12):
        print(f"  {count:3}  {meant} → {read}")


def _baseline(
    understander: Understander, held_out: list[corpus.Utterance], may: dict[str, list[str]]
) -> None:
    """What the bot got right before it understood people: the first words of a message
    matched against the command words (and nothing else)."""
    words = {
        word.lower(): intent.name
        for intent in understander.intents.values()
        for word in intent.words
    }
    right = 0
    for line in held_out:
        parts = line.text.strip().split()
        found = next(
            (words[" ".join(parts[:n]).lower()] for n in range(len(parts), 0, -1)
             if " ".join(parts[:n]).lower() in words),
            "none",
        )  # fmt: skip
        if found not in may.get(line.role, ()):
            found = "none"  # the old bot answered "didn't understand"
        right += found == line.intent
    print(f"\nbaseline, command words only: {right / len(held_out):.1%} of the held-out lines")


def _timing(
    understander: Understander, held_out: list[corpus.Utterance], may: dict[str, list[str]]
) -> None:
    # CPU time of this thread: what reading costs, whatever else the machine is doing
    durations = []
    for _ in range(3):
        for line in held_out:
            started = time.thread_time()
            understander.read(line.text, now=NOW, zone=ZONE, may=may.get(line.role), role=line.role)
            durations.append(time.thread_time() - started)
    durations.sort()
    p50 = statistics.median(durations) * 1000
    p99 = durations[int(len(durations) * 0.99)] * 1000
    print(
        f"\nCPU time per message (in-process, {len(durations)} reads): p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms, max {durations[-1] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
