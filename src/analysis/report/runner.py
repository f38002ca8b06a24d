"""The monthly run: execute the report notebooks with papermill and publish them.

A run validates the data folder once and builds its plan (:mod:`analysis.report.plan`),
executes every notebook into a staging folder with the plan as a papermill parameter,
renders code-free HTML, checks that no person identifier of the input (raw or keyed)
reached a public file, and writes ``index.html`` and ``manifest.json`` (which records the
plan whole). Only a run in which every step succeeded replaces ``reports/YYYY-MM/``;
a failed run is kept under ``reports/failed/`` for debugging and the last good report of the
month stays as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import papermill as pm
from tqdm.auto import tqdm

from analysis.report.html import index_page, notebook_to_html
from analysis.report.manifest import base_manifest, now
from analysis.report.plan import VALIDATED_DIR, MonthlyPlan, build_plan, month_start
from analysis.report.privacy import absolute, scan, sensitive_values, server_roots
from analysis.testmode import BANNER


@dataclass(frozen=True)
class Step:
    """One notebook execution of the monthly run."""

    notebook: str
    output: str
    title: str
    parameters: dict[str, object] = field(default_factory=dict)


def monthly_steps(plan: MonthlyPlan) -> tuple[Step, ...]:
    """The monthly run's notebooks, in order: one forecast page per offence group of the plan.

    The committee summary comes last: it reads what the others wrote.
    """
    forecasts = tuple(
        Step("02_crime_forecast", g.output, g.title, {"offence_group": g.name}) for g in plan.groups
    )
    return (
        Step("01_data_quality", "01_data_quality", "Data quality"),
        *forecasts,
        Step("03_forecast_backtest", "03_forecast_backtest", "Forecasts against baselines"),
        Step("04_harm_escalation", "04_harm_escalation", "Harm escalation"),
        Step("05_committee_summary", "05_committee_summary", "Ethics committee summary"),
    )


#: File in a run's staging folder naming the process that owns it.
RUN_MARKER = ".run.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def take_over_abandoned(out_root: Path) -> list[str]:
    """Move the staging folders of runs that died to ``failed/``; finish cut publications.

    A run killed halfway, or a machine that stopped, leaves its staging folder. A staging
    folder belongs to a live run when its :data:`RUN_MARKER` names a process of this host
    that still runs; any other (no marker, a dead process) is abandoned: it holds
    restricted rows, so it is moved under ``failed/`` (ignored by git, like every folder a
    run writes restricted data to) with a manifest saying so. A ``.previous-*`` folder is
    the month a publication was replacing: kept if the month is missing, else removed.

    Returns
    -------
    list of str
        The folders moved, as named under ``failed/``.
    """
    moved = []
    host = socket.gethostname()
    for folder in sorted(out_root.glob(".staging-*")):
        marker = folder / RUN_MARKER
        try:
            owner = json.loads(marker.read_text())
        except (OSError, ValueError):
            owner = {}
        if owner.get("host") == host and _alive(int(owner.get("pid", -1))):
            continue
        name = folder.name.removeprefix(".staging-") + "-abandoned"
        dest = out_root / "failed" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(dest)
        record = dest / "manifest.json"
        manifest = {}
        if record.exists():
            try:
                manifest = json.loads(record.read_text())
            except ValueError:
                manifest = {}
        manifest["status"] = "abandoned"
        manifest["abandoned"] = (
            f"its process ({owner.get('pid', 'unknown')}) had stopped; moved {now()}"
        )
        record.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        moved.append(name)
    for folder in sorted(out_root.glob(".previous-*")):
        month = folder.name.removeprefix(".previous-")[:7]
        final = out_root / month
        if final.exists():
            shutil.rmtree(folder)
        else:
            folder.rename(final)
    return moved


#: The notice on every page of a run whose data folder holds synthetic data.
SYNTHETIC_NOTICE = (
    "Synthetic data: real Birmingham geography and population, invented crimes and people. "
    "Not for operational use."
)


@dataclass
class RunResult:
    """Outcome of a monthly run."""

    ok: bool
    folder: Path
    manifest: dict[str, object]


def _named(path: str | Path | None, base: Path) -> str | None:
    """A path given on the command line, as the manifest records it (relative to ``base``)."""
    return None if path is None else os.path.relpath(Path(path).resolve(), base)


def _forget_paths(notebook: Path, roots: dict[str, str]) -> None:
    """Write an executed notebook's server paths relative to the run's folder.

    Papermill records the input and output paths in the metadata, and a warning printed by
    a library names its file; each ``root`` (an absolute folder) becomes its relative form.
    """
    nb = nbformat.read(notebook, as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if key in meta:
            meta[key] = Path(str(meta[key])).name

    def relative(text: str) -> str:
        for root, rel in roots.items():
            text = absolute(root).sub(lambda _m, rel=rel: rel, text)
        return text

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = relative(str(output["text"]))
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") and isinstance(value, str):
                    output["data"][mime] = relative(value)
    nbformat.write(nb, notebook)


def _notices(manifest: dict[str, object]) -> tuple[str, ...]:
    """The notices every page of the run carries (that the data are synthetic)."""
    data = (manifest.get("plan") or {}).get("data") or {}
    return (SYNTHETIC_NOTICE,) if data.get("synthetic") else ()


def _write_records(
    stage: Path, month: str, manifest: dict[str, object], test_mode: bool, *, status: str
) -> None:
    manifest["finished"] = now()
    manifest["status"] = status
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    steps = list(manifest.get("steps") or [])
    page = index_page(
        month,
        steps,
        manifest,
        banner=BANNER if test_mode else None,
        notices=_notices(manifest),
    )
    (stage / "index.html").write_text(page)


def _fail(
    stage: Path, out_root: Path, month: str, stamp: str, manifest: dict, test_mode: bool
) -> RunResult:
    """Record a failed run and keep it under ``failed/`` (the last good month stays)."""
    _write_records(stage, month, manifest, test_mode, status="failed")
    (stage / RUN_MARKER).unlink(missing_ok=True)
    dest = out_root / "failed" / f"{month}-{stamp}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage.rename(dest)
    return RunResult(ok=False, folder=dest, manifest=manifest)


def run_monthly(
    month: str,
    *,
    data_dir: str | Path = "data/sample",
    out_root: str | Path = "reports",
    notebooks_dir: str | Path = "notebooks",
    test_mode: bool = False,
    kernel: str = "analysis",
    steps: tuple[Step, ...] | Callable[[MonthlyPlan], tuple[Step, ...]] | None = None,
    progress: bool = True,
    offence_groups: str | Path | None = None,
    offence_codes: str | Path | None = None,
    pseudonym_key: bytes | None = None,
    identifiers_already_pseudonymised: bool = False,
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
    steps : tuple of Step, or a function of the plan returning them, optional
        Notebooks to run (default :func:`monthly_steps` of the plan).
    progress : bool
        Show a progress bar.
    offence_groups, offence_codes : path, optional
        Files replacing the data folder's (or the packaged) offence groups and code table.
    pseudonym_key : bytes, optional
        Key for person identifiers (default ``ANALYSIS_PSEUDONYM_KEY``); required when the
        data folder has charges, unless it is synthetic or
        ``identifiers_already_pseudonymised`` (recorded in the manifest and stated on the
        committee summary).
    identifiers_already_pseudonymised : bool
        The user states that the extract's identifiers are pseudonyms already.

    Returns
    -------
    RunResult
    """
    month_start(month)  # validates YYYY-MM
    data_dir, out_root = Path(data_dir).resolve(), Path(out_root).resolve()
    notebooks_dir = Path(notebooks_dir).resolve()
    project_dir = notebooks_dir.parent
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    stage = out_root / f".staging-{month}-{stamp}"
    stage.mkdir(parents=True)
    (stage / RUN_MARKER).write_text(
        json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": now()}) + "\n"
    )
    parameters = {
        "month": month,
        "data_dir": os.path.relpath(data_dir, project_dir),
        "test_mode": test_mode,
        "kernel": kernel,
        "offence_groups": _named(offence_groups, project_dir),
        "offence_codes": _named(offence_codes, project_dir),
        "identifiers_already_pseudonymised": identifiers_already_pseudonymised,
    }
    manifest = base_manifest(parameters, data_dir, root=Path(__file__).parent)
    try:
        abandoned = take_over_abandoned(out_root)
        if abandoned:
            manifest["abandoned_runs_moved_to_failed"] = abandoned
        try:
            plan, data = build_plan(
                month,
                data_dir,
                stage,
                project_dir=project_dir,
                offence_groups=offence_groups,
                offence_codes=offence_codes,
                test_mode=test_mode,
                pseudonym_key=pseudonym_key,
                identifiers_already_pseudonymised=identifiers_already_pseudonymised,
            )
        except Exception as exc:  # the plan could not be made: the run fails, and says why
            manifest["plan"] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            manifest["steps"] = []
            return _fail(stage, out_root, month, stamp, manifest, test_mode)
        # what no public file may hold: person identifiers as published (keyed when a key was
        # set) and as they stand in the input, crime references, crimes' exact coordinates and
        # the server's folders
        # longest first, so that a folder inside another is written relative to itself
        roots = server_roots(
            {str(p): os.path.relpath(p, stage) for p in {stage, data_dir, project_dir, out_root}}
        )
        sensitive = sensitive_values(data, list(roots))
        if steps is None:
            steps = monthly_steps(plan)
        elif callable(steps):
            steps = steps(plan)
        # every path a notebook (and so the published month) sees is relative to the run's
        # folder, where the notebooks run: a reader never sees a server path
        local = plan.relative_to(stage)
        common = {
            "month": month,
            "data_dir": local.data["folder"],
            "run_dir": ".",
            "project_dir": local.project_dir,
            "test_mode": test_mode,
            "plan": local.to_dict(),
        }
        manifest["plan"] = local.to_dict()
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
                "parameters": {k: v for k, v in params.items() if k != "plan"},
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
                _forget_paths(stage / f"{step.output}.ipynb", roots)
                page = notebook_to_html(
                    stage / f"{step.output}.ipynb",
                    title=step.title,
                    banner=BANNER if test_mode else None,
                    notices=_notices(manifest),
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
        check = scan(public, sensitive, stage)
        check["identifiers_pseudonymised_on_load"] = data.pseudonymised_on_load
        manifest["privacy_check"] = check
        if check["status"] != "ok":
            failed = True
        manifest["steps"] = records
        if failed:
            return _fail(stage, out_root, month, stamp, manifest, test_mode)
        _write_records(stage, month, manifest, test_mode, status="ok")
        (stage / RUN_MARKER).unlink(missing_ok=True)
        # the validated inputs served the run's notebooks; a published month keeps none
        shutil.rmtree(stage / "restricted" / VALIDATED_DIR, ignore_errors=True)
        final = out_root / month
        if final.exists():
            old = out_root / f".previous-{month}-{stamp}"
            final.rename(old)
            stage.rename(final)
            shutil.rmtree(old)
        else:
            stage.rename(final)
        return RunResult(ok=True, folder=final, manifest=manifest)
    except Exception as exc:  # the runner itself failed: kept under failed/ with its manifest
        manifest["runner_error"] = f"{type(exc).__name__}: {str(exc)[:2000]}"
        manifest.setdefault("steps", [])
        manifest.setdefault("plan", {"status": "failed", "error": manifest["runner_error"]})
        if stage.exists():
            return _fail(stage, out_root, month, stamp, manifest, test_mode)
        raise
