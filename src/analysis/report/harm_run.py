"""The harm-escalation job: the harm run, its fairness audit and every output, in one call.

:func:`run_harm_escalation` is the job's one entry point, called alike by ``analysis
harm``, the monthly run's notebook and the tests. It lives in the report stage because it
joins the harm run (``analysis.harm``) with its fairness audit (``analysis.fairness``) and
writes the committee's text; ``harm`` never imports ``fairness``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from analysis.data.folder import FolderData
from analysis.data.result import reconciliation_lines
from analysis.data.serial import csv_safe
from analysis.fairness import AuditSettings, audit_attributes, audit_models
from analysis.fairness.plots import fairness_figure
from analysis.harm.index import CountingRule, HarmMeasure, cambridge_chi
from analysis.harm.official import load_chi_code_table, load_css_table
from analysis.harm.output import run_stamp, write_csv, write_run
from analysis.harm.pipeline import HarmConfig, HarmRun, run_harm
from analysis.report.disclosure import protect_fairness, protect_performance, protect_rows
from analysis.report.harm_summary import committee_summary


@dataclass(frozen=True)
class MeasureSettings:
    """Which harm index and counting rule, and any official tables supplied.

    Attributes
    ----------
    index : {"cambridge_chi", "ons_css"}
        Harm index of the run (the package ships the CHI family medians only).
    counting : CountingRule
        Which charges count towards harm.
    css_table, chi_table : Path, optional
        CSV exports of the official ONS CSS weights or Cambridge CHI days by code.
    code_col, weight_col : str, optional
        Their columns (detected when not given).
    """

    index: str = "cambridge_chi"
    counting: CountingRule = CountingRule.CHARGES
    css_table: Path | None = None
    chi_table: Path | None = None
    code_col: str | None = None
    weight_col: str | None = None


def harm_measures(
    settings: MeasureSettings, codes: pd.DataFrame
) -> tuple[HarmMeasure, tuple[HarmMeasure, ...], dict[str, object]]:
    """The run's measure, the sensitivity table's other measures, and the tables read.

    The sensitivity table always holds the packaged CHI family medians counting all charges
    and counting convictions only, plus any official table supplied (CSS, CHI by code).

    Raises
    ------
    ValueError
        If the CSS index is asked for without its table.
    """
    cols = {"code_col": settings.code_col, "weight_col": settings.weight_col}
    tables: dict[str, object] = {}
    family_chi = chi = cambridge_chi()
    if settings.chi_table:
        chi, tables["chi_table"] = load_chi_code_table(
            settings.chi_table, **cols, offence_codes=codes
        )
    css = None
    if settings.css_table:
        css, tables["css_table"] = load_css_table(settings.css_table, **cols, offence_codes=codes)
    if settings.index == "ons_css" and css is None:
        raise ValueError(
            "--index ons_css needs --css-table: no ONS Crime Severity Score weights ship "
            "with the package"
        )
    main = HarmMeasure(css if settings.index == "ons_css" else chi, settings.counting)
    extra = [
        HarmMeasure(family_chi, CountingRule.CHARGES),
        HarmMeasure(family_chi, CountingRule.CONVICTIONS),
    ]
    if css is not None:
        extra.append(HarmMeasure(css, CountingRule.CHARGES))
    if settings.chi_table:
        extra.append(HarmMeasure(chi, CountingRule.CHARGES))
    named = []
    for m in extra:
        if m.index.name == main.index.name and m.index.version != main.index.version:
            m = HarmMeasure(replace(m.index, name=f"{m.index.name}[{m.index.version}]"), m.counting)
        named.append(m)
    return main, tuple(named), tables


@dataclass
class HarmOutcome:
    """What the job produced.

    Attributes
    ----------
    run : HarmRun
        The harm run (cohorts, models, metrics).
    fairness : pandas.DataFrame
        The fairness audit (aggregate; small groups suppressed).
    files : dict of str to Path
        Every file written, by name.
    reconciliation : dict
        The charges file's read = accepted + rejected, with reasons.
    out : Path
        The output folder.
    """

    run: HarmRun
    fairness: pd.DataFrame
    files: dict[str, Path]
    reconciliation: dict[str, object]
    out: Path


def run_harm_escalation(
    data: FolderData,
    config: HarmConfig,
    audit: AuditSettings,
    out: str | Path,
    *,
    official_tables: dict[str, object] | None = None,
) -> HarmOutcome:
    """Run the harm-escalation model with its fairness audit and write every output.

    Aggregates go to ``out``; the offender managers' ranked list, the evaluation
    predictions and the quarantined charge rows go to ``out/restricted/`` only.

    Parameters
    ----------
    data : FolderData
        The validated data folder (its charges, LSOA-to-unit table and any truth).
    config : HarmConfig
        The harm run's settings.
    audit : AuditSettings
        The fairness audit's settings.
    out : str or Path
        Output folder.
    official_tables : dict, optional
        What :func:`harm_measures` read, recorded in ``run.json``.

    Returns
    -------
    HarmOutcome

    Raises
    ------
    ValueError
        If the folder has no charges, or the evaluation cohort's outcome window runs past
        the data's end without ``config.score_anyway`` (nothing is written).
    analysis.inference.ConvergenceError
        If the Bayesian model did not converge (nothing is written).
    """
    if data.charges is None:
        raise ValueError(f"{data.folder.root}: the harm model needs a charges file")
    out = Path(out)
    run = run_harm(
        data.charges.accepted,
        config,
        lsoa_units=data.lsoa_units,
        truth=data.truth,
        codes=data.offence_codes,
    )
    attributes = audit_attributes(run.cohorts["evaluate"].people)
    audited = audit_models(
        run.evaluation, attributes, list(config.models), capacity=config.capacity, settings=audit
    )
    # published: no count under 10 derivable; the full audit is restricted
    fairness = protect_fairness(audited)
    summary = data.charges.summary()
    reconciliation = {
        k: summary[k] for k in ("read", "accepted", "rejected", "reasons", "notes", "sha256")
    }
    stamp = run_stamp(run)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "committee": out / "committee_summary.md",
        "fairness_png": fairness_figure(
            fairness, config.rank_model, out / "fairness.png", stamp=stamp
        ),
    }
    written["committee"].write_text(committee_summary(run, fairness, stamp))
    (out / "restricted").mkdir(parents=True, exist_ok=True)
    written["fairness_full"] = out / "restricted" / "fairness_full.csv"
    write_csv(audited, written["fairness_full"], stamp=stamp)
    files = write_run(
        run,
        out,
        fairness=fairness,
        load_summary=reconciliation,
        rejected=data.charges.rejected,
        extra={
            "official_tables": official_tables or {},
            "fairness": {"min_group_size": audit.min_group_size, "n_boot": audit.n_boot},
            "pseudonymised_on_load": data.pseudonymised_on_load,
        },
        written=written,
    )
    protect_harm_tables(out)
    return HarmOutcome(
        run=run, fairness=fairness, files=files, reconciliation=reconciliation, out=out
    )


def _rewrite(path: Path, protect: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Apply ``protect`` to a written CSV, keeping its comment lines (the test-mode stamp)."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    head = "".join(line for line in lines if line.startswith("#"))
    table = pd.read_csv(path, comment="#")
    path.write_text(head + csv_safe(protect(table)).to_csv(index=False))


def protect_harm_tables(out: Path) -> None:
    """Suppress counts of people under 10 in the harm run's public tables.

    With them go the rates that would reveal them (the fairness table is protected before
    it is written).

    ``performance.csv`` and ``counting_sensitivity.csv``: people, those who became high
    harm, and the true positives among the top *k* (precision × *k*), with the precision
    and recall that would reveal them; ``sensitivity_index.csv`` and
    ``sensitivity_pairs.csv``: the high-harm groups and their overlaps, with the shares.
    """

    def counting(t: pd.DataFrame) -> pd.DataFrame:
        k = (
            json.loads((out / "run.json").read_text()).get("capacity_k", 0)
            if (out / "run.json").exists()
            else 0
        )
        tp = (t["precision_at_k"] * k).round()
        return protect_rows(
            t,
            ["train_cohort", "train_positives", "evaluation_cohort", "evaluation_positives"],
            derived={"precision_at_k": ("tp", "missed"), "recall_at_k": ("tp", "missed")},
            extra={"tp": tp, "missed": t["evaluation_positives"] - tp},
        )

    def pairs(t: pd.DataFrame) -> pd.DataFrame:
        shares = ("both", "only_a", "only_b")
        return protect_rows(
            t,
            ["high_harm_a", "high_harm_b", "both"],
            derived={c: shares for c in ("jaccard", "share_a_in_b", "share_b_in_a")},
            extra={"only_a": t["high_harm_a"] - t["both"], "only_b": t["high_harm_b"] - t["both"]},
        )

    _rewrite(out / "performance.csv", protect_performance)
    _rewrite(out / "counting_sensitivity.csv", counting)
    _rewrite(
        out / "sensitivity_index.csv",
        lambda t: protect_rows(t, ["charged_in_window", "high_harm"]),
    )
    _rewrite(out / "sensitivity_pairs.csv", pairs)


def describe(outcome: HarmOutcome) -> list[str]:
    """The lines a user reads after a run (counts and metrics only, no person)."""
    r = outcome.reconciliation
    stamp = run_stamp(outcome.run)
    lines = [stamp] if stamp else []
    lines += reconciliation_lines("charges", r)
    for label, c in outcome.run.cohorts.items():
        pos = "" if c.target is None else f", {int(c.target.sum())} became high harm"
        lines.append(
            f"  {label}: cohort at {c.reference_date.date()} of {len(c)} people, "
            f"threshold {c.threshold:g} days{pos}"
        )
    for name, m in outcome.run.metrics.items():
        lo, hi = m["auc_ci"]
        lines.append(
            f"  {name}: AUC {m['auc']:.3f} [{lo:.3f}, {hi:.3f}], PR AUC {m['pr_auc']:.3f}, "
            f"Brier {m['brier']:.4f}, slope {m['calibration_slope']:.2f}, "
            f"precision@{m['k']} {m['precision_at_k']:.3f}"
        )
    lines += [f"  note: {n}" for n in outcome.run.notes]
    lines.append(
        f"wrote {len(outcome.files)} files to {outcome.out} "
        f"(person-level files in {outcome.out / 'restricted'})"
    )
    return lines
