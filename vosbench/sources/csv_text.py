"""CSV text read strictly, each record with the line it starts on: every CSV file a user hands vosbench.

A lenient reader takes a quote left open as a cell running on to the end of the file, and
the records after it vanish into that cell without a word: payments missing from an import
or a statement. A strict reader refuses the file instead, naming the line where the quote
opened and the fix. Records are numbered by the physical line they start on (a quoted cell
may span lines), so a message points where an editor shows the record.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from vosbench.core.errors import VosbenchError


class CsvTextError(VosbenchError, ValueError):
    """CSV text whose quoting cannot be read; the message names the file, the line and the fix."""


def quote_problem(path: Path | str, line: int, error: csv.Error) -> str:
    """What a strict reader's error means for the record that starts on ``line``, and how to fix it."""
    fix = 'close the quote, or double each quote inside a quoted cell ("5"" screen"), and import again'
    if "unexpected end of data" in str(error):
        return f'{path}: the quote (") opened in the record on line {line} is never closed; {fix}'
    if "field limit" in str(error):  # what a quote left open in a large file meets before its end
        return (f'{path}: a cell of the record on line {line} runs on past {csv.field_size_limit()} characters: '
                f'either it is that long (shorten it at the source) or a quote (") opened there is never closed; '
                f'{fix}')
    return f"{path}: line {line}: {error} (a quoted cell must end with its quote before the next comma or line end); {fix}"


def width_problem(cells: int, width: int) -> str | None:
    """Why a record of ``cells`` cells cannot be read under a header of ``width`` (None: it can).

    A record with a cell too few or too many is refused, never read shifted: its values would
    sit under another column's header (an amount read as a balance, a memo as an account).
    """
    if cells == width:
        return None
    return f"{cells} cells where the header has {width}: a cell is missing or a separator sits unquoted inside one"


def rows(text: str, file: str, *, delimiter: str = ",") -> tuple[list[list[str]], list[int]]:
    """The records of ``text`` and the line each starts on; :class:`CsvTextError` when its quoting is broken."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records, starts, start = [], [], 1
    try:
        for record in reader:
            records.append(record)
            starts.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise CsvTextError(quote_problem(file, start, error)) from None
    return records, starts
