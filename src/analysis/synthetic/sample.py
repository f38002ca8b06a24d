"""Generate the synthetic Birmingham sample: recorded crimes, charges and their ground truth."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from analysis import __version__
from analysis.data.folder import FOLDER_FILES
from analysis.data.offences import load_offence_groups
from analysis.data.serial import jsonable
from analysis.harm.index import CAMBRIDGE_CHI_VERSION, cambridge_chi_by_family
from analysis.space.grid import make_grid
from analysis.space.periods import PeriodCalendar
from analysis.synthetic.crimes import CALIBRATION, CrimeParams, build_field, simulate_events
from analysis.synthetic.geography import birmingham_lsoas, deprivation_score, lom_units
from analysis.synthetic.offenders import (
    YEAR,
    CareerParams,
    charges_table,
    escalation_truth,
    make_people,
    simulate_offences,
)
from analysis.synthetic.recording import FAULTS, RecordingParams, record
from analysis.synthetic.truth import expected_counts

#: Faults injected into the charges extract (share of rows).
CHARGE_FAULTS = {"unknown_outcome": 0.0005, "exact_duplicate": 0.0005}


@dataclass(frozen=True)
class SampleConfig:
    """Everything that determines the sample; the same config gives byte-identical files.

    Parameters
    ----------
    seed : int
        Master seed; independent streams are spawned from it for each component.
    years : int
        Years of recorded data, ending on ``end``.
    end : date
        Last day of the data (the extract's cut-off).
    scale : float
        Multiplier on crime volume and on the offender population (small for tests).
    burn_in_days : int
        Simulated days before the data window, so that the history is in equilibrium.
    truth_replicates : int
        Monte Carlo replicates per period for the triggered part of the count truth, and per
        person for the escalation truth.
    pairs : tuple of (group, cell area km2)
        Offence groups and the grid on which their truth is computed; LSOAs are always added.
    """

    seed: int = 20261124
    years: int = 6
    end: date = date(2026, 9, 30)
    scale: float = 1.0
    burn_in_days: int = 120
    truth_replicates: int = 200
    pairs: tuple[tuple[str, float], ...] = (
        ("knife_crime_with_injury", 1.0),
        ("serious_violence", 0.5),
    )
    crime: CrimeParams = field(default_factory=CrimeParams)
    careers: CareerParams = field(default_factory=CareerParams)
    recording: RecordingParams = field(default_factory=RecordingParams)

    @property
    def start(self) -> date:
        """First day of the data window."""
        return (
            date(self.end.year - self.years, self.end.month, self.end.day)
            + pd.Timedelta(days=1).to_pytimedelta()
        )

    def reference_dates(self) -> list[date]:
        """Return the reference dates of the escalation truth.

        Yearly, the last one 12 months before the day after the cut-off (so that its
        12-month outcome window is complete), the first at least two years into the data.
        """
        after = pd.Timestamp(self.end) + pd.Timedelta(days=1)
        dates = [(after - pd.DateOffset(years=k)).date() for k in range(1, self.years)]
        first_ok = pd.Timestamp(self.start) + pd.DateOffset(years=2)
        return sorted(d for d in dates if pd.Timestamp(d) >= first_ok)


def _gzip_csv(frame: pd.DataFrame, path: Path, float_format: str | None = None) -> None:
    text = frame.to_csv(index=False, float_format=float_format, lineterminator="\n")
    path.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def _inject_charge_faults(charges: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(charges)
    k = rng.binomial(n, CHARGE_FAULTS["unknown_outcome"])
    rows = np.sort(rng.choice(n, size=k, replace=False))
    charges.loc[rows, "outcome"] = "unknown"
    k = rng.binomial(n, CHARGE_FAULTS["exact_duplicate"])
    dup = np.sort(rng.choice(np.setdiff1d(np.arange(n), rows), size=k, replace=False))
    return pd.concat([charges, charges.loc[dup]]).sort_index(kind="stable").reset_index(drop=True)


def write_sample(
    out: str | Path, config: SampleConfig | None = None, *, progress: bool = True
) -> list[Path]:
    """Generate the sample and write it to a folder.

    Parameters
    ----------
    out : str or Path
        Output folder (created).
    config : SampleConfig, optional
        Generator settings; default the committed sample's.
    progress : bool
        Show progress bars.

    Returns
    -------
    list of Path
        Files written.
    """
    config = config or SampleConfig()
    out = Path(out)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(8)]
    steps = tqdm(total=7, desc="sample-data", disable=not progress)

    lsoa = birmingham_lsoas()
    lsoa["lom_unit"] = lom_units(lsoa)
    z = deprivation_score(lsoa["imd_rank"])
    start, end = config.start, config.end
    sim_start = (pd.Timestamp(start) - pd.Timedelta(days=config.burn_in_days)).date()
    day0 = pd.Timestamp(sim_start)
    steps.set_postfix_str("crime intensity")
    field_ = build_field(lsoa, z, sim_start, end, config.crime, streams[0], config.scale)
    steps.update()
    steps.set_postfix_str("crime events")
    events = simulate_events(field_, streams[1])
    events["lsoa21cd"] = lsoa["lsoa21cd"].to_numpy()[events["lsoa"].to_numpy()]
    extract, fault_log = record(events, day0, start, end, streams[2], config.recording)
    steps.update()

    steps.set_postfix_str("count truth")
    area = lsoa.dissolve().geometry
    groups = load_offence_groups()
    unit_sets: dict[str, object] = {"lsoa": None}
    pairs = []
    for group, cell in config.pairs:
        name = f"grid_{cell:g}km2"
        if name not in unit_sets:
            unit_sets[name] = make_grid(area, cell_area_km2=cell)
        pairs += [(group, name), (group, "lsoa")]
    calendar = PeriodCalendar()
    first, last = calendar.next_period(start), calendar.period_of(pd.Timestamp(end))
    periods = calendar.table(first, last, cutoff=end)
    periods = periods.loc[periods["complete"]]
    truth_counts = expected_counts(
        field_,
        events,
        groups,
        unit_sets,
        pairs,
        periods,
        streams[3],
        replicates=config.truth_replicates,
    )
    steps.update()

    steps.set_postfix_str("offenders")
    cp = dataclasses.replace(config.careers, people=round(config.careers.people * config.scale))
    home_w = lsoa["population"].to_numpy() * np.exp(0.5 * z)
    first_day = (pd.Timestamp(start) - day0).days - cp.start_years_before * YEAR
    last_day = float((pd.Timestamp(end) - day0).days)
    people = make_people(cp.people, first_day, last_day, home_w, cp, streams[4])
    offences = simulate_offences(
        people, np.arange(len(people)), first_day, last_day + 1, cp, streams[5]
    )
    key = f"synthetic-sample-{config.seed}".encode()
    charges = charges_table(
        offences,
        people,
        lsoa["lsoa21cd"].to_numpy(),
        day0,
        float((pd.Timestamp(start) - day0).days),
        last_day,
        key,
        cp,
        streams[6],
    )
    steps.update()

    steps.set_postfix_str("escalation truth")
    chi = cambridge_chi_by_family()
    esc = []
    for ref in config.reference_dates():
        ref_day = float((pd.Timestamp(ref) - day0).days)
        truth, threshold = escalation_truth(
            people,
            charges,
            offences,
            chi,
            ref_day,
            cp,
            streams[7],
            replicates=config.truth_replicates,
        )
        truth.insert(0, "reference_date", ref.isoformat())
        truth["threshold_chi_days"] = threshold
        esc.append(truth)
    escalation = pd.concat(esc, ignore_index=True)
    from analysis.data.pseudonymise import pseudonymise

    escalation.insert(
        1,
        "person_id",
        pseudonymise(
            pd.Series(people["serial"].to_numpy()[escalation["person"].to_numpy()]).astype(str), key
        ),
    )
    escalation = escalation.drop(columns="person")
    steps.update()

    steps.set_postfix_str("writing")
    charges_out = _inject_charge_faults(
        charges.drop(columns=["person", "charge_day", "family"]), streams[6]
    )
    named = {role: out / names[0] for role, names in FOLDER_FILES.items()}  # the contract's
    files = {
        "crimes": named["crimes"],
        "charges": named["charges"],
        "study_area": named["study_area"],
        "lsoa": named["lsoa"],
        "lom_units": named["lsoa_units"],
        "truth_counts": out / "truth" / "expected_counts.csv.gz",
        "truth_escalation": named["truth"],
        "faults": out / "truth" / "injected_faults.csv",
    }
    _gzip_csv(extract.drop(columns="event_index"), files["crimes"])
    _gzip_csv(charges_out, files["charges"])
    boundary = lsoa.dissolve()[["geometry"]].assign(name="Birmingham")
    files["study_area"].write_text(boundary[["name", "geometry"]].to_json(drop_id=True) + "\n")
    cov = lsoa[
        ["lsoa21cd", "lsoa21nm", "population", "imd_rank", "imd_imputed", "lom_unit", "geometry"]
    ]
    files["lsoa"].write_text(cov.to_json(drop_id=True) + "\n")
    lsoa[["lsoa21cd", "lom_unit"]].to_csv(files["lom_units"], index=False, lineterminator="\n")
    tc = truth_counts.copy()
    for col in ("expected", "background", "triggered", "triggered_mc_se"):
        tc[col] = tc[col].round(6)
    _gzip_csv(tc, files["truth_counts"], float_format="%.6f")
    escalation["true_probability"] = escalation["true_probability"].round(4)
    _gzip_csv(escalation, files["truth_escalation"])
    fault_log.to_csv(files["faults"], index=False, lineterminator="\n")
    steps.update()

    stats = {
        "crime_rows": len(extract),
        "true_events_in_window": int(
            (
                (events["t"] >= (pd.Timestamp(start) - day0).days) & (events["t"] <= last_day + 1)
            ).sum()
        ),
        "charge_rows": len(charges_out),
        "people_charged": int(charges["person"].nunique()),
        "periods_with_truth": len(periods),
        "first_period": int(periods["period"].min()),
        "last_period": int(periods["period"].max()),
        "injected_crime_faults": fault_log["fault"].value_counts().sort_index().to_dict(),
        "units": {k: (len(v) if v is not None else len(lsoa)) for k, v in unit_sets.items()},
        "reference_dates": [d.isoformat() for d in config.reference_dates()],
        "escalation_cohort_sizes": escalation.groupby("reference_date").size().to_dict(),
        "escalation_thresholds": escalation.groupby("reference_date")["threshold_chi_days"]
        .first()
        .round(2)
        .to_dict(),
    }
    meta = {
        "generator": f"analysis {__version__} analysis.synthetic.sample",
        "config": jsonable(config),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "harm_index": CAMBRIDGE_CHI_VERSION,
        "calibration": CALIBRATION,
        "injected_fault_shares": {"crimes": FAULTS, "charges": CHARGE_FAULTS},
        "stats": stats,
        "files": {
            str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files.values()
        },
    }
    files["meta"] = named["synthetic"]  # the generator's record marks the folder synthetic
    files["meta"].write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    template = resources.files("analysis.synthetic") / "datasheet.md"
    files["datasheet"] = out / "DATASHEET.md"
    files["datasheet"].write_text(_render_datasheet(template.read_text(), meta))
    steps.close()
    return list(files.values())


def _render_datasheet(template: str, meta: dict) -> str:
    s = meta["stats"]
    return template.format(
        start=meta["start"],
        end=meta["end"],
        seed=meta["config"]["seed"],
        crime_rows=f"{s['crime_rows']:,}",
        charge_rows=f"{s['charge_rows']:,}",
        people=f"{s['people_charged']:,}",
        periods=s["periods_with_truth"],
        first_period=s["first_period"],
        last_period=s["last_period"],
        units=", ".join(f"{k}: {v}" for k, v in s["units"].items()),
        faults=", ".join(f"{k}: {v}" for k, v in s["injected_crime_faults"].items()),
        reference_dates=", ".join(s["reference_dates"]),
        cohorts=", ".join(f"{k}: {v:,}" for k, v in s["escalation_cohort_sizes"].items()),
        thresholds=", ".join(f"{k}: {v}" for k, v in s["escalation_thresholds"].items()),
        calibration=meta["calibration"],
    )
