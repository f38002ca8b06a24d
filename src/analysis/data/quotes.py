"""Stray quotes: a record spanning several lines that a misplaced ``"`` made.

A quoted field may hold line breaks, so a record over several lines is not a fault in
itself. But a stray opening quote swallows the records after it into one field, and the
csv module (tolerant by design) says nothing. :func:`check_quotes` looks at each record
that spans lines and raises a :class:`~analysis.data.errors.LoadError` naming its row and
line when its shape shows the stray quote.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from analysis.data.errors import LoadError

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _swallows_a_record(chunk: str, width: int, delimiter: str) -> bool:
    """Whether a line after the first of a record's text splits alone into ``width`` fields.

    Such a line reads as a record of its own, swallowed by a quote opened before it.
    """
    if width < 2:
        return False
    later = _LINE_BREAK.split(chunk)[1:]
    return any(
        len(next(csv.reader([line], delimiter=delimiter), [])) == width for line in later if line
    )


class Lines:
    """The physical lines of a text, indexed on first use only.

    Lines end as the csv reader counts them: at a line feed, a carriage return, or both.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    def span(self, first: int, last: int) -> str:
        """Return lines ``first`` to ``last`` (1-based, inclusive) with their line ends."""
        if self._starts is None:
            self._starts = [0, *(m.end() for m in _LINE_BREAK.finditer(self.text))]
        starts = self._starts
        end = starts[last] if last < len(starts) else len(self.text)
        return self.text[starts[first - 1] : end]


def check_quotes(
    path: Path,
    lines: Lines,
    fields: list[str],
    width: int,
    delimiter: str,
    where: tuple[int, int, int],
) -> None:
    """Raise if a record spanning several lines is the work of a stray quote.

    A quoted field may hold line breaks; but a record over several lines is a quote opened
    where it should not be when its quoting breaks the strict rules (a closing quote followed
    by text, or no closing quote before the end of the file), when it has the wrong number
    of fields, or when a line after its first splits alone into a whole record.

    Parameters
    ----------
    path : Path
        The file, for the message.
    lines : Lines
        The file's lines.
    fields : list of str
        The record's fields.
    width : int
        Number of columns of the header.
    delimiter : str
        Field delimiter.
    where : tuple of int
        Row number, first and last line of the record.
    """
    row, first_line, last_line = where
    problem = None
    try:
        chunk = lines.span(first_line, last_line)
        for _ in csv.reader(io.StringIO(chunk, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        problem = "end" if "unexpected end of data" in str(exc) else "strict"
    if problem is None and width > 1 and len(fields) != width:
        problem = "count"
    if problem is None and _swallows_a_record(chunk, width, delimiter):
        problem = "swallowed"
    if problem is None:
        return
    end = "the end of the file" if problem == "end" else f"line {last_line}"
    raise LoadError(
        path,
        f"unbalanced quote: the record at row {row} (line {first_line}) opens a quoted field "
        f"that runs to {end}, merging the lines after it into one field; "
        "close or remove the stray '\"'",
    )
