"""Every bundled definition validates and carries what a user must know: source, licence, scale."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from attunement.errors import InvalidInputError, NotFoundError
from attunement.instruments import (
    definition_files,
    instrument_ids,
    list_instruments,
    load_instrument,
    load_protocol,
    parse_instrument,
)

EXPECTED_IDS = {
    "ecr_rs",
    "eis",
    "fatigue",
    "interaction",
    "ios",
    "mspss",
    "pain",
    "pss10",
    "pss4",
    "swls",
}


def _raw(ident: str) -> dict[str, object]:
    path = next(p for p in definition_files() if p.stem == ident)
    with path.open("rb") as handle:
        return tomllib.load(handle)


def test_the_bank_holds_the_agreed_instruments() -> None:
    assert set(instrument_ids()) == EXPECTED_IDS
    assert [i.id for i in list_instruments()] == sorted(EXPECTED_IDS)


@pytest.mark.parametrize("path", definition_files(), ids=lambda p: p.stem)
def test_every_definition_validates_and_is_complete(path: Path) -> None:
    instrument = load_instrument(path.stem)
    assert instrument.id == path.stem
    assert len(instrument.citation) > 40
    assert instrument.licence.strip()
    assert instrument.instructions.strip()
    assert instrument.scale.min < instrument.scale.max
    assert instrument.scale.anchors
    assert instrument.scoring.method in ("sum", "mean")
    assert 0 < instrument.scoring.min_answered_share <= 1
    if instrument.doi is not None:
        assert instrument.doi.startswith("10.")
    # Items either carry wording or say where wording comes from.
    missing = [item.number for item in instrument.items if item.text is None]
    if missing:
        assert instrument.wording_source == "none"
    for item in instrument.items:
        assert item.column == f"{instrument.id}_{item.number}"


def test_published_facts_of_the_bank() -> None:
    """The scoring facts of issue 2 / science.md, one line each."""
    assert load_instrument("pss10").reverse_items == (4, 5, 7, 8)
    assert load_instrument("pss4").reverse_items == (2, 3)
    assert load_instrument("ecr_rs").reverse_items == (1, 2, 3, 4)
    mspss = load_instrument("mspss")
    assert {s.id: s.items for s in mspss.scoring.subscales} == {
        "significant_other": (1, 2, 5, 10),
        "family": (3, 4, 8, 11),
        "friends": (6, 7, 9, 12),
    }
    assert mspss.scoring.method == "mean"
    assert load_instrument("eis").score_range() == (5, 25)
    assert load_instrument("swls").score_range() == (5, 35)
    assert load_instrument("pss10").score_range() == (0, 40)
    assert load_instrument("pss4").score_range() == (0, 16)
    assert load_instrument("ios").score_range() == (1, 7)
    assert load_instrument("pain").score_range() == (0, 10)
    interaction = load_instrument("interaction")
    assert interaction.scale_items("responsiveness") == (5, 6, 7)
    assert interaction.scale_method("responsiveness") == "mean"


def test_eis_wording_is_not_bundled() -> None:
    eis = load_instrument("eis")
    assert all(item.text is None for item in eis.items)
    assert "copyright" in eis.licence.lower()


def test_convention_bands_are_marked_as_such() -> None:
    assert load_instrument("swls").bands is not None
    assert load_instrument("swls").bands.kind == "authors"  # type: ignore[union-attr]
    for ident in ("pss10", "mspss"):
        bands = load_instrument(ident).bands
        assert bands is not None
        assert bands.kind == "convention"
        assert "not validated" in bands.source


def test_unknown_instrument_lists_the_known_ids() -> None:
    with pytest.raises(NotFoundError) as info:
        load_instrument("nope")
    assert "eis" in str(info.value)
    assert "swls" in str(info.value)


def test_ids_are_matched_case_insensitively() -> None:
    assert load_instrument(" EIS ").id == "eis"


def test_a_broken_definition_names_file_and_field() -> None:
    data = _raw("pss4")
    data["scale"] = {**data["scale"], "max": -1}  # type: ignore[dict-item]
    with pytest.raises(InvalidInputError) as info:
        parse_instrument(data, source=Path("/x/pss4.toml"))
    text = str(info.value)
    assert "pss4.toml" in text
    assert "scale" in text
    assert info.value.problems


def test_subscale_naming_an_unknown_item_is_rejected() -> None:
    data = _raw("mspss")
    scoring = dict(data["scoring"])  # type: ignore[arg-type]
    scoring["subscales"] = [{"id": "family", "name": "Family", "items": [3, 4, 13]}]
    data["scoring"] = scoring
    with pytest.raises(InvalidInputError, match="unknown items"):
        parse_instrument(data, source="mspss.toml")


def test_bands_must_cover_the_score_range() -> None:
    data = _raw("pss10")
    bands = dict(data["bands"])  # type: ignore[arg-type]
    bands["ranges"] = [{"min": 0, "max": 13, "label": "low"}, {"min": 14, "max": 30, "label": "x"}]
    data["bands"] = bands
    with pytest.raises(InvalidInputError, match="bands"):
        parse_instrument(data, source="pss10.toml")


def test_unknown_field_is_rejected() -> None:
    data = {**_raw("ios"), "colour": "blue"}
    with pytest.raises(InvalidInputError, match="colour"):
        parse_instrument(data, source="ios.toml")


def test_wording_file_fills_withheld_text(tmp_path: Path) -> None:
    (tmp_path / "eis.toml").write_text(
        '[items]\n1 = "Wording one"\n2 = "Wording two"\n', encoding="utf-8"
    )
    eis = load_instrument("eis", wording_dir=tmp_path)
    assert [i.text for i in eis.items] == ["Wording one", "Wording two", None, None, None]
    assert eis.wording_source == "user"
    # The bundled definition is untouched.
    assert load_instrument("eis").items[0].text is None
    # Instruments without a wording file keep their own text.
    assert load_instrument("swls", wording_dir=tmp_path).items[0].text


def test_bad_wording_file_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "eis.toml").write_text('[items]\n9 = "x"\n2 = ""\n', encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        load_instrument("eis", wording_dir=tmp_path)
    assert len(info.value.problems) == 2
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_instrument("eis", wording_dir=tmp_path / "missing")


def test_36_questions_protocol() -> None:
    protocol = load_protocol("36_questions")
    assert [len(s.questions) for s in protocol.sets] == [12, 12, 12]
    assert [q.number for q in protocol.questions] == list(range(1, 37))
    assert protocol.questions[0].text.startswith("Given the choice of anyone in the world")
    assert protocol.questions[35].text.startswith("Share a personal problem")
    assert protocol.procedure.minutes_per_set == 15
    assert protocol.procedure.both_answer
    assert protocol.procedure.reader_answers_first
    assert protocol.procedure.reader_alternates
    assert not protocol.procedure.may_skip
    assert [len(s.questions) for s in protocol.control_sets] == [12, 12, 12]
    control = [q.text for s in protocol.control_sets for q in s.questions]
    assert len(set(control)) == 36
    assert not set(control) & {q.text for q in protocol.questions}
    assert "written for attunement" in protocol.control_note
    assert protocol.optional_ending is not None
    assert protocol.optional_ending.part_of_original is False
    assert protocol.doi
    with pytest.raises(NotFoundError):
        load_protocol("37_questions")


def test_36_questions_match_the_published_wording_in_order() -> None:
    # One question a line, copied from the appendix of shared/science.md (the NYT 2015 text,
    # which follows Aron et al., 1997).
    published = (Path(__file__).parent / "thirty_six_questions.txt").read_text(encoding="utf-8")
    ours = [q.text for q in load_protocol("36_questions").questions]
    assert ours == published.splitlines()
