"""Two baselines any model must beat: a simple additive points score, and prior harm alone.

Neither is learnt from the outcome beyond a two-parameter logistic link
(:class:`~analysis.harm.model_base.ScoreLink`) that turns the score into a probability on
the training cohort, so that Brier score and calibration can be compared with the models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.harm.model_base import ScoreLink

#: The points score, fixed before seeing any outcome: (feature, condition, points).
POINTS = (
    ("charges_12m", "charges in the last 12 months (1 point each, up to 3)", 1),
    ("violent_12m", "any violent charge in the last 12 months", 2),
    ("violent_all", "any violent charge ever", 1),
    ("n_weapons", "any weapons charge ever", 2),
    ("harm_trend", "harm rising (last 12 months above the 12 before)", 1),
    ("age_now", "aged under 25", 1),
)


def points_score(features: pd.DataFrame) -> np.ndarray:
    """Return the additive points score of each person (see :data:`POINTS`)."""

    def col(name: str) -> np.ndarray:
        if name in features:
            return features[name].to_numpy(dtype=float)
        return np.zeros(len(features))

    score = np.minimum(col("charges_12m"), 3.0)
    score = score + 2.0 * (col("violent_12m") > 0)
    score = score + 1.0 * (col("violent_all") > 0)
    score = score + 2.0 * (col("n_weapons") > 0)
    score = score + 1.0 * (col("harm_trend") > 0)
    age = col("age_now")
    score = score + 1.0 * (np.nan_to_num(age, nan=99.0) < 25)
    return score


class PointsScoreModel:
    """The additive points score, with a logistic link learnt on the training cohort."""

    name = "points_score"

    def __init__(self) -> None:
        self.link = ScoreLink()

    def fit(
        self, features: pd.DataFrame, y: np.ndarray, units: np.ndarray | None = None
    ) -> PointsScoreModel:
        """Learn the link from score to probability."""
        self.link.fit(points_score(features), y)
        return self

    def predict(self, features: pd.DataFrame, units: np.ndarray | None = None) -> np.ndarray:
        """Return probabilities."""
        return self.link.predict(points_score(features))


class PriorHarmModel:
    """Harm in the trailing 12 months alone, as ``log(1 + days)``, with a logistic link."""

    name = "prior_harm"

    def __init__(self, column: str = "harm_12m") -> None:
        self.column = column
        self.link = ScoreLink()

    def fit(
        self, features: pd.DataFrame, y: np.ndarray, units: np.ndarray | None = None
    ) -> PriorHarmModel:
        """Learn the link from prior harm to probability."""
        self.link.fit(np.log1p(features[self.column].to_numpy(dtype=float)), y)
        return self

    def predict(self, features: pd.DataFrame, units: np.ndarray | None = None) -> np.ndarray:
        """Return probabilities."""
        return self.link.predict(np.log1p(features[self.column].to_numpy(dtype=float)))
