"""CSV cells that a spreadsheet opens safely, and CSV files read with every fault named.

A cell that starts with =, +, -, @, a tab or a carriage return is a formula to a spreadsheet
(OWASP's "CSV injection"): written out, it gets a ' in front, which spreadsheets show as
text, and reading the file back takes that ' off again, so an export imported unchanged
changes nothing. Plain numbers ("-5") are left as they are.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Python's csv module refuses a cell longer than this; a cell that long is almost always a
# quote opened and never closed, which swallowed the lines after it.
LONGEST_CELL = csv.field_size_limit()


def is_formula(value: str) -> bool:
    return value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value)


def cell_out(value: str) -> str:
    """The cell as written to a file a spreadsheet may open."""
    return f"'{value}" if is_formula(value) else value


def cell_in(value: str) -> str:
    """The cell as typed, from a file this site wrote (or a spreadsheet saved from it)."""
    if value.startswith("'") and is_formula(value[1:]):
        return value[1:]
    return value


class _Echo:
    def write(self, value):
        return value


def csv_lines(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV text a line at a time, for streaming; a BOM first so spreadsheets read UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([cell_out(value) for value in row])


@dataclass
class FileProblem:
    line: int  # the line in the file (the header is line 1)
    column: str
    message: str


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (the line the row starts on, {column: cell})
    problems: list[FileProblem]
    formulas: list[FileProblem]  # cells a spreadsheet would run: a warning, not a fault


def table_read(text: str, *, multiline: set[str] = frozenset()) -> Table:
    """Every row of a CSV file, or the problems that stop it being read as the file means.

    Faults that Python's csv module lets through silently are named: a quote opened and
    never closed (it swallows the lines after it), a column named twice (the last would win),
    a row with more or fewer cells than the header, a NUL character (no database keeps one),
    and a line break in a column that holds one line.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    problems, formulas, rows = [], [], []
    header: list[str] = []
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not header:
                header = [cell.strip() for cell in cells]
                for name in sorted({n for n in header if n and header.count(n) > 1}):
                    problems.append(
                        FileProblem(1, name, "This column is in the file twice: keep one of them.")
                    )
                continue
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, as spreadsheets leave at the end
            if len(cells) != len(header):
                problems.append(
                    FileProblem(
                        line,
                        "",
                        f"This row has {len(cells)} cells, but the first line names "
                        f"{len(header)} columns.",
                    )
                )
                continue
            row = {}
            for name, cell in zip(header, cells, strict=True):
                if "\x00" in cell:
                    problems.append(
                        FileProblem(
                            line,
                            name,
                            "This cell holds a NUL character (an invisible control character "
                            "that cannot be saved): delete it, or retype the cell.",
                        )
                    )
                elif ("\n" in cell or "\r" in cell.strip()) and name not in multiline:
                    problems.append(
                        FileProblem(
                            line,
                            name,
                            'This cell runs over more than one line. Usually a quote (") '
                            "opened in it, or just before it, is not closed where it should be.",
                        )
                    )
                elif is_formula(cell.strip()):
                    formulas.append(
                        FileProblem(
                            line,
                            name,
                            f"Starts with “{cell.strip()[0]!s}”, so a spreadsheet would run it as "
                            "a formula. It will be saved as typed, and exported with a ' in front.",
                        )
                    )
                row[name] = cell_in(cell.strip())
            rows.append((line, row))
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            message = (
                f"A cell that starts on this line is longer than {LONGEST_CELL:,} characters. "
                'Usually a quote (") opened in it is never closed, and the lines after it '
                "were read into the same cell."
            )
        else:
            message = (
                'A quote (") in this row is not where the CSV format allows one: a cell that '
                "starts with a quote must end with one, and a quote inside a quoted cell is "
                'written twice (""). The file could not be read past this row.'
            )
        problems.append(FileProblem(start, "", message))
    return Table(header=header, rows=rows, problems=problems, formulas=formulas)
