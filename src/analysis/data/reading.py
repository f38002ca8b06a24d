"""Read a delimited text file into strings, keeping every record and its row number.

Nothing is parsed here beyond splitting fields: every value stays a string so that
validation can say exactly which value in which row was wrong.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.data.errors import LoadError

#: Name of the column holding each record's row number in the file (header = row 1).
ROW = "_row"

#: Characters that, alone in a one-column header, suggest the wrong delimiter was used.
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


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
        Records whose field count differs from the header's: ``row``, ``n_fields`` and
        ``raw`` (the fields joined back with the delimiter).
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
    data = path.read_bytes()
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise LoadError(
                path, f"looks gzip-compressed but cannot be decompressed ({exc})"
            ) from exc
    return data


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
        If the file is missing, empty, not decodable with ``encoding``, has no header, a
        repeated column name, or a header that suggests another delimiter.
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

    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    except csv.Error as exc:
        raise LoadError(path, f"cannot be split into fields ({exc})") from exc

    header_index = next((i for i, r in enumerate(rows) if any(f.strip() for f in r)), None)
    if header_index is None:
        raise LoadError(path, "the file is empty (no header row)")
    header = [h.strip() for h in rows[header_index]]
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

    good: list[list[str]] = []
    good_rows: list[int] = []
    bad: list[dict[str, object]] = []
    blank = 0
    width = len(header)
    for offset, fields in enumerate(rows[header_index + 1 :]):
        row_number = header_index + 2 + offset
        if not fields or (len(fields) == 1 and fields[0].strip() == "" and width > 1):
            blank += 1
            continue
        if len(fields) != width:
            bad.append({"row": row_number, "n_fields": len(fields), "raw": delimiter.join(fields)})
            continue
        good.append(fields)
        good_rows.append(row_number)

    records = pd.DataFrame(good, columns=header, dtype=object)
    if not good:
        records = pd.DataFrame({h: pd.Series(dtype=object) for h in header})
    records.insert(0, ROW, pd.Series(good_rows, dtype="int64"))
    malformed = pd.DataFrame(bad, columns=["row", "n_fields", "raw"])
    return RawTable(
        path=path,
        header=header,
        records=records,
        malformed=malformed,
        blank_lines=blank,
        sha256=hashlib.sha256(data).hexdigest(),
    )
