"""Well-formed rows of the four data contracts, and files made of them, for the bad-input tests.

Every value is synthetic. Person identifiers are ``RAWID`` and a number, so a test can look
for any raw identifier left in an output.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import replace
from datetime import date
from pathlib import Path

from analysis.data import LoadOptions
from analysis.data.vocabularies import POLICEUK_COLUMNS

AS_OF = date(2026, 11, 24)
FORMATS = ("crimes", "charges", "policeuk", "events")

HEADERS: dict[str, list[str]] = {
    "crimes": [
        "crime_ref",
        "recorded_date",
        "committed_from",
        "committed_to",
        "ho_offence_code",
        "ho_offence_description",
        "easting",
        "northing",
        "lsoa_code",
        "knife_used",
        "injury",
    ],
    "charges": [
        "person_id",
        "crime_ref",
        "charge_date",
        "offence_code",
        "outcome",
        "age",
        "sex",
        "ethnicity",
        "home_lsoa",
    ],
    "policeuk": list(POLICEUK_COLUMNS),
    "events": ["id", "time", "lon", "lat", "note"],
}

#: The date column of each contract, and a date out of pandas' range written its way.
DATE_COLUMN = {
    "crimes": "recorded_date",
    "charges": "charge_date",
    "policeuk": "Month",
    "events": "time",
}
#: A free-text column of each contract (kept verbatim in the quarantine file).
TEXT_COLUMN = {
    "crimes": "ho_offence_description",
    "charges": "crime_ref",
    "policeuk": "Location",
    "events": "note",
}
#: Years pandas' nanosecond timestamps cannot hold.
OUT_OF_RANGE_YEARS = ("3000", "1000", "0001", "9999")

_EVENTS = dict(time_col="time", lon_col="lon", lat_col="lat", id_col="id")


def good_row(fmt: str, i: int) -> list[str]:
    """Return the ``i``-th well-formed record of a contract (distinct identifiers)."""
    if fmt == "crimes":
        return [
            f"CR{i:05d}",
            "2025-05-02",
            "2025-05-01 22:10",
            "2025-05-01 23:00",
            "8N",
            "Assault",
            str(406_900 + i),
            "286900",
            "E01033620",
            "Y",
            "N",
        ]
    if fmt == "charges":
        return [
            f"RAWID{i:05d}",
            f"CR{i:05d}",
            "2025-06-01",
            "8N",
            "convicted",
            "23",
            "M",
            "W1",
            "E01033620",
        ]
    if fmt == "policeuk":
        return [
            f"{i:064x}",
            "2025-03",
            "West Midlands Police",
            "West Midlands Police",
            f"{-1.89 + i * 0.0001:.4f}",
            "52.4862",
            "On or near Broad Street",
            "E01033620",
            "Birmingham 138A",
            "Robbery",
            "Under investigation",
            "",
        ]
    if fmt == "events":
        return [f"E{i}", "2024-01-05 10:00", f"{-1.89 + i * 0.0001:.4f}", "52.48", "ok"]
    raise ValueError(fmt)


def good_rows(fmt: str, n: int) -> list[list[str]]:
    """Return ``n`` well-formed records."""
    return [good_row(fmt, i) for i in range(n)]


def options(fmt: str, **over: object) -> LoadOptions:
    """Return the load options of a contract's test files (events name their columns)."""
    base = LoadOptions(as_of=AS_OF, **(_EVENTS if fmt == "events" else {}))
    return replace(base, **over)


def cli_options(fmt: str) -> list[str]:
    """Return the command-line options matching :func:`options`."""
    args = ["--as-of", AS_OF.isoformat()]
    if fmt == "events":
        args += ["--time-col", "time", "--lon-col", "lon", "--lat-col", "lat", "--id-col", "id"]
    return args


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    """Return a header and rows as CSV text (quoted by the csv module, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # so a field holding \r is quoted
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write(path: Path, header: list[str], rows: list[list[str]], *, compress: bool = False) -> Path:
    """Write a header and rows as CSV (gzip-compressed when asked)."""
    data = csv_text(header, rows).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def corrupt_gzip(data: bytes) -> bytes:
    """Return a gzip of ``data`` whose compressed body is damaged (the header is intact)."""
    packed = bytearray(gzip.compress(data * 20, mtime=0))
    packed[20:40] = b"\xff" * 20
    return bytes(packed)
