"""The interpretable default: logistic regression (statsmodels) on standardised features.

Two guards keep the fit honest on small extracts (both recorded in ``notes`` and, machine
readable, in ``guards``):

- **Events per feature.** With fewer than :data:`MIN_EVENTS_PER_FEATURE` events (the
  smaller of positives and negatives in the training cohort) per feature, the features are
  reduced to ``max(1, events // 10)`` by a fixed rule that does not look at the outcome:
  the features of :data:`~analysis.harm.design.PREFERRED` first, in that order, then the
  others in the design's order. The maximum-likelihood fit and its Wald intervals are kept.
- **Separation.** When the maximum-likelihood fit shows quasi-complete separation (it does
  not converge, a coefficient beyond :data:`MAX_ABS_COEF` or a standard error beyond
  :data:`MAX_SE` per standard deviation, or fitted probabilities of 0 or 1), the model falls
  back to a ridge (L2) fit: the posterior mode under a Normal(0, 1) prior on each
  standardised coefficient (the intercept unpenalised). The penalised fit has **no**
  confidence intervals or p-values: they are left blank in the coefficient table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats

from analysis.harm.design import PREFERRED, Design, feature_label

#: Fewer events per feature than this reduces the features.
MIN_EVENTS_PER_FEATURE = 10

#: A standardised coefficient beyond this (log-odds per SD) is taken as separation.
MAX_ABS_COEF = 10.0

#: A standard error beyond this (log-odds per SD) is taken as separation.
MAX_SE = 10.0

#: Fitted probabilities this close to 0 or 1 are taken as separation.
SEPARATION_EPS = 1e-8


def ridge_logistic(X: np.ndarray, y: np.ndarray, penalty: float = 1.0) -> np.ndarray:
    """Return the L2-penalised logistic coefficients (first column unpenalised).

    Parameters
    ----------
    X : numpy.ndarray
        Design with the constant in the first column.
    y : numpy.ndarray
        Outcomes (0 or 1).
    penalty : float
        Precision of the Normal(0, 1 / penalty) prior on each non-constant coefficient.

    Returns
    -------
    numpy.ndarray
        The posterior mode (penalised maximum likelihood).
    """
    mask = np.ones(X.shape[1])
    mask[0] = 0.0

    def objective(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = X @ b
        nll = float(np.sum(np.logaddexp(0.0, eta) - y * eta))
        p = 1.0 / (1.0 + np.exp(-eta))
        grad = X.T @ (p - y) + penalty * mask * b
        return nll + 0.5 * penalty * float(np.sum(mask * b * b)), grad

    res = optimize.minimize(objective, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B")
    if not res.success:
        raise RuntimeError(f"ridge logistic regression did not converge: {res.message}")
    return res.x


def reduce_features(columns: list[str], keep: int) -> list[str]:
    """Return the ``keep`` features kept by the events-per-feature rule (outcome-blind)."""
    order = [c for c in PREFERRED if c in columns] + [c for c in columns if c not in PREFERRED]
    return order[: max(1, keep)]


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
        Fitting notes (optimiser used, convergence, guards).
    guards : list of dict
        Guards triggered: ``guard`` (``events_per_feature``, ``separation``) and ``message``.
    penalised : bool
        Whether the coefficients are the ridge fit's (no intervals).
    """

    name = "logistic"

    def __init__(self, min_nonzero: int = 10) -> None:
        self.min_nonzero = min_nonzero
        self.design: Design | None = None
        self.result = None
        self.params: pd.Series | None = None
        self.bse: pd.Series | None = None
        self.pvalues: pd.Series | None = None
        self.penalised = False
        self.notes: list[str] = []
        self.guards: list[dict[str, object]] = []

    def _guard(self, guard: str, message: str, **detail: object) -> None:
        self.notes.append(message)
        self.guards.append({"guard": guard, "message": message, **detail})

    def fit(
        self, features: pd.DataFrame, y: np.ndarray, units: np.ndarray | None = None
    ) -> LogisticModel:
        """Fit on the training cohort (units are not used by this model).

        Raises
        ------
        RuntimeError
            If neither Newton's method nor BFGS converges.
        """
        self.notes, self.guards, self.penalised = [], [], False
        yv = np.asarray(y, dtype=float)
        design = Design.fit(features, min_nonzero=self.min_nonzero)
        events = int(min(yv.sum(), len(yv) - yv.sum()))
        n_features = len(design.columns)
        if n_features and events < MIN_EVENTS_PER_FEATURE * n_features:
            kept = reduce_features(design.columns, events // MIN_EVENTS_PER_FEATURE)
            excluded = tuple(c for c in design.columns if c not in kept)
            design = Design.fit(features, min_nonzero=self.min_nonzero, exclude=excluded)
            for c in excluded:
                design.dropped[c] = "dropped by the events-per-feature guard"
            self._guard(
                "events_per_feature",
                f"only {events} events for {n_features} features (fewer than "
                f"{MIN_EVENTS_PER_FEATURE} per feature): the logistic model keeps "
                f"{len(design.columns)} ({', '.join(design.columns)}), the preferred features "
                "first",
                events=events,
                features_before=n_features,
                features_kept=list(design.columns),
            )
        self.design = design
        X = sm.add_constant(design.matrix(features), has_constant="add")
        result = None
        separated = ""
        for method, iters in (("newton", 100), ("bfgs", 2000)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fit = sm.Logit(yv, X).fit(disp=0, method=method, maxiter=iters)
                except (np.linalg.LinAlgError, ValueError) as exc:
                    self.notes.append(f"{method} failed: {exc}")
                    if "separation" in str(exc).lower():
                        separated = f"{method}: {exc}"
                    continue
            if fit.mle_retvals.get("converged", False):
                result = fit
                self.notes.append(f"fitted by {method}")
                break
            self.notes.append(f"{method} did not converge")
        if result is not None:
            separated = separated or separation_sign(result, X)
        elif not separated:
            separated = "maximum likelihood did not converge"
        if separated:
            self._guard(
                "separation",
                f"quasi-complete separation suspected ({separated}): the logistic model is "
                "the ridge (L2) fit instead, without confidence intervals or p-values",
                reason=separated,
            )
            try:
                beta = ridge_logistic(X.to_numpy(dtype=float), yv)
            except RuntimeError as exc:
                raise RuntimeError(
                    "logistic regression did not converge: " + "; ".join([*self.notes, str(exc)])
                ) from exc
            self.penalised = True
            self.result = None
            self.params = pd.Series(beta, index=X.columns)
            self.bse = pd.Series(np.nan, index=X.columns)
            self.pvalues = pd.Series(np.nan, index=X.columns)
            return self
        self.result = result
        self.params, self.bse, self.pvalues = result.params, result.bse, result.pvalues
        return self

    def _check(self) -> Design:
        if self.design is None or self.params is None:
            raise RuntimeError("the model is not fitted")
        return self.design

    def predict(self, features: pd.DataFrame, units: np.ndarray | None = None) -> np.ndarray:
        """Return the probability of escalation for each person."""
        design = self._check()
        X = sm.add_constant(design.matrix(features), has_constant="add")
        eta = X.to_numpy(dtype=float) @ self.params.reindex(X.columns).to_numpy()
        return 1.0 / (1.0 + np.exp(-eta))

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
        params = self.params
        se = self.bse
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
        table["p_value"] = self.pvalues.reindex(table["term"]).to_numpy()
        table["ci_level"] = level
        return table

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return each feature's contribution to each person's log-odds (coef times z)."""
        design = self._check()
        X = design.matrix(features)
        beta = self.params.reindex(design.columns).to_numpy()
        return pd.DataFrame(X.to_numpy() * beta, index=X.index, columns=design.columns)


def separation_sign(result: object, X: pd.DataFrame) -> str:
    """Say how a converged maximum-likelihood fit shows separation ('' if it does not)."""
    params = np.asarray(result.params, dtype=float)[1:]
    se = np.asarray(result.bse, dtype=float)[1:]
    with np.errstate(over="ignore"):
        p = np.asarray(result.predict(X), dtype=float)
    if params.size and np.nanmax(np.abs(params)) > MAX_ABS_COEF:
        return f"a coefficient beyond {MAX_ABS_COEF:g} per standard deviation"
    if se.size and (not np.all(np.isfinite(se)) or np.max(se) > MAX_SE):
        return f"a standard error beyond {MAX_SE:g}"
    extreme = int(((p < SEPARATION_EPS) | (p > 1 - SEPARATION_EPS)).sum())
    if extreme:
        return f"{extreme} fitted probabilities of 0 or 1"
    return ""


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
