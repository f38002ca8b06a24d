"""The monthly plan: every setting of a run, decided once from the command line and the data.

The runner builds one :class:`MonthlyPlan` before any notebook runs: the run dates, each
offence group's definition, cell size, model and the leaderboard evidence the model was
chosen on, the harm settings and the test mode. Each notebook receives the plan as a
papermill parameter (a JSON-ready dict) and calls the package with it; the manifest records
it whole. Nothing downstream re-derives a date or re-reads the data folder: the folder is
validated once (:mod:`analysis.data.folder`) and its accepted frames are opened by path.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from analysis.data.folder import DataFolder, FolderData, open_validated
from analysis.data.identifiers import identifier_state
from analysis.data.offences import OffenceGroup
from analysis.data.options import LoadOptions
from analysis.data.pseudonymise import key_from_env
from analysis.data.reading import file_sha256
from analysis.data.serial import jsonable
from analysis.forecast.registry import model_choice
from analysis.space import PeriodCalendar
from analysis.testmode import TestMode

#: Folder under the run's restricted folder holding the validated inputs.
VALIDATED_DIR = "validated"
#: Leaderboards of real data shown beside the offence groups' own (folders under
#: ``benchmarks/leaderboards``).
REFERENCE_BOARDS = ("cincinnati_burglary", "austin_assaults")


@dataclass(frozen=True)
class RunDates:
    """The dates of a monthly run.

    Attributes
    ----------
    month : str
        ``YYYY-MM``; its first day is the run date.
    run_date : date
        First day of the month.
    as_of : date
        Dates after this day are in the future (the day before the run date).
    cutoff : date
        Last day of the data: ``as_of``, or the last recorded day of the accepted crimes if
        earlier.
    data_start : date
        First recorded day of the accepted crimes.
    target_period : int
        The calendar period forecast: the first starting on or after the run date.
    target_start, target_end : date
        Its first and last day.
    period_days : int
        Length of a period.
    """

    month: str
    run_date: date
    as_of: date
    cutoff: date
    data_start: date
    target_period: int
    target_start: date
    target_end: date
    period_days: int


def run_dates(month: str, crimes: pd.DataFrame, calendar: PeriodCalendar) -> RunDates:
    """Derive the run's dates from the month and the accepted crimes."""
    run_date = month_start(month)
    as_of = run_date - timedelta(days=1)
    recorded = pd.to_datetime(crimes["recorded_date"])
    if recorded.empty:
        raise ValueError("the crime extract has no accepted rows: nothing to forecast")
    target = int(calendar.next_period(run_date))
    return RunDates(
        month=month,
        run_date=run_date,
        as_of=as_of,
        cutoff=min(as_of, recorded.max().date()),
        data_start=recorded.min().date(),
        target_period=target,
        target_start=calendar.start(target).date(),
        target_end=calendar.last_day(target).date(),
        period_days=calendar.days,
    )


def month_start(month: str) -> date:
    """The first day of ``YYYY-MM`` (a clear error for anything else)."""
    try:
        return pd.Period(month, freq="M").start_time.date()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"--month must be YYYY-MM, got {month!r}") from exc


@dataclass(frozen=True)
class GroupPlan:
    """One offence group's forecast: what it counts, on what grid, with which model, why.

    Attributes
    ----------
    name, label, description, source : str
        The group as defined in the offence-groups file.
    rules : list of dict
        Its definition (codes, families, flags).
    cell_area_km2 : float
        Grid cell area.
    model : str
        Forecaster spec as run (test mode applied).
    model_chosen : str
        The spec the backtests chose (before test mode).
    evidence : dict
        ``leaderboard`` (path under the project), ``summary_sha256`` (None when the board
        is not found), ``reason`` (one sentence) and ``oracle`` (path under the project of
        the oracle scored on the same origins, or None).
    output : str
        Name of the group's forecast page.
    """

    name: str
    label: str
    description: str
    source: str
    rules: list[dict[str, object]]
    cell_area_km2: float
    model: str
    model_chosen: str
    evidence: dict[str, object]
    output: str

    @property
    def title(self) -> str:
        """The page title (distinct per group)."""
        return f"Forecast: {self.label}"


@dataclass(frozen=True)
class HarmPlan:
    """The harm-escalation step's settings."""

    reference_date: date
    capacity: int = 100
    n_boot: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class ForecastSettings:
    """Settings shared by every group's forecast."""

    draws: int = 4000
    seed: int = 20261124
    top_n: int = 10


@dataclass(frozen=True)
class MonthlyPlan:
    """Everything a monthly run decided before its first notebook.

    Attributes
    ----------
    dates : RunDates
    groups : tuple of GroupPlan
        One forecast page each, in order.
    harm : HarmPlan
    forecast : ForecastSettings
    test_mode : bool
        Small, fast, bannered settings (:class:`analysis.testmode.TestMode`).
    data : dict
        The data folder: ``folder``, ``files`` (by role), ``hashes`` (SHA-256 of every file
        read, the groups and code tables included), ``pseudonymised_on_load``, ``synthetic``,
        ``deployment`` (the force's facts for the committee summary).
    inputs : str
        The validated frames (:func:`analysis.data.folder.open_validated`).
    project_dir : str
        Repository root (saved leaderboards live under ``benchmarks/``).
    leaderboards : tuple of str
        Leaderboard folders shown on the backtest page (paths under ``project_dir``).
    """

    dates: RunDates
    groups: tuple[GroupPlan, ...]
    harm: HarmPlan
    forecast: ForecastSettings
    test_mode: bool
    data: dict[str, object]
    inputs: str
    project_dir: str
    leaderboards: tuple[str, ...] = field(default=())

    @property
    def month(self) -> str:
        """The run month."""
        return self.dates.month

    @property
    def testing(self) -> TestMode:
        """The test-mode policy of this run."""
        return TestMode(self.test_mode)

    def group(self, name: str) -> GroupPlan:
        """The plan of one offence group."""
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(f"offence group {name!r} is not in this run's plan")

    def open_inputs(self) -> FolderData:
        """The validated data of the run.

        During the run, the frames the runner validated are opened, never re-validated. A
        published month keeps none (they are person-level), so re-running its executed
        notebooks validates the recorded folder again under the recorded rules and the
        current ``ANALYSIS_PSEUDONYM_KEY``; the plan's file hashes say whether the data are
        still the ones the month was made from.
        """
        if Path(self.inputs).exists():
            return open_validated(self.inputs)
        folder = Path(str(self.data["folder"]))
        files = dict(self.data.get("files") or {})
        given = {
            role: Path(str(files[role]))
            for role in ("offence_groups", "offence_codes")
            if files.get(role) and Path(str(files[role])).is_absolute()
        }
        located = DataFolder.locate(folder, **given)
        data = located.load(validation_options(self.month, key_from_env()))
        if data.hashes != self.data.get("hashes"):
            raise ValueError(
                f"{folder}: the data folder has changed since the month was run "
                "(its file hashes differ from the plan's)"
            )
        return data

    def relative_to(self, base: str | Path) -> MonthlyPlan:
        """The same plan with its paths relative to ``base`` (the run's folder).

        A published month names no server path: its notebooks run in the run's folder, and
        the staging folder and the published month sit at the same depth, so the relative
        paths hold in both.
        """

        def rel(path: object) -> str:
            return os.path.relpath(Path(str(path)).resolve(), Path(base).resolve())

        files = {
            role: (rel(f) if f is not None and Path(str(f)).is_absolute() else f)
            for role, f in dict(self.data.get("files") or {}).items()
        }
        data = {**self.data, "folder": rel(self.data["folder"]), "files": files}
        return replace(
            self,
            data=data,
            inputs=rel(self.inputs),
            project_dir=rel(self.project_dir),
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (dates as ISO strings), for papermill and the manifest."""
        return jsonable(self)

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> MonthlyPlan:
        """Rebuild a plan from :meth:`to_dict`'s output."""
        dates = {
            k: (date.fromisoformat(v) if isinstance(v, str) and k != "month" else v)
            for k, v in dict(d["dates"]).items()
        }
        harm = dict(d["harm"])
        harm["reference_date"] = date.fromisoformat(str(harm["reference_date"]))
        return cls(
            dates=RunDates(**dates),
            groups=tuple(GroupPlan(**g) for g in d["groups"]),
            harm=HarmPlan(**harm),
            forecast=ForecastSettings(**dict(d["forecast"])),
            test_mode=bool(d["test_mode"]),
            data=dict(d["data"]),
            inputs=str(d["inputs"]),
            project_dir=str(d["project_dir"]),
            leaderboards=tuple(d.get("leaderboards", ())),
        )


def _rules(group: OffenceGroup) -> list[dict[str, object]]:
    out = []
    for r in group.rules:
        rule: dict[str, object] = {}
        if r.codes:
            rule["codes"] = sorted(r.codes)
        if r.families:
            rule["families"] = sorted(r.families)
        if r.knife_selected_only:
            rule["knife_selected_only"] = True
        if r.flags:
            rule["flags"] = dict(r.flags)
        out.append(rule)
    return out


def group_plan(group: OffenceGroup, project_dir: Path, testing: TestMode) -> GroupPlan:
    """Plan one group's forecast: its model and the evidence it was chosen on."""
    choice = model_choice(group.name)
    board = project_dir / choice.leaderboard / "summary.csv" if choice.leaderboard else None
    evidence = {
        "leaderboard": choice.leaderboard,
        "summary_sha256": file_sha256(board) if board is not None and board.exists() else None,
        "reason": choice.reason,
        "oracle": choice.oracle,
    }
    return GroupPlan(
        name=group.name,
        label=group.label,
        description=group.description,
        source=group.source,
        rules=_rules(group),
        cell_area_km2=group.default_cell_area_km2,
        model=testing.model_spec(choice.model),
        model_chosen=choice.model,
        evidence=evidence,
        output=f"02_forecast_{group.name}",
    )


def validation_options(month: str, key: bytes | None = None) -> LoadOptions:
    """The one set of load options of a run: dates after the day before the run are future."""
    return LoadOptions(as_of=month_start(month) - timedelta(days=1), pseudonym_key=key)


def build_plan(
    month: str,
    data_dir: str | Path,
    run_dir: str | Path,
    *,
    project_dir: str | Path = ".",
    offence_groups: str | Path | None = None,
    offence_codes: str | Path | None = None,
    test_mode: bool = False,
    pseudonym_key: bytes | None = None,
    capacity: int = 100,
    calendar: PeriodCalendar | None = None,
    identifiers_already_pseudonymised: bool = False,
) -> tuple[MonthlyPlan, FolderData]:
    """Validate the data folder once and plan the month.

    Parameters
    ----------
    month : str
        ``YYYY-MM``.
    data_dir : str or Path
        The data folder (:mod:`analysis.data.folder`).
    run_dir : str or Path
        The run's folder; the validated inputs go to its ``restricted/validated/``.
    project_dir : str or Path
        Repository root (leaderboards).
    offence_groups, offence_codes : path, optional
        Files replacing the folder's (or the packaged) groups and code table.
    test_mode : bool
        Small, fast, bannered settings.
    pseudonym_key : bytes, optional
        Key for the person identifiers (default ``ANALYSIS_PSEUDONYM_KEY``). A folder with
        charges needs one, unless its identifiers are pseudonyms already
        (``identifiers_already_pseudonymised``) or it is synthetic
        (:func:`analysis.data.identifiers.identifier_state`; the plan records which).
    capacity : int
        Offender managers' caseload (the harm model's ``k``).
    calendar : PeriodCalendar, optional
        Period calendar (default 28-day periods).
    identifiers_already_pseudonymised : bool
        The user states that the extract's identifiers are pseudonyms already.

    Returns
    -------
    plan : MonthlyPlan
    data : FolderData
        The validated data (also saved where ``plan.inputs`` says).
    """
    calendar = calendar or PeriodCalendar()
    testing = TestMode(test_mode)
    key = pseudonym_key if pseudonym_key is not None else key_from_env()
    folder = DataFolder.locate(data_dir, offence_groups=offence_groups, offence_codes=offence_codes)
    identifiers = identifier_state(
        reads_people=folder.has("charges"),
        key=key,
        already_pseudonymised=identifiers_already_pseudonymised,
        synthetic=folder.has("synthetic"),
    )
    data = folder.load(validation_options(month, key))
    dates = run_dates(month, data.crimes.accepted, calendar)
    project = Path(project_dir)
    groups = tuple(group_plan(g, project, testing) for g in data.offence_groups.values())
    inputs = data.save(Path(run_dir) / "restricted" / VALIDATED_DIR)
    boards = [g.evidence["leaderboard"] for g in groups if g.evidence["leaderboard"]]
    boards += [f"benchmarks/leaderboards/{b}" for b in REFERENCE_BOARDS]
    forecast = ForecastSettings()
    plan = MonthlyPlan(
        dates=dates,
        groups=groups,
        harm=HarmPlan(
            reference_date=dates.run_date,
            capacity=capacity,
            n_boot=testing.n_boot(1000),
        ),
        forecast=dataclasses.replace(forecast, draws=testing.draws(forecast.draws)),
        test_mode=test_mode,
        data={
            "folder": str(folder.root),
            "files": folder.described(),
            "hashes": data.hashes,
            "pseudonymised_on_load": data.pseudonymised_on_load,
            "identifiers": identifiers.value,
            "synthetic": data.synthetic,
            "deployment": data.deployment,
            "load_options": {
                "as_of": data.options.as_of.isoformat() if data.options.as_of else None,
                "duplicate_ids": str(data.options.duplicate_ids),
                "exact_duplicates": data.options.exact_duplicates,
            },
        },
        inputs=str(inputs),
        project_dir=str(project),
        leaderboards=tuple(dict.fromkeys(boards)),
    )
    return plan, data


def resolve_plan(
    plan: dict[str, object] | None,
    *,
    month: str,
    data_dir: str | Path,
    run_dir: str | Path,
    project_dir: str | Path,
    test_mode: bool,
) -> MonthlyPlan:
    """The plan a notebook works with: the runner's, or one built here for a notebook run alone.

    Run by the monthly runner, a notebook receives the plan as a papermill parameter; run by
    hand in JupyterLab it has none, and this validates the data folder and plans the month
    from the notebook's own parameters.
    """
    if plan is not None:
        return MonthlyPlan.from_dict(plan)
    built, _ = build_plan(month, data_dir, run_dir, project_dir=project_dir, test_mode=test_mode)
    return built
