"""The backtest page: every leaderboard the plan cites, as tables and figures for people.

Notebook 03 calls these. Each board is a captioned table naming its data and held-out
periods, with the model in use marked, and figures redrawn from the board's saved CSVs
(``hit_rate_curves.csv``, ``metrics.csv``, ``pit_histogram.csv``) in colours safe for
colour-blind readers, each series with its own marker and line style. A glossary defines
every score and every model on the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from matplotlib.ticker import PercentFormatter
from pandas.io.formats.style import Styler

from analysis.forecast.output import Leaderboard
from analysis.report.figures import DescribedFigure, figure
from analysis.report.palette import OKABE_ITO, series_style
from analysis.report.plan import MonthlyPlan
from analysis.report.tables import MISSING, definitions, styled
from analysis.space import PeriodCalendar

#: The oracle's model name: the simulation's true means, scored as Poisson forecasts.
ORACLE = "ORACLE_true_mean_poisson"

#: Leaderboard columns the page shows, with their headings (what is better, in brackets).
COLUMNS = {
    "model": "Model",
    "in_use": "In use for",
    "n_origins": "Held-out periods scored",
    "crps": "CRPS (lower is better)",
    "crps_se": "CRPS standard error",
    "log_score": "Log score (lower is better)",
    "mae": "MAE (lower is better)",
    "hit_rate_5pct": "Hit rate at 5% (higher is better)",
    "pai_5pct": "PAI at 5% (higher is better)",
    "pei_star_5pct": "PEI* at 5% (higher is better, best 1)",
    "coverage_90": "90% interval coverage (90% or a little above)",
    "fit_seconds": "Fit time (seconds)",
    "note": "Note",
}


def _number(v: object) -> float | None:
    """``v`` as a finite float, or None for a missing value."""
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _seconds(v: object) -> str:
    x = _number(v)
    if x is None:
        return MISSING
    return f"{x:,.0f}" if x >= 100 else f"{x:.2f}"


def _fixed(digits: int, percent: bool = False) -> Callable[[object], str]:
    def fmt(v: object) -> str:
        x = _number(v)
        if x is None:
            return MISSING
        return f"{x:.{digits}%}" if percent else f"{x:.{digits}f}"

    return fmt


#: Formats of the page's numbers (CRPS and log score to four decimals, as the committee's
#: summary rounds them).
FORMATS = {
    "n_origins": lambda v: f"{int(v)}",
    "crps": _fixed(4),
    "crps_se": _fixed(4),
    "log_score": _fixed(4),
    "mae": _fixed(3),
    "hit_rate_5pct": _fixed(1, percent=True),
    "pai_5pct": _fixed(2),
    "pei_star_5pct": _fixed(3),
    "coverage_90": _fixed(1, percent=True),
    "fit_seconds": _seconds,
}

#: What each score means (the page's glossary).
SCORES = {
    "CRPS": "Continuous ranked probability score: how far the forecast distribution of a "
    "cell's count is from the count that happened, in offences (the mean over cells and "
    "held-out periods). It rewards forecasts that are both close and appropriately sure. "
    "Lower is better.",
    "Log score": "Minus the log of the probability the forecast gave to the count that "
    "happened (mean over cells and periods). It punishes a confident miss hard. Lower is "
    "better.",
    "MAE": "Mean absolute error of the forecast mean against the count, in offences per "
    "cell. Lower is better.",
    "Hit rate": "The share of next period's offences that fall in the cells with the "
    "highest forecast density, when those cells make up a given share of the area (5% in "
    "the tables). Higher is better.",
    "PAI": "Predictive accuracy index: hit rate divided by the share of area searched (a "
    "PAI of 4 at 5% means four times the offences that searching at random would find). "
    "Higher is better.",
    "PEI*": "Predictive efficiency index: offences captured in the chosen 5% of the area "
    "divided by the most that any choice of 5% could have captured, had the counts been "
    "known. 1 is the best possible; higher is better.",
    "PIT": "Randomised probability integral transform: where each count fell within its "
    "forecast distribution, between 0 and 1. For a calibrated forecast the values are "
    "uniform, so the histogram is flat at 1; a U shape means over-confident forecasts, a "
    "hump under-confident ones. p is the chance of a histogram at least this uneven from a "
    "calibrated forecast.",
    "90% interval coverage": "The share of held-out counts inside the forecast's central "
    "90% interval. For whole-number counts the interval covers at least 90% by "
    "construction, so a little above 90% is expected; well below 90% means too narrow.",
    "Standard error": "Of a score's mean over the held-out periods; two models whose "
    "scores differ by less than about two standard errors are hard to tell apart.",
    "Held-out period": "A 4-week period (an origin) each model forecast using only the "
    "data before it; every model is scored on the same held-out periods and cells.",
}

#: What each model is (``docs/forecast-evaluation.md``, ``docs/bayesian-models.md``).
MODELS = {
    "last": "Naive forecast: next period's count in a cell equals last period's.",
    "mean4": "Mean of the cell's last 4 periods.",
    "mean13": "Mean of the cell's last 13 periods (a year of 4-week periods).",
    "ewma": "Exponentially weighted mean of the cell's past counts (weight 0.05 on the "
    "latest period, less on each earlier one).",
    "seasonal": "Mean of the same period of the year in up to 3 earlier years.",
    "ewma_rescaled": "Each cell's share of the exponentially weighted mean, times a forecast "
    "of the force-wide total (a Poisson model of the total with a trend and the seasons).",
    "kde": "Retrospective hotspot map: a kernel density (radius 1 km) of the last year's "
    "offences, spread over the forecast force-wide total.",
    "promap": "Prospective hotspot map (Bowers, Johnson and Pease 2004): recent nearby "
    "offences (last 8 weeks, within 1 km) weigh more, spread over the forecast total.",
    "etas": "Self-exciting point process (Mohler et al. 2015): a background rate per cell "
    "plus a short-lived rise after each offence in the same cell.",
    "nbreg": "Negative binomial regression on the cell's recent counts, its count a year "
    "before, its neighbours' recent counts, the season and its area.",
    "bayes": "Bayesian spatio-temporal model (PyMC): a count model with a smooth spatial "
    "pattern, a trend, the seasons and a space-time interaction, fitted by MCMC; its "
    "forecast is the posterior predictive distribution (docs/bayesian-models.md).",
    ORACLE: "Oracle: the true expected counts of the simulation, scored as Poisson "
    "forecasts. It exists only for synthetic data, where the truth is known: no model can "
    "expect to beat it, and the gap to it is the skill left to find.",
}


def _base(model: str) -> str:
    """A model's name without its parameters (``bayes:window=26`` -> ``bayes``)."""
    return model.split(":", 1)[0].split(" ", 1)[0]


def _in_use(board: Leaderboard, plan: MonthlyPlan) -> dict[str, list[str]]:
    """Model name -> the offence groups whose forecast uses it, chosen on this board."""
    out: dict[str, list[str]] = {}
    for g in plan.groups:
        cited = g.evidence.get("leaderboard")
        if cited and Path(str(cited)).name == board.name:
            out.setdefault(g.model_chosen, []).append(g.label)
    return out


def _field(run: dict[str, object], key: str) -> dict[str, object]:
    value = run.get(key)
    return value if isinstance(value, dict) else {}


def _arg(run: dict[str, object], key: str) -> str | None:
    """A command-line argument of the backtest (``run.json``), None if not given."""
    value = _field(run, "args").get(key)
    return None if value in (None, "None", "") else str(value)


def held_out_periods(board: Leaderboard) -> str:
    """The board's held-out periods in words: how many, how long, first and last day."""
    run = board.run
    listed = run.get("origins")
    origins = [int(o) for o in listed] if isinstance(listed, list) else []
    if not origins:
        n = int(board.scores["n_origins"].max()) if len(board.scores) else 0
        return f"{n} held-out periods"
    days = int(_arg(run, "period_days") or 28)
    anchor = date.fromisoformat(_arg(run, "anchor") or "2018-01-01")
    cal = PeriodCalendar(anchor=anchor, days=days)
    first, last = cal.start(min(origins)), cal.last_day(max(origins))
    return f"{len(origins)} held-out {days}-day periods, {first:%d %b %Y} to {last:%d %b %Y}"


def data_description(board: Leaderboard) -> str:
    """What the board forecast: the offences, the data file and the cells."""
    run = board.run
    source = _arg(run, "events") or str(_field(run, "data").get("source", "the data"))
    group = _arg(run, "offence_group")
    what = group.replace("_", " ") if group else "events"
    cell = _arg(run, "cell_area")
    cells = f", {float(cell):g} km² cells" if cell else ""
    units = f" ({run['n_units']} cells)" if "n_units" in run else ""
    kind = " (synthetic data)" if (board.scores["model"] == ORACLE).any() else ""
    shown = Path(source).name if Path(source).is_absolute() else source
    return f"{what} in {shown}{kind}{cells}{units}"


def board_frame(board: Leaderboard, plan: MonthlyPlan) -> pd.DataFrame:
    """The board's rows as the page shows them, numbers unrounded.

    Every model of ``summary.csv`` in its order, then the oracle's row if any, in the
    columns of :data:`COLUMNS`; ``in_use`` names the offence groups whose forecast uses the
    model on the evidence of this board.
    """
    use = _in_use(board, plan)
    t = board.scores.copy()
    t["in_use"] = [", ".join(use.get(m, [])) for m in t["model"]]
    if "note" in t:
        t["note"] = t["note"].astype(object).where(t["note"].notna(), "").astype(str)
    cols = [c for c in COLUMNS if c in t.columns]
    return t[cols].reset_index(drop=True)


def board_table(board: Leaderboard, plan: MonthlyPlan) -> Styler:
    """The board as a captioned table; the rows of the models in use say so, in bold.

    The number of held-out periods scored is shown only when it differs between models
    (a model skipped for lack of history scores none), notes only when there are some.
    """
    t = board_frame(board, plan)
    used = t["in_use"].str.len().gt(0).to_numpy()
    t["model"] = [f"{m} (in use)" if u else m for m, u in zip(t["model"], used, strict=True)]
    t = t.drop(columns="in_use")
    if "note" in t and not t["note"].str.len().any():
        t = t.drop(columns="note")
    if t["n_origins"].nunique() == 1:
        t = t.drop(columns="n_origins")
    caption = f"Leaderboard {board.name}: {data_description(board)}; {held_out_periods(board)}"
    s = styled(
        t,
        caption,
        labels={c: COLUMNS[c] for c in t.columns},
        formats={c: f for c, f in FORMATS.items() if c in t.columns},
    )
    return s.apply(lambda row: ["font-weight:700" if used[row.name] else "" for _ in row], axis=1)


def _curve_alt(board: Leaderboard, curves: pd.DataFrame, use: dict[str, list[str]]) -> str:
    at5 = curves.loc[np.isclose(curves["share"], 0.05)].set_index("model")["hit_rate"]
    models = curves["model"].nunique()
    text = (
        f"Hit-rate curves of {models} models on leaderboard {board.name}: the share of the "
        "held-out periods' offences in the cells each model ranked highest, against the "
        "share of the area searched, from 1% to 25%."
    )
    if len(at5):
        best, worst = at5.idxmax(), at5.idxmin()
        text += (
            f" At 5% of the area {best} captures the most ({at5[best]:.1%}) and {worst} "
            f"the least ({at5[worst]:.1%})"
        )
        chosen = [m for m in use if m in at5.index]
        text += "".join(f"; {m}, in use, {at5[m]:.1%}" for m in chosen) + "."
    return text


def hit_rate_figure(
    board: Leaderboard, plan: MonthlyPlan, *, max_share: float = 0.25
) -> DescribedFigure | Markdown:
    """Hit-rate curves redrawn from ``hit_rate_curves.csv``, legend beside the plot."""
    path = Path(board.folder or ".") / "hit_rate_curves.csv"
    if not path.exists():
        return Markdown(f"No hit-rate curves saved with {board.name}.")
    curves = pd.read_csv(path)
    curves = curves.loc[curves["share"] <= max_share + 1e-9]
    use = _in_use(board, plan)
    at5 = curves.loc[np.isclose(curves["share"], 0.05)].set_index("model")["hit_rate"]
    order = sorted(curves["model"].unique(), key=lambda m: -at5.get(m, 0.0))
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    for i, model in enumerate(order):
        g = curves.loc[curves["model"] == model].sort_values("share")
        label = f"{model} (in use)" if model in use else model
        ax.plot(
            g["share"] * 100,
            g["hit_rate"] * 100,
            label=label,
            lw=2.6 if model in use else 1.4,
            markersize=5,
            markevery=(i % 4, 4),
            **series_style(i),
        )
    ax.set_xlabel("share of the area searched (%)")
    ax.set_ylabel("share of offences captured (%)")
    ax.set_title(f"{board.name}: hit-rate curves (mean over held-out periods)", loc="left")
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlim(0, max_share * 100)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(
        title="model (best at 5% first)",
        loc="upper left",
        bbox_to_anchor=(1.02, 1),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    return figure(fig, _curve_alt(board, curves, use))


def coverage_figure(board: Leaderboard, plan: MonthlyPlan) -> DescribedFigure | Markdown:
    """Observed coverage of the central 50/80/90% intervals per model (``metrics.csv``)."""
    path = Path(board.folder or ".") / "metrics.csv"
    if not path.exists():
        return Markdown(f"No per-period scores saved with {board.name}.")
    m = pd.read_csv(path)
    levels = [lv for lv in (50, 80, 90) if f"coverage_{lv}" in set(m["metric"])]
    cov = (
        m.loc[m["metric"].isin([f"coverage_{lv}" for lv in levels])]
        .groupby(["model", "metric"])["value"]
        .mean()
        .unstack()
    )
    cov = cov.sort_values(f"coverage_{levels[-1]}")
    use = _in_use(board, plan)
    fig, ax = plt.subplots(figsize=(8.5, 0.34 * len(cov) + 1.5))
    y = np.arange(len(cov))
    for j, lv in enumerate(levels):
        style = series_style(j)
        ax.axvline(lv, color=style["color"], lw=1, ls=":", zorder=1)
        ax.scatter(
            cov[f"coverage_{lv}"] * 100,
            y,
            marker=style["marker"],
            s=42,
            color=style["color"],
            label=f"central {lv}% interval (dotted line: {lv}%)",
            zorder=3,
        )
    ax.set_yticks(y, [f"{x} (in use)" if x in use else x for x in cov.index])
    ax.set_xlabel("share of held-out counts inside the interval (%)")
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_title(f"{board.name}: interval coverage", loc="left")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8, frameon=False)
    fig.tight_layout()
    top = f"coverage_{levels[-1]}"
    lo, hi = cov[top].idxmin(), cov[top].idxmax()
    alt = (
        f"Dot plot of the observed coverage of central "
        f"{', '.join(f'{lv}%' for lv in levels)} forecast intervals for {len(cov)} models "
        f"on leaderboard {board.name}, with a dotted line at each nominal level. The "
        f"{levels[-1]}% intervals covered from {cov.loc[lo, top]:.1%} ({lo}) to "
        f"{cov.loc[hi, top]:.1%} ({hi}) of the held-out counts."
    )
    return figure(fig, alt)


def pit_figure(board: Leaderboard, plan: MonthlyPlan) -> DescribedFigure | Markdown:
    """Randomised PIT histograms, one small panel per model (``pit_histogram.csv``)."""
    path = Path(board.folder or ".") / "pit_histogram.csv"
    if not path.exists():
        return Markdown(
            f"No PIT histograms saved with {board.name} (it was written before they were)."
        )
    pit = pd.read_csv(path).sort_values("uniformity_p", ascending=False)
    bins = [c for c in pit.columns if c.startswith("bin")]
    use = _in_use(board, plan)
    ncol = 4
    nrow = math.ceil(len(pit) / ncol)
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(9, 2.0 * nrow + 0.6), sharex=True, sharey=True, squeeze=False
    )
    edges = np.linspace(0, 1, len(bins) + 1)
    top = max(1.6, float(pit[bins].to_numpy().max() * len(bins)) * 1.1)
    for ax, row in zip(axes.flat, pit.itertuples(index=False), strict=False):
        dens = np.array([getattr(row, b) for b in bins]) * len(bins)
        ax.bar(
            edges[:-1],
            dens,
            width=np.diff(edges),
            align="edge",
            color=OKABE_ITO[0],
            edgecolor="white",
        )
        ax.axhline(1.0, color="black", ls="--", lw=1)
        name = f"{row.model} (in use)" if row.model in use else row.model
        ax.set_title(f"{name}\np = {row.uniformity_p:.2g}", fontsize=8.5)
        ax.set_ylim(0, top)
    for k in range(len(pit), nrow * ncol):  # empty panels: the one above shows the x axis
        axes.flat[k].set_visible(False)
        axes.flat[k - ncol].xaxis.set_tick_params(labelbottom=True)
        axes.flat[k - ncol].set_xlabel("PIT")
    for ax in axes[-1]:
        ax.set_xlabel("PIT")
    for ax in axes[:, 0]:
        ax.set_ylabel("density")
    fig.suptitle(
        f"{board.name}: randomised PIT histograms (flat at 1 = calibrated)", x=0.01, ha="left"
    )
    fig.tight_layout()
    best, worst = pit.iloc[0], pit.iloc[-1]
    uneven = pit.loc[pit["uniformity_p"] < 0.01, "model"].tolist()
    alt = (
        f"Randomised PIT histograms of {len(pit)} models on leaderboard {board.name}, "
        f"{len(bins)} bins each, a dashed line at 1 where a calibrated forecast would be "
        f"flat. Most even: {best.model} (p = {best.uniformity_p:.2g}); least even: "
        f"{worst.model} (p = {worst.uniformity_p:.2g}). "
        + (
            f"Uneven at the 1% level: {', '.join(uneven)}."
            if uneven
            else "None is uneven at the 1% level."
        )
    )
    return figure(fig, alt)


def show_boards(boards: Sequence[Leaderboard], plan: MonthlyPlan) -> None:
    """Display every board: heading, provenance, table, hit-rate, coverage and PIT figures."""
    cited = {Path(p).name: p for p in plan.leaderboards}
    for board in boards:
        use = _in_use(board, plan)
        in_use = "; ".join(f"`{m}` for {', '.join(gs)}" for m, gs in use.items())
        display(
            Markdown(
                f"### {board.name}\n\nSaved in `{cited.get(board.name, board.name)}`, "
                f"written {board.written} (summary.csv sha256 `{board.sha256[:16]}`)."
                + (f" In use from this board (bold in the table): {in_use}." if use else "")
            )
        )
        display(board_table(board, plan))
        for make in (hit_rate_figure, coverage_figure, pit_figure):
            display(make(board, plan))


def glossary(boards: Sequence[Leaderboard]) -> Styler:
    """The scores and every model on the page's boards, defined in words.

    Raises
    ------
    KeyError
        If a board holds a model the glossary does not define (add it to :data:`MODELS`).
    """
    names = []
    for board in boards:
        for model in board.scores["model"]:
            if _base(str(model)) not in names:
                names.append(_base(str(model)))
    missing = [n for n in names if n not in MODELS]
    if missing:
        raise KeyError(f"the glossary does not define the models {missing}")
    order = [m for m in MODELS if m in names]
    terms = {**SCORES, **{f"{m} (model)": MODELS[m] for m in order}}
    return definitions(terms, "Glossary: the scores and the models on this page")
