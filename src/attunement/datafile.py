"""Reading the tables people bring: CSV, TSV, Excel, SPSS ``.sav`` and Parquet.

:func:`read_table` returns a pandas DataFrame whose index is named ``line`` and holds the
1-based position a person would look up in the file: the file line for CSV/TSV (the header is
line 1, so the first record is line 2), the spreadsheet row for Excel (same numbering), and the
record number for ``.sav`` and Parquet. Error messages quote that number, so "line 17" is the
line a person finds in their editor, counting blank lines; a CSV record that spans several
lines inside quotes is numbered by the line it starts on.

:func:`write_table` and :func:`writing_to` turn a file that cannot be written (a folder that
does not exist, no permission, a full disk) into an :class:`InvalidInputError` naming the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from attunement.errors import InvalidInputError, Problem

__all__ = ["SUPPORTED_SUFFIXES", "read_table", "write_table", "writing_to"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".sav", ".parquet")

_FORMAT_HINT = "Supported files: " + ", ".join(SUPPORTED_SUFFIXES) + "."
_SHAPE_HINT = (
    "Give every column a distinct name in the first line, and every row at most as many cells "
    "as there are column names (check for stray separators)."
)
_WRITABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm", ".sav", ".parquet")
_WRITE_FORMAT_HINT = "Files that can be written: " + ", ".join(_WRITABLE_SUFFIXES) + "."


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a respondent table; raise :class:`InvalidInputError` with a clear message on failure."""
    file = Path(path)
    if not file.exists():
        raise InvalidInputError(f"File not found: {file}", hint="Check the path and try again.")
    if file.is_dir():
        raise InvalidInputError(f"{file} is a folder, not a file.", hint=_FORMAT_HINT)
    suffix = file.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            frame = _read_delimited(file, suffix)
            first_line = 0  # indexed by the file's own lines
        elif suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(file, engine="openpyxl")
            header = pd.read_excel(file, engine="openpyxl", header=None, nrows=1)
            _check_header(
                [str(c) for c in header.iloc[0].dropna()] if len(header) else [], file.name
            )
            first_line = 2
        elif suffix == ".sav":
            import pyreadstat

            frame, _meta = pyreadstat.read_sav(str(file))
            first_line = 1
        elif suffix == ".parquet":
            frame = pd.read_parquet(file)
            first_line = 1
        else:
            raise InvalidInputError(
                f"Cannot read {file.name}: unknown file type.", hint=_FORMAT_HINT
            )
    except InvalidInputError:
        raise
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{file.name} is not UTF-8 text (byte {exc.start}).",
            hint="Save the file as UTF-8 (in Excel: 'CSV UTF-8').",
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        raise InvalidInputError(
            f"Cannot read {file.name}: {_first_line(exc)}",
            hint=f"Is it a valid {suffix.lstrip('.').upper()} file? {_FORMAT_HINT}",
        ) from exc
    except Exception as exc:  # pyreadstat and pyarrow raise their own error types
        raise InvalidInputError(
            f"Cannot read {file.name}: {_first_line(exc)}",
            hint=f"Check that the file is a valid {suffix.lstrip('.').upper()} file.",
        ) from exc
    if first_line:
        frame.index = pd.RangeIndex(first_line, first_line + len(frame), name="line")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_delimited(file: Path, suffix: str) -> pd.DataFrame:
    with file.open("r", encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    if not text.strip():
        raise InvalidInputError(
            f"{file.name} is empty.",
            hint="The first line must name the columns, e.g. person,eis_1,eis_2,eis_3,eis_4,eis_5.",
        )
    sep = _separator(text, suffix)
    width, lines = _check_rows(text, sep, file.name)
    # usecols: the empty cells some rows have past the last column (checked above) are dropped,
    # and never shift a row's first cells into the index.
    frame = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True, usecols=range(width))
    if len(lines) != len(frame):  # pandas saw the records differently: count from line 2
        lines = list(range(2, 2 + len(frame)))
    frame.index = pd.Index(lines, name="line")
    return frame


def _separator(text: str, suffix: str) -> str:
    """Tab for .tsv; comma for .csv unless the header has none and semicolons or tabs instead
    (Excel writes semicolons where the decimal mark is a comma); for .txt the most common."""
    header = text.lstrip().partition("\n")[0]
    if suffix == ".tsv":
        return "\t"
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    if suffix == ".csv" and counts[","]:
        return ","
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _check_rows(text: str, sep: str, name: str) -> tuple[int, list[int]]:
    """Refuse repeated column names and rows with more cells than the header has columns;
    return the number of columns and the line each record starts on (blank lines, which
    pandas skips, are counted, so an error's line is the line in the file)."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
    header: list[str] = []
    while not header:  # blank lines before the header are skipped, as pandas does
        header = [cell.strip() for cell in next(reader)]
    problems = _repeated_names(header)
    lines: list[int] = []
    previous = reader.line_num
    for row in reader:
        start, previous = previous + 1, reader.line_num
        if not row:
            continue
        lines.append(start)
        extra = row[len(header) :]
        if any(cell.strip() for cell in extra):
            problems.append(
                Problem(
                    f"{len(row)} cells but the header names {len(header)} columns",
                    line=start,
                )
            )
    if problems:
        raise InvalidInputError(
            f"{name} does not have the shape of a table: {len(problems)} problem(s).",
            hint=_SHAPE_HINT,
            problems=problems,
        )
    return len(header), lines


def _repeated_names(header: list[str]) -> list[Problem]:
    seen: set[str] = set()
    problems: list[Problem] = []
    for column in header:
        if column and column in seen:
            problems.append(Problem("column name used twice", line=1, column=column))
        seen.add(column)
    return problems


def _check_header(header: list[str], name: str) -> None:
    problems = _repeated_names([column.strip() for column in header])
    if problems:
        raise InvalidInputError(
            f"{name} does not have the shape of a table: {len(problems)} problem(s).",
            hint=_SHAPE_HINT,
            problems=problems,
        )


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table in the format its suffix names (CSV, TSV, Excel, .sav or Parquet)."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in _WRITABLE_SUFFIXES:
        raise InvalidInputError(
            f"Cannot write {file.name}: unknown file type.", hint=_WRITE_FORMAT_HINT
        )
    out = frame.reset_index(drop=frame.index.name in (None, "line"))
    with writing_to(file):
        if suffix == ".csv":
            out.to_csv(file, index=False)
        elif suffix == ".tsv":
            out.to_csv(file, index=False, sep="\t")
        elif suffix in (".xlsx", ".xlsm"):
            out.to_excel(file, index=False, engine="openpyxl")
        elif suffix == ".sav":
            import pyreadstat

            pyreadstat.write_sav(out, str(file))
        else:
            out.to_parquet(file, index=False)


@contextmanager
def writing_to(path: str | Path) -> Iterator[Path]:
    """Check that ``path`` can be written (its folder exists, it is not a folder) and turn an
    ``OSError`` raised while the block writes it into an :class:`InvalidInputError`."""
    file = Path(path)
    hint = "Choose a file in a folder that exists and that you can write to."
    if file.is_dir():
        raise InvalidInputError(f"Cannot write {file}: it is a folder.", hint=hint)
    if not file.parent.is_dir():
        raise InvalidInputError(
            f"Cannot write {file}: the folder {file.parent} does not exist.", hint=hint
        )
    try:
        yield file
    except OSError as exc:
        raise InvalidInputError(f"Cannot write {file}: {exc.strerror or exc}.", hint=hint) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
