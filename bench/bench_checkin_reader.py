"""Check-in reader cost: the time to read one chat message as a check-in, up to Discord's 4,000 characters.

    PYTHONPATH=. .venv/bin/python bench/bench_checkin_reader.py

Each message is read the way the chat front-end reads it: `read_checkin` (the reader, then its confidence
gate). Messages are built from the labelled dev set (tests/data/checkin_labelled.yaml), joined until they
reach each length (the reader reads the first 2,000 characters); the shared readers' caches are cleared
before every read, so every figure is a cold read of a new message. Times are the process's CPU time
(`time.process_time`), which other jobs on a shared machine inflate less than wall time. Prints start-up
(rules, vocabulary, gate) once, then median, p99 and max per length, then adversarial messages (one
exercise name, a day or a number repeated; one word of 4,000 letters). Target: <= 10 ms at 4,000
characters (the chat reader's).
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

from bot import checkin_reader, intake

ROOT = Path(__file__).resolve().parent.parent
LENGTHS = (100, 500, 1000, 2000, 4000)
ROUNDS = 60
TODAY = dt.date(2026, 12, 3)


def texts() -> list[str]:
    data = yaml.safe_load((ROOT / "tests" / "data" / "checkin_labelled.yaml").read_text(encoding="utf-8"))
    return [entry["text"] for entry in data["messages"]]


def message(pool: list[str], length: int, rng: random.Random) -> str:
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < length:
        parts.append(rng.choice(pool))
    return " ".join(parts)[:length]


def read(text: str) -> float:
    for cached in (intake._normalise, intake._parse_message, intake._split_sentences, intake._split_clauses,
                   intake._clause_rows, intake.read_with_evidence):
        cached.cache_clear()
    start = time.process_time()
    checkin_reader.read_checkin(text, TODAY)
    return (time.process_time() - start) * 1000


def main() -> None:
    start = time.perf_counter()
    checkin_reader.read_checkin("did tuesday's, squats easy", TODAY)
    print(f"start-up (rules, vocabulary, gate): {(time.perf_counter() - start) * 1000:.0f} ms")
    rng = random.Random(14)
    pool = texts()
    print(f"{'chars':>6} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}")
    for length in LENGTHS:
        times = sorted(read(message(pool, length, rng)) for _ in range(ROUNDS))
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"{length:>6} {statistics.median(times):>10.2f} {p99:>8.2f} {times[-1]:>8.2f}")
    for name, text in (("'squats 3x8 ' repeated", "squats 3x8 " * 400), ("'tuesday ' repeated", "tuesday " * 500),
                       ("'4/10 ' repeated", "4/10 " * 800), ("one 4,000-letter word", "a" * 4000),
                       ("close misspellings repeated", "gobblet sqauts clamshels bulgarains " * 120)):
        print(f"adversarial 4,000 chars, {name}: {read(text[:4000]):.2f} ms")


if __name__ == "__main__":
    main()
