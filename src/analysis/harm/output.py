"""Writing a harm run: aggregate committee files outside ``restricted/``, person-level inside.

Outside ``OUT/restricted/`` only aggregates are written (metrics, coefficients, calibration
bins, decision curves, sensitivity counts, fairness tables, figures, the run log). The
ranked list for offender managers, the evaluation cohort's predictions and the rejected
input rows name pseudonymised people and go to ``OUT/restricted/`` only; they never go
into committee reports. In test mode every file carries :data:`analysis.testmode.BANNER`;
a run scored anyway on incomplete outcomes (``HarmConfig.score_anyway``) carries
:data:`SCORED_ANYWAY` the same way (:func:`run_stamp`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.serial import write_csv as write_safe_csv
from analysis.harm.pipeline import HarmRun
from analysis.harm.plots import coefficient_plot, decision_curve_plot, reliability_plot
from analysis.testmode import BANNER

#: Keys of each model's entry in ``metrics.json``.
METRIC_KEYS = (
    "auc",
    "auc_ci",
    "pr_auc",
    "brier",
    "calibration_slope",
    "calibration_intercept",
    "precision_at_k",
    "recall_at_k",
    "k",
)

#: Stamp of a run scored although its outcome windows run past the end of the data.
SCORED_ANYWAY = "SCORED ANYWAY - outcomes incomplete, not for use"

RESTRICTED_README = """RESTRICTED: person-level data (pseudonymised identifiers).

For offender managers only. Never copy these files into committee reports or any
publication. The ranked list supports an offer of help; it makes no decision about anyone.
"""


def _clean(obj: object) -> object:
    """Make a value JSON-safe (NaN and infinity become null)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.date().isoformat()
    return obj


def run_stamp(run: HarmRun) -> str:
    """Return the stamp every output of ``run`` carries ('' for a complete, real run).

    :data:`~analysis.testmode.BANNER` in test mode, :data:`SCORED_ANYWAY` when the run was
    scored on incomplete outcomes, both joined by ``" | "`` when both hold.
    """
    parts = [BANNER] if run.config.test_mode else []
    if run.scored_anyway:
        parts.append(SCORED_ANYWAY)
    return " | ".join(parts)


def write_json(obj: object, path: Path) -> Path:
    """Write JSON (NaN as null)."""
    path.write_text(json.dumps(_clean(obj), indent=2, sort_keys=False) + "\n")
    return path


def write_csv(frame: pd.DataFrame, path: Path, *, stamp: str = "", index: bool = False) -> Path:
    """Write a CSV; with a stamp, a first ``stamp`` column carries it on every row."""
    out = frame.reset_index() if index else frame.copy()
    if stamp:
        out.insert(0, "stamp", stamp)
    write_safe_csv(out, path, index=False, lineterminator="\n")
    return path


def metrics_json(run: HarmRun, stamp: str = "") -> dict[str, dict[str, object]]:
    """Return the ``metrics.json`` content: ``{model: {auc, auc_ci, ...}}``."""
    out = {}
    for name, m in run.metrics.items():
        entry = {k: m[k] for k in METRIC_KEYS}
        if stamp:
            entry["stamp"] = stamp
        out[name] = entry
    return out


def performance_table(run: HarmRun) -> pd.DataFrame:
    """Return every model's metrics with intervals, one row per model."""
    rows = []
    for name, m in run.metrics.items():
        row = {"model": name}
        for k, v in m.items():
            if isinstance(v, list):
                base = k.removesuffix("_ci")
                row[f"{base}_low"], row[f"{base}_high"] = v
            else:
                row[k] = v
        row["operating_threshold"] = run.operating_points.get(name)
        rows.append(row)
    return pd.DataFrame(rows)


def write_run(
    run: HarmRun,
    out: str | Path,
    *,
    fairness: pd.DataFrame | None = None,
    load_summary: dict[str, object] | None = None,
    rejected: pd.DataFrame | None = None,
    extra: dict[str, object] | None = None,
    written: dict[str, Path] | None = None,
) -> dict[str, Path]:
    """Write every output of a run.

    Parameters
    ----------
    run : HarmRun
        The run.
    out : str or Path
        Output folder (created); person-level files go to ``out/restricted/``.
    fairness : pandas.DataFrame, optional
        Fairness table (aggregate, suppressed groups blank).
    load_summary : dict, optional
        Reconciliation of the charges file (counts only).
    rejected : pandas.DataFrame, optional
        Rejected input rows (person-level: written under ``restricted/``).
    extra : dict, optional
        More entries for ``run.json`` (official tables read, for instance).
    written : dict of str to Path, optional
        Files the caller wrote into ``out`` (the committee's summary, say), listed in
        ``run.json`` with the rest.

    Returns
    -------
    dict of str to Path
        Files written.
    """
    out = Path(out)
    restricted = out / "restricted"
    restricted.mkdir(parents=True, exist_ok=True)
    stamp = run_stamp(run)
    files: dict[str, Path] = dict(written or {})
    if run.config.test_mode:
        files["test_mode"] = out / "TEST_MODE.txt"
        files["test_mode"].write_text(BANNER + "\n")
    if run.scored_anyway:
        files["scored_anyway"] = out / "SCORED_ANYWAY.txt"
        files["scored_anyway"].write_text(f"{SCORED_ANYWAY}\n\n{run.scored_anyway}\n")
    files["metrics"] = write_json(metrics_json(run, stamp), out / "metrics.json")
    files["performance"] = write_csv(performance_table(run), out / "performance.csv", stamp=stamp)
    logistic = run.models["logistic"]
    coefs = logistic.coefficients()
    files["coefficients"] = write_csv(coefs, out / "coefficients.csv", stamp=stamp)
    files["coefficients_png"] = coefficient_plot(coefs, out / "coefficients.png", stamp=stamp)
    dropped = pd.DataFrame(
        [{"feature": k, "kept": False, "reason": v} for k, v in logistic.design.dropped.items()]
    )
    kept = logistic.design.table().assign(kept=True, reason="")
    files["features"] = write_csv(
        pd.concat([kept, dropped], ignore_index=True), out / "features.csv", stamp=stamp
    )
    bayes = run.models.get("bayes_hierarchical")
    if bayes is not None:
        files["bayes_coefficients"] = write_csv(
            bayes.coefficients(), out / "bayes_coefficients.csv", stamp=stamp
        )
        diag = dict(bayes.diagnostics)
        if stamp:
            diag["stamp"] = stamp
        files["bayes_diagnostics"] = write_json(diag, out / "bayes_diagnostics.json")
    files["calibration"] = write_csv(run.reliability, out / "calibration.csv", stamp=stamp)
    files["reliability_png"] = reliability_plot(
        run.reliability, out / "reliability.png", stamp=stamp
    )
    files["decision_curve"] = write_csv(run.decision, out / "decision_curve.csv", stamp=stamp)
    files["decision_curve_png"] = decision_curve_plot(
        run.decision, out / "decision_curve.png", stamp=stamp
    )
    files["sensitivity_index"] = write_csv(
        run.sensitivity_groups, out / "sensitivity_index.csv", stamp=stamp
    )
    files["sensitivity_pairs"] = write_csv(
        run.sensitivity_pairs, out / "sensitivity_pairs.csv", stamp=stamp
    )
    if len(run.counting):
        files["counting_sensitivity"] = write_csv(
            run.counting, out / "counting_sensitivity.csv", stamp=stamp
        )
    if fairness is not None:
        files["fairness"] = write_csv(fairness, out / "fairness.csv", stamp=stamp)
    if run.truth:
        truth = dict(run.truth)
        if stamp:
            truth["stamp"] = stamp
        files["truth"] = write_json(truth, out / "truth.json")
        files["truth_calibration"] = write_csv(
            run.truth_tables, out / "truth_calibration.csv", stamp=stamp
        )
    # person-level: restricted only
    (restricted / "README.txt").write_text((stamp + "\n\n" if stamp else "") + RESTRICTED_README)
    files["ranked"] = write_csv(run.scores, restricted / "ranked.csv", stamp=stamp, index=True)
    files["evaluation_predictions"] = write_csv(
        run.evaluation, restricted / "evaluation_predictions.csv", stamp=stamp, index=True
    )
    if rejected is not None:
        files["rejected"] = write_csv(rejected, restricted / "charges_rejected.csv", stamp=stamp)

    cfg = run.config
    meta = {
        "command": "analysis harm",
        "stamp": stamp or None,
        "test_mode": cfg.test_mode,
        "scored_anyway": run.scored_anyway or None,
        "reference_date": cfg.reference_date,
        "train_reference_date": cfg.train_date,
        "evaluation_reference_date": cfg.evaluation_date,
        "evaluation_outcome_window_end": cfg.evaluation_window_end,
        "measure": {
            "name": cfg.measure.name,
            "index": cfg.measure.index.name,
            "version": cfg.measure.index.version,
            "source": cfg.measure.index.source,
            "approximations": list(cfg.measure.index.notes),
            "counting": cfg.measure.counting.value,
        },
        "high_harm_rule": cfg.rule.describe(),
        "capacity_k": cfg.capacity,
        "n_boot": cfg.n_boot,
        "seed": cfg.seed,
        "models": list(cfg.models),
        "rank_model": cfg.rank_model,
        "sampler": asdict(cfg.sampler),
        "diagnostic_thresholds": {
            "max_rhat": cfg.sampler.max_rhat,
            "min_ess": cfg.sampler.min_ess,
            "max_divergences": cfg.sampler.max_divergences,
            "min_bfmi": cfg.sampler.min_bfmi,
            "enforced": cfg.sampler.check,
        },
        "cohorts": {k: c.summary for k, c in run.cohorts.items()},
        "logistic_fit": logistic.notes,
        "data": load_summary or {},
        "notes": run.notes,
        "guards": run.guards,
        "timings_seconds": run.timings,
        **(extra or {}),
    }
    files["run"] = out / "run.json"
    meta["files"] = {k: str(p.relative_to(out)) for k, p in files.items()}
    write_json(meta, files["run"])
    return files
