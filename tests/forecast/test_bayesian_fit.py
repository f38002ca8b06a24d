"""Tiny Bayesian fits in test mode: the forecaster's contract, recovery and loud failures.

Each fit compiles a small model (tens of seconds); the module fits two models in all.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from shapely.geometry import box

from analysis.forecast.backtest import run_backtest
from analysis.forecast.bayesian import BayesianForecaster, ConvergenceError
from analysis.forecast.bayesian.simulate import simulate
from analysis.forecast.bayesian.spec import ModelSpec
from analysis.forecast.bayesian.structure import spatial_structure
from analysis.forecast.output import write_model_records
from analysis.forecast.panel import build_panel
from analysis.forecast.registry import make_forecaster
from analysis.forecast.summary import summarise_predictive
from analysis.testmode import BANNER as TEST_MODE_BANNER

CRS = "EPSG:27700"
ROWS = COLS = 5
WINDOW = 26


def events_from_counts(counts: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Place each count as an event in its 1 km cell and 28-day period."""
    unit, period = np.nonzero(counts)
    reps = counts[unit, period]
    unit, period = np.repeat(unit, reps), np.repeat(period, reps)
    r, c = np.divmod(unit, COLS)
    x = 400_000 + (c + rng.uniform(0.05, 0.95, unit.size)) * 1000
    y = 280_000 + (r + rng.uniform(0.05, 0.95, unit.size)) * 1000
    t = period * 28 + rng.uniform(0, 28, unit.size)
    time = pd.Timestamp("2018-01-01") + pd.to_timedelta(t, unit="D")
    return pd.DataFrame({"time": time, "x": x, "y": y})


def queen(rows: int, cols: int) -> sp.csr_matrix:
    """Queen adjacency of a grid numbered row by row from the south-west."""
    n = rows * cols
    a = sp.lil_matrix((n, n))
    for r in range(rows):
        for c in range(cols):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr or dc) and 0 <= rr < rows and 0 <= cc < cols:
                        a[r * cols + c, rr * cols + cc] = 1
    return a.tocsr()


@pytest.fixture(scope="module")
def simulated():
    """A 5 x 5 panel simulated from the default model with a strong spatial pattern."""
    rng = np.random.default_rng(3)
    adjacency = queen(ROWS, COLS)
    spec = ModelSpec(window=WINDOW + 3)
    sim = simulate(
        spec,
        spatial_structure(adjacency),
        adjacency,
        log_offset=np.zeros(ROWS * COLS),
        log_mean=np.log(3.0),
        rng=rng,
        params={"sigma_space": 0.8, "sigma_level": 0.1, "sigma_time": 0.05, "b0": 0.0},
    )
    area = gpd.GeoSeries(
        [box(400_000, 280_000, 400_000 + COLS * 1000, 280_000 + ROWS * 1000)], crs=CRS
    )
    panel = build_panel(
        events_from_counts(sim.counts, rng), crs=CRS, test_periods=3, cell_area_km2=1.0, area=area
    )
    assert panel.counts.shape == (ROWS * COLS, WINDOW + 4)
    np.testing.assert_array_equal(panel.counts, sim.counts)  # same cells, same order
    assert (panel.neighbours != adjacency).nnz == 0
    return panel, sim


def test_test_mode_fit_forecasts_recovers_and_is_labelled(simulated, tmp_path):
    panel, sim = simulated
    model = make_forecaster(f"bayes:window={WINDOW},test_mode=1")
    assert isinstance(model, BayesianForecaster) and TEST_MODE_BANNER in model.name
    models = [model, make_forecaster("ewma")]
    bt = run_backtest(panel, models, test_periods=2, progress=False)
    assert TEST_MODE_BANNER in bt.summary()["model"].iloc[0] + bt.summary()["model"].iloc[1]
    assert len(model.fits) == 2 and all(f["test_mode"] for f in model.fits)
    assert model.fits[1]["compile_seconds"] == 0.0  # the compiled model was reused
    # the backtest's records, as the CLI writes them: one fit row and seven checks per
    # origin, keyed by model and origin (EWMA records nothing)
    paths = write_model_records(models, tmp_path)
    fits = pd.read_csv(paths["fits"])
    checks = pd.read_csv(paths["checks"])
    assert fits["origin"].tolist() == [int(o) for o in bt.origins] and fits["test_mode"].all()
    assert sorted(checks["origin"].unique()) == sorted(int(o) for o in bt.origins)
    assert len(checks) == 14 and set(checks["model"]) == {model.name}
    assert checks.groupby("origin")["statistic"].nunique().eq(7).all()
    # the units are the cells with an offence before the first origin: the window's
    # periods before it form the selection span, and a cell with no offence in the
    # earlier periods outside the window must have one inside it
    # (the panel was built with 3 test periods: its first origin is the 28th of 30)
    first, last = (int(p) for p in panel.periods[[WINDOW + 1, -1]])
    assert panel.selected_before == first
    data = model.window_data(panel.context(first))
    np.testing.assert_array_equal(data["selection_span"], np.ones(WINDOW))
    np.testing.assert_array_equal(data["selection_needed"], panel.counts[:, 0] == 0)
    data = model.window_data(panel.context(last))
    np.testing.assert_array_equal(data["selection_span"], np.r_[np.ones(WINDOW - 2), 0, 0])
    np.testing.assert_array_equal(data["selection_needed"], panel.counts[:, :3].sum(axis=1) == 0)
    # a monthly forecast: the period before the origin is incomplete at the cut-off, so
    # the counts leave it out; it is masked in the window (whose columns keep their
    # periods: the last counts are the second-last column), and its events still count
    # for the selection
    from dataclasses import replace

    ctx = panel.context(last)
    monthly = replace(ctx, counts=ctx.counts[:, :-1], periods=ctx.periods[:-1])
    monthly = replace(monthly, selected_before=last)
    data = model.window_data(monthly)
    np.testing.assert_array_equal(data["observed"], np.r_[np.ones(WINDOW - 1), 0.0])
    np.testing.assert_array_equal(data["counts"][:, :-1], ctx.counts[:, -WINDOW:-1])
    np.testing.assert_array_equal(data["counts"][:, -1], 0)
    np.testing.assert_array_equal(data["season"], (np.arange(last - WINDOW, last)) % 13)
    outside = ctx.counts[:, :-WINDOW].sum(axis=1) + ctx.counts[:, -1]
    np.testing.assert_array_equal(data["selection_needed"], outside == 0)
    # recovery: the static spatial effect is the cell's log level
    ctx = panel.context(int(panel.periods[-1]))
    idata, _, diag = model.fit(ctx)
    est = idata.posterior["space_effect"].mean(("chain", "draw")).values
    truth = sim.space_effect - sim.space_effect.mean()
    assert np.corrcoef(np.ravel(est), np.ravel(truth))[0, 1] > 0.9
    assert set(diag.table["parameter"]) >= {"b0", "sigma_space", "sigma_level", "sigma_time"}
    dist = model.predict(ctx)
    rng = np.random.default_rng(0)
    area = panel.units["area_km2"].to_numpy()
    table, totals = summarise_predictive(dist, area, rng, k=3, draws=4000)
    assert list(table.columns[:2]) == ["mean", "median"]
    assert (table["lo90"] <= table["lo50"]).all() and (table["hi50"] <= table["hi90"]).all()
    assert (table["p_at_least_k"] <= table["p_any"]).all()
    assert table["p_top5"].sum() == pytest.approx(np.ceil(0.05 * len(table)), abs=1e-9)
    # joint maps share a posterior draw: their totals average the forecast total
    assert totals.mean() == pytest.approx(dist.mean.sum(), rel=0.03)
    # posterior predictive checks of the window, on data drawn from the model: the
    # expected sums reproduce the window's total, and no statistic is badly off
    checks = model.checks[int(ctx.origin)]
    assert len(checks) == 7 and checks["p_value"].between(0, 1).all()
    assert "mu_unit_selected" in idata.posterior
    mu = idata.posterior["mu_unit"].sum("unit").mean().item()
    assert mu == pytest.approx(ctx.counts[:, -WINDOW:].sum(), rel=0.02)
    assert checks["p_value"].min() > 0.01, checks


def test_a_fit_that_did_not_converge_fails_loudly(simulated):
    panel, _ = simulated
    # 2 chains of 20 draws cannot reach a bulk ESS of 400: with the checks on, it raises.
    model = BayesianForecaster.from_params(
        window=WINDOW, draws=20, tune=20, chains=2, retries=0, predictive_draws=20
    )
    ctx = panel.context(int(panel.periods[-1]))
    with pytest.raises(ConvergenceError, match="ESS") as err:
        model.predict(ctx)
    assert not err.value.diagnostics.converged
    assert model.fits[-1]["converged"] is False


def test_unknown_parameters_are_refused():
    with pytest.raises(ValueError, match="unknown parameter"):
        make_forecaster("bayes:windw=10")
    with pytest.raises(ValueError, match="spatial must be one of"):
        make_forecaster("bayes:spatial=car")
