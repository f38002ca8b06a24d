"""Scale benchmark of the harm-escalation model: 200,000 charged people, 5 years of charges.

Generates synthetic careers with the sample generator's functions
(``analysis.synthetic.offenders.make_people`` and ``simulate_offences``) in chunks until
the extract holds the requested number of charged people, builds the charges table directly
in the loader's canonical columns, then times:

1. the cohort at the training date (threshold, features and 12-month target);
2. the logistic model (design and statsmodels fit) on that cohort;

and, for information, the two other cohorts of a run and scoring them. With ``--with-load``
it also writes the charges to CSV and times ``analysis.data.load_charges`` on them.

Usage::

    .venv/bin/python benchmarks/harm_scale.py --people 200000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.harm.cohort import build_cohort
from analysis.harm.index import HarmMeasure, cambridge_chi
from analysis.harm.logistic import LogisticModel
from analysis.synthetic.offenders import (
    FAMILIES,
    YEAR,
    CareerParams,
    make_people,
    simulate_offences,
)

ROOT = Path(__file__).resolve().parents[1]
START = pd.Timestamp("2021-10-01")
END = pd.Timestamp("2026-09-30")
REFERENCE = pd.Timestamp("2025-10-01")


def generate(people: int, seed: int, chunk: int = 25_000) -> pd.DataFrame:
    """Return canonical charges of at least ``people`` charged people (trimmed to exactly)."""
    rng = np.random.default_rng(seed)
    params = CareerParams()
    lsoa = pd.read_csv(ROOT / "data" / "sample" / "lsoa_to_lom_unit.csv")["lsoa21cd"].to_numpy()
    day0 = START - pd.Timedelta(days=int(5 * YEAR))
    first_day = 0.0
    last_day = float((END - day0).days)
    window_from = float((START - day0).days)
    parts, charged, serial = [], 0, 0
    shares = np.array(list(params.outcome_shares.values()))
    outcomes = np.array(list(params.outcome_shares))
    while charged < people:
        pp = make_people(chunk, first_day, last_day, np.ones(len(lsoa)), params, rng)
        off = simulate_offences(pp, np.arange(chunk), first_day, last_day + 1, params, rng)
        off = off.loc[
            off["charged"] & (off["charge_day"] >= window_from) & (off["charge_day"] < last_day + 1)
        ]
        person = off["person"].to_numpy()
        day = np.floor(off["charge_day"].to_numpy())
        frame = pd.DataFrame(
            {
                "person_id": (serial + person).astype(str),
                "charge_date": day0 + pd.to_timedelta(day, unit="D"),
                "offence_code": FAMILIES["code"].reindex(off["family"]).to_numpy(),
                "family": off["family"].to_numpy(),
                "outcome": outcomes[rng.choice(len(outcomes), len(off), p=shares / shares.sum())],
                "age": np.floor((day - pp["birth_day"].to_numpy()[person]) / YEAR).astype(int),
                "sex": pp["sex"].to_numpy()[person],
                "ethnic_group": pp["ethnic_group"].to_numpy()[person],
                "home_lsoa": lsoa[pp["home"].to_numpy()[person]],
            }
        )
        parts.append(frame)
        charged += frame["person_id"].nunique()
        serial += chunk
    charges = pd.concat(parts, ignore_index=True)
    keep = pd.unique(charges["person_id"])[:people]
    charges = charges.loc[charges["person_id"].isin(keep)].sort_values("charge_date", kind="stable")
    charges["person_id"] = "B" + charges["person_id"]
    charges = charges.reset_index(drop=True)
    charges["row"] = np.arange(2, len(charges) + 2)
    return charges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--with-load", action="store_true", help="also time load_charges")
    args = parser.parse_args()

    t = time.perf_counter()
    charges = generate(args.people, args.seed)
    gen = time.perf_counter() - t
    print(
        f"generated {len(charges):,} charges of {charges['person_id'].nunique():,} people, "
        f"{charges['charge_date'].min().date()} to {charges['charge_date'].max().date()} "
        f"in {gen:.1f} s"
    )

    measure = HarmMeasure(cambridge_chi())
    train_date = REFERENCE - pd.DateOffset(months=24)
    timings = {}
    t0 = time.perf_counter()
    train = build_cohort(charges, train_date, measure, data_end=END)
    timings["cohort_and_features"] = time.perf_counter() - t0
    t = time.perf_counter()
    model = LogisticModel().fit(train.features, train.target.to_numpy())
    timings["logistic_fit"] = time.perf_counter() - t
    timings["budgeted_total"] = time.perf_counter() - t0

    t = time.perf_counter()
    ev = build_cohort(charges, REFERENCE - pd.DateOffset(months=12), measure, data_end=END)
    sc = build_cohort(charges, REFERENCE, measure, with_target=False)
    model.predict(ev.features)
    model.predict(sc.features)
    timings["other_two_cohorts_and_scoring"] = time.perf_counter() - t

    if args.with_load:
        from analysis.data import LoadOptions, load_charges

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "charges.csv.gz"
            out = charges.drop(columns=["family", "row"]).assign(
                crime_ref=lambda d: "B" + pd.Series(np.arange(len(d)), index=d.index).astype(str),
                charge_date=lambda d: d["charge_date"].dt.strftime("%Y-%m-%d"),
                ethnicity=lambda d: d["ethnic_group"].str[0].str.upper() + "9",
            )
            out.drop(columns="ethnic_group").to_csv(path, index=False)
            t = time.perf_counter()
            result = load_charges(path, LoadOptions(as_of=END.date()))
            timings["load_charges_csv"] = time.perf_counter() - t
            print(f"loaded {result.summary()['accepted']:,} rows")

    report = {
        "people": int(charges["person_id"].nunique()),
        "charges": len(charges),
        "train_cohort": len(train),
        "train_positives": int(train.target.sum()),
        "features": len(model.design.columns),
        "threshold_days": train.threshold,
        "generate_seconds": round(gen, 1),
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
