"""read_table and write_table on the files people bring, including broken ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from attunement.datafile import read_table, write_table, writing_to
from attunement.errors import InvalidInputError


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lines_are_numbered_as_in_the_file(tmp_path: Path) -> None:
    frame = read_table(_file(tmp_path, "a.csv", "person,x\nana,1\nbo,2\n"))
    assert frame.index.name == "line"
    assert frame.index.tolist() == [2, 3]
    assert frame.to_dict("list") == {"person": ["ana", "bo"], "x": [1, 2]}


def test_a_row_with_extra_cells_is_refused_not_shifted_into_the_index(tmp_path: Path) -> None:
    # pandas alone would take 'ana' and '1' as an index and shift every value left.
    path = _file(tmp_path, "a.csv", "person,x,y\nana,1,2,3,4\nbo,1,2\ncy,1,2,3\n")
    with pytest.raises(InvalidInputError, match="does not have the shape of a table") as caught:
        read_table(path)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (2, "5 cells but the header names 3 columns"),
        (4, "4 cells but the header names 3 columns"),
    ]


def test_empty_cells_past_the_last_column_are_dropped(tmp_path: Path) -> None:
    frame = read_table(_file(tmp_path, "a.csv", "person,x\nana,1,,\nbo,2\n"))
    assert frame.to_dict("list") == {"person": ["ana", "bo"], "x": [1, 2]}


def test_a_column_name_used_twice_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, "a.csv", "person,eis_1, eis_1\nana,1,2\n")
    with pytest.raises(InvalidInputError) as caught:
        read_table(path)
    problem = caught.value.problems[0]
    assert (problem.line, problem.column, problem.message) == (1, "eis_1", "column name used twice")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_an_empty_file_says_so(tmp_path: Path, text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^a\.csv is empty\.") as caught:
        read_table(_file(tmp_path, "a.csv", text))
    assert "first line must name the columns" in (caught.value.hint or "")


def test_semicolon_csv_from_excel_is_read(tmp_path: Path) -> None:
    frame = read_table(_file(tmp_path, "a.csv", "person;x\nana;1\n"))
    assert frame.to_dict("list") == {"person": ["ana"], "x": [1]}
    tabbed = read_table(_file(tmp_path, "b.txt", "person\tx\nbo\t2\n"))
    assert tabbed.to_dict("list") == {"person": ["bo"], "x": [2]}


def test_writing_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.csv"
    with pytest.raises(InvalidInputError, match=r"the folder .* does not exist"):
        write_table(pd.DataFrame({"x": [1]}), target)
    with pytest.raises(InvalidInputError, match="it is a folder"), writing_to(tmp_path):
        pass
    with (
        pytest.raises(
            InvalidInputError, match=r"Cannot write .*out\.csv: Read-only file system\."
        ) as caught,
        writing_to(tmp_path / "out.csv"),
    ):
        raise OSError(30, "Read-only file system")
    assert isinstance(caught.value.__cause__, OSError)


def test_a_repeated_column_name_in_excel_is_refused(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["person", "eis_1", "eis_1"])
    sheet.append(["ana", 1, 2])
    book.save(tmp_path / "a.xlsx")
    with pytest.raises(InvalidInputError, match="shape of a table") as caught:
        read_table(tmp_path / "a.xlsx")
    assert [(p.line, p.column) for p in caught.value.problems] == [(1, "eis_1")]
    write_table(pd.DataFrame({"person": ["bo"], "eis_1": [3]}), tmp_path / "b.xlsx")
    assert read_table(tmp_path / "b.xlsx").to_dict("list") == {"person": ["bo"], "eis_1": [3]}


def test_blank_lines_and_multi_line_cells_keep_the_file_line_numbers(tmp_path: Path) -> None:
    text = '\nperson,x\nana,1\n\n\n"bo\nsecond line",2\ncy,3\n'
    frame = read_table(_file(tmp_path, "a.csv", text))
    assert frame.index.tolist() == [3, 6, 8]
    assert frame["person"].tolist() == ["ana", "bo\nsecond line", "cy"]


def test_a_quoted_cell_after_a_space_is_one_cell(tmp_path: Path) -> None:
    frame = read_table(_file(tmp_path, "a.csv", 'person, note\nana, "late, tired"\n'))
    assert frame.to_dict("list") == {"person": ["ana"], "note": ["late, tired"]}
