"""Benchmark: `chatops sla deadline --start -` on 100,000 lines, as a script would call it.

Reports the wall time of the whole command (start-up included) and the rate per line.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

CHATOPS = str(Path(sys.executable).parent / "chatops")
LINES = 100_000


def main() -> None:
    rng = random.Random(7)
    year_start = datetime(2026, 1, 1, tzinfo=UTC)
    starts = "".join(
        f"{(year_start + timedelta(minutes=rng.randrange(525_600))).isoformat()}\n"
        for _ in range(LINES)
    )
    started = time.perf_counter()
    result = subprocess.run(
        [CHATOPS, "sla", "deadline", "--contract", "CCSB", "--start", "-"],
        input=starts,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    assert len(result.stdout.splitlines()) == LINES
    print(
        f"chatops sla deadline, batch of {LINES:,} lines: {seconds:.2f} s "
        f"({seconds / LINES * 1e6:.1f} µs per line, start-up included)"
    )


if __name__ == "__main__":
    main()
