"""Read a delimited text file into strings, keeping every record and its row number.

Nothing is parsed here beyond splitting fields: every value stays a string so that
validation can say exactly which value in which row was wrong.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.data.errors import LoadError
from analysis.data.quotes import Lines, check_quotes

#: Name of the column holding each record's row number in the file (header = row 1).
ROW = "_row"

#: Characters that, alone in a one-column header, suggest the wrong delimiter was used.
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}

#: Longest field accepted, in characters; a record with a longer one is quarantined
#: (``field_too_long``). The file is still read in full, whatever its fields' lengths.
MAX_FIELD_CHARS = 131_072

#: Characters of an over-long field kept in the quarantine file's ``raw`` column.
_KEPT_CHARS = 200

#: Characters that cannot be a delimiter (the quote character and line breaks).
_NOT_DELIMITERS = {'"', "\n", "\r"}


@dataclass
class RawTable:
    """The records of a file as strings.

    Attributes
    ----------
    path : Path
        The file read.
    header : list of str
        Column names as they appear in the file (whitespace stripped).
    records : pandas.DataFrame
        One row per record with a well-formed field count; all values are strings.
        Its ``_row`` column (:data:`ROW`) is the record's row number as a spreadsheet shows it (the
        header is row 1, the first record row 2).
    malformed : pandas.DataFrame
        Records that cannot be split into the header's columns: ``row``, ``n_fields``,
        ``raw`` (the fields joined back with the delimiter, an over-long field cut short),
        ``reason`` (``wrong_field_count`` or ``field_too_long``), ``detail`` and ``fields``
        (the list of fields, for loaders that must pseudonymise one of them).
    blank_lines : int
        Empty lines skipped (they hold no record and are not counted as read).
    sha256 : str
        Hash of the file's bytes, for the data log and report manifests.
    """

    path: Path
    header: list[str]
    records: pd.DataFrame
    malformed: pd.DataFrame
    blank_lines: int
    sha256: str

    @property
    def n_read(self) -> int:
        """Number of records read (well-formed or not)."""
        return len(self.records) + len(self.malformed)


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes.

    Parameters
    ----------
    path : str or Path
        File to hash.

    Returns
    -------
    str
        Hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise LoadError(path, "no such file")
    if path.is_dir():
        raise LoadError(path, "is a folder, not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise LoadError(
                path, f"looks gzip-compressed but cannot be decompressed ({exc})"
            ) from exc
    return data


def read_csv_table(path: str | Path, **read_csv: object) -> pd.DataFrame:
    """Read a small reference table with pandas, naming the file if it cannot be read.

    For the tables beside the contracts (offence codes, LSOA-to-unit, truth), which are
    read whole, not record by record.

    Parameters
    ----------
    path : str or Path
        CSV file (optionally gzip).
    **read_csv
        Passed on to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    LoadError
        If the file is missing, damaged, not UTF-8, or cannot be split into fields.
    """
    try:
        return pd.read_csv(path, **read_csv)
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        OSError,
        EOFError,
        zlib.error,
    ) as exc:
        problem = " ".join(str(exc).split())
        raise LoadError(path, f"cannot be read as a CSV table ({problem})") from exc


#: Columns of :attr:`RawTable.malformed`.
MALFORMED_COLUMNS = ("row", "n_fields", "raw", "reason", "detail", "fields")


def check_delimiter(delimiter: str) -> str:
    """Return ``delimiter`` if it can separate fields, else raise ValueError.

    Parameters
    ----------
    delimiter : str
        Candidate delimiter.

    Returns
    -------
    str
        The delimiter.

    Raises
    ------
    ValueError
        If it is not exactly one character, or is the quote character or a line break.
    """
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"a delimiter must be one character, not {delimiter!r}")
    if delimiter in _NOT_DELIMITERS:
        raise ValueError(f"{delimiter!r} cannot be a delimiter (it is a quote or a line break)")
    return delimiter


@contextmanager
def _field_limit(size: int) -> Iterator[None]:
    """Let the csv module read fields of up to ``size`` characters, then restore its limit."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, min(size, 2**31 - 1)))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _header(path: Path, fields: list[str], delimiter: str) -> list[str]:
    """Return the column names, or raise if the header cannot be used."""
    header = [h.strip() for h in fields]
    if any(len(h) > MAX_FIELD_CHARS for h in header):
        raise LoadError(path, f"the header has a column name over {MAX_FIELD_CHARS} characters")
    if len(header) == 1:
        for char, name in _OTHER_DELIMITERS.items():
            if char != delimiter and char in header[0]:
                raise LoadError(
                    path,
                    f"the header has a single column containing {name}s: the file looks "
                    f"{name}-delimited; pass --delimiter {char!r}",
                )
    seen: set[str] = set()
    repeated = [h for h in header if h in seen or seen.add(h)]
    if repeated:
        raise LoadError(path, f"column names repeated in the header: {sorted(set(repeated))}")
    if any(h == "" for h in header):
        raise LoadError(path, "the header has an empty column name")
    return header


def _split(
    path: Path, text: str, delimiter: str
) -> tuple[list[str], list[list[str]], list[int], list[dict[str, object]], int]:
    """Split text into the header, well-formed records (and their rows), malformed ones, blanks.

    Records over several lines are checked for a stray quote
    (:func:`~analysis.data.quotes.check_quotes`).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    lines = Lines(text)
    header: list[str] | None = None
    good: list[list[str]] = []
    good_rows: list[int] = []
    bad: list[dict[str, object]] = []
    blank = width = row = first_line = last_line = 0
    long_possible = len(text) > MAX_FIELD_CHARS
    try:
        for fields in reader:
            row += 1
            first_line, last_line = last_line + 1, reader.line_num
            if header is None:
                if any(f.strip() for f in fields):
                    if last_line > first_line:
                        raise LoadError(
                            path,
                            f"unbalanced quote: the header (line {first_line}) opens a quoted "
                            f"column name that runs to line {last_line}; close or remove the "
                            "stray '\"'",
                        )
                    header = _header(path, fields, delimiter)
                    width = len(header)
                continue
            if last_line > first_line:
                where = (row, first_line, last_line)
                check_quotes(path, lines, fields, width, delimiter, where)
            if not fields or (len(fields) == 1 and fields[0].strip() == "" and width > 1):
                blank += 1
            elif len(fields) != width:
                detail = f"has {len(fields)} fields, the header has {width}"
                bad.append(_malformed(row, fields, delimiter, "wrong_field_count", detail))
            elif long_possible and max(map(len, fields)) > MAX_FIELD_CHARS:
                name, size = max(zip(header, map(len, fields), strict=True), key=lambda p: p[1])
                detail = f"{name} has {size} characters, more than {MAX_FIELD_CHARS}"
                bad.append(_malformed(row, fields, delimiter, "field_too_long", detail))
            else:
                good.append(fields)
                good_rows.append(row)
    except csv.Error as exc:
        raise LoadError(path, f"cannot be split into fields ({exc})") from exc
    if header is None:
        raise LoadError(path, "the file is empty (no header row)")
    return header, good, good_rows, bad, blank


def raw_text(fields: list[str], delimiter: str) -> str:
    """Join a record's fields back with the delimiter, cutting over-long fields short.

    Parameters
    ----------
    fields : list of str
        The record's fields.
    delimiter : str
        Field delimiter.

    Returns
    -------
    str
        The ``raw`` value of a malformed record.
    """
    shown = [f if len(f) <= MAX_FIELD_CHARS else f[:_KEPT_CHARS] + "..." for f in fields]
    return delimiter.join(shown)


def _malformed(
    row: int, fields: list[str], delimiter: str, reason: str, detail: str
) -> dict[str, object]:
    return {
        "row": row,
        "n_fields": len(fields),
        "raw": raw_text(fields, delimiter),
        "reason": reason,
        "detail": detail,
        "fields": fields,
    }


def read_table(path: str | Path, *, delimiter: str = ",", encoding: str = "utf-8") -> RawTable:
    """Read a delimited text file (optionally gzip-compressed) into strings.

    Parameters
    ----------
    path : str or Path
        The file.
    delimiter : str
        Field delimiter.
    encoding : str
        Text encoding; ``utf-8`` also strips a leading byte-order mark.

    Returns
    -------
    RawTable
        The header, the well-formed records and the malformed ones.

    Raises
    ------
    LoadError
        If the file is missing, unreadable, a damaged gzip, empty, not decodable with
        ``encoding``, has no header, a repeated column name, a header that suggests another
        delimiter, or an unbalanced quote (a quoted field that swallows the records after it).
    ValueError
        If ``delimiter`` is not a single character that can separate fields.
    """
    path = Path(path)
    data = _read_bytes(path)
    if not data.strip():
        raise LoadError(path, "the file is empty (no header row)")
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LoadError(
            path,
            f"not valid {encoding} text (undecodable byte at line {line}); "
            "pass the file's encoding, for example --encoding cp1252",
        ) from exc
    except LookupError as exc:
        raise LoadError(path, f"unknown encoding {encoding!r}") from exc
    if "\x00" in text:
        raise LoadError(path, "contains NUL characters: not a text file, or not in this encoding")

    with _field_limit(len(text) + 1):
        header, good, good_rows, bad, blank = _split(path, text, check_delimiter(delimiter))

    records = pd.DataFrame(good, columns=header, dtype=object)
    if not good:
        records = pd.DataFrame({h: pd.Series(dtype=object) for h in header})
    records.insert(0, ROW, pd.Series(good_rows, dtype="int64"))
    malformed = pd.DataFrame(bad, columns=list(MALFORMED_COLUMNS))
    return RawTable(
        path=path,
        header=header,
        records=records,
        malformed=malformed,
        blank_lines=blank,
        sha256=hashlib.sha256(data).hexdigest(),
    )
