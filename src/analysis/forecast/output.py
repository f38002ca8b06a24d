"""A backtest's leaderboard folder: written here, and read back here with one column schema."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.reading import file_sha256
from analysis.forecast import metrics as M
from analysis.forecast.backtest import BacktestResult
from analysis.forecast.base import Forecaster
from analysis.forecast.panel import Panel
from analysis.forecast.plots import plot_calibration, plot_forecast_map, plot_hit_rate_curves

#: Columns of a leaderboard as the report pages show it (all are in ``summary.csv``; an
#: oracle's ``oracle.csv`` has the same schema).
LEADERBOARD_COLUMNS = (
    "model",
    "n_origins",
    "crps",
    "crps_se",
    "log_score",
    "mae",
    "hit_rate_5pct",
    "pai_5pct",
    "pei_star_5pct",
    "coverage_90",
    "fit_seconds",
)
#: Figures of a leaderboard folder shown with it.
LEADERBOARD_FIGURES = ("hit_rate_curves.png", "calibration.png")


def write_backtest(
    result: BacktestResult, panel: Panel, out: str | Path, run: dict[str, object]
) -> dict[str, Path]:
    """Write the backtest's tables, figures and run record.

    Files: ``summary.csv``, ``metrics.csv``, ``forecasts.parquet``, ``units.csv``,
    ``hit_rate_curves.csv``, the figures and ``run.json``.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    panel : Panel
        Its panel (for units and notes).
    out : str or Path
        Folder (created).
    run : dict
        Parameters of the run, recorded in ``run.json`` with the panel's notes and the
        skipped models.

    Returns
    -------
    dict of str to Path
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out / "summary.csv",
        "metrics": out / "metrics.csv",
        "forecasts": out / "forecasts.parquet",
        "curves": out / "hit_rate_curves.csv",
        "run": out / "run.json",
        "units": out / "units.csv",
        "pit": out / "pit_histogram.csv",
    }
    summary = result.summary()
    summary.to_csv(paths["summary"], index=False, float_format="%.6g")
    result.metrics.to_csv(paths["metrics"], index=False, float_format="%.6g")
    result.forecasts.to_parquet(paths["forecasts"], index=False)
    panel.units[["unit_id", "area_km2", "cx", "cy"]].to_csv(paths["units"], index=False)
    curve = result.curves.groupby(["model", "share"])[["hit_rate", "pai"]].mean().reset_index()
    curve.to_csv(paths["curves"], index=False, float_format="%.6g")
    pit_rows = []
    for model, g in result.pit.groupby("model") if len(result.pit) else []:
        values = g["pit"].to_numpy()
        dens = M.pit_histogram(values, 10)
        row = {"model": model, "n": len(values), "uniformity_p": M.pit_uniformity(values, 10)}
        row.update({f"bin{i}": float(d) for i, d in enumerate(dens)})
        # Coverage free of discreteness: the share of randomised PIT values in the
        # central 50/80/90% (integer intervals of sparse counts over-cover).
        for level in (50, 80, 90):
            row[f"pit_central_{level}"] = float(np.mean(np.abs(values - 0.5) <= level / 200))
        pit_rows.append(row)
    pd.DataFrame(pit_rows).to_csv(paths["pit"], index=False, float_format="%.6g")
    paths["fig_hit_rate"] = plot_hit_rate_curves(result, out / "hit_rate_curves.png")
    paths["fig_calibration"] = plot_calibration(result, out / "calibration.png")
    if len(summary):
        best = str(summary.iloc[0]["model"])
        paths["fig_map"] = plot_forecast_map(
            result.forecasts, panel.units, best, int(result.origins[-1]), out / "forecast_map.png"
        )
    record = {
        **run,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "origins": [int(o) for o in result.origins],
        "n_units": len(panel.units),
        "n_periods": len(panel.periods),
        "n_events": len(panel.events),
        "notes": panel.notes,
        "skipped": result.skipped,
    }
    paths["run"].write_text(json.dumps(record, indent=2, default=str) + "\n")
    return paths


def write_model_records(models: Iterable[Forecaster], out: str | Path) -> dict[str, Path]:
    """Write what the models recorded per fit during a backtest, if any did.

    ``fits.csv`` gathers the models' ``fits`` rows (a Bayesian fit's settings, timing and
    convergence diagnostics) and ``predictive_checks.csv`` their posterior predictive
    checks (``checks``: origin -> table), with ``model`` and ``origin`` columns. A file
    is written only when some model recorded rows.

    Parameters
    ----------
    models : iterable of Forecaster
        The backtest's models, after the run.
    out : str or Path
        Folder (created).

    Returns
    -------
    dict of str to Path
        ``fits`` and ``checks`` where written.
    """
    models = list(models)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    fits = [row for m in models for row in getattr(m, "fits", [])]
    if fits:
        paths["fits"] = out / "fits.csv"
        pd.DataFrame(fits).to_csv(paths["fits"], index=False)
    checks = [
        table.assign(model=m.name, origin=origin)
        for m in models
        for origin, table in sorted(getattr(m, "checks", {}).items())
    ]
    if checks:
        paths["checks"] = out / "predictive_checks.csv"
        pd.concat(checks, ignore_index=True).to_csv(paths["checks"], index=False)
    return paths


@dataclass
class Leaderboard:
    """A saved backtest leaderboard with its provenance.

    Attributes
    ----------
    name : str
        The folder's name.
    scores : pandas.DataFrame
        Every row of ``summary.csv`` (a model skipped at every origin has ``n_origins``
        0), then the oracle's rows if the folder has ``oracle.csv``.
    sha256 : str
        Hash of ``summary.csv``.
    written : str
        When the backtest wrote it (``run.json``; else the file's date).
    figures : list of Path
        The folder's figures among :data:`LEADERBOARD_FIGURES`.
    folder : Path, optional
        The folder it was read from (as given).
    run : dict
        The backtest's run record (``run.json``: its arguments, origins, units, notes);
        empty when the folder has none.
    """

    name: str
    scores: pd.DataFrame
    sha256: str
    written: str
    figures: list[Path]
    folder: Path | None = None
    run: dict[str, object] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """The scores in :data:`LEADERBOARD_COLUMNS`, rounded for reading."""
        cols = [c for c in LEADERBOARD_COLUMNS if c in self.scores]
        return self.scores[cols].round(4)


def read_leaderboard(folder: str | Path, oracle: str | Path | None = None) -> Leaderboard:
    """Read a leaderboard folder written by :func:`write_backtest`.

    Parameters
    ----------
    folder : str or Path
        The folder.
    oracle : str or Path, optional
        An ``oracle.csv`` scored on the same origins and units, when the folder has none
        of its own (the Bayesian backtests reuse the baselines' oracle).

    Raises
    ------
    FileNotFoundError
        If the folder has no ``summary.csv``.
    """
    folder = Path(folder)
    summary = folder / "summary.csv"
    if not summary.exists():
        raise FileNotFoundError(f"{folder}: no leaderboard (summary.csv) there")
    scores = pd.read_csv(summary)
    own = folder / "oracle.csv"
    oracle = own if own.exists() else (Path(oracle) if oracle is not None else None)
    if oracle is not None and oracle.exists():
        scores = pd.concat([scores, pd.read_csv(oracle)], ignore_index=True)
    run_file = folder / "run.json"
    run = json.loads(run_file.read_text()) if run_file.exists() else {}
    stamp = pd.Timestamp(summary.stat().st_mtime, unit="s").date()
    return Leaderboard(
        name=folder.name,
        scores=scores.reset_index(drop=True),
        sha256=file_sha256(summary),
        written=str(run.get("written", stamp)),
        figures=[folder / f for f in LEADERBOARD_FIGURES if (folder / f).exists()],
        folder=folder,
        run=run,
    )
