"""FAQ matching: start-up, per-server rebuild and match latency, shipped and with 500 entries. Run by hand.

    .venv/bin/python bench/bench_faq.py

Prints how long loading the shipped FAQ takes in a fresh process (imports, embeddings, validation and
training included): once with an empty model cache (DATA_DIR/models: trained, scikit-learn imported) and
then with the model cached by that first run; how long a server's rebuild takes (the shipped entries plus
one moderator entry, retrained); and the median and p99 of one `match()` call over example questions, wall
clock and this thread's CPU time (on a shared machine the wall clock includes waiting for a core), for the
shipped FAQ and for a synthetic base of 500 entries (which also shows its build time).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.faq import FaqBase, default_faq_path, load_faq

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3
STARTUP = ("import time; t = time.perf_counter(); from bot.faq import default_faq; default_faq(); "
           "print(time.perf_counter() - t)")


def questions(base: FaqBase, count: int = 300, seed: int = 1) -> list[str]:
    """Example questions with their words shuffled: real vocabulary, never a training text word for word."""
    rng = random.Random(seed)
    texts = [t for e in base.entries for t in e.phrasings] + list(base.off_topic)
    picked = rng.sample(texts, min(count, len(texts)))
    out = []
    for text in picked:
        words = text.split()
        rng.shuffle(words)
        out.append(" ".join(words))
    return out


def synthetic(base: FaqBase, count: int, seed: int = 7) -> list[dict]:
    """`count` entries: the shipped ones, then made-up topics mixing shipped words with new ones, with
    seven example questions each (more than a moderator writes)."""
    rng = random.Random(seed)
    shipped_words = sorted({w for e in base.entries for t in (e.question, *e.phrasings) for w in t.split()})
    letters = "abcdefghijklmnopqrstuvwxyz"
    new_words = ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(3000)]
    entries = [e.model_dump() for e in base.entries]
    answer = "A short answer."
    while len(entries) < count:
        number = len(entries)

        def sentence() -> str:
            words = rng.sample(shipped_words, 4) + rng.sample(new_words, 3)
            rng.shuffle(words)
            return " ".join(words) + "?"

        entries.append({
            "id": f"topic-{number}",
            "question": sentence()[:100],
            "phrasings": [sentence() for _ in range(6)],
            "tags": rng.sample(new_words, 5),
            "answer": answer,
        })
    return entries


def timed(base: FaqBase, texts: list[str]) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(ROUNDS):
        for text in texts:
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            base.match(text)
            cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
            wall.append((time.perf_counter_ns() - start) / 1e6)
    return wall, cpu


def show(name: str, runs: tuple[list[float], list[float]]) -> None:
    for clock, samples in zip(("wall", "cpu"), runs, strict=True):
        samples = sorted(samples)
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(f"  {name:<6} {clock:<4} median {statistics.median(samples):.3f} ms   p99 {p99:.3f} ms   "
              f"(n={len(samples)})")


def startup(data_dir: str) -> float:
    """Seconds to load the shipped FAQ in a fresh process whose DATA_DIR (and so model cache) is data_dir."""
    result = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, capture_output=True, text=True,
                            check=True, env={**os.environ, "DATA_DIR": data_dir})
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        cold = startup(data_dir)
        warm = [startup(data_dir) for _ in range(3)]
    print(f"start-up (fresh process: import, embeddings, validate, train or read the cached model): no cached "
          f"model {cold:.2f} s; cached {[f'{x:.2f} s' for x in warm]}")
    shipped = load_faq(default_faq_path())
    texts = questions(shipped)
    print(f"shipped: {len(shipped)} entries, "
          f"{sum(len(e.phrasings) for e in shipped.entries)} examples, {len(shipped.off_topic)} off-topic")
    show("match", timed(shipped, texts))
    moderator = {"id": "easy-pace", "question": "What pace should my easy runs be?",
                 "examples": ["How slow should easy runs feel?", "Is my easy pace too fast?"],
                 "answer": "Conversational."}
    rebuilds = []
    for _ in range(3):
        start = time.perf_counter()
        FaqBase.from_entries([*shipped.entries, moderator], "server FAQ")
        rebuilds.append(time.perf_counter() - start)
    print(f"server rebuild (shipped + 1 moderator entry, retrained): {[f'{x * 1e3:.0f} ms' for x in rebuilds]}")

    raw = synthetic(shipped, 500)
    start = time.perf_counter()
    big = FaqBase.from_entries(raw, "synthetic")
    print(f"500 entries: built and trained from raw dicts in {(time.perf_counter() - start) * 1e3:.0f} ms")
    show("match", timed(big, texts))


if __name__ == "__main__":
    main()
