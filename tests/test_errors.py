from __future__ import annotations

from attunement.errors import InvalidInputError, Problem


def test_error_lists_every_problem_and_the_hint() -> None:
    problems = [
        Problem("out of range", line=3, column="eis_2", value=7, allowed="1-5"),
        Problem("unknown label", line=4, column="eis_1", value="maybe", allowed="1-5"),
    ]
    err = InvalidInputError("2 invalid answers", hint="Fix them.", problems=problems)
    text = str(err)
    assert "line 3, column 'eis_2': out of range (got 7); allowed: 1-5" in text
    assert "line 4, column 'eis_1'" in text
    assert text.endswith("Fix them.")
    shape = err.to_dict()["error"]
    assert shape["code"] == "invalid_input"
    assert shape["problems"][1]["value"] == "maybe"
