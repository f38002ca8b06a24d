"""Forecast figures: backtest hit-rate curves, calibration, PIT histograms and maps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt  # no backend forced: a notebook keeps its inline figures
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from analysis.forecast.backtest import LEVELS, BacktestResult
from analysis.forecast.metrics import pit_histogram


def plot_hit_rate_curves(result: BacktestResult, path: Path, max_share: float = 0.25) -> Path:
    """Mean hit rate against share of area searched, per model."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    mean = result.curves.groupby(["model", "share"])["hit_rate"].mean().reset_index()
    for model, g in mean.groupby("model"):
        g = g.loc[g["share"] <= max_share]
        ax.plot(g["share"] * 100, g["hit_rate"] * 100, label=model, lw=1.4)
    ax.set_xlabel("share of area searched, %")
    ax.set_ylabel("share of next period's events captured, %")
    ax.set_title(f"Hit-rate curves (mean over {len(result.origins)} origins)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_calibration(result: BacktestResult, path: Path) -> Path:
    """Interval coverage against nominal level, and randomised PIT histograms."""
    models = sorted(result.pit["model"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    ax = axes[0]
    wide = result.metrics.loc[result.metrics["metric"].str.startswith("coverage_")]
    cov = wide.groupby(["model", "metric"])["value"].mean().unstack()
    nominal = np.array(LEVELS)
    for model in models:
        if model in cov.index:
            vals = [cov.loc[model, f"coverage_{round(v * 100):d}"] for v in LEVELS]
            ax.plot(nominal * 100, np.array(vals) * 100, marker="o", label=model)
    ax.plot([40, 100], [40, 100], color="grey", ls="--", lw=1)
    ax.set_xlabel("nominal central interval, %")
    ax.set_ylabel("observed coverage, %")
    ax.set_title("Interval calibration (conservative for counts)")
    ax.legend(fontsize=7)
    ax = axes[1]
    edges = np.linspace(0, 1, 11)
    for model in models:
        h = pit_histogram(result.pit.loc[result.pit["model"] == model, "pit"].to_numpy(), 10)
        ax.step(edges, np.r_[h, h[-1]] * 10, where="post", label=model)
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set_xlabel("randomised PIT")
    ax.set_ylabel("density (1 = calibrated)")
    ax.set_title("Randomised PIT histograms")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_forecast_map(
    forecasts: pd.DataFrame, units: gpd.GeoDataFrame, model: str, origin: int, path: Path
) -> Path:
    """Map a model's forecast mean beside the observed counts for one origin."""
    f = forecasts.loc[(forecasts["model"] == model) & (forecasts["origin"] == origin)]
    g = units[["unit_id", "geometry"]].merge(f, left_on="unit_id", right_on="unit")
    vmax = float(max(g["mean"].max(), g["observed"].max(), 1))
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, col, title in (
        (axes[0], "mean", f"{model}: forecast mean"),
        (axes[1], "observed", "observed"),
    ):
        g.plot(
            column=col,
            ax=ax,
            cmap="viridis",
            vmin=0,
            vmax=vmax,
            legend=True,
            legend_kwds={"shrink": 0.6},
        )
        ax.set_title(f"{title}, period {origin}")
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


#: What each map of a next-period forecast shows: column, colour map, whether it is a share.
MAP_COLUMNS: dict[str, tuple[str, bool]] = {
    "mean": ("viridis", False),
    "hi90": ("viridis", False),
    "p_any": ("cividis", True),
    "p_at_least_k": ("cividis", True),
}

#: Scale-bar lengths to choose from, in metres.
_SCALE_LENGTHS_M = (100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)


@dataclass(frozen=True)
class MapLayers:
    """Reference geography drawn with a forecast map, in the units' CRS (metres).

    An offline page cannot fetch map tiles, so the places a reader knows come from the data
    folder's own geography.

    Attributes
    ----------
    boundaries : geopandas.GeoSeries, optional
        Small areas (LSOAs), drawn as faint lines.
    outline : geopandas.GeoSeries, optional
        The study area, drawn as a solid black line.
    districts : geopandas.GeoDataFrame, optional
        Larger areas with a ``name`` column (offender-management units), drawn dashed and
        labelled with their names.
    """

    boundaries: gpd.GeoSeries | None = None
    outline: gpd.GeoSeries | None = None
    districts: gpd.GeoDataFrame | None = None


def _halo(width: float = 2.5) -> list[patheffects.AbstractPathEffect]:
    return [patheffects.withStroke(linewidth=width, foreground="white")]


def add_scale_bar(ax: Axes, length_m: float | None = None) -> float:
    """Draw a black-and-white scale bar in the lower right of a map in metres.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A map with equal aspect whose coordinates are metres (EPSG:27700).
    length_m : float, optional
        Length of the bar; default the longest of 100 m, 200 m, 500 m, 1 km, 2 km, 5 km, ...
        that fits in a quarter of the map's width.

    Returns
    -------
    float
        The bar's length in metres.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    if length_m is None:
        fits = [v for v in _SCALE_LENGTHS_M if v <= width / 4]
        length_m = float(fits[-1] if fits else _SCALE_LENGTHS_M[0])
    parts = {"5": 5, "2": 4}.get(str(int(length_m))[0], 2)
    right, bottom, bar_h = x1 - 0.05 * width, y0 + 0.04 * height, 0.012 * height
    left = right - length_m
    ax.add_patch(
        Rectangle(
            (left - 0.03 * width, bottom - 0.015 * height),
            length_m + 0.06 * width,
            0.075 * height,
            facecolor="white",
            edgecolor="none",
            alpha=0.85,
            zorder=5.5,
            gid="scale-bar",
        )
    )
    step = length_m / parts
    for i in range(parts):
        ax.add_patch(
            Rectangle(
                (left + i * step, bottom),
                step,
                bar_h,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                lw=0.8,
                zorder=6,
                gid="scale-bar",
            )
        )
    end = f"{length_m / 1000:g} km" if length_m >= 1_000 else f"{length_m:g} m"
    for x, text in ((left, "0"), (right, end)):
        ax.text(
            x,
            bottom + 1.8 * bar_h,
            text,
            ha="center",
            va="bottom",
            fontsize=10,
            zorder=6,
            gid="scale-bar-label",
        )
    return length_m


def add_north_arrow(ax: Axes) -> None:
    """Draw a north arrow in the upper right of a map on the British National Grid.

    Grid north is the map's up; in England it is within about 2 degrees of true north.
    """
    ax.annotate(
        "N",
        xy=(0.93, 0.97),
        xytext=(0.93, 0.86),
        xycoords="axes fraction",
        textcoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>,head_width=0.35,head_length=0.6", "lw": 1.6, "color": "k"},
        zorder=6,
        gid="north-arrow",
        path_effects=_halo(),
    )


def _draw_layers(ax: Axes, layers: MapLayers) -> list[Artist]:
    """Draw the reference geography; return its legend entries."""
    handles: list[Artist] = []
    if layers.boundaries is not None and len(layers.boundaries):
        layers.boundaries.boundary.plot(ax=ax, color="#6b6b6b", lw=0.3, alpha=0.6, zorder=2)
        handles.append(Line2D([], [], color="#6b6b6b", lw=0.6, label="LSOA boundary"))
    if layers.districts is not None and len(layers.districts):
        layers.districts.boundary.plot(ax=ax, color="black", lw=0.9, ls="--", zorder=3)
        handles.append(
            Line2D([], [], color="black", lw=0.9, ls="--", label="offender-management unit")
        )
        for name, point in zip(
            layers.districts["name"], layers.districts.representative_point(), strict=True
        ):
            ax.text(
                point.x,
                point.y,
                str(name),
                ha="center",
                va="center",
                fontsize=11,
                style="italic",
                color="#222222",
                zorder=5,
                gid="place-label",
                path_effects=_halo(3),
            )
    if layers.outline is not None and len(layers.outline):
        layers.outline.boundary.plot(ax=ax, color="black", lw=1.3, zorder=4)
        handles.append(Line2D([], [], color="black", lw=1.3, label="study area"))
    return handles


def _draw_uncovered(ax: Axes, layers: MapLayers) -> list[Artist]:
    """Hatch the study area under the cells, so that an area with no cell is not a colour."""
    if layers.outline is None or not len(layers.outline):
        return []
    style = {"facecolor": "white", "edgecolor": "#9a9a9a", "hatch": "////", "lw": 0}
    layers.outline.plot(ax=ax, zorder=0.5, **style)
    return [Patch(label="no cell: no offence in the data", **style)]


def _draw_top(ax: Axes, cells: gpd.GeoDataFrame, top: Sequence[str]) -> list[Artist]:
    """Outline the ``top`` units and number them 1, 2, ... in that order."""
    if not top:
        return []
    chosen = cells.set_index("unit_id").loc[list(top)]
    chosen.boundary.plot(ax=ax, color="white", lw=2.6, zorder=4.5)
    chosen.boundary.plot(ax=ax, color="black", lw=1.3, zorder=4.6)
    for number, point in enumerate(chosen.representative_point(), start=1):
        ax.text(
            point.x,
            point.y,
            str(number),
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            zorder=7,
            gid="top-unit-label",
            path_effects=_halo(2.2),
        )
    return [
        Line2D(
            [],
            [],
            marker="s",
            ls="",
            markerfacecolor="none",
            markeredgecolor="black",
            markeredgewidth=1.3,
            markersize=9,
            label=f"top {len(top)} cells (numbered as in the table)",
        )
    ]


#: Width of a map figure, and the heights below the map for its colour bar and legend (in).
_MAP_WIDTH_IN, _BAR_IN, _LEGEND_IN = 5.2, 0.75, 0.8


def _extent(cells: gpd.GeoDataFrame, layers: MapLayers) -> tuple[float, float, float, float]:
    """The map's bounds: the cells and the study area, with a margin of 4%."""
    boxes = [cells.total_bounds]
    if layers.outline is not None and len(layers.outline):
        boxes.append(layers.outline.total_bounds)
    b = np.array(boxes)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = b[:, 2].max(), b[:, 3].max()
    mx, my = 0.04 * (x1 - x0), 0.04 * (y1 - y0)
    return float(x0 - mx), float(y0 - my), float(x1 + mx), float(y1 + my)


def _map_figure(extent: tuple[float, float, float, float]) -> tuple[Figure, Axes, Axes]:
    """A figure sized to the map's shape: the map, a colour bar below it, then the legend."""
    x0, y0, x1, y1 = extent
    map_h = float(np.clip(_MAP_WIDTH_IN * (y1 - y0) / max(x1 - x0, 1.0), 3.0, 7.0))
    height = map_h + _BAR_IN + _LEGEND_IN
    fig = plt.figure(figsize=(_MAP_WIDTH_IN, height))
    ax = fig.add_axes((0.0, (_BAR_IN + _LEGEND_IN) / height, 1.0, map_h / height))
    cax = fig.add_axes((0.08, (_LEGEND_IN + 0.5) / height, 0.84, 0.14 / height))
    return fig, ax, cax


def _set_view(ax: Axes, extent: tuple[float, float, float, float]) -> None:
    """Show ``extent`` at equal aspect, with no ticks, labels or frame."""
    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="datalim")
    ax.apply_aspect()
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for side in ax.spines.values():
        side.set_visible(False)


def plot_unit_map(
    table: pd.DataFrame,
    units: gpd.GeoDataFrame,
    column: str,
    *,
    label: str,
    cmap: str = "viridis",
    norm: Normalize | None = None,
    layers: MapLayers | None = None,
    top: Sequence[str] = (),
    title: str | None = None,
) -> Figure:
    """Map one column of a forecast table over its units, with the reference geography.

    The figure is one map with equal aspect and no axis ticks: the units coloured by
    ``column`` (a colour bar below, labelled ``label``), LSOA boundaries, the
    offender-management units dashed and named, the study area's outline, the ``top``
    units outlined and numbered, a scale bar, a north arrow and a legend of the line styles.

    Parameters
    ----------
    table : pandas.DataFrame
        ``unit_id`` and ``column``.
    units : geopandas.GeoDataFrame
        ``unit_id`` and geometry, in metres (EPSG:27700).
    column : str
        What to colour by.
    label : str
        The colour bar's label: what the colour shows, with its unit.
    cmap : str
        A colour-blind-safe colour map (``viridis``, ``cividis``; ``PuOr_r`` for a change).
    norm : matplotlib.colors.Normalize, optional
        The colour scale; default from 0 to the column's largest value.
    layers : MapLayers, optional
        The reference geography.
    top : sequence of str
        Unit ids to outline and number, in order.
    title : str, optional
        The map's title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    layers = layers or MapLayers()
    cells = units[["unit_id", "geometry"]].merge(table[["unit_id", column]], on="unit_id")
    if norm is None:
        norm = Normalize(0.0, float(max(cells[column].max(), 1e-9)))
    extent = _extent(cells, layers)
    fig, ax, cax = _map_figure(extent)
    handles = _draw_uncovered(ax, layers)
    cells.plot(column=column, ax=ax, cmap=cmap, norm=norm, lw=0, zorder=1)
    handles += _draw_layers(ax, layers)
    handles += _draw_top(ax, cells, top)
    _set_view(ax, extent)
    add_scale_bar(ax)
    add_north_arrow(ax)
    if handles:
        fig.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=2,
            fontsize=9.5,
            frameon=False,
            handlelength=2.4,
            columnspacing=1.2,
        )
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
    bar.set_label(label, fontsize=11)
    bar.ax.tick_params(labelsize=10)
    if title:
        ax.set_title(title, fontsize=11)
    plt.close(fig)
    return fig


def plot_next_period_maps(
    table: pd.DataFrame,
    units: gpd.GeoDataFrame,
    labels: Mapping[str, str],
    *,
    layers: MapLayers | None = None,
    top: Sequence[str] = (),
) -> dict[str, Figure]:
    """One map per column of a next-period forecast (see :data:`MAP_COLUMNS`).

    Parameters
    ----------
    table : pandas.DataFrame
        The forecast table (``unit_id`` and the columns mapped).
    units : geopandas.GeoDataFrame
        Units with ``unit_id`` and geometry.
    labels : mapping
        Column (``mean``, ``hi90``, ``p_any``, ``p_at_least_k``) to its colour bar's label;
        a map is drawn for each.
    layers : MapLayers, optional
        The reference geography.
    top : sequence of str
        Unit ids to outline and number, in order.

    Returns
    -------
    dict
        Column to its figure. Probabilities share the scale 0 to 1.
    """
    out = {}
    for column, label in labels.items():
        cmap, share = MAP_COLUMNS[column]
        norm = Normalize(0.0, 1.0) if share else None
        out[column] = plot_unit_map(
            table, units, column, label=label, cmap=cmap, norm=norm, layers=layers, top=top
        )
    return out


def plot_change_map(
    table: pd.DataFrame,
    units: gpd.GeoDataFrame,
    *,
    label: str = "forecast minus last period's count, offences per cell",
    layers: MapLayers | None = None,
    top: Sequence[str] = (),
) -> Figure:
    """Map of a next-period forecast's mean minus the last complete period's count.

    A diverging colour-blind-safe scale (``PuOr_r``: purple down, orange up) centred at 0.
    """
    lim = float(np.abs(table["change"]).max() or 1.0)
    return plot_unit_map(
        table,
        units,
        "change",
        label=label,
        cmap="PuOr_r",
        norm=Normalize(-lim, lim),
        layers=layers,
        top=top,
    )
