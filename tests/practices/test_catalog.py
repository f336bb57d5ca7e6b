"""The practices catalogue: every practice has steps and cited evidence."""

from __future__ import annotations

import pytest

from attunement.errors import NotFoundError
from attunement.practices import get_practice, list_practices


def test_the_practices_the_app_offers() -> None:
    ids = [p.id for p in list_practices()]
    assert ids == ["appreciation", "check_in", "raise_early", "active_listening"]


@pytest.mark.parametrize("practice", list_practices(), ids=lambda p: p.id)
def test_every_practice_has_steps_and_evidence(practice: object) -> None:
    assert practice.steps  # type: ignore[attr-defined]
    assert practice.minutes > 0  # type: ignore[attr-defined]
    for evidence in practice.evidence:  # type: ignore[attr-defined]
        assert "(19" in evidence.citation or "(20" in evidence.citation
        # Unverified sources say so in their plain-words finding.
        assert evidence.verified or "not checked" in evidence.finding


def test_active_listening_rests_on_the_process_model() -> None:
    citations = " ".join(e.citation for e in get_practice("active_listening").evidence)
    assert "Reis, H. T., & Shaver, P. (1988)" in citations
    assert "Laurenceau" in citations


def test_unknown_practice_lists_the_known_ones() -> None:
    with pytest.raises(NotFoundError) as err:
        get_practice("meditation")
    assert "appreciation" in (err.value.hint or "")
