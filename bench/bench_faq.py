"""FAQ matching latency: the shipped entries, and a synthetic base of 500 entries. Run by hand.

    .venv/bin/python bench/bench_faq.py

Prints median and p99 of one `match()` call over the labelled questions (tests/data/faq_labelled.yaml),
both warm (the typo-correction cache already holds the question's words, the steady state of a running
bot) and cold (cache emptied before every call), and how long building each base takes.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.faq import FaqBase, default_faq_path, load_faq

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 5


def questions() -> list[str]:
    data = yaml.safe_load((ROOT / "tests" / "data" / "faq_labelled.yaml").read_text(encoding="utf-8"))
    return [q for items in data.values() for q, _ in items]


def synthetic(base: FaqBase, count: int, seed: int = 7) -> list[dict]:
    """`count` entries: the shipped ones, then made-up topics mixing shipped words with new ones, so the
    vocabulary and the posting lists grow the way a big server's FAQ would."""
    rng = random.Random(seed)
    shipped_words = sorted({w for e in base.entries for t in (e.question, *e.phrasings) for w in t.split()})
    letters = "abcdefghijklmnopqrstuvwxyz"
    new_words = ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(3000)]
    entries = [e.model_dump() for e in base.entries]
    answer = "A short answer{% if has_profile %} for a {{ level }} runner{% endif %}."
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


def timed(base: FaqBase, texts: list[str], cold: bool) -> list[float]:
    samples = []
    for _ in range(ROUNDS):
        for text in texts:
            if cold:
                base._corrections.clear()
            start = time.perf_counter_ns()
            base.match(text)
            samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def show(name: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"  {name:<6} median {statistics.median(samples):.3f} ms   p99 {p99:.3f} ms   (n={len(samples)})")


def main() -> None:
    texts = questions()
    start = time.perf_counter()
    shipped = load_faq(default_faq_path())
    print(f"shipped: {len(shipped)} entries, loaded and validated in {(time.perf_counter() - start) * 1e3:.1f} ms")
    show("warm", timed(shipped, texts, cold=False))
    show("cold", timed(shipped, texts, cold=True))

    raw = synthetic(shipped, 500)
    start = time.perf_counter()
    big = FaqBase.from_entries(raw, "synthetic")
    print(f"500 entries: built from raw dicts in {(time.perf_counter() - start) * 1e3:.1f} ms")
    start = time.perf_counter()
    FaqBase.from_entries(big.entries, "synthetic")
    print(f"500 entries: rebuilt from validated entries in {(time.perf_counter() - start) * 1e3:.1f} ms")
    show("warm", timed(big, texts, cold=False))
    show("cold", timed(big, texts, cold=True))


if __name__ == "__main__":
    main()
