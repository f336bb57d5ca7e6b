"""Benchmark: score 1,000,000 EIS respondents and compute Cronbach's alpha.

Measures, in one run on the same simulated data:

1. ``attunement.instruments.score`` on numeric answers (the fast path) and on text answers
   (numeric strings and anchor labels, as a CSV with labels would give);
2. ``attunement.psychometrics.cronbach_alpha`` against ``pingouin.cronbach_alpha`` (the peer),
   printing both times, the ratio and whether the two alphas agree.

Aim (issue 2): scoring a million rows well under 2 s; alpha at least 10x faster than pingouin.
pingouin is in the ``bench`` extra (``pip install -e '.[bench]'``); without it the script says so
and still prints attunement's timings.

Run: ``python benchmarks/scoring.py [--rows N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from attunement.instruments import keyed_items, load_instrument, score
from attunement.psychometrics import cronbach_alpha


def simulate_eis(rows: int, seed: int = 2005) -> pd.DataFrame:
    """EIS answers 1-5 from one latent closeness factor plus item noise (alpha near .85)."""
    rng = np.random.default_rng(seed)
    closeness = rng.normal(0.0, 1.0, size=(rows, 1))
    latent = 0.8 * closeness + rng.normal(0.0, 0.6, size=(rows, 5))
    answers = np.clip(np.rint(3.4 + latent), 1, 5).astype(np.int64)
    frame = pd.DataFrame(answers, columns=[f"eis_{n}" for n in range(1, 6)])
    frame.insert(0, "person", np.arange(rows))
    return frame


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The same answers as text: " 4 " style strings, with a quarter given as labels."""
    labels = {1: "strongly disagree", 2: "disagree", 3: "neither agree nor disagree"}
    labels |= {4: "agree", 5: "Strongly Agree"}
    out = frame.copy()
    for n in range(1, 6):
        column = frame[f"eis_{n}"]
        text = column.map(lambda v: f" {v} ").astype(object)
        text.iloc[::4] = column.iloc[::4].map(labels)
        out[f"eis_{n}"] = text
    return out


def best_of(repeats: int, func: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeats`` runs (seconds) and the last result."""
    best = float("inf")
    result: Any = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    eis = load_instrument("eis")
    frame = simulate_eis(args.rows)
    print(f"EIS, {args.rows:,} respondents x 5 items; best of {args.repeats} runs")

    seconds, scored = best_of(args.repeats, lambda: score(frame, eis))
    print(f"score (numeric answers):      {seconds:8.3f} s  ({args.rows / seconds:,.0f} rows/s)")
    text = as_text(frame)
    text_seconds, scored_text = best_of(max(1, args.repeats // 2), lambda: score(text, eis))
    same = scored_text["eis_total"].equals(scored["eis_total"])
    print(f"score (text and labels):      {text_seconds:8.3f} s  (same totals: {same})")

    items = keyed_items(frame, eis)
    ours_seconds, ours = best_of(args.repeats, lambda: cronbach_alpha(items))
    ours_alpha = float(ours["alpha"].iloc[0])
    print(f"attunement cronbach_alpha:    {ours_seconds:8.3f} s  (alpha = {ours_alpha:.6f})")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pingouin may warn on import under pandas 3
            import pingouin
    except ImportError as exc:
        print(f"pingouin is not installed ({exc}); install the bench extra to compare.")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer_seconds, peer = best_of(args.repeats, lambda: pingouin.cronbach_alpha(data=items))
    peer_alpha = float(peer[0])
    print(f"pingouin.cronbach_alpha:      {peer_seconds:8.3f} s  (alpha = {peer_alpha:.6f})")
    print(f"alpha speed-up vs pingouin:   {peer_seconds / ours_seconds:8.1f} x")
    print(f"alphas agree to 1e-9:         {abs(ours_alpha - peer_alpha) < 1e-9}")


if __name__ == "__main__":
    main()
