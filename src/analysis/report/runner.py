"""The monthly run: execute the report notebooks with papermill and publish them.

A run executes every notebook into a staging folder, renders code-free HTML, checks that no
pseudonymised identifier reached a committee page, and writes ``index.html`` and
``manifest.json``. Only a run in which every step succeeded replaces ``reports/YYYY-MM/``;
a failed run is kept under ``reports/failed/`` for debugging and the last good report of the
month stays as it was.
"""

from __future__ import annotations

import html
import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import papermill as pm
from tqdm.auto import tqdm

from analysis.report.disclosure import find_identifiers
from analysis.report.html import notebook_to_html
from analysis.report.manifest import base_manifest, now
from analysis.report.views import TEST_BANNER


@dataclass(frozen=True)
class Step:
    """One notebook execution of the monthly run."""

    notebook: str
    output: str
    title: str
    parameters: dict[str, object] = field(default_factory=dict)


#: The monthly run, in order (the committee summary reads what the others wrote).
STEPS = (
    Step("01_data_quality", "01_data_quality", "Data quality"),
    Step(
        "02_crime_forecast",
        "02_forecast_knife_crime",
        "Forecast: knife crime with injury",
        {"offence_group": "knife_crime_with_injury"},
    ),
    Step(
        "02_crime_forecast",
        "02_forecast_serious_violence",
        "Forecast: serious violence",
        {"offence_group": "serious_violence"},
    ),
    Step("03_forecast_backtest", "03_forecast_backtest", "Forecasts against baselines"),
    Step("04_harm_escalation", "04_harm_escalation", "Harm escalation"),
    Step("05_committee_summary", "05_committee_summary", "Ethics committee summary"),
)


@dataclass
class RunResult:
    """Outcome of a monthly run."""

    ok: bool
    folder: Path
    manifest: dict[str, object]


def _index_html(month: str, steps: list[dict[str, object]], manifest: dict, test_mode: bool) -> str:
    rows = []
    for s in steps:
        link = (
            f'<a href="{html.escape(str(s["html"]))}">{html.escape(str(s["title"]))}</a>'
            if s.get("html")
            else html.escape(str(s["title"]))
        )
        rows.append(
            f"<tr><td>{link}</td><td>{html.escape(str(s['status']))}</td>"
            f"<td>{float(s.get('seconds') or 0):.1f}</td></tr>"
        )
    banner = f'<p class="banner">{TEST_BANNER}</p>' if test_mode else ""
    code = manifest.get("code", {})
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Monthly report {month}</title><style>body{{font-family:system-ui,Arial,"
        "sans-serif;max-width:50rem;margin:2rem auto}}td,th{{border:1px solid #bbb;padding:"
        ".3rem .6rem}}table{{border-collapse:collapse}}.banner{{background:#b00020;color:#fff;"
        "padding:.5rem;font-weight:700;text-align:center}}</style></head><body>"
        f"{banner}<h1>Monthly report {month}</h1><table><tr><th>report</th><th>status</th>"
        f"<th>seconds</th></tr>{''.join(rows)}</table><p>Code {code.get('commit', '')} "
        f"(analysis {code.get('analysis_version', '')}); started {manifest.get('started')}, "
        f"finished {manifest.get('finished')}. Parameters, data hashes and package versions: "
        '<a href="manifest.json">manifest.json</a>.</p></body></html>\n'
    )


def _known_ids(data_dir: Path) -> set[str]:
    charges = data_dir / "charges.csv.gz"
    if not charges.exists():
        return set()
    return set(pd.read_csv(charges, usecols=["person_id"], dtype=str)["person_id"].dropna())


def run_monthly(
    month: str,
    *,
    data_dir: str | Path = "data/sample",
    out_root: str | Path = "reports",
    notebooks_dir: str | Path = "notebooks",
    test_mode: bool = False,
    kernel: str = "analysis",
    steps: tuple[Step, ...] | None = None,
    progress: bool = True,
) -> RunResult:
    """Execute the monthly report for ``month`` (``YYYY-MM``).

    Parameters
    ----------
    month : str
        Month of the run; its first day is the run date.
    data_dir : str or Path
        Data folder (``crimes.csv.gz``, ``charges.csv.gz``, ``study_area.geojson``, ...).
    out_root : str or Path
        Reports folder; the run publishes ``out_root/month/``.
    notebooks_dir : str or Path
        Folder of the parameterised notebooks.
    test_mode : bool
        Small, fast settings; every output carries the test-mode banner.
    kernel : str
        Jupyter kernel name (``make setup`` registers ``analysis``).
    steps : tuple of Step, optional
        Notebooks to run (default :data:`STEPS`).
    progress : bool
        Show a progress bar.

    Returns
    -------
    RunResult
    """
    pd.Period(month, freq="M")  # validates YYYY-MM
    steps = STEPS if steps is None else steps
    data_dir, out_root = Path(data_dir).resolve(), Path(out_root).resolve()
    notebooks_dir = Path(notebooks_dir).resolve()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    stage = out_root / f".staging-{month}-{stamp}"
    stage.mkdir(parents=True)
    common = {
        "month": month,
        "data_dir": str(data_dir),
        "run_dir": str(stage),
        "project_dir": str(notebooks_dir.parent),
        "test_mode": test_mode,
    }
    manifest = base_manifest(
        {"month": month, "data_dir": str(data_dir), "test_mode": test_mode, "kernel": kernel},
        data_dir,
    )
    records: list[dict[str, object]] = []
    failed = False
    bar = tqdm(steps, desc=f"monthly {month}", disable=not progress)
    for step in bar:
        bar.set_postfix_str(step.output)
        params = {**common, **step.parameters}
        record: dict[str, object] = {
            "notebook": f"{step.notebook}.ipynb",
            "title": step.title,
            "output": f"{step.output}.ipynb",
            "parameters": params,
        }
        if failed:
            record["status"] = "not run (an earlier step failed)"
            records.append(record)
            continue
        start = time.perf_counter()
        record["started"] = now()
        try:
            pm.execute_notebook(
                str(notebooks_dir / f"{step.notebook}.ipynb"),
                str(stage / f"{step.output}.ipynb"),
                parameters=params,
                kernel_name=kernel,
                progress_bar=False,
                cwd=str(stage),
            )
            page = notebook_to_html(
                stage / f"{step.output}.ipynb",
                title=step.title,
                banner=TEST_BANNER if test_mode else None,
                footer=f"Monthly report {month}; see manifest.json.",
            )
            (stage / f"{step.output}.html").write_text(page)
            record["status"] = "ok"
            record["html"] = f"{step.output}.html"
        except Exception as exc:
            failed = True
            record["status"] = "failed"
            record["error"] = f"{type(exc).__name__}: {str(exc)[:2000]}"
        record["seconds"] = round(time.perf_counter() - start, 2)
        record["finished"] = now()
        records.append(record)
        print(f"  {step.output}: {record['status']} ({record['seconds']} s)")

    public = [p for p in stage.rglob("*") if p.is_file() and "restricted" not in p.parts]
    leaks = find_identifiers(public, _known_ids(data_dir))
    if leaks:
        failed = True
        manifest["privacy_check"] = {
            "status": "failed",
            "found": len(leaks),
            "files": sorted({h.split(": ")[0] for h in leaks}),
        }
    else:
        manifest["privacy_check"] = {"status": "ok", "scanned_files": len(public)}
    manifest["steps"] = records
    manifest["finished"] = now()
    manifest["status"] = "failed" if failed else "ok"
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    (stage / "index.html").write_text(_index_html(month, records, manifest, test_mode))

    if failed:
        dest = out_root / "failed" / f"{month}-{stamp}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        stage.rename(dest)
        return RunResult(ok=False, folder=dest, manifest=manifest)
    final = out_root / month
    if final.exists():
        old = out_root / f".previous-{month}-{stamp}"
        final.rename(old)
        stage.rename(final)
        shutil.rmtree(old)
    else:
        stage.rename(final)
    return RunResult(ok=True, folder=final, manifest=manifest)
