"""Loading the committed R reference values (made by reference/make_reference.R)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

REFERENCE = Path(__file__).parent / "reference"
SCALES = ("scale_missing", "scale_congeneric", "scale_small")
DIARIES = ("diary_shrout", "diary_simulated", "diary_negative")  # complete (balanced)
UNBALANCED = "diary_unbalanced"  # answers missing at random: REML only


@cache
def expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REFERENCE / "expected.json").read_text())
    return data


def dataset(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{name}.csv")
