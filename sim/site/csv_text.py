"""A planner's CSV as text rows with the line numbers a spreadsheet shows.

Planners export from Excel or WPS, often on Chinese Windows, which saves CSV in GBK (GB18030) unless told
"CSV UTF-8"; Excel's "CSV UTF-8" adds a byte-order mark. Both are read here, and every other file is refused
in one line that says how to re-save it, instead of a decode traceback from deep inside pandas.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from sim.errors import SiteError

# Tried in this order: UTF-8 (a BOM, if any, is dropped), then GB18030, the superset of GBK and GB2312.
ENCODINGS = ("utf-8-sig", "gb18030")
RESAVE = "in Excel or WPS use Save As > 'CSV UTF-8 (comma delimited) (*.csv)'"


@dataclass(frozen=True)
class CsvRows:
    """Header and rows of a CSV; ``lines[k]`` is the spreadsheet row number of ``rows[k]`` (header = 1)."""

    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: list[int]
    encoding: str


def cell_text(value) -> str:
    """A cell as stripped text ('' when missing); a whole float (an integer column read with gaps, as
    GeoJSON properties are) loses its '.0', so id 7 stays '7'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """(text, encoding) of a CSV's bytes; refused if binary or in none of ``ENCODINGS``."""
    if b"\x00" in data:
        raise SiteError(
            f"{path}: not a text CSV (it holds binary data: an .xlsx, or Excel's 'Unicode text', saved as "
            f".csv?); {RESAVE}"
        )
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise SiteError(
        f"{path}: cannot decode the text: tried UTF-8 (with or without BOM) and GB18030 (GBK); {RESAVE}"
    )


def read_csv_rows(path: Path) -> CsvRows:
    """The file's header (stripped, lower case) and non-blank rows, each with its spreadsheet row number.

    Why the csv module and not pandas: a message must name the row a planner sees in the spreadsheet, and
    pandas loses it (blank lines skipped). A spreadsheet row is a CSV record, so a cell with a line break
    in it still counts as one row; blank records count, as the spreadsheet shows them.
    """
    empty = SiteError(
        f"{path}: the file is empty; a facilities CSV needs a header line (role,name,lon,lat,...) and one "
        "row per facility"
    )
    data = path.read_bytes()
    if not data.strip():
        raise empty
    text, encoding = decode(path, data)
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    row_number = 0
    try:
        for row_number, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if not any(cell.strip() for cell in record):  # blank lines and rows of empty cells
                continue
            if header is None:
                header, header_line = [cell.strip().lower() for cell in record], row_number
            else:
                rows.append(record)
                lines.append(row_number)
    except csv.Error as err:
        raise SiteError(f"{path} row {row_number + 1}: not readable as CSV ({err}); {RESAVE}") from None
    if header is None:
        raise empty
    return CsvRows(header, header_line, rows, lines, encoding)
