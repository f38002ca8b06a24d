"""The challenger: gradient-boosted trees (scikit-learn's histogram gradient boosting)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits


class GradientBoostingModel:
    """Histogram gradient boosting on the raw features (trees need no transforms).

    Parameters
    ----------
    seed : int
        Seed of the early-stopping split.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization : optional
        Passed to :class:`~sklearn.ensemble.HistGradientBoostingClassifier`. Early stopping
        holds out 20% of the training cohort.
    threads : int
        OpenMP threads (default 1: on a shared machine more threads than free cores make
        OpenMP spin and slow everything down; a cohort of 10^4-10^5 people fits in seconds).
    """

    name = "gradient_boosting"

    def __init__(
        self,
        seed: int = 0,
        *,
        max_iter: int = 400,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        threads: int = 1,
    ) -> None:
        self.threads = threads
        self.columns: list[str] = []
        self.estimator = HistGradientBoostingClassifier(
            max_iter=max_iter,
            learning_rate=learning_rate,
            max_leaf_nodes=max_leaf_nodes,
            min_samples_leaf=min_samples_leaf,
            l2_regularization=l2_regularization,
            early_stopping=True,
            validation_fraction=0.2,
            n_iter_no_change=30,
            scoring="loss",
            random_state=seed,
        )

    def fit(
        self, features: pd.DataFrame, y: np.ndarray, units: np.ndarray | None = None
    ) -> GradientBoostingModel:
        """Fit on the training cohort (units are not used)."""
        self.columns = [c for c in features.columns if features[c].nunique(dropna=True) > 1]
        with threadpool_limits(limits=self.threads, user_api="openmp"):
            self.estimator.fit(features[self.columns].to_numpy(dtype=float), np.asarray(y, int))
        return self

    def predict(self, features: pd.DataFrame, units: np.ndarray | None = None) -> np.ndarray:
        """Return probabilities."""
        X = features.reindex(columns=self.columns).to_numpy(dtype=float)
        with threadpool_limits(limits=self.threads, user_api="openmp"):
            return self.estimator.predict_proba(X)[:, 1]
