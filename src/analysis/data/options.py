"""Options shared by every loader: columns, coordinate systems, dates and duplicate rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path


class DuplicatePolicy(StrEnum):
    """What to do with several rows that share an identifier but differ in content.

    ``KEEP_FIRST`` (the default) keeps the first row in file order and quarantines the rest;
    ``KEEP_LAST`` keeps the last; ``REJECT_ALL`` quarantines every row of the identifier.
    Exact duplicate rows (identical in every field) are handled separately by
    ``LoadOptions.exact_duplicates``.
    """

    KEEP_FIRST = "keep-first"
    KEEP_LAST = "keep-last"
    REJECT_ALL = "reject-all"


@dataclass(frozen=True)
class LoadOptions:
    """Settings for a load; every field has a safe default.

    Parameters
    ----------
    time_col, x_col, y_col, lon_col, lat_col, id_col : str, optional
        Column names for generic point events (``events`` format). Give either ``x_col`` and
        ``y_col`` (with ``crs``) or ``lon_col`` and ``lat_col`` (WGS84).
    crs : str
        Coordinate reference system of ``x_col``/``y_col`` (for example ``EPSG:27700``).
    target_crs : str, optional
        Coordinate reference system of the output ``x``/``y`` columns. Default: British
        National Grid (EPSG:27700) for crimes and police.uk files; for point events, the
        source system if it is projected, else the UTM zone of the events.
    time_format : str, optional
        ``strftime`` format of the time column; default ISO 8601.
    delimiter : str
        Field delimiter.
    encoding : str
        Text encoding (``utf-8`` accepts and strips a byte-order mark).
    as_of : date, optional
        Dates after this day are rejected as in the future; default today.
    min_date : date
        Dates before this day are rejected as implausible.
    area : Path, optional
        Polygon file of the study area (any CRS); points outside it are quarantined.
    area_buffer_m : float
        Tolerance around the study area, in metres.
    duplicate_ids : DuplicatePolicy
        Rule for identifiers repeated with different content.
    exact_duplicates : str
        ``"quarantine"`` (default) or ``"keep"``. Keep them only where identical rows are
        known to be distinct events (for example police.uk points without a crime ID).
    offence_codes : Path, optional
        CSV of known offence codes replacing the packaged table.
    pseudonym_key : bytes, optional
        Key for pseudonymising person identifiers in charge data on load (HMAC-SHA256).
        Without it, identifiers are taken to be pseudonymised already.
    """

    time_col: str | None = None
    x_col: str | None = None
    y_col: str | None = None
    lon_col: str | None = None
    lat_col: str | None = None
    id_col: str | None = None
    crs: str | None = None
    target_crs: str | None = None
    time_format: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    as_of: date | None = None
    min_date: date = date(1900, 1, 1)
    area: Path | None = None
    area_buffer_m: float = 0.0
    duplicate_ids: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST
    exact_duplicates: str = "quarantine"
    offence_codes: Path | None = None
    pseudonym_key: bytes | None = field(default=None, repr=False)

    def today(self) -> date:
        """Return the day after which dates count as in the future."""
        return self.as_of or date.today()
