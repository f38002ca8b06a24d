"""From true events to a force's recorded-crime extract: recording lag and data-entry faults.

The extract holds the crimes *recorded* between the first and last day of the data window,
as a crime-recording system would export them. Recording lags mean that crimes committed
shortly before the cut-off are missing from it. A small, documented share of rows carries
the faults real extracts have, so the validation and data-quality steps have work to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analysis.data.offences import load_offence_codes

#: Faults injected into the extract: share of rows affected, and what happens to them.
FAULTS = {
    "missing_coordinates": 0.002,  # easting and northing blanked (the crime is lost)
    "unknown_offence_code": 0.0004,  # code replaced by '99Z' (lost)
    "committed_from_after_to": 0.0004,  # the two dates swapped (lost)
    "exact_duplicate": 0.0005,  # the row exported twice (an extra row; nothing lost)
}


@dataclass(frozen=True)
class RecordingParams:
    """How events become recorded rows."""

    lag_fast_mean_days: float = 1.0
    lag_slow_mean_days: float = 20.0
    slow_share: float = 0.1
    window_share: float = 0.35
    window_mean_hours: float = 6.0
    lsoa_missing_share: float = 0.03


def record(
    events: pd.DataFrame,
    day0: pd.Timestamp,
    start: date,
    end: date,
    rng: np.random.Generator,
    params: RecordingParams | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn true events into the recorded-crime extract.

    Parameters
    ----------
    events : pandas.DataFrame
        True events from :func:`analysis.synthetic.crimes.simulate_events`, with ``lsoa21cd``.
    day0 : pandas.Timestamp
        Calendar day of ``t == 0``.
    start, end : date
        The extract holds crimes recorded on these days and between.
    rng : numpy.random.Generator
        Random source.
    params : RecordingParams, optional
        Lags and recording habits.

    Returns
    -------
    extract : pandas.DataFrame
        Rows as exported (strings), in the recorded-crime contract's columns, sorted by
        recorded date and reference.
    fault_log : pandas.DataFrame
        One row per injected fault: ``crime_ref`` and ``fault``.
    """
    params = params or RecordingParams()
    n = len(events)
    committed = day0 + pd.to_timedelta(events["t"].to_numpy(), unit="D")
    committed = committed.floor("min")
    slow = rng.uniform(size=n) < params.slow_share
    lag = np.where(
        slow,
        rng.exponential(params.lag_slow_mean_days, n),
        rng.exponential(params.lag_fast_mean_days, n),
    )
    recorded = (committed + pd.to_timedelta(lag, unit="D")).normalize()
    has_window = rng.uniform(size=n) < params.window_share
    to = committed + pd.to_timedelta(rng.exponential(params.window_mean_hours, n), unit="h").floor(
        "min"
    )
    keep = (recorded >= pd.Timestamp(start)) & (recorded <= pd.Timestamp(end))
    ev = events.loc[keep].copy()
    ev["committed"] = committed[keep]
    ev["recorded"] = recorded[keep]
    ev["to"] = to[keep]
    ev["has_window"] = has_window[keep]
    ev = ev.sort_values(["recorded", "committed", "x"], kind="stable").reset_index()
    year = ev["recorded"].dt.year.to_numpy()
    seq = np.arange(1, len(ev) + 1)
    ev["crime_ref"] = [f"SYN{y % 100:02d}-{s:07d}" for y, s in zip(year, seq, strict=True)]

    table = load_offence_codes()
    lsoa = ev["lsoa21cd"].where(rng.uniform(size=len(ev)) >= params.lsoa_missing_share, "")
    extract = pd.DataFrame(
        {
            "crime_ref": ev["crime_ref"],
            "recorded_date": ev["recorded"].dt.strftime("%Y-%m-%d"),
            "committed_from": ev["committed"].dt.strftime("%Y-%m-%d %H:%M"),
            "committed_to": np.where(ev["has_window"], ev["to"].dt.strftime("%Y-%m-%d %H:%M"), ""),
            "ho_offence_code": ev["offence_code"],
            "ho_offence_description": ev["offence_code"].map(table["description"]),
            "easting": np.round(ev["x"]).astype(int).astype(str),
            "northing": np.round(ev["y"]).astype(int).astype(str),
            "lsoa_code": lsoa,
            "knife_used": np.where(ev["knife"], "Y", "N"),
            "injury": np.where(ev["injury"], "Y", "N"),
        }
    )
    extract["event_index"] = ev["index"].to_numpy()
    return _inject_faults(extract, rng)


def _inject_faults(
    extract: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(extract)
    log = []
    taken = np.zeros(n, dtype=bool)
    for fault, share in FAULTS.items():
        k = rng.binomial(n, share)
        free = np.flatnonzero(~taken)
        rows = np.sort(rng.choice(free, size=min(k, len(free)), replace=False))
        taken[rows] = True
        if fault == "missing_coordinates":
            extract.loc[rows, ["easting", "northing"]] = ""
        elif fault == "unknown_offence_code":
            extract.loc[rows, "ho_offence_code"] = "99Z"
        elif fault == "committed_from_after_to":
            cf = extract.loc[rows, "committed_from"].to_numpy()
            later = (pd.to_datetime(cf) + pd.Timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
            extract.loc[rows, "committed_to"] = cf
            extract.loc[rows, "committed_from"] = np.asarray(later)
            extract.loc[rows, "recorded_date"] = (
                pd.to_datetime(later).normalize() + pd.Timedelta(days=1)
            ).strftime("%Y-%m-%d")
        log.append(pd.DataFrame({"crime_ref": extract.loc[rows, "crime_ref"], "fault": fault}))
    dup_rows = log[-1]["crime_ref"].index.to_numpy()
    extract = pd.concat([extract, extract.loc[dup_rows]]).sort_index(kind="stable")
    extract = extract.reset_index(drop=True)
    return extract, pd.concat(log, ignore_index=True)
