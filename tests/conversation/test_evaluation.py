"""The labelled evaluation set and the precision/recall script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from attunement.conversation.evaluate import EVALUATED_SIGNALS, evaluate, load_evaluation_set
from attunement.errors import InvalidInputError


def test_set_has_at_least_300_labelled_messages_with_negatives_and_positives() -> None:
    frame = load_evaluation_set()
    assert len(frame) >= 300
    assert frame["id"].is_unique
    assert (frame["text"].str.len() > 0).all()
    counts = frame["disclosure"].value_counts()
    assert counts["none"] >= 100  # negatives, not only easy positives
    assert counts["emotional"] >= 30
    assert counts["informational"] >= 30
    for column in ("understanding", "validation", "caring", "exploring_question", "we_language"):
        assert 20 <= frame[column].sum() <= len(frame) - 100, column


def test_heldout_set_is_separate() -> None:
    development, heldout = load_evaluation_set(), load_evaluation_set("heldout")
    assert len(heldout) >= 150
    assert not set(development["id"]) & set(heldout["id"])
    shared = set(development["text"]) & set(heldout["text"])
    assert all(len(text) < 10 for text in shared), shared  # only "👍" and the like


@pytest.mark.parametrize("which", ["development", "heldout"])
def test_evaluation_table_and_modest_floor(which: str) -> None:
    table = evaluate(which).set_index("signal")
    assert list(table.index) == list(EVALUATED_SIGNALS)
    assert (table["true_positives"] <= table[["positives", "predicted"]].min(axis=1)).all()
    # A modest floor that catches a broken rule or lexicon, not a target tuned to pass.
    assert (table["f1"] > 0.4).all(), table


def test_script_prints_precision_and_recall() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "attunement.conversation.evaluate", "--misses"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "precision" in proc.stdout
    assert "recall" in proc.stdout
    assert "emotional_disclosure" in proc.stdout
    assert "false alarm" in proc.stdout
    assert "Held-out set" in proc.stdout


def test_invalid_labels_are_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text(
        "id,context,text,disclosure,understanding,validation,caring,exploring_question,"
        "we_language,note\n1,,hi,maybe,0,0,0,0,0,\n2,,ok,none,0,2,0,0,0,\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_evaluation_set(path)
    assert [(p.line, p.column) for p in caught.value.problems] == [(2, None), (3, "validation")]
