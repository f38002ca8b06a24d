"""The ``analysis harm`` subcommand (registered by the CLI with :func:`add_harm_parser`).

It combines the harm-escalation run (``analysis.harm``) with its fairness audit
(``analysis.fairness``) and writes committee and restricted outputs, so it lives in the
report stage, which may import every earlier stage; ``harm`` never imports ``fairness``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.harm.constants import MODEL_NAMES, TEST_STAMP
from analysis.harm.index import CountingRule

if TYPE_CHECKING:
    import pandas as pd

    from analysis.harm.index import HarmMeasure

DESCRIPTION = """\
Measure harm per charged person, define high harm, and estimate for everyone not yet high
harm the probability of becoming high harm in the next 12 months.

Trains on the cohort at D minus 24 months (outcomes up to D minus 12), evaluates on the
cohort at D minus 12 months (outcomes up to D), and scores the cohort at D. Only charges
dated before D are used. Writes OUT/metrics.json, OUT/performance.csv,
OUT/coefficients.csv, OUT/fairness.csv, calibration, decision-curve and sensitivity tables
and figures, OUT/committee_summary.md and OUT/run.json; the ranked list of pseudonymised
people, evaluation predictions and rejected input rows go to OUT/restricted/ only.

The package ships the Cambridge CHI family medians and no ONS Crime Severity Score
weights: --index ons_css needs --css-table (a CSV export of the official spreadsheet).
"""


def add_harm_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``harm`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The CLI's subparsers (``parser.add_subparsers(...)``).
    """
    p = subparsers.add_parser(
        "harm",
        help="harm-escalation model: train, evaluate, score, audit fairness",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, type=Path, help="data folder with charges.csv.gz")
    p.add_argument(
        "--reference-date",
        required=True,
        type=date.fromisoformat,
        help="D: the scoring date (YYYY-MM-DD)",
    )
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="reject charge dates after this day as in the future (default today)",
    )
    p.add_argument(
        "--offence-codes", type=Path, help="offence code table replacing the packaged one"
    )
    p.add_argument(
        "--units",
        type=Path,
        help="LSOA-to-unit CSV (lsoa21cd, lom_unit); default DATA/lsoa_to_lom_unit.csv",
    )
    p.add_argument(
        "--truth",
        type=Path,
        help="synthetic escalation truth; default DATA/truth/escalation.csv.gz when present",
    )
    p.add_argument("--no-truth", action="store_true", help="do not compare with a truth file")

    h = p.add_argument_group("harm and high harm")
    h.add_argument(
        "--index",
        choices=["cambridge_chi", "ons_css"],
        default="cambridge_chi",
        help="harm index (default cambridge_chi: packaged family medians)",
    )
    h.add_argument("--css-table", type=Path, help="CSV of the official ONS CSS weights by code")
    h.add_argument(
        "--chi-table", type=Path, help="CSV of the official Cambridge CHI days by offence code"
    )
    h.add_argument("--code-col", help="offence code column of the official tables")
    h.add_argument("--weight-col", help="weight column of the official tables")
    h.add_argument(
        "--counting",
        choices=[c.value for c in CountingRule],
        default=CountingRule.CHARGES.value,
        help="which charges count towards harm (default: all charges)",
    )
    h.add_argument(
        "--quantile",
        type=float,
        default=0.95,
        help="high harm: percentile of trailing harm among people charged (default 0.95)",
    )
    h.add_argument(
        "--threshold-days", type=float, help="high harm: a fixed threshold in days instead"
    )
    h.add_argument(
        "--window-months", type=int, default=12, help="trailing window and horizon (default 12)"
    )

    m = p.add_argument_group("models and evaluation")
    m.add_argument(
        "--models",
        default=",".join(MODEL_NAMES),
        help=f"comma-separated models (default {','.join(MODEL_NAMES)})",
    )
    m.add_argument(
        "--rank-model",
        choices=["logistic", "bayes_hierarchical"],
        default="logistic",
        help="model ranking the scored cohort (default logistic)",
    )
    m.add_argument(
        "--capacity",
        type=int,
        default=200,
        help="caseload k of the offender managers (default 200)",
    )
    m.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    m.add_argument("--seed", type=int, default=0, help="random seed")
    m.add_argument(
        "--min-group-size",
        type=int,
        default=10,
        help="fairness groups smaller than this are suppressed (default 10)",
    )
    b = p.add_argument_group("Bayesian sampler")
    b.add_argument("--draws", type=int, default=1000, help="posterior draws per chain")
    b.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    b.add_argument("--chains", type=int, default=4, help="chains")
    b.add_argument(
        "--target-accept", type=float, default=0.99, help="NUTS target acceptance (default 0.99)"
    )
    b.add_argument("--max-rhat", type=float, default=1.01, help="fail when r-hat exceeds this")
    b.add_argument("--min-ess", type=float, default=400, help="fail when bulk ESS is below this")
    b.add_argument(
        "--max-divergences", type=int, default=0, help="fail when divergences exceed this"
    )
    p.add_argument(
        "--test-mode",
        action="store_true",
        help=f"tiny sampler, diagnostics not enforced, 100 bootstraps; stamps every output "
        f"'{TEST_STAMP}'",
    )
    p.set_defaults(func=cmd_harm)


def _measures(
    args: argparse.Namespace, codes: pd.DataFrame
) -> tuple[HarmMeasure, list[HarmMeasure], dict[str, object]]:
    """Return the run's measure, the extra measures of the sensitivity table, and tables read.

    The sensitivity table always holds the packaged CHI family medians counting all charges
    and counting convictions only, plus any official table supplied (CSS, CHI by code).
    """
    from analysis.harm.index import HarmMeasure, cambridge_chi
    from analysis.harm.official import load_chi_code_table, load_css_table

    counting = CountingRule(args.counting)
    cols = {"code_col": args.code_col, "weight_col": args.weight_col, "offence_codes": codes}
    tables: dict[str, object] = {}
    family_chi = cambridge_chi()
    chi = family_chi
    if args.chi_table:
        chi, tables["chi_table"] = load_chi_code_table(args.chi_table, **cols)
    css = None
    if args.css_table:
        css, tables["css_table"] = load_css_table(args.css_table, **cols)
    if args.index == "ons_css" and css is None:
        raise ValueError(
            "--index ons_css needs --css-table: no ONS Crime Severity Score weights ship "
            "with the package"
        )
    main = HarmMeasure(css if args.index == "ons_css" else chi, counting)
    extra = [
        HarmMeasure(family_chi, CountingRule.CHARGES),
        HarmMeasure(family_chi, CountingRule.CONVICTIONS),
    ]
    if css is not None:
        extra.append(HarmMeasure(css, CountingRule.CHARGES))
    if args.chi_table:
        extra.append(HarmMeasure(chi, CountingRule.CHARGES))
    named = []
    for m in extra:
        if m.index.name == main.index.name and m.index.version != main.index.version:
            m = HarmMeasure(replace(m.index, name=f"{m.index.name}[{m.index.version}]"), m.counting)
        named.append(m)
    return main, named, tables


def cmd_harm(args: argparse.Namespace) -> int:
    """Run the harm-escalation model and write its outputs."""
    import pandas as pd

    from analysis.data import LoadOptions, load_charges
    from analysis.data.offences import load_offence_codes
    from analysis.data.pseudonymise import key_from_env
    from analysis.fairness import AuditSettings, audit_attributes, audit_models
    from analysis.fairness.plots import fairness_figure
    from analysis.harm.bayes import ConvergenceError, DiagnosticThresholds, SamplerSettings
    from analysis.harm.cohort import HighHarmRule
    from analysis.harm.output import write_run
    from analysis.harm.pipeline import HarmConfig, run_harm
    from analysis.harm.truth import load_escalation_truth

    data = Path(args.data)
    charges_path = data / "charges.csv.gz"
    if not charges_path.exists() and (data / "charges.csv").exists():
        charges_path = data / "charges.csv"
    codes = load_offence_codes(args.offence_codes)
    measure, extra, tables = _measures(args, codes)
    options = LoadOptions(
        as_of=args.as_of, offence_codes=args.offence_codes, pseudonym_key=key_from_env()
    )
    result = load_charges(charges_path, options)
    units_path = args.units or data / "lsoa_to_lom_unit.csv"
    lsoa_units = None
    if units_path.exists():
        table = pd.read_csv(units_path, dtype=str)
        if not {"lsoa21cd", "lom_unit"} <= set(table.columns):
            raise ValueError(f"{units_path}: needs columns lsoa21cd and lom_unit")
        lsoa_units = table.set_index("lsoa21cd")["lom_unit"]
    truth = None
    truth_path = args.truth or data / "truth" / "escalation.csv.gz"
    if not args.no_truth and truth_path.exists():
        truth = load_escalation_truth(truth_path)

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    config = HarmConfig(
        reference_date=pd.Timestamp(args.reference_date),
        measure=measure,
        rule=HighHarmRule(
            quantile=args.quantile,
            window_months=args.window_months,
            threshold_days=args.threshold_days,
        ),
        capacity=args.capacity,
        n_boot=min(args.n_boot, 100) if args.test_mode else args.n_boot,
        seed=args.seed,
        models=models,
        rank_model=args.rank_model,
        test_mode=args.test_mode,
        sampler=SamplerSettings(
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            target_accept=args.target_accept,
            seed=args.seed,
        ),
        thresholds=DiagnosticThresholds(
            max_rhat=args.max_rhat,
            min_ess_bulk=args.min_ess,
            max_divergences=args.max_divergences,
        ),
        extra_measures=tuple(extra),
    )
    try:
        run = run_harm(result.accepted, config, lsoa_units=lsoa_units, truth=truth, codes=codes)
    except ConvergenceError as exc:
        print(f"analysis harm: error: {exc} (nothing was written)", file=sys.stderr)
        return 3
    settings = AuditSettings(
        min_group_size=args.min_group_size, n_boot=config.n_boot, seed=args.seed
    )
    attributes = audit_attributes(run.cohorts["evaluate"].people)
    fairness = audit_models(
        run.evaluation,
        attributes,
        list(config.models),
        capacity=config.capacity,
        settings=settings,
    )
    summary = result.summary()
    files = write_run(
        run,
        args.out,
        fairness=fairness,
        load_summary={k: summary[k] for k in ("read", "accepted", "rejected", "reasons", "sha256")},
        rejected=result.rejected,
        extra={
            "official_tables": tables,
            "fairness": {"min_group_size": settings.min_group_size, "n_boot": settings.n_boot},
        },
    )
    stamp = TEST_STAMP if config.test_mode else ""
    files["fairness_png"] = fairness_figure(
        fairness, config.rank_model, Path(args.out) / "fairness.png", stamp=stamp
    )
    if stamp:
        print(stamp)
    print(
        f"{charges_path}: read {summary['read']} = accepted {summary['accepted']} + rejected "
        f"{summary['rejected']}"
    )
    for label, c in run.cohorts.items():
        pos = "" if c.target is None else f", {int(c.target.sum())} became high harm"
        print(
            f"  {label}: cohort at {c.reference_date.date()} of {len(c)} people, "
            f"threshold {c.threshold:g} days{pos}"
        )
    for name, m in run.metrics.items():
        lo, hi = m["auc_ci"]
        print(
            f"  {name}: AUC {m['auc']:.3f} [{lo:.3f}, {hi:.3f}], PR AUC {m['pr_auc']:.3f}, "
            f"Brier {m['brier']:.4f}, slope {m['calibration_slope']:.2f}, "
            f"precision@{m['k']} {m['precision_at_k']:.3f}"
        )
    for note in run.notes:
        print(f"  note: {note}")
    print(f"wrote {len(files)} files to {args.out} (person-level files in {args.out}/restricted)")
    return 0
