"""The harm model's simulation-based calibration: the mechanics on a handful of replicates.

Uniformity needs hundreds of replicates (``benchmarks/harm_sbc.py``); this checks that the
priors are drawn as the model states them, that ranks are in range, and that the fits
recover the truths within wide intervals.
"""

from __future__ import annotations

import numpy as np

from analysis.harm.bayes import HARM_SAMPLER
from analysis.harm.simulate import (
    RANK_DRAWS,
    draw_prior,
    rank_uniformity,
    sbc_replicates,
    simulate_outcomes,
    simulation_design,
)
from analysis.inference import SamplerSettings


def test_the_design_is_fixed_and_orthogonal():
    a, b = simulation_design(200, 4, seed=3), simulation_design(200, 4, seed=3)
    np.testing.assert_array_equal(a.q, b.q)
    assert a.features == ("harm_12m", "charges_12m", "violent_all", "age_now")
    np.testing.assert_allclose(a.q.T @ a.q / (a.n_people - 1), np.eye(4), atol=1e-9)
    assert set(np.unique(a.unit_index)) <= set(range(4))
    rng = np.random.default_rng(0)
    draws = [draw_prior(a, rng) for _ in range(4000)]
    assert abs(np.std([d["intercept"] for d in draws]) - 5.0) < 0.3
    assert abs(np.mean([d["sigma_unit"] for d in draws]) - 0.5 * np.sqrt(2 / np.pi)) < 0.02
    y = simulate_outcomes(a, draws[0], rng)
    assert y.shape == (200,) and set(np.unique(y)) <= {0, 1}


def test_a_few_replicates_rank_and_recover_the_truth():
    design = simulation_design(150, 3, seed=1)
    settings = SamplerSettings.for_test_mode(HARM_SAMPLER, draws=200, tune=200)
    ranks, fits = sbc_replicates(design, settings, replicates=4, seed=5)
    assert len(fits) == 4 and fits["compile_seconds"].iloc[1:].eq(0).all()  # compiled once
    per_replicate = 1 + len(design.features) + 1 + len(design.units)
    assert len(ranks) == 4 * per_replicate
    assert ranks["rank"].between(0, RANK_DRAWS).all()
    inside = (ranks["lower"] <= ranks["truth"]) & (ranks["truth"] <= ranks["upper"])
    assert inside.mean() >= 0.8
    # the coefficients the outcomes carry most information on are recovered closely
    theta = ranks[ranks["parameter"].str.startswith("theta[")]
    assert (theta["mean"] - theta["truth"]).abs().median() < 0.5
    table = rank_uniformity(ranks)
    assert len(table) == per_replicate and table["replicates"].eq(4).all()
    assert table.filter(like="bin_").sum(axis=1).eq(4).all()
