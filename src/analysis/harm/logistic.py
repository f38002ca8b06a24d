"""The interpretable default: logistic regression (statsmodels) on standardised features."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.harm.design import Design, feature_label


class LogisticModel:
    """Maximum-likelihood logistic regression of escalation on the design's features.

    Parameters
    ----------
    min_nonzero : int
        Passed to :meth:`Design.fit`.

    Attributes
    ----------
    design : Design
        Learnt on the training cohort.
    result : statsmodels result
        The fitted model (coefficients per standard deviation of each transformed feature).
    notes : list of str
        Fitting notes (optimiser used, convergence).
    """

    name = "logistic"

    def __init__(self, min_nonzero: int = 10) -> None:
        self.min_nonzero = min_nonzero
        self.design: Design | None = None
        self.result = None
        self.notes: list[str] = []

    def fit(
        self, features: pd.DataFrame, y: np.ndarray, units: np.ndarray | None = None
    ) -> LogisticModel:
        """Fit on the training cohort (units are not used by this model).

        Raises
        ------
        RuntimeError
            If neither Newton's method nor BFGS converges.
        """
        self.design = Design.fit(features, min_nonzero=self.min_nonzero)
        X = sm.add_constant(self.design.matrix(features), has_constant="add")
        yv = np.asarray(y, dtype=float)
        result = None
        for method, iters in (("newton", 100), ("bfgs", 2000)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fit = sm.Logit(yv, X).fit(disp=0, method=method, maxiter=iters)
                except (np.linalg.LinAlgError, ValueError) as exc:
                    self.notes.append(f"{method} failed: {exc}")
                    continue
            if fit.mle_retvals.get("converged", False):
                result = fit
                self.notes.append(f"fitted by {method}")
                break
            self.notes.append(f"{method} did not converge")
        if result is None:
            raise RuntimeError("logistic regression did not converge: " + "; ".join(self.notes))
        self.result = result
        return self

    def _check(self) -> Design:
        if self.design is None or self.result is None:
            raise RuntimeError("the model is not fitted")
        return self.design

    def predict(self, features: pd.DataFrame, units: np.ndarray | None = None) -> np.ndarray:
        """Return the probability of escalation for each person."""
        design = self._check()
        X = sm.add_constant(design.matrix(features), has_constant="add")
        return np.asarray(self.result.predict(X), dtype=float)

    def coefficients(self, level: float = 0.95) -> pd.DataFrame:
        """Return the coefficient table with Wald confidence intervals and odds ratios.

        Returns
        -------
        pandas.DataFrame
            ``term, label, transform, train_mean, train_sd, coef, se, ci_low, ci_high,
            odds_ratio, or_ci_low, or_ci_high, p_value`` (coefficients per standard
            deviation of the transformed feature).
        """
        design = self._check()
        z = stats.norm.ppf(0.5 + level / 2)
        params = self.result.params
        se = self.result.bse
        table = design.table().rename(columns={"feature": "term"})
        const = pd.DataFrame(
            {
                "term": ["const"],
                "label": ["intercept (log-odds at the training means)"],
                "transform": [""],
                "train_mean": [np.nan],
                "train_sd": [np.nan],
            }
        )
        table = pd.concat([const, table], ignore_index=True)
        coef = params.reindex(table["term"]).to_numpy()
        s = se.reindex(table["term"]).to_numpy()
        table["coef"] = coef
        table["se"] = s
        table["ci_low"] = coef - z * s
        table["ci_high"] = coef + z * s
        table["odds_ratio"] = np.exp(coef)
        table["or_ci_low"] = np.exp(coef - z * s)
        table["or_ci_high"] = np.exp(coef + z * s)
        table["p_value"] = self.result.pvalues.reindex(table["term"]).to_numpy()
        table["ci_level"] = level
        return table

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return each feature's contribution to each person's log-odds (coef times z)."""
        design = self._check()
        X = design.matrix(features)
        beta = self.result.params.reindex(design.columns).to_numpy()
        return pd.DataFrame(X.to_numpy() * beta, index=X.index, columns=design.columns)


def _number(x: float) -> str:
    """Format a feature value for people to read (no scientific notation)."""
    if not np.isfinite(x):
        return "unknown"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if x != int(x) else f"{int(x)}"


def main_factors(contributions: pd.DataFrame, features: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """Describe the features that raise each person's risk most, in words.

    Parameters
    ----------
    contributions : pandas.DataFrame
        Per-person contributions to the log-odds (people by features).
    features : pandas.DataFrame
        Raw features of the same people (values shown next to each factor).
    top : int
        Number of factors per person.

    Returns
    -------
    pandas.DataFrame
        Same index; columns ``factor_1 .. factor_top`` such as
        ``"violent charges in the last 12 months = 2 (+0.41)"`` (the value, and the
        contribution to the log-odds against the training average); empty when fewer
        features raise the risk.
    """
    values = contributions.to_numpy()
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    cols = contributions.columns.to_numpy()
    raw = features.reindex(columns=contributions.columns).to_numpy(dtype=float)
    out = {}
    for k in range(order.shape[1]):
        j = order[:, k]
        v = values[np.arange(len(j)), j]
        x = raw[np.arange(len(j)), j]
        text = [
            f"{feature_label(c)} = {_number(xv)} (+{vv:.2f})" if vv > 0 else ""
            for c, xv, vv in zip(cols[j], x, v, strict=True)
        ]
        out[f"factor_{k + 1}"] = text
    return pd.DataFrame(out, index=contributions.index)
