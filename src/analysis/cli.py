"""The ``analysis`` command line: a thin layer over the package's functions."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import __version__
from analysis.data import FORMATS, DuplicatePolicy, LoadError, LoadOptions, load
from analysis.data.pseudonymise import key_from_env
from analysis.data.reading import check_delimiter
from analysis.data.result import reconciliation_lines
from analysis.harm.constants import MODEL_NAMES
from analysis.harm.index import CountingRule
from analysis.testmode import BANNER

if TYPE_CHECKING:
    from analysis.data.folder import DataFolder


def one_character(value: str) -> str:
    """Parse ``--delimiter``: one character (``tab``, or a backslash and ``t``, for a tab).

    Raises
    ------
    argparse.ArgumentTypeError
        If the value is not one character that can separate fields.
    """
    if value in ("\\t", "tab"):
        return "\t"
    try:
        return check_delimiter(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def output_problem(out: Path) -> str | None:
    """Return why ``out`` cannot be an output folder (it or a parent is a file), or None."""
    for folder in (out, *out.parents):
        if folder.exists():
            if folder.is_dir():
                return None
            if folder == out:
                return f"{out}: the output must be a folder, and this is a file"
            return f"{out}: the output must be a folder, and {folder} is a file"
    return None


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Add the column, coordinate-system and quality options every data command shares."""
    g = parser.add_argument_group("columns and coordinate systems")
    g.add_argument("--time-col", help="time column of a point-event file")
    g.add_argument("--x-col", help="x (easting) column; needs --crs")
    g.add_argument("--y-col", help="y (northing) column; needs --crs")
    g.add_argument("--lon-col", help="longitude column (WGS84)")
    g.add_argument("--lat-col", help="latitude column (WGS84)")
    g.add_argument("--id-col", help="identifier column of a point-event file (optional)")
    g.add_argument("--crs", help="CRS of --x-col/--y-col, e.g. EPSG:27700")
    g.add_argument(
        "--target-crs",
        help="CRS of the output x/y (default EPSG:27700; for events the source CRS if "
        "projected, else its UTM zone)",
    )
    g.add_argument("--time-format", help="strftime format of dates (default ISO 8601)")
    q = parser.add_argument_group("reading and quality rules")
    q.add_argument(
        "--delimiter",
        default=",",
        type=one_character,
        help="field delimiter, one character (default ','; '\\t' for a tab)",
    )
    q.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8)")
    q.add_argument(
        "--as-of", type=date.fromisoformat, help="reject dates after this day (default today)"
    )
    q.add_argument(
        "--area", type=Path, help="study-area polygon file; points outside are quarantined"
    )
    q.add_argument(
        "--area-buffer-m", type=float, default=0.0, help="tolerance around the study area in metres"
    )
    q.add_argument(
        "--duplicate-ids",
        choices=[p.value for p in DuplicatePolicy],
        default=DuplicatePolicy.KEEP_FIRST.value,
        help="rule for an ID repeated with different content (default keep-first)",
    )
    q.add_argument(
        "--keep-exact-duplicates",
        action="store_true",
        help="keep identical rows (only where they are known to be distinct events)",
    )
    q.add_argument(
        "--offence-codes", type=Path, help="CSV of offence codes replacing the packaged table"
    )


def options_from_args(args: argparse.Namespace) -> LoadOptions:
    """Build :class:`LoadOptions` from parsed arguments."""
    return LoadOptions(
        time_col=args.time_col,
        x_col=args.x_col,
        y_col=args.y_col,
        lon_col=args.lon_col,
        lat_col=args.lat_col,
        id_col=args.id_col,
        crs=args.crs,
        target_crs=args.target_crs,
        time_format=args.time_format,
        delimiter=args.delimiter,
        encoding=args.encoding,
        as_of=args.as_of,
        area=args.area,
        area_buffer_m=args.area_buffer_m,
        duplicate_ids=DuplicatePolicy(args.duplicate_ids),
        exact_duplicates="keep" if args.keep_exact_duplicates else "quarantine",
        offence_codes=args.offence_codes,
        pseudonym_key=key_from_env(),
    )


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate one file and write accepted rows, rejected rows and a summary."""
    result = load(args.file, args.format, options_from_args(args))
    paths = result.write(args.out)
    print("\n".join(reconciliation_lines(str(args.file), result.summary())))
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def cmd_sample_data(args: argparse.Namespace) -> int:
    """Generate the synthetic Birmingham sample with its ground truth."""
    from analysis.synthetic import SampleConfig, write_sample

    config = SampleConfig(seed=args.seed, years=args.years, end=args.end, scale=args.scale)
    files = write_sample(args.out, config, progress=not args.quiet)
    for f in files:
        print(f"wrote {f}")
    return 0


IDENTIFIERS_HELP = (
    "the charges' person identifiers are pseudonyms already (made by the force): run "
    "without a pseudonym key; recorded in every output. Without it, a folder with charges "
    "needs ANALYSIS_PSEUDONYM_KEY (the synthetic sample excepted)"
)


def add_identifiers_option(p: argparse.ArgumentParser) -> None:
    """The statement that lets a run read person identifiers without the key."""
    p.add_argument(
        "--identifiers-already-pseudonymised", action="store_true", help=IDENTIFIERS_HELP
    )


def require_key(folder: DataFolder, args: argparse.Namespace) -> str:
    """Refuse to read person identifiers with no key and no statement; say what was done."""
    from analysis.data.identifiers import identifier_state

    state = identifier_state(
        reads_people=folder.has("charges"),
        key=key_from_env(),
        already_pseudonymised=args.identifiers_already_pseudonymised,
        synthetic=folder.has("synthetic"),
    )
    return state.value


def cmd_data_quality(args: argparse.Namespace) -> int:
    """Validate a data folder's crimes and charges and write an aggregate data-quality summary."""
    from analysis.data.folder import DataFolder
    from analysis.data.quality import data_quality

    folder = DataFolder.locate(args.data)
    identifiers = require_key(folder, args)
    data = folder.load(LoadOptions(as_of=args.as_of, pseudonym_key=key_from_env()))
    report = data_quality(data, args.out)
    print(f"person identifiers: {identifiers}")
    print(json.dumps(report["files"], indent=2))
    print(f"wrote {args.out}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """Run the rolling-origin backtest (:func:`analysis.report.backtest_run.run_backtest_job`)."""
    from analysis.forecast.registry import split_model_specs
    from analysis.report.backtest_run import BacktestSettings, run_backtest_job

    settings = BacktestSettings(
        format=args.format,
        models=tuple(split_model_specs(args.models)),
        offence_group=args.offence_group,
        offence_groups=args.offence_groups,
        cell_area_km2=args.cell_area,
        period_days=args.period_days,
        anchor=args.anchor,
        test_periods=args.test_periods,
        cutoff=args.cutoff,
        seed=args.seed,
        area=args.area,
        accept_month_dates=args.accept_month_dates,
    )
    record = {"args": {k: str(v) for k, v in vars(args).items() if k != "func"}}
    job = run_backtest_job(
        args.events,
        settings,
        options_from_args(args),
        args.out,
        record=record,
        progress=not args.quiet,
    )
    panel = job.panel
    print("\n".join(reconciliation_lines(str(args.events), job.data)))
    print(
        f"{job.n_events} events, {len(panel.units)} units, {len(panel.periods)} periods; "
        f"{args.test_periods} origins"
    )
    for note in job.notes:
        print(f"  note: {note}")
    cols = ["model", "n_origins", "crps", "log_score", "pai_5pct", "coverage_90", "fit_seconds"]
    print(job.result.summary()[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for name, why in job.result.skipped.items():
        print(f"  skipped {name}: {why}")
    print(f"wrote {', '.join(str(p) for p in job.files.values())}")
    return 0


def cmd_monthly(args: argparse.Namespace) -> int:
    """Execute the monthly report notebooks with papermill and publish them."""
    from analysis.report.runner import run_monthly

    result = run_monthly(
        args.month,
        data_dir=args.data,
        out_root=args.out,
        notebooks_dir=args.notebooks,
        test_mode=args.test_mode,
        kernel=args.kernel,
        progress=not args.quiet,
        offence_groups=args.offence_groups,
        offence_codes=args.offence_codes,
        identifiers_already_pseudonymised=args.identifiers_already_pseudonymised,
    )
    if result.ok:
        print(f"report published: {result.folder / 'index.html'}")
        return 0
    plan = result.manifest.get("plan", {})
    if isinstance(plan, dict) and plan.get("status") == "failed":
        print(f"failed: the run could not be planned: {plan.get('error', '')}", file=sys.stderr)
    failed = [s for s in result.manifest["steps"] if s.get("status") == "failed"]
    for s in failed:
        print(f"failed: {s['output']}: {s.get('error', '')[:500]}", file=sys.stderr)
    if result.manifest.get("privacy_check", {}).get("status") == "failed":
        print("failed: a person identifier reached a public file", file=sys.stderr)
    print(
        f"run failed; kept for debugging in {result.folder}; the last good report of "
        f"{args.month} is unchanged",
        file=sys.stderr,
    )
    return 1


HARM_DESCRIPTION = """\
Measure harm per charged person, define high harm, and estimate for everyone not yet high
harm the probability of becoming high harm in the next 12 months.

Trains on the cohort at D minus 24 months (outcomes up to D minus 12), evaluates on the
cohort at D minus 12 months (outcomes up to D), and scores the cohort at D. Only charges
dated before D are used. The data (up to the last charge's day) must cover the evaluation
cohort's outcomes, to the day before D: a later D is refused unless --score-anyway, which
marks every output as scored on incomplete outcomes. Writes OUT/metrics.json, OUT/performance.csv,
OUT/coefficients.csv, OUT/fairness.csv, calibration, decision-curve and sensitivity tables
and figures, OUT/committee_summary.md and OUT/run.json; the ranked list of pseudonymised
people, evaluation predictions and rejected input rows go to OUT/restricted/ only.

The package ships the Cambridge CHI family medians and no ONS Crime Severity Score
weights: --index ons_css needs --css-table (a CSV export of the official spreadsheet).
"""


def add_harm_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``harm`` subcommand."""
    p = subparsers.add_parser(
        "harm",
        help="harm-escalation model: train, evaluate, score, audit fairness",
        description=HARM_DESCRIPTION,
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
    b.add_argument(
        "--min-ess", type=float, default=400, help="fail when bulk or tail ESS is below this"
    )
    b.add_argument(
        "--max-divergences", type=int, default=0, help="fail when divergences exceed this"
    )
    p.add_argument(
        "--test-mode",
        action="store_true",
        help=f"tiny sampler, diagnostics not enforced, 100 bootstraps; stamps every output "
        f"'{BANNER}'",
    )
    p.add_argument(
        "--score-anyway",
        action="store_true",
        help="score a reference date whose evaluation outcomes run past the end of the data "
        "(refused otherwise); every output is marked as scored on incomplete outcomes",
    )
    add_identifiers_option(p)
    p.set_defaults(func=cmd_harm)


def cmd_harm(args: argparse.Namespace) -> int:
    """Run the harm-escalation job (:func:`analysis.report.harm_run.run_harm_escalation`)."""
    from dataclasses import replace

    import pandas as pd

    from analysis.data.folder import DataFolder
    from analysis.fairness import AuditSettings
    from analysis.harm.bayes import HARM_SAMPLER
    from analysis.harm.cohort import HighHarmRule
    from analysis.harm.index import CountingRule
    from analysis.harm.pipeline import HarmConfig, data_end_of
    from analysis.inference import ConvergenceError
    from analysis.report.harm_run import (
        MeasureSettings,
        describe,
        harm_measures,
        run_harm_escalation,
    )
    from analysis.testmode import TestMode

    folder = DataFolder.locate(
        args.data,
        require=("charges",),
        offence_codes=args.offence_codes,
        lsoa_units=args.units,
        truth=args.truth,
    )
    identifiers = require_key(folder, args)
    options = LoadOptions(as_of=args.as_of, pseudonym_key=key_from_env())
    data = folder.load(options, contracts=("charges",))
    if args.no_truth:
        data.truth = None
    measure, extra, tables = harm_measures(
        MeasureSettings(
            index=args.index,
            counting=CountingRule(args.counting),
            css_table=args.css_table,
            chi_table=args.chi_table,
            code_col=args.code_col,
            weight_col=args.weight_col,
        ),
        data.offence_codes,
    )
    testing = TestMode(args.test_mode)
    config = HarmConfig(
        reference_date=pd.Timestamp(args.reference_date),
        measure=measure,
        rule=HighHarmRule(
            quantile=args.quantile,
            window_months=args.window_months,
            threshold_days=args.threshold_days,
        ),
        capacity=args.capacity,
        n_boot=testing.n_boot(args.n_boot),
        seed=args.seed,
        models=tuple(m.strip() for m in args.models.split(",") if m.strip()),
        rank_model=args.rank_model,
        test_mode=args.test_mode,
        sampler=replace(
            HARM_SAMPLER,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            target_accept=args.target_accept,
            max_rhat=args.max_rhat,
            min_ess=args.min_ess,
            max_divergences=args.max_divergences,
        ),
        extra_measures=extra,
        data_end=data_end_of(data.charges.accepted),
        score_anyway=args.score_anyway,
    )
    audit = AuditSettings(min_group_size=args.min_group_size, n_boot=config.n_boot, seed=args.seed)
    try:
        outcome = run_harm_escalation(data, config, audit, args.out, official_tables=tables)
    except ConvergenceError as exc:
        print(f"analysis harm: error: {exc} (nothing was written)", file=sys.stderr)
        return 3
    print("\n".join(describe(outcome)))
    print(f"person identifiers: {identifiers}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="analysis",
        description="Research workbench for police data analysts: validated data, 4-week "
        "forecasts, harm escalation and committee reports.",
    )
    parser.add_argument("--version", action="version", version=f"analysis {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "validate",
        help="validate a file and quarantine its faulty rows",
        description="Validate a file against a data contract. Writes "
        "OUT/accepted.parquet, OUT/rejected.csv and OUT/summary.json. Exits 0 "
        "when the file could be read, 2 when it could not.",
    )
    p.add_argument("file", type=Path, help="CSV file (may be gzip-compressed)")
    p.add_argument("--format", required=True, choices=sorted(FORMATS), help="data contract")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    add_source_options(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "sample-data",
        help="generate the synthetic Birmingham sample",
        description="Generate synthetic recorded crimes, charges and their "
        "ground truth on Birmingham's real LSOA geography. The same seed gives "
        "byte-identical files.",
    )
    p.add_argument("--seed", type=int, default=20261124, help="random seed")
    p.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder")
    p.add_argument("--years", type=int, default=6, help="years of crimes (default 6)")
    p.add_argument(
        "--end",
        type=date.fromisoformat,
        default=date(2026, 9, 30),
        help="last day of the data (default 2026-09-30)",
    )
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiply every volume (below 1 for quick tests)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_sample_data)

    p = sub.add_parser(
        "data-quality",
        help="validate a data folder and summarise its quality",
        description="Validate a data folder's crimes and charges (docs/data-dictionary.md "
        "names its files) and write aggregate summaries (person-level rejected rows go "
        "to OUT/restricted/).",
    )
    p.add_argument("--data", type=Path, default=Path("data/sample"), help="data folder")
    p.add_argument("--out", type=Path, default=Path("reports/data-quality"), help="output folder")
    p.add_argument("--as-of", type=date.fromisoformat, help="reject dates after this day")
    add_identifiers_option(p)
    p.set_defaults(func=cmd_data_quality)

    from analysis.forecast.registry import DEFAULT_MODELS

    p = sub.add_parser(
        "backtest",
        help="rolling-origin backtest of the forecasting baselines",
        description="Count events per grid cell and 4-week period, forecast "
        "each of the last K periods from the data before it with every model, "
        "and score the forecasts. Writes OUT/summary.csv, OUT/metrics.csv, "
        "OUT/forecasts.parquet, figures and OUT/run.json.",
    )
    p.add_argument("events", type=Path, help="data file (CSV, may be gzip-compressed)")
    p.add_argument(
        "--format", default="events", choices=sorted(FORMATS), help="data contract (default events)"
    )
    p.add_argument("--offence-group", help="with --format crimes: the group to forecast")
    p.add_argument("--offence-groups", type=Path, help="offence groups file (YAML)")
    p.add_argument("--cell-area", type=float, default=1.0, help="grid cell area in km2")
    p.add_argument("--period-days", type=int, default=28, help="period length in days")
    p.add_argument(
        "--anchor",
        type=date.fromisoformat,
        default=date(2018, 1, 1),
        help="first day of period 0 (default 2018-01-01)",
    )
    p.add_argument("--test-periods", type=int, default=13, help="number of origins (K)")
    p.add_argument(
        "--cutoff",
        type=date.fromisoformat,
        help="last day of the data (default the last event's day)",
    )
    p.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help="comma-separated models, each NAME or NAME:param=value[,param=value...] "
        f"(default {','.join(DEFAULT_MODELS)})",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the randomised PIT")
    p.add_argument(
        "--accept-month-dates",
        action="store_true",
        help="when every date is the 1st of a month (police.uk and other month-only "
        "extracts), score on 4-week periods anyway instead of refusing (recorded in run.json)",
    )
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_source_options(p)
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser(
        "monthly",
        help="run the monthly report (papermill) into reports/",
        description="Execute the report notebooks with papermill into "
        "OUT/YYYY-MM/ (executed notebooks, code-free HTML, index.html, "
        "manifest.json). A failed run exits 1, is kept under OUT/failed/ and "
        "never replaces the last good report of the month.",
    )
    p.add_argument("--month", required=True, help="run month, YYYY-MM (run date = its 1st)")
    p.add_argument("--data", type=Path, default=Path("data/sample"), help="data folder")
    p.add_argument("--out", type=Path, default=Path("reports"), help="reports folder")
    p.add_argument(
        "--notebooks",
        type=Path,
        default=Path("notebooks"),
        help="folder of the parameterised notebooks",
    )
    p.add_argument("--kernel", default="analysis", help="Jupyter kernel name")
    p.add_argument(
        "--offence-groups",
        type=Path,
        help="offence groups file (YAML) replacing the data folder's or the packaged one; "
        "one forecast page per group",
    )
    p.add_argument(
        "--offence-codes",
        type=Path,
        help="offence code table (CSV) replacing the data folder's or the packaged one",
    )
    p.add_argument(
        "--test-mode",
        action="store_true",
        help="small, fast settings; every output bannered TEST MODE - not for use",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_identifiers_option(p)
    p.set_defaults(func=cmd_monthly)

    add_harm_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    out = getattr(args, "out", None)
    problem = output_problem(out) if isinstance(out, Path) else None
    if problem:
        print(f"analysis {args.command}: error: {problem}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except (LoadError, ValueError, OSError) as exc:
        message = " ".join(str(exc).split("\n"))
        print(f"analysis {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
