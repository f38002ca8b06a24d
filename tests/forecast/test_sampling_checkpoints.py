"""Sampling with checkpoints: the stop is the first passing prefix of the seeded chains."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pymc as pm
import pytest

from analysis.inference import SamplerSettings, checkpoints, diagnose, sample, sampling

#: What the checkpoints check in the small model.
PARAMETERS = ("b0", "sigma_level")


def test_checkpoint_schedule():
    assert checkpoints(SamplerSettings()) == []  # an option, off by default
    early = SamplerSettings(stop_early=True)
    assert checkpoints(early) == [1000, 1500, 2000, 2500, 3000]
    assert checkpoints(replace(early, draws=7000, min_draws=6000)) == [6000, 6500]
    assert checkpoints(replace(early, min_draws=3500)) == []
    assert checkpoints(replace(early, draws=200, check=False)) == []  # test mode
    assert checkpoints(replace(early, sampler="pymc")) == []


@pytest.fixture(scope="module")
def small_model():
    """Two parameters the checks are told of (``b0``, ``sigma_level``) and a latent vector."""
    with pm.Model() as model:
        b0 = pm.Normal("b0", 0.0, 1.0)
        sigma = pm.HalfNormal("sigma_level", 1.0)
        z = pm.Normal("z", 0.0, 1.0, shape=5)
        pm.Normal("y", b0 + sigma * z, 1.0, observed=np.array([0.3, -0.2, 1.1, 0.4, 0.0]))
    return model


SETTINGS = SamplerSettings(
    draws=1200, tune=300, stop_early=True, min_draws=100, checkpoint_every=100
)


def first_passing_prefix(full, settings: SamplerSettings) -> int | None:
    """The first checkpoint at which the full run's draws so far pass every check."""
    for n in checkpoints(settings):
        if diagnose(full.isel(draw=slice(0, n)), settings, parameters=PARAMETERS).converged:
            return n
    return None


def test_the_stop_is_the_first_passing_prefix_of_the_full_run(small_model):
    full, compiled, _ = sample(
        small_model, SamplerSettings(draws=1200, tune=300, min_draws=1200), seed=11
    )
    assert full.posterior.sizes["draw"] == 1200
    expected = first_passing_prefix(full, SETTINGS)
    assert expected is not None and 100 < expected < 1200  # 100 draws x 4 chains < ESS 400
    idata, _, _ = sample(small_model, SETTINGS, seed=11, compiled=compiled, parameters=PARAMETERS)
    assert idata.posterior.sizes["draw"] == expected
    np.testing.assert_array_equal(
        idata.posterior["b0"].values, full.posterior["b0"].values[:, :expected]
    )
    diag = diagnose(idata, SETTINGS, parameters=PARAMETERS)
    assert diag.converged and diag.draws == expected
    # a stricter floor needs more draws: it stops later, or runs every draw
    strict = SamplerSettings(**{**SETTINGS.__dict__, "min_ess": 1500.0})
    later = first_passing_prefix(full, strict)
    assert later is None or later > expected


class RevealingSampler:
    """Stands in for nutpie's background sampler: reveals a finished trace step by step."""

    def __init__(self, trace, steps: list[int]) -> None:
        self.trace, self.steps, self.looks = trace, list(steps), 0
        self.aborted = self.paused = False

    def pause(self) -> None:
        assert not self.paused
        self.paused = True

    def resume(self) -> None:
        assert self.paused
        self.paused = False

    def inspect(self):
        assert self.paused  # the trace is copied and checked with the chains paused
        done = self.steps[self.looks]
        self.looks += 1
        partial = self.trace.copy()
        energy = partial.sample_stats["energy"].values.copy()
        energy[:, done:] = np.nan  # draws not made yet
        energy[0, done : done + 37] = 1.0  # one chain a little ahead of the others
        partial.sample_stats["energy"].values = energy
        return partial

    def abort(self):
        self.aborted = True
        return self.trace

    def wait(self):
        return self.trace


@pytest.mark.parametrize("steps", [[0, 150, 1200], [0, 350, 420, 1200], [1200]])
@pytest.mark.parametrize("min_ess", [400.0, 1e6])
def test_the_stop_does_not_depend_on_when_the_trace_is_looked_at(
    small_model, steps, min_ess, monkeypatch
):
    full, compiled, _ = sample(
        small_model, SamplerSettings(draws=1200, tune=300, min_draws=1200), seed=11
    )
    settings = SamplerSettings(**{**SETTINGS.__dict__, "min_ess": min_ess})
    expected = first_passing_prefix(full, settings)
    fake = RevealingSampler(full, steps)
    import nutpie

    monkeypatch.setattr(nutpie, "sample", lambda *a, **k: fake)
    monkeypatch.setattr(sampling.time, "sleep", lambda s: None)
    idata = sampling._sample_with_checkpoints(compiled, settings, {}, PARAMETERS)
    n = expected or 1200  # no checkpoint passes: every draw (the checks then fail)
    assert idata.posterior.sizes["draw"] == n
    np.testing.assert_array_equal(idata.posterior["b0"].values, full.posterior["b0"].values[:, :n])
    assert fake.aborted == (expected is not None)
    assert fake.looks == len(steps) if expected is None else fake.looks <= len(steps)


def test_stopping_early_needs_the_parameters_to_check(small_model):
    with pytest.raises(ValueError, match="parameters to check"):
        sample(small_model, SETTINGS, seed=11)
