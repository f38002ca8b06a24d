"""What every escalation model offers, and a one-variable logistic link for score baselines."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
import statsmodels.api as sm


@runtime_checkable
class EscalationModel(Protocol):
    """A model of the probability of becoming high harm in the next 12 months.

    ``fit`` learns from the training cohort's features, targets and offender-management
    units; ``predict`` returns probabilities for any cohort's features and units.
    """

    name: str

    def fit(self, features: pd.DataFrame, y: np.ndarray, units: np.ndarray) -> EscalationModel:
        """Fit on the training cohort."""
        ...

    def predict(self, features: pd.DataFrame, units: np.ndarray) -> np.ndarray:
        """Return probabilities for a cohort."""
        ...


class ScoreLink:
    """Map a one-dimensional score to a probability with a two-parameter logistic fit.

    Used by the baselines, whose scores are not probabilities: the link is learnt on the
    training cohort only, so the baselines' calibration can be judged on later cohorts.
    """

    def __init__(self) -> None:
        self.params: np.ndarray | None = None

    def fit(self, score: np.ndarray, y: np.ndarray) -> ScoreLink:
        """Fit ``logit P(y) = a + b * score``."""
        X = sm.add_constant(np.asarray(score, dtype=float), has_constant="add")
        res = sm.Logit(np.asarray(y, dtype=float), X).fit(disp=0, maxiter=100)
        self.params = np.asarray(res.params, dtype=float)
        return self

    def predict(self, score: np.ndarray) -> np.ndarray:
        """Return probabilities for scores."""
        if self.params is None:
            raise RuntimeError("the link is not fitted")
        eta = self.params[0] + self.params[1] * np.asarray(score, dtype=float)
        return 1.0 / (1.0 + np.exp(-eta))
