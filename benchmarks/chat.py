"""Benchmark: reading a WhatsApp export plus computing the conversation signals.

Generates a synthetic Android WhatsApp export (two people, varied and mostly unique messages,
multi-line messages, media placeholders, system lines), then measures in fresh subprocesses:

* messages per second for reading alone, and for reading + per-message signals + weekly
  trajectories (attunement's whole pipeline behind ``attunement chat report``);
* the peer: plain VADER scoring (vaderSentiment, MIT) of the same message texts, in the same run,
  and the ratio attunement / VADER;
* peak resident memory (``resource.getrusage``) of the pipeline on a 1,000,000-message export,
  next to the memory of the same process after its imports.

Usage: ``python benchmarks/chat.py [--messages 200000] [--memory-messages 1000000]``.
The machine's load average is printed: on a shared machine the rates move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

OPENERS = [
    "I feel", "honestly I'm", "today I was", "I think", "we should", "can you", "did you",
    "what happened with", "that sounds", "I'm so", "my mom", "my boss", "the kids", "lol",
    "ok so", "omg", "remember when we", "I miss", "how was", "why did", "I grew up",
    "sorry,", "love you", "I'm proud of", "it makes sense that", "are you ok", "let's",
]  # fmt: skip
WORDS = [
    "tired",
    "anxious",
    "happy",
    "work",
    "train",
    "dinner",
    "weekend",
    "trip",
    "home",
    "late",
    "early",
    "coffee",
    "meeting",
    "call",
    "mum",
    "dad",
    "sister",
    "brother",
    "friend",
    "doctor",
    "exam",
    "movie",
    "song",
    "beach",
    "city",
    "rain",
    "sun",
    "tomorrow",
    "tonight",
    "really",
    "so",
    "very",
    "just",
    "still",
    "again",
    "maybe",
    "actually",
    "the",
    "a",
    "an",
    "and",
    "but",
    "or",
    "because",
    "with",
    "about",
    "for",
    "to",
    "from",
    "in",
    "on",
    "at",
    "it",
    "this",
    "that",
    "something",
    "nothing",
    "everyone",
    "you",
    "we",
    "us",
    "our",
    "me",
    "my",
    "your",
    "is",
    "was",
    "were",
    "be",
    "been",
    "have",
    "had",
    "do",
    "did",
    "will",
    "would",
    "can",
    "could",
    "not",
    "never",
    "always",
    "sometimes",
    "sad",
    "scared",
    "excited",
    "relieved",
    "stressed",
    "lonely",
    "grateful",
    "proud",
    "angry",
    "upset",
    "nervous",
    "calm",
    "apartment",
    "job",
    "money",
    "plan",
    "idea",
    "story",
    "photo",
    "message",
    "night",
    "morning",
    "week",
    "month",
    "year",
]
MEDIA = ["<Media omitted>", "image omitted", "IMG-20240101-WA0001.jpg (file attached)"]


def make_message(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(MEDIA)
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 18))]
    text = f"{rng.choice(OPENERS)} {' '.join(words)}"
    if rng.random() < 0.25:
        text += rng.choice(["?", "!", " ❤️", " 😂", "...", " haha"])
    if rng.random() < 0.03:
        text += "\n" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 10)))
    return text


def write_export(path: Path, messages: int, seed: int = 7) -> None:
    """A synthetic Android export: day-first 24 h dates, two people, ~1 system line per 1000."""
    rng = random.Random(seed)
    stamp = datetime(2019, 1, 14, 8, 0)
    names = ("Maya", "Jonas")
    sender = 0
    with path.open("w", encoding="utf-8") as out:
        notice = "Messages and calls are end-to-end encrypted. No one outside of this chat..."
        out.write(f"{stamp:%d/%m/%Y, %H:%M} - {notice}\n")
        for i in range(messages):
            stamp += timedelta(seconds=rng.choice((5, 30, 60, 300, 900, 3600, 14400)))
            if rng.random() < 0.45:
                sender = 1 - sender
            if i % 1000 == 999:
                out.write(f"{stamp:%d/%m/%Y, %H:%M} - {names[sender]} changed their phone number\n")
            out.write(f"{stamp:%d/%m/%Y, %H:%M} - {names[sender]}: {make_message(rng)}\n")


WORKER = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
from attunement.conversation import read_chat, message_signals, weekly_signals
if mode == "vader":
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    limit = int(sys.argv[3])
    texts = []
    for message in read_chat(path):
        if message.kind == "text":
            texts.append(message.text)
            if len(texts) >= limit:
                break
    analyzer = SentimentIntensityAnalyzer()
    start, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        analyzer.polarity_scores(text)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"messages": len(texts), "seconds": seconds, "cpu": cpu}))
    sys.exit()
base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start, cpu = time.perf_counter(), time.process_time()
if mode == "read":
    count = sum(1 for _ in read_chat(path))
else:
    count = 0
    def counted(rows):
        global count
        for row in rows:
            count += 1
            yield row
    frame = weekly_signals(counted(message_signals(read_chat(path))))
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"messages": count, "seconds": seconds, "cpu": cpu, "base_mb": base_kb / 1024,
                  "peak_mb": peak_kb / 1024}))
"""


def run(mode: str, path: Path, *extra: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, mode, str(path), *extra],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--memory-messages", type=int, default=1_000_000)
    parser.add_argument("--vader-messages", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        small = Path(folder) / "WhatsApp Chat with Maya.txt"
        started = time.perf_counter()
        write_export(small, args.messages)
        size = small.stat().st_size / 1e6
        took = time.perf_counter() - started
        print(f"generated {args.messages:,} messages ({size:.1f} MB) in {took:.1f} s")
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
        # Best of --repeats runs each, interleaved, so that load from other processes on a
        # shared machine hits both sides alike. Rates use CPU time; wall-clock rates follow.
        runs: dict[str, list[dict[str, float]]] = {"read": [], "signals": [], "vader": []}
        for _ in range(args.repeats):
            runs["read"].append(run("read", small))
            runs["signals"].append(run("signals", small))
            runs["vader"].append(run("vader", small, str(args.vader_messages)))

        def best(mode: str, clock: str) -> float:
            return max(r["messages"] / r[clock] for r in runs[mode])

        ours, peer = best("signals", "cpu"), best("vader", "cpu")
        texts = runs["vader"][0]["messages"]
        print(f"{'':28} {'CPU time':>12} {'wall clock':>12}  (messages/s, best of {args.repeats})")
        for label, mode in (
            ("reading only", "read"),
            ("reading + signals + weekly", "signals"),
            (f"VADER only ({texts:,.0f} texts)", "vader"),
        ):
            print(f"{label:28} {best(mode, 'cpu'):>12,.0f} {best(mode, 'seconds'):>12,.0f}")
        print("aim: reading + signals >= 50,000 messages/s")
        print(f"ratio attunement pipeline / VADER (CPU time): {ours / peer:.2f}x")
        if args.memory_messages:
            big = Path(folder) / "big.txt"
            write_export(big, args.memory_messages, seed=11)
            memory = run("signals", big)
            size = big.stat().st_size / 1e6
            rate = memory["messages"] / memory["cpu"]
            print(f"{memory['messages']:,.0f}-message export ({size:.0f} MB): "
                  f"peak RSS {memory['peak_mb']:.0f} MB (aim < 300 MB; "
                  f"{memory['base_mb']:.0f} MB after imports), "
                  f"{rate:,.0f} messages/s CPU")  # fmt: skip
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
