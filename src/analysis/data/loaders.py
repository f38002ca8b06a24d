"""Loaders for the four data contracts: recorded crimes, charges, police.uk and point events.

Each loader reads every record as text, runs the checks of its contract in a fixed order,
and returns a :class:`~analysis.data.result.LoadResult`. A record is either accepted or
quarantined with the first check it failed; nothing is dropped silently. Whole-file faults
raise :class:`~analysis.data.errors.LoadError`. The contracts are documented in
``docs/data-dictionary.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from analysis.data import vocabularies as vocab
from analysis.data.checks import (
    Quarantine,
    blank,
    check_dates,
    check_required,
    check_vocabulary,
    duplicates,
    parse_bool,
    parse_datetime,
    parse_float,
    show,
)
from analysis.data.coordinates import (
    BNG,
    WGS84,
    check_coordinates,
    check_in_area,
    load_area,
    parse_crs,
    to_crs_xy,
)
from analysis.data.errors import LoadError
from analysis.data.offences import load_offence_codes
from analysis.data.options import LoadOptions
from analysis.data.pseudonymise import pseudonymise
from analysis.data.reading import ROW, RawTable, raw_text, read_table
from analysis.data.result import REJECT_COLUMNS, LoadResult

# ---------------------------------------------------------------------------- helpers


def _require_columns(raw: RawTable, needed: list[str], fmt: str) -> None:
    missing = [c for c in needed if c not in raw.header]
    if missing:
        raise LoadError(
            raw.path,
            f"missing columns for the {fmt!r} format: {missing}; the header has {raw.header}",
        )


def _finish(
    raw: RawTable,
    q: Quarantine,
    accepted: pd.DataFrame,
    fmt: str,
    notes: list[str],
    crs: str | None,
) -> LoadResult:
    """Split records into accepted and quarantined, and add malformed lines."""
    ok = q.ok
    acc = accepted.loc[ok].reset_index(drop=True)
    acc.insert(len(acc.columns), "row", raw.records[ROW].to_numpy()[ok])

    fields = raw.records.drop(columns=[ROW])
    rename = {c: f"{c}_raw" for c in fields.columns if c in REJECT_COLUMNS}
    bad = fields.loc[~ok].rename(columns=rename).reset_index(drop=True)
    meta = pd.DataFrame(
        {
            "row": raw.records[ROW].to_numpy()[~ok],
            "reason": q.reason[~ok],
            "column": q.column[~ok],
            "detail": q.detail[~ok],
        }
    )
    rejected = pd.concat([meta, bad], axis=1)
    if len(raw.malformed):
        mal = pd.DataFrame(
            {
                "row": raw.malformed["row"],
                "reason": raw.malformed["reason"],
                "column": None,
                "detail": raw.malformed["detail"],
                "raw": raw.malformed["raw"],
            }
        )
        rejected = pd.concat([rejected, mal], ignore_index=True)
    rejected = rejected.sort_values("row", kind="stable").reset_index(drop=True)
    rejected = rejected.astype({c: "object" for c in rejected.columns if c != "row"})
    result = LoadResult(
        source=str(raw.path),
        format=fmt,
        accepted=acc,
        rejected=rejected,
        sha256=raw.sha256,
        blank_lines=raw.blank_lines,
        notes=notes,
        crs=crs,
    )
    assert result.n_read == raw.n_read, "reconciliation failed: a record was lost"
    result.log()
    return result


def _pseudonymise_ids(raw: RawTable, column: str, key: bytes, delimiter: str) -> None:
    """Pseudonymise a person-identifier column wherever the file's values are kept.

    The well-formed records' column is replaced; in a malformed record (wrong field count,
    over-long field) the identifier's position is uncertain, so every field within the
    count's difference of the column's position is replaced before ``raw`` is rebuilt.
    """
    raw.records[column] = pseudonymise(raw.records[column], key)
    if not len(raw.malformed):
        return
    position, width = raw.header.index(column), len(raw.header)
    kept = []
    for fields in raw.malformed["fields"]:
        spread = abs(len(fields) - width)
        around = range(max(position - spread, 0), min(position + spread + 1, len(fields)))
        fields = list(fields)
        if around:
            hashed = pseudonymise(pd.Series([fields[i] for i in around]), key)
            for i, value in zip(around, hashed, strict=True):
                fields[i] = value
        kept.append(fields)
    raw.malformed["fields"] = kept
    raw.malformed["raw"] = [raw_text(f, delimiter) for f in kept]


def _area(options: LoadOptions, crs: str) -> object | None:
    return load_area(options.area, crs) if options.area else None


def _check_lsoa(q: Quarantine, raw: pd.Series, column: str) -> pd.Series:
    s = raw.astype("string").str.strip().str.upper()
    bad = ~blank(raw) & ~s.str.match(vocab.LSOA_PATTERN).fillna(False).to_numpy(dtype=bool)
    q.flag(bad, "invalid_lsoa_code", column, f"{column} " + show(raw) + " is not an LSOA code")
    return s.where(~blank(raw).astype(bool), pd.NA)


def _check_codes(q: Quarantine, raw: pd.Series, table: pd.DataFrame, column: str) -> pd.Series:
    code = raw.astype("string").str.strip()
    known = code.isin(table.index).to_numpy(dtype=bool)
    q.flag(
        ~blank(raw) & ~known,
        "unknown_offence_code",
        column,
        f"{column} " + show(raw) + " is not in the offence code table",
    )
    return code


def _check_flag(q: Quarantine, raw: pd.Series, column: str) -> pd.Series:
    parsed = parse_bool(raw)
    q.flag(
        parsed.isna().to_numpy(),
        "invalid_flag",
        column,
        f"{column} " + show(raw) + " is not a Y/N flag",
    )
    return parsed


def _dedupe(q: Quarantine, raw: RawTable, ids: list[str] | None, options: LoadOptions) -> None:
    frame = raw.records.drop(columns=[ROW])
    duplicates(
        q,
        frame,
        exact_columns=list(frame.columns),
        id_columns=ids,
        policy=str(options.duplicate_ids),
        exact=options.exact_duplicates,
        rows=raw.records[ROW],
    )


# ---------------------------------------------------------------------------- crimes

#: Columns of the recorded-crime contract that must be in the header.
CRIME_REQUIRED = ["crime_ref", "recorded_date", "ho_offence_code", "knife_used", "injury"]
#: Optional columns of the recorded-crime contract.
CRIME_OPTIONAL = [
    "committed_from",
    "committed_to",
    "ho_offence_description",
    "easting",
    "northing",
    "longitude",
    "latitude",
    "lsoa_code",
]


def load_crimes(path: str | Path, options: LoadOptions | None = None) -> LoadResult:
    """Load a force's recorded-crime extract.

    Parameters
    ----------
    path : str or Path
        CSV (optionally gzip) with the recorded-crime contract's columns.
    options : LoadOptions, optional
        Dates, study area, duplicate rule, offence code table.

    Returns
    -------
    LoadResult
        Accepted crimes with ``crime_ref, recorded_date, committed_from, committed_to,
        event_date, offence_code, offence_description, family, knife, injury, lsoa_code,
        x, y`` (British National Grid unless ``target_crs`` says otherwise) and ``row``.
    """
    options = options or LoadOptions()
    raw = read_table(path, delimiter=options.delimiter, encoding=options.encoding)
    _require_columns(raw, CRIME_REQUIRED, "crimes")
    has_bng = {"easting", "northing"} <= set(raw.header)
    has_ll = {"longitude", "latitude"} <= set(raw.header)
    if not (has_bng or has_ll):
        raise LoadError(
            raw.path, "needs coordinate columns: easting and northing, or longitude and latitude"
        )
    df = raw.records
    get = lambda c: df[c] if c in df.columns else pd.Series("", index=df.index)  # noqa: E731
    q = Quarantine(len(df))
    today, lo = options.today(), options.min_date
    table = load_offence_codes(options.offence_codes)

    check_required(q, df, ["crime_ref"])
    recorded = parse_datetime(df["recorded_date"], options.time_format)
    fmt = options.time_format
    check_dates(
        q,
        df["recorded_date"],
        recorded,
        "recorded_date",
        today=today,
        min_date=lo,
        required=True,
        fmt=fmt,
    )
    c_from = parse_datetime(get("committed_from"), fmt)
    c_to = parse_datetime(get("committed_to"), fmt)
    check_dates(
        q,
        get("committed_from"),
        c_from,
        "committed_from",
        today=today,
        min_date=lo,
        required=False,
        fmt=fmt,
    )
    check_dates(
        q,
        get("committed_to"),
        c_to,
        "committed_to",
        today=today,
        min_date=lo,
        required=False,
        fmt=fmt,
    )
    q.flag(
        (c_from > c_to).to_numpy(),
        "committed_from_after_to",
        "committed_from",
        "committed_from is after committed_to",
    )
    q.flag(
        (recorded.dt.normalize() < c_from.dt.normalize()).to_numpy(),
        "recorded_before_committed",
        "recorded_date",
        "recorded_date is before committed_from",
    )
    check_required(q, df, ["ho_offence_code"])
    code = _check_codes(q, df["ho_offence_code"], table, "ho_offence_code")
    knife = _check_flag(q, df["knife_used"], "knife_used")
    injury = _check_flag(q, df["injury"], "injury")
    lsoa = _check_lsoa(q, get("lsoa_code"), "lsoa_code")

    # Coordinates: a row uses easting/northing when it has either, else longitude/latitude.
    use_bng = (
        ~(blank(get("easting")) & blank(get("northing")))
        if has_bng
        else np.zeros(len(df), dtype=bool)
    )
    if not has_ll:
        use_bng[:] = True
    target = options.target_crs or BNG
    x = np.full(len(df), np.nan)
    y = np.full(len(df), np.nan)
    for mask, cols, crs in (
        (use_bng, ("easting", "northing"), BNG),
        (~use_bng, ("longitude", "latitude"), WGS84),
    ):
        if not mask.any():
            continue
        sx, sy = check_coordinates(q, get(cols[0]), get(cols[1]), cols, parse_crs(crs), where=mask)
        tx, ty = to_crs_xy(sx, sy, crs, target)
        x[mask], y[mask] = tx[mask], ty[mask]
    column = "easting" if has_bng else "longitude"
    _check_projected(q, x, y, column, str(target))
    check_in_area(q, x, y, _area(options, target), buffer_m=options.area_buffer_m, column=column)
    _dedupe(q, raw, ["crime_ref"], options)

    description = get("ho_offence_description").astype("string").str.strip()
    description = description.where(~blank(description), code.map(table["description"]))
    accepted = pd.DataFrame(
        {
            "crime_ref": df["crime_ref"].astype("string").str.strip(),
            "recorded_date": recorded,
            "committed_from": c_from,
            "committed_to": c_to,
            "event_date": c_from.dt.normalize().fillna(recorded.dt.normalize()),
            "offence_code": code,
            "offence_description": description,
            "family": code.map(table["family"]).astype("string"),
            "knife": knife,
            "injury": injury,
            "lsoa_code": lsoa,
            "x": x,
            "y": y,
        }
    )
    return _finish(raw, q, accepted, "crimes", [], pyproj.CRS(target).to_string())


# ---------------------------------------------------------------------------- charges

CHARGE_REQUIRED = [
    "person_id",
    "crime_ref",
    "charge_date",
    "offence_code",
    "outcome",
    "sex",
    "ethnicity",
]


def load_charges(path: str | Path, options: LoadOptions | None = None) -> LoadResult:
    """Load charge records (one row per person, crime and offence charged).

    Parameters
    ----------
    path : str or Path
        CSV (optionally gzip) with the charges contract's columns; ``age`` (at charge) or
        ``year_of_birth`` must be present, ``home_lsoa`` is optional.
    options : LoadOptions, optional
        With ``pseudonym_key`` set, ``person_id`` is pseudonymised on load (also in the
        quarantine file); without it, identifiers are taken to be pseudonymised already.

    Returns
    -------
    LoadResult
        Accepted charges with ``person_id, crime_ref, charge_date, offence_code, family,
        outcome, age, sex, ethnicity, ethnic_group, home_lsoa`` and ``row``.
    """
    options = options or LoadOptions()
    raw = read_table(path, delimiter=options.delimiter, encoding=options.encoding)
    _require_columns(raw, CHARGE_REQUIRED, "charges")
    if not ({"age", "year_of_birth"} & set(raw.header)):
        raise LoadError(raw.path, "needs an 'age' (at charge) or 'year_of_birth' column")
    notes = []
    if options.pseudonym_key:
        _pseudonymise_ids(raw, "person_id", options.pseudonym_key, options.delimiter)
        notes.append("person_id pseudonymised on load with the supplied key (HMAC-SHA256)")
    else:
        notes.append("no pseudonymisation key given: person_id taken as already pseudonymised")
    df = raw.records
    q = Quarantine(len(df))
    today = options.today()
    table = load_offence_codes(options.offence_codes)

    check_required(q, df, CHARGE_REQUIRED)
    charged = parse_datetime(df["charge_date"], options.time_format)
    check_dates(
        q,
        df["charge_date"],
        charged,
        "charge_date",
        today=today,
        min_date=options.min_date,
        required=True,
        fmt=options.time_format,
    )
    code = _check_codes(q, df["offence_code"], table, "offence_code")
    outcome = check_vocabulary(
        q, df["outcome"], vocab.CHARGE_OUTCOMES, "outcome", "unknown_outcome"
    ).map(vocab.CHARGE_OUTCOMES)
    sex = check_vocabulary(q, df["sex"], vocab.SEX_CODES, "sex", "unknown_sex")
    eth = check_vocabulary(
        q, df["ethnicity"], vocab.ETHNICITY_GROUPS, "ethnicity", "unknown_ethnicity"
    )

    if "age" in df.columns:
        col = "age"
        age = parse_float(df[col])
        check_required(q, df, [col])
    else:
        col = "year_of_birth"
        yob = parse_float(df[col])
        check_required(q, df, [col])
        age = charged.dt.year - yob
    value = parse_float(df[col])
    q.flag(
        ~blank(df[col]) & (value.isna() | (value % 1 != 0)).to_numpy(),
        "invalid_number",
        col,
        f"{col} " + show(df[col]) + " is not a whole number",
    )
    plausible = (age >= vocab.MIN_AGE) & (age <= vocab.MAX_AGE)
    q.flag(
        (age.notna() & ~plausible).to_numpy(),
        "implausible_age",
        col,
        f"age at charge outside {vocab.MIN_AGE}-{vocab.MAX_AGE} (from {col} " + show(df[col]) + ")",
    )
    home = (
        _check_lsoa(q, df["home_lsoa"], "home_lsoa")
        if "home_lsoa" in df.columns
        else (pd.Series(pd.NA, index=df.index, dtype="string"))
    )
    _dedupe(q, raw, ["person_id", "crime_ref", "offence_code"], options)

    accepted = pd.DataFrame(
        {
            "person_id": df["person_id"].astype("string").str.strip(),
            "crime_ref": df["crime_ref"].astype("string").str.strip(),
            "charge_date": charged.dt.normalize(),
            "offence_code": code,
            "family": code.map(table["family"]).astype("string"),
            "outcome": outcome.astype("string"),
            "age": age.where(plausible).round().astype("Int64"),
            "sex": sex,
            "ethnicity": eth,
            "ethnic_group": eth.map(vocab.ETHNICITY_GROUPS).astype("string"),
            "home_lsoa": home,
        }
    )
    return _finish(raw, q, accepted, "charges", notes, None)


# ---------------------------------------------------------------------------- police.uk

#: Format of the police.uk ``Month`` column.
POLICEUK_MONTH = "%Y-%m"


def load_policeuk(path: str | Path, options: LoadOptions | None = None) -> LoadResult:
    """Load a police.uk street-level crime file (the public monthly release).

    Parameters
    ----------
    path : str or Path
        CSV with the police.uk header (``Crime ID, Month, ..., Context``).
    options : LoadOptions, optional
        Dates, study area, target CRS, duplicate rules.

    Returns
    -------
    LoadResult
        Accepted rows with ``crime_id, month, reported_by, falls_within, longitude,
        latitude, x, y, location, lsoa_code, lsoa_name, crime_type, last_outcome, context``
        and ``row``. ``month`` is the first day of the month.

    Notes
    -----
    Anti-social behaviour rows have no Crime ID; only non-empty IDs are checked for repeats.
    Locations are snapped to anonymised map points, so distinct crimes can share a point.
    """
    options = options or LoadOptions()
    raw = read_table(path, delimiter=options.delimiter, encoding=options.encoding)
    _require_columns(raw, list(vocab.POLICEUK_COLUMNS), "policeuk")
    df = raw.records
    q = Quarantine(len(df))
    target = options.target_crs or BNG

    month = parse_datetime(df["Month"], POLICEUK_MONTH)
    check_dates(
        q,
        df["Month"],
        month,
        "Month",
        today=options.today(),
        min_date=options.min_date,
        required=True,
        fmt=POLICEUK_MONTH,
    )
    check_required(q, df, ["Crime type"])
    ctype = check_vocabulary(
        q, df["Crime type"], vocab.POLICEUK_CRIME_TYPES, "Crime type", "unknown_crime_type"
    )
    lon, lat = check_coordinates(
        q, df["Longitude"], df["Latitude"], ("Longitude", "Latitude"), parse_crs(WGS84)
    )
    lsoa = _check_lsoa(q, df["LSOA code"], "LSOA code")
    x, y = to_crs_xy(lon, lat, WGS84, target)
    _check_projected(q, x, y, "Longitude", str(target))
    check_in_area(
        q, x, y, _area(options, target), buffer_m=options.area_buffer_m, column="Longitude"
    )
    _dedupe(q, raw, ["Crime ID"], options)

    text = lambda c: df[c].astype("string").str.strip()  # noqa: E731
    accepted = pd.DataFrame(
        {
            "crime_id": text("Crime ID").replace("", pd.NA),
            "month": month,
            "reported_by": text("Reported by"),
            "falls_within": text("Falls within"),
            "longitude": lon,
            "latitude": lat,
            "x": x,
            "y": y,
            "location": text("Location"),
            "lsoa_code": lsoa,
            "lsoa_name": text("LSOA name"),
            "crime_type": ctype,
            "last_outcome": text("Last outcome category"),
            "context": text("Context"),
        }
    )
    return _finish(raw, q, accepted, "policeuk", [], pyproj.CRS(target).to_string())


# ---------------------------------------------------------------------------- events


def _event_target(
    options: LoadOptions,
    src: pyproj.CRS,
    x: np.ndarray,
    y: np.ndarray,
    ok: np.ndarray,
    path: Path,
) -> tuple[pyproj.CRS, str | None]:
    if options.target_crs:
        return parse_crs(options.target_crs, what="target CRS"), None
    if src.is_projected:
        return src, None
    good = ok & np.isfinite(x) & np.isfinite(y)
    if not good.any():
        return parse_crs(BNG), None
    lon, lat = float(np.median(x[good])), float(np.median(y[good]))
    pts = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=src)
    try:
        utm = pts.estimate_utm_crs()
    except RuntimeError:
        raise LoadError(
            path,
            f"the events' middle point (longitude {lon:g}, latitude {lat:g}) lies in no UTM "
            "zone (latitudes -80 to 84): are the longitude and latitude columns swapped? "
            "Otherwise pass --target-crs",
        ) from None
    return utm, f"no --target-crs given: projected to {utm.to_string()} ({utm.name})"


def _check_projected(q: Quarantine, x: np.ndarray, y: np.ndarray, column: str, crs: str) -> None:
    """Quarantine points that passed the coordinate checks but cannot be projected."""
    lost = ~(np.isfinite(x) & np.isfinite(y))
    q.flag(lost, "coordinate_out_of_range", column, f"cannot be projected to {crs}")


def load_events(path: str | Path, options: LoadOptions) -> LoadResult:
    """Load any point-event CSV: a time column, coordinates and an optional ID.

    Parameters
    ----------
    path : str or Path
        CSV (optionally gzip).
    options : LoadOptions
        Must name ``time_col`` and either ``lon_col``/``lat_col`` or ``x_col``/``y_col``
        with ``crs``; ``id_col`` enables the repeated-identifier rule.

    Returns
    -------
    LoadResult
        Accepted events with ``event_id, time, x, y``, the file's other columns (as text,
        prefixed ``src_``) and ``row``.
    """
    if not options.time_col:
        raise ValueError("point events need --time-col")
    if options.lon_col or options.lat_col:
        if not (options.lon_col and options.lat_col):
            raise ValueError("give both --lon-col and --lat-col")
        xcol, ycol, src = options.lon_col, options.lat_col, parse_crs(WGS84)
    elif options.x_col and options.y_col:
        if not options.crs:
            raise ValueError("--x-col/--y-col need --crs naming their coordinate system")
        xcol, ycol, src = options.x_col, options.y_col, parse_crs(options.crs)
    else:
        raise ValueError("point events need --lon-col and --lat-col, or --x-col, --y-col, --crs")
    raw = read_table(path, delimiter=options.delimiter, encoding=options.encoding)
    needed = [options.time_col, xcol, ycol] + ([options.id_col] if options.id_col else [])
    _require_columns(raw, needed, "events")
    df = raw.records
    q = Quarantine(len(df))

    when = parse_datetime(df[options.time_col], options.time_format)
    check_dates(
        q,
        df[options.time_col],
        when,
        options.time_col,
        today=options.today(),
        min_date=options.min_date,
        required=True,
        fmt=options.time_format,
    )
    sx, sy = check_coordinates(q, df[xcol], df[ycol], (xcol, ycol), src)
    target, note = _event_target(options, src, sx, sy, q.ok, raw.path)
    x, y = to_crs_xy(sx, sy, src, target)
    _check_projected(q, x, y, xcol, target.to_string())
    check_in_area(q, x, y, _area(options, target), buffer_m=options.area_buffer_m, column=xcol)
    if options.id_col:
        check_required(q, df, [options.id_col])
    _dedupe(q, raw, [options.id_col] if options.id_col else None, options)

    used = {options.time_col, xcol, ycol, options.id_col}
    extra = {f"src_{c}": df[c].astype("string") for c in raw.header if c not in used}
    accepted = pd.DataFrame(
        {
            "event_id": (
                df[options.id_col].astype("string").str.strip()
                if options.id_col
                else pd.Series(pd.NA, index=df.index, dtype="string")
            ),
            "time": when,
            "x": x,
            "y": y,
            **extra,
        }
    )
    notes = [note] if note else []
    if not options.id_col and options.exact_duplicates == "quarantine":
        notes.append(
            "no ID column: identical rows were quarantined as exact duplicates; where they are "
            "distinct events (e.g. points snapped to one map point in one month) rerun with "
            "--keep-exact-duplicates"
        )
    return _finish(raw, q, accepted, "events", notes, target.to_string())


# ---------------------------------------------------------------------------- dispatch

FORMATS: dict[str, Callable[..., LoadResult]] = {
    "crimes": load_crimes,
    "charges": load_charges,
    "policeuk": load_policeuk,
    "events": load_events,
}


def load(path: str | Path, fmt: str, options: LoadOptions | None = None) -> LoadResult:
    """Load a file under a named contract.

    Parameters
    ----------
    path : str or Path
        The file.
    fmt : {"crimes", "charges", "policeuk", "events"}
        Contract.
    options : LoadOptions, optional
        Load settings.

    Returns
    -------
    LoadResult
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {sorted(FORMATS)}")
    return FORMATS[fmt](path, options or LoadOptions())


__all__ = ["FORMATS", "load", "load_charges", "load_crimes", "load_events", "load_policeuk"]
