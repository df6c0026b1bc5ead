"""Chat-reader cost: the event-loop time to read one member message, up to Discord's 4,000 characters.

    .venv/bin/python bench/bench_intake.py

Each message is read the way the chat front-end reads it: `classify_message` then `parse_message` (the
second is served from the reader's cache, as in the bot). Messages are built from the labelled dev set
(tests/data/intake_labelled.yaml), joined until they reach each length; caches are cleared before every
read, so every figure is a cold read of a new message. Prints median, p99 and max per length, and start-up
(vocabulary, classifiers, dateparser) once. Target: <= 10 ms at 4,000 characters (issues 10 and 12).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import intake

ROOT = Path(__file__).resolve().parent.parent
LENGTHS = (100, 1000, 2000, 4000)
ROUNDS = 60


def texts(name: str = "intake_labelled.yaml") -> list[str]:
    """The message texts of a labelled file in tests/data/."""
    data = yaml.safe_load((ROOT / "tests" / "data" / name).read_text(encoding="utf-8"))
    return [entry["text"] for entry in data["messages"]]


def message(pool: list[str], length: int, rng: random.Random) -> str:
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < length:
        parts.append(rng.choice(pool))
    return " ".join(parts)[:length]


def clear_caches() -> None:
    """Forget every message the chat reader has read, so the next read is a cold one."""
    for cached in (intake._normalise, intake._parse_message, intake._split_sentences, intake._split_clauses,
                   intake._clause_rows, intake.read_with_evidence):
        cached.cache_clear()


def read(text: str) -> float:
    clear_caches()
    start = time.perf_counter()
    intake.classify_message(text)
    intake.parse_message(text, dt.date.today())
    return (time.perf_counter() - start) * 1000


def main() -> None:
    start = time.perf_counter()
    intake.warm_up()
    print(f"start-up (vocabulary, classifiers, dateparser): {(time.perf_counter() - start) * 1000:.0f} ms")
    rng = random.Random(10)
    pool = texts()
    print(f"{'chars':>6} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}")
    for length in LENGTHS:
        times = sorted(read(message(pool, length, rng)) for _ in range(ROUNDS))
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"{length:>6} {statistics.median(times):>10.2f} {p99:>8.2f} {times[-1]:>8.2f}")
    worst = "5k " * 1333 + "monday " * 10
    print(f"adversarial 4,000 chars of '5k 5k ...': {read(worst[:4000]):.2f} ms")


if __name__ == "__main__":
    main()
