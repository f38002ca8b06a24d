"""The harm-escalation run: train at D-24 months, evaluate at D-12 months, score at D.

- **Train** on the cohort at ``D - 24 months`` with outcomes in the 12 months after it.
- **Evaluate** on the cohort at ``D - 12 months`` with outcomes up to ``D`` (a later,
  disjoint period: a temporal split).
- **Score** the cohort at ``D`` (no outcome yet) for the offender managers' ranked list.

Only charges dated before ``D`` are used at all. The run returns everything the writers
need; nothing here writes files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.offences import load_offence_codes
from analysis.harm.baselines import PointsScoreModel, PriorHarmModel
from analysis.harm.bayes import HARM_SAMPLER, UNKNOWN_UNIT, BayesianLogisticModel
from analysis.harm.boosting import GradientBoostingModel
from analysis.harm.cohort import Cohort, HighHarmRule, build_cohort
from analysis.harm.constants import MODEL_NAMES
from analysis.harm.index import CountingRule, HarmMeasure, cambridge_chi, zero_harm_charges
from analysis.harm.logistic import LogisticModel, main_factors
from analysis.harm.metrics import decision_curve, evaluate, reliability_table, top_k
from analysis.harm.model_base import EscalationModel
from analysis.harm.person import months_after, months_before
from analysis.harm.sensitivity import index_sensitivity
from analysis.harm.truth import compare_with_truth, truth_at
from analysis.inference import SamplerSettings

log = logging.getLogger(__name__)

#: A larger share of charges weighed at zero harm is a headline warning.
MAX_ZERO_HARM_SHARE = 0.2

#: Note of a counting-sensitivity row without events (no metrics are computed).
NO_EVENTS = "no events: not scored"

__all__ = ["MODEL_NAMES", "HarmConfig", "HarmRun", "data_end_of", "outcome_coverage", "run_harm"]


@dataclass(frozen=True)
class HarmConfig:
    """Everything that defines a run.

    Parameters
    ----------
    reference_date : pandas.Timestamp
        ``D``: the scoring date.
    measure : HarmMeasure, optional
        Harm index and counting rule; default Cambridge CHI family medians on all charges.
    rule : HighHarmRule
        Definition of high harm.
    capacity : int
        Offender managers' caseload ``k``: precision and recall are measured among the top
        ``k`` and the fairness audit's operating point flags the top ``k``.
    n_boot : int
        Bootstrap resamples for intervals.
    seed : int
        Seed of bootstraps, boosting and the sampler.
    models : tuple of str
        Models to fit (from :data:`MODEL_NAMES`).
    rank_model : str
        Model whose probabilities rank the scored cohort (``logistic`` or
        ``bayes_hierarchical``: both explain their ranks).
    test_mode : bool
        Tiny sampler, diagnostics not enforced, outputs stamped :data:`analysis.testmode.BANNER`.
    sampler : SamplerSettings
        Bayesian sampler settings and convergence thresholds; default
        :data:`~analysis.harm.bayes.HARM_SAMPLER` (in test mode replaced by
        :meth:`~analysis.inference.SamplerSettings.for_test_mode` of it: tiny, the checks
        reported but not enforced).
    extra_measures : tuple of HarmMeasure
        Further measures for the index sensitivity table (a force's CSS table, say).
    counting_sensitivity : bool
        Refit the logistic model with acquittals and NFA dropped, and with convictions only.
    data_end : pandas.Timestamp, optional
        Last day covered by the data; default the day before ``D`` (the monthly run cuts
        its data off then). ``analysis harm`` passes the day of the last charge
        (:func:`data_end_of`). The evaluation cohort's outcome window must end on or
        before it: :func:`run_harm` refuses a ``D`` whose outcomes the data do not cover.
    score_anyway : bool
        Score a ``D`` whose outcome windows run past ``data_end`` all the same: the
        evaluation cohort's outcomes are then incomplete (fewer people become high harm,
        the metrics are off), which the run's notes and every output say.
    """

    reference_date: pd.Timestamp
    measure: HarmMeasure | None = None
    rule: HighHarmRule = field(default_factory=HighHarmRule)
    capacity: int = 200
    n_boot: int = 1000
    seed: int = 0
    models: tuple[str, ...] = MODEL_NAMES
    rank_model: str = "logistic"
    test_mode: bool = False
    sampler: SamplerSettings = HARM_SAMPLER
    extra_measures: tuple[HarmMeasure, ...] = ()
    counting_sensitivity: bool = True
    data_end: pd.Timestamp | None = None
    score_anyway: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "reference_date", pd.Timestamp(self.reference_date))
        if self.measure is None:
            object.__setattr__(self, "measure", HarmMeasure(cambridge_chi()))
        unknown = set(self.models) - set(MODEL_NAMES)
        if unknown:
            raise ValueError(f"unknown models {sorted(unknown)}; choose from {MODEL_NAMES}")
        if "logistic" not in self.models:
            raise ValueError("the logistic model is the default and cannot be left out")
        if self.rank_model not in ("logistic", "bayes_hierarchical"):
            raise ValueError("rank_model must be 'logistic' or 'bayes_hierarchical'")
        if self.rank_model not in self.models:
            raise ValueError(f"rank_model {self.rank_model!r} is not among the models")
        if self.capacity < 1:
            raise ValueError("capacity must be at least 1")
        if self.test_mode:
            object.__setattr__(self, "sampler", SamplerSettings.for_test_mode(self.sampler))

    @property
    def train_date(self) -> pd.Timestamp:
        """Reference date of the training cohort (``D`` minus two windows)."""
        return months_before(self.reference_date, 2 * self.rule.window_months)

    @property
    def evaluation_date(self) -> pd.Timestamp:
        """Reference date of the evaluation cohort (``D`` minus one window)."""
        return months_before(self.reference_date, self.rule.window_months)

    @property
    def evaluation_window_end(self) -> pd.Timestamp:
        """Last day of the evaluation cohort's outcome window (the day before ``D``)."""
        return months_after(self.evaluation_date, self.rule.window_months) - pd.Timedelta(days=1)


@dataclass
class HarmRun:
    """What a run produced (the writers decide what is person-level)."""

    config: HarmConfig
    cohorts: dict[str, Cohort]
    models: dict[str, EscalationModel]
    evaluation: pd.DataFrame
    scores: pd.DataFrame
    metrics: dict[str, dict[str, object]]
    reliability: pd.DataFrame
    decision: pd.DataFrame
    operating_points: dict[str, float]
    sensitivity_groups: pd.DataFrame
    sensitivity_pairs: pd.DataFrame
    counting: pd.DataFrame
    truth: dict[str, dict[str, object]] = field(default_factory=dict)
    truth_tables: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    #: Guards triggered (machine readable, written to ``run.json``): each a dict with
    #: ``guard`` (name), ``message`` and details.
    guards: list[dict[str, object]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: Why the run was scored anyway (``HarmConfig.score_anyway`` with outcome windows
    #: running past the data's end); empty when its outcomes are complete.
    scored_anyway: str = ""


def data_end_of(charges: pd.DataFrame) -> pd.Timestamp | None:
    """Return the day of the last charge (the end of the data as far as they show), or None."""
    if charges.empty:
        return None
    last = pd.Timestamp(charges["charge_date"].max())
    return None if pd.isna(last) else last.normalize()


def outcome_coverage(config: HarmConfig, data_end: pd.Timestamp) -> str:
    """Say how the evaluation cohort's outcome window runs past ``data_end`` ('' if not).

    Parameters
    ----------
    config : HarmConfig
        The run's definition.
    data_end : pandas.Timestamp
        Last day covered by the data.

    Returns
    -------
    str
        One sentence naming the dates, or an empty string when the data cover the window.
    """
    end, data_end = config.evaluation_window_end, pd.Timestamp(data_end)
    if data_end >= end:
        return ""
    train_end = months_after(config.train_date, config.rule.window_months) - pd.Timedelta(days=1)
    train = (
        f" (so does the training cohort's, {config.train_date.date()} to {train_end.date()})"
        if data_end < train_end
        else ""
    )
    return (
        f"reference date {config.reference_date.date()}: the evaluation cohort's "
        f"{config.rule.window_months}-month outcome window ({config.evaluation_date.date()} "
        f"to {end.date()}) runs past the end of the data ({data_end.date()}){train}, "
        "so its outcomes, and the scored cohort's trailing harm, are incomplete; the "
        "latest reference date the data cover is "
        f"{(data_end + pd.Timedelta(days=1)).date()}"
    )


def unit_of(people: pd.DataFrame, lsoa_units: pd.Series | None) -> np.ndarray:
    """Return each person's offender-management unit from their home LSOA."""
    if lsoa_units is None:
        return np.full(len(people), UNKNOWN_UNIT, dtype=object)
    unit = people["home_lsoa"].map(lsoa_units)
    return unit.fillna(UNKNOWN_UNIT).astype(str).to_numpy(dtype=object)


def make_model(name: str, config: HarmConfig) -> EscalationModel:
    """Return an unfitted model by name."""
    if name == "logistic":
        return LogisticModel()
    if name == "bayes_hierarchical":
        return BayesianLogisticModel(config.sampler, seed=config.seed)
    if name == "gradient_boosting":
        return GradientBoostingModel(seed=config.seed)
    if name == "points_score":
        return PointsScoreModel()
    if name == "prior_harm":
        return PriorHarmModel()
    raise ValueError(f"unknown model {name!r}")


def _cohorts(
    charges: pd.DataFrame,
    config: HarmConfig,
    measure: HarmMeasure,
    codes: pd.DataFrame,
    data_end: pd.Timestamp | None,
    *,
    score: bool = True,
) -> dict[str, Cohort]:
    w = measure.weigh(charges, codes)
    args = {"measure": measure, "rule": config.rule, "codes": codes, "weights": w}
    out = {
        "train": build_cohort(charges, config.train_date, data_end=data_end, **args),
        "evaluate": build_cohort(charges, config.evaluation_date, data_end=data_end, **args),
    }
    if score:
        out["score"] = build_cohort(charges, config.reference_date, with_target=False, **args)
    return out


def zero_harm_guard(
    charges: pd.DataFrame, measure: HarmMeasure, codes: pd.DataFrame
) -> dict[str, object] | None:
    """Return the zero-harm guard when over :data:`MAX_ZERO_HARM_SHARE` of charges weigh 0.

    Parameters
    ----------
    charges : pandas.DataFrame
        Canonical charges used by the run.
    measure : HarmMeasure
        The run's measure (its index's weights, whatever the counting rule).
    codes : pandas.DataFrame
        Offence code table.

    Returns
    -------
    dict or None
        ``guard``, ``message``, ``share``, ``charges`` and ``families`` (zero-harm charges
        by offence family, largest first); None below the threshold.
    """
    if not len(charges):
        return None
    families = zero_harm_charges(measure.index, charges, codes)
    share = float(families.sum()) / len(charges)
    if share <= MAX_ZERO_HARM_SHARE:
        return None
    listed = ", ".join(f"{k}: {v}" for k, v in families.items())
    return {
        "guard": "zero_harm_share",
        "message": (
            f"WARNING: {int(families.sum())} of {len(charges)} charges ({share:.0%}, over "
            f"{MAX_ZERO_HARM_SHARE:.0%}) weigh 0 days under {measure.index.label}, so their "
            f"harm is not counted; by offence family: {listed}"
        ),
        "share": share,
        "charges": int(families.sum()),
        "families": {str(k): int(v) for k, v in families.items()},
    }


def _counting_rows(
    charges: pd.DataFrame, config: HarmConfig, codes: pd.DataFrame, data_end: pd.Timestamp | None
) -> pd.DataFrame:
    """Refit the logistic model under each counting rule (rows without events not scored)."""
    rows = []
    for rule in CountingRule:
        measure = HarmMeasure(config.measure.index, rule)
        c = _cohorts(charges, config, measure, codes, data_end, score=False)
        tr, ev = c["train"], c["evaluate"]
        row: dict[str, object] = {
            "measure": measure.name,
            "counting": rule.value,
            "default": rule == config.measure.counting,
            "train_threshold_days": tr.threshold,
            "evaluation_threshold_days": ev.threshold,
            "train_cohort": len(tr),
            "train_positives": int(tr.target.sum()),
            "evaluation_cohort": len(ev),
            "evaluation_positives": int(ev.target.sum()),
        }
        if row["train_positives"] == 0 or row["evaluation_positives"] == 0:
            row["note"] = NO_EVENTS
            rows.append(row)
            continue
        try:
            model = LogisticModel().fit(tr.features, tr.target.to_numpy(), None)
            p = model.predict(ev.features)
            m = evaluate(ev.target.to_numpy(), p, k=config.capacity, n_boot=0)
            row.update(
                {
                    k: m[k]
                    for k in (
                        "auc",
                        "pr_auc",
                        "brier",
                        "calibration_slope",
                        "calibration_intercept",
                        "precision_at_k",
                        "recall_at_k",
                    )
                }
            )
            row["note"] = ""
        except (RuntimeError, ValueError) as exc:
            row["note"] = f"logistic model not fitted: {exc}"
        rows.append(row)
    return pd.DataFrame(rows)


def run_harm(
    charges: pd.DataFrame,
    config: HarmConfig,
    *,
    lsoa_units: pd.Series | None = None,
    truth: pd.DataFrame | None = None,
    codes: pd.DataFrame | None = None,
) -> HarmRun:
    """Train, evaluate and score the harm-escalation models.

    Parameters
    ----------
    charges : pandas.DataFrame
        Canonical charges (accepted rows of :func:`analysis.data.load_charges`); rows
        dated on or after ``D`` are set aside unread.
    config : HarmConfig
        The run's definition.
    lsoa_units : pandas.Series, optional
        Offender-management unit by LSOA code (for the Bayesian model's pooling).
    truth : pandas.DataFrame, optional
        Synthetic escalation truth (:func:`analysis.data.truth.load_escalation_truth`).
    codes : pandas.DataFrame, optional
        Offence code table; default the packaged table.

    Returns
    -------
    HarmRun

    Raises
    ------
    ValueError
        If the evaluation cohort's outcome window runs past the data's end (unless
        ``config.score_anyway``), or the training cohort has too few positives.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    notes: list[str] = []
    guards: list[dict[str, object]] = []
    codes = load_offence_codes() if codes is None else codes
    D = config.reference_date
    date = charges["charge_date"].to_numpy(dtype="datetime64[ns]")
    later = date >= np.datetime64(D)
    if later.any():
        notes.append(f"{int(later.sum())} charges dated on or after {D.date()} were not used")
    charges = charges.loc[~later]
    data_end = pd.Timestamp(config.data_end) if config.data_end else D - pd.Timedelta(days=1)
    short = outcome_coverage(config, data_end)
    if short and not config.score_anyway:
        raise ValueError(
            f"{short}: give an earlier reference date, or score anyway (--score-anyway) "
            "to have every output marked as scored on incomplete outcomes"
        )
    scored_anyway = f"SCORED ANYWAY: {short}" if short else ""
    if short:
        notes.append(scored_anyway)
    # scored anyway, the cohorts take their incomplete outcome windows as they are
    cohort_end = None if short else data_end
    if len(charges) and charges["charge_date"].max() < data_end - pd.Timedelta(days=31):
        notes.append(
            f"the last charge is dated {charges['charge_date'].max().date()}, more than a "
            f"month before {data_end.date()}: check that the extract covers the period"
        )
    measure = config.measure
    unweighted = measure.index.unweighted(charges, codes)
    if len(unweighted):
        notes.append(
            "charges without a weight in "
            + measure.index.label
            + " (counted as 0 days): "
            + ", ".join(f"{k}: {v}" for k, v in unweighted.items())
        )
    zero = zero_harm_guard(charges, measure, codes)
    if zero is not None:
        guards.append(zero)
        notes.insert(0, str(zero["message"]))

    cohorts = _cohorts(charges, config, measure, codes, cohort_end)
    train, ev, sc = cohorts["train"], cohorts["evaluate"], cohorts["score"]
    if train.target.sum() < 10:
        raise ValueError(
            f"only {int(train.target.sum())} people in the training cohort became high harm: "
            "too few to fit a model"
        )
    units = {k: unit_of(c.people, lsoa_units) for k, c in cohorts.items()}
    timings["cohorts"] = time.perf_counter() - t0

    models: dict[str, EscalationModel] = {}
    evaluation = pd.DataFrame(index=ev.features.index)
    evaluation["target"] = ev.target.astype(int)
    scores = pd.DataFrame(index=sc.features.index)
    for name in config.models:
        t = time.perf_counter()
        model = make_model(name, config)
        model.fit(train.features, train.target.to_numpy(), units["train"])
        models[name] = model
        evaluation[name] = model.predict(ev.features, units["evaluate"])
        scores[name] = model.predict(sc.features, units["score"])
        timings[f"fit_{name}"] = time.perf_counter() - t
        for g in getattr(model, "guards", []):
            guards.append({"model": name, **g})
            notes.append(f"{name}: {g['message']}")
        if name == "bayes_hierarchical" and model.failures:
            notes.append(
                "Bayesian diagnostics failed (not enforced in test mode): "
                + "; ".join(model.failures)
            )

    t = time.perf_counter()
    y = evaluation["target"].to_numpy()
    metrics, rel, dec, ops = {}, [], [], {}
    for i, name in enumerate(config.models):
        p = evaluation[name].to_numpy()
        metrics[name] = evaluate(
            y, p, k=config.capacity, n_boot=config.n_boot, seed=config.seed + 10 * i
        )
        rel.append(reliability_table(y, p).assign(model=name))
        dec.append(decision_curve(y, p).assign(model=name))
        flagged = top_k(p, config.capacity)
        ops[name] = float(p[flagged].min()) if flagged.any() else float("nan")
    timings["evaluation"] = time.perf_counter() - t

    rank = config.rank_model
    contributions = models[rank].contributions(sc.features)
    factors = main_factors(contributions, sc.features)
    ranked = pd.DataFrame({"probability": scores[rank]}).join(factors)
    ranked = ranked.sort_values("probability", ascending=False, kind="stable")
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    ranked["within_capacity"] = ranked["rank"] <= config.capacity
    ranked["unit"] = pd.Series(units["score"], index=sc.features.index).reindex(ranked.index)

    t = time.perf_counter()
    base = [measure]
    if config.counting_sensitivity:
        base += [HarmMeasure(measure.index, r) for r in CountingRule if r != measure.counting]
    names = {m.name for m in base}
    measures = base + [m for m in config.extra_measures if m.name not in names]
    groups, pairs = index_sensitivity(charges, D, measures, config.rule)
    counting = (
        _counting_rows(charges, config, codes, cohort_end)
        if config.counting_sensitivity
        else pd.DataFrame()
    )
    timings["sensitivity"] = time.perf_counter() - t
    if len(counting):
        empty = counting.loc[counting["note"] == NO_EVENTS, "counting"].tolist()
        if empty:
            message = (
                "counting-rule sensitivity: no events when counting "
                + ", ".join(empty)
                + " (not scored)"
            )
            guards.append({"guard": "sensitivity_no_events", "message": message, "rows": empty})
            notes.append(message)

    truth_summary: dict[str, dict[str, object]] = {}
    truth_tables = []
    if truth is not None:
        if measure.index.name != "cambridge_chi" or measure.counting != CountingRule.CHARGES:
            notes.append(
                "the synthetic truth is defined with the Cambridge CHI counting all charges; "
                f"this run uses {measure.name}"
            )
        for label, cohort, frame in (("evaluate", ev, evaluation), ("score", sc, scores)):
            tr = truth_at(truth, cohort.reference_date)
            if tr.empty:
                continue
            for name in config.models:
                s, table = compare_with_truth(frame[name], tr)
                s["reference_date"] = cohort.reference_date.date().isoformat()
                s["truth_threshold_chi_days"] = float(tr["threshold_chi_days"].iloc[0])
                s["threshold_days"] = cohort.threshold
                truth_summary[f"{label}/{name}"] = s
                truth_tables.append(table.assign(cohort=label, model=name))
    timings["total"] = time.perf_counter() - t0
    run = HarmRun(
        config=config,
        cohorts=cohorts,
        models=models,
        evaluation=evaluation,
        scores=ranked,
        metrics=metrics,
        reliability=pd.concat(rel, ignore_index=True),
        decision=pd.concat(dec, ignore_index=True),
        operating_points=ops,
        sensitivity_groups=groups,
        sensitivity_pairs=pairs,
        counting=counting,
        truth=truth_summary,
        truth_tables=pd.concat(truth_tables, ignore_index=True) if truth_tables else pd.DataFrame(),
        notes=notes,
        guards=guards,
        timings=timings,
        scored_anyway=scored_anyway,
    )
    log.info("harm run finished in %.1f s", timings["total"])
    return run
