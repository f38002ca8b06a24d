"""From raw features to a model matrix: transforms, imputation, standardisation, selection.

Everything is learnt on the training cohort and applied unchanged to later cohorts. Counts,
harm in days and recency are heavy-tailed and enter as ``log(1 + x)``; ages and the harm
trend enter as they are. Each column is then standardised with the training mean and
standard deviation, so a coefficient is the change in log-odds per standard deviation.
Columns that are constant, or non-zero for fewer than ``min_nonzero`` training people, are
dropped with the reason recorded, and so are columns whose variance inflation factor exceeds
``max_vif`` (10 by default), largest first (features in :data:`PREFERRED` last), so that
each coefficient of the interpretable model means what its label says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Features entered as they are (everything else as log(1 + x)). The length of the record
#: is linear like the ages, so that current age = age at first charge + record length is
#: recognised as collinear.
LINEAR_FEATURES = ("harm_trend", "age_first", "age_now", "days_since_first")

#: Features kept in preference when collinear ones must go, most preferred first (the
#: headline features of the issue: harm in the trailing year, age, its trend, recent
#: charges, recency).
PREFERRED = ("harm_12m", "age_now", "harm_trend", "charges_12m", "days_since_last", "age_first")

#: Plain-language description of each feature, for coefficient tables and factor lists.
FEATURE_LABELS = {
    "harm_3m": "harm in the last 3 months",
    "harm_12m": "harm in the last 12 months",
    "harm_24m": "harm in the last 24 months",
    "harm_all": "harm over the whole record",
    "harm_max": "harm of the most serious charge",
    "harm_last": "harm of the latest charge",
    "harm_trend": "rising harm (last 12 months against the 12 before)",
    "charges_12m": "charges in the last 12 months",
    "charges_all": "charges over the whole record",
    "violent_12m": "violent charges in the last 12 months",
    "violent_all": "violent charges over the whole record",
    "weapons_12m": "weapons charges in the last 12 months",
    "days_since_last": "days since the last charge",
    "days_since_first": "days since the first charge",
    "age_first": "age at first charge",
    "age_now": "current age",
}


def feature_label(name: str) -> str:
    """Return the plain-language label of a feature."""
    if name in FEATURE_LABELS:
        return FEATURE_LABELS[name]
    if name.startswith("n_"):
        return f"charges for {name[2:].replace('_', ' ')} (whole record)"
    return name.replace("_", " ")


def transform_of(name: str) -> str:
    """Return the transform of a feature: ``log1p`` or ``identity``."""
    return "identity" if name in LINEAR_FEATURES else "log1p"


def variance_inflation(frame: pd.DataFrame) -> pd.Series:
    """Return the variance inflation factor of each column, ``1 / (1 - R^2)``.

    ``R^2`` is that of the column regressed on the others (from the correlation matrix);
    an exactly collinear column has an infinite factor.
    """
    corr = np.atleast_2d(np.corrcoef(frame.to_numpy(dtype=float), rowvar=False))
    return pd.Series(_vif(corr), index=frame.columns)


def _vif(corr: np.ndarray) -> np.ndarray:
    p = corr.shape[0]
    out = np.ones(p)
    for j in range(p):
        rest = np.arange(p) != j
        if not rest.any():
            break
        c = corr[rest, j]
        coef = np.linalg.lstsq(corr[np.ix_(rest, rest)], c, rcond=None)[0]
        r2 = float(np.clip(c @ coef, 0.0, 1.0))
        out[j] = np.inf if r2 >= 1 - 1e-12 else 1.0 / (1.0 - r2)
    return out


def _prune_vif(frame: pd.DataFrame, max_vif: float | None, dropped: dict[str, str]) -> list[str]:
    keep = list(frame.columns)
    if max_vif is None:
        return keep
    full = pd.DataFrame(
        np.atleast_2d(np.corrcoef(frame.to_numpy(dtype=float), rowvar=False)),
        index=frame.columns,
        columns=frame.columns,
    )

    def vif_of(columns: list[str]) -> pd.Series:
        return pd.Series(_vif(full.loc[columns, columns].to_numpy()), index=columns)

    while len(keep) > 1:
        vif = vif_of(keep)
        over = vif[vif > max_vif]
        if over.empty:
            break
        free = over.drop([c for c in PREFERRED if c in over.index])
        if len(free):
            worst = str(free.idxmax())
        else:
            # only preferred features are over the limit: if dropping one other feature
            # brings the least preferred of them under it, drop that feature instead
            target = max(over.index, key=PREFERRED.index)
            after = {
                c: vif_of([k for k in keep if k != c])[target] for c in keep if c not in PREFERRED
            }
            best = min(after, key=after.__getitem__) if after else None
            worst = best if best is not None and after[best] <= max_vif else target
            if worst != target:
                dropped[worst] = (
                    f"collinear: dropped to keep {target} "
                    f"(VIF {vif[target]:.0f} > {max_vif:g} with it)"
                )
                keep.remove(worst)
                continue
        dropped[worst] = f"collinear: variance inflation factor {vif[worst]:.0f} > {max_vif:g}"
        keep.remove(worst)
    return keep


@dataclass
class Design:
    """A fitted design: which columns, how transformed, imputed and scaled.

    Attributes
    ----------
    columns : list of str
        Kept features, in order.
    fill : pandas.Series
        Training median of each transformed column (used for missing values).
    center, scale : pandas.Series
        Training mean and standard deviation of each transformed column.
    dropped : dict of str to str
        Dropped features and why.
    """

    columns: list[str]
    fill: pd.Series
    center: pd.Series
    scale: pd.Series
    dropped: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def transform(features: pd.DataFrame) -> pd.DataFrame:
        """Apply the fixed per-feature transforms (no fitting)."""
        out = {}
        for c in features.columns:
            x = features[c].to_numpy(dtype=float)
            out[c] = x if transform_of(c) == "identity" else np.log1p(np.clip(x, 0, None))
        return pd.DataFrame(out, index=features.index)

    @classmethod
    def fit(
        cls,
        features: pd.DataFrame,
        *,
        min_nonzero: int = 10,
        exclude: tuple[str, ...] = (),
        max_abs_correlation: float = 0.995,
        max_vif: float | None = 10.0,
    ) -> Design:
        """Learn the design on the training cohort's features.

        Parameters
        ----------
        features : pandas.DataFrame
            Raw features of the training cohort.
        min_nonzero : int
            Count features (``n_*``, ``*_12m``) non-zero for fewer training people are
            dropped (too rare to estimate).
        exclude : tuple of str
            Features left out on purpose.
        max_abs_correlation : float
            Of two transformed columns correlated beyond this, the later one is dropped.
        max_vif : float, optional
            Columns are then dropped one at a time, largest variance inflation factor
            first, until every VIF is at most this (None: no pruning). Collinear columns
            make coefficients, their intervals and per-person factors unstable.
        """
        t = cls.transform(features)
        dropped: dict[str, str] = {c: "excluded" for c in exclude if c in t}
        keep = []
        for c in t.columns:
            if c in dropped:
                continue
            x = t[c].to_numpy()
            finite = x[np.isfinite(x)]
            if finite.size == 0 or np.nanstd(finite) == 0:
                dropped[c] = "constant in training"
            elif (
                transform_of(c) == "log1p"
                and not c.startswith(("harm_", "days_"))
                and int((finite > 0).sum()) < min_nonzero
            ):
                dropped[c] = f"non-zero for fewer than {min_nonzero} training people"
            else:
                keep.append(c)
        fill = t[keep].median()
        filled = t[keep].fillna(fill)
        corr = filled.corr().abs().to_numpy()
        final: list[str] = []
        for i, c in enumerate(keep):
            twin = [
                keep[j] for j in range(i) if keep[j] in final and corr[i, j] > max_abs_correlation
            ]
            if twin:
                dropped[c] = f"collinear with {twin[0]}"
            else:
                final.append(c)
        final = _prune_vif(filled[final], max_vif, dropped)
        filled = filled[final]
        return cls(
            columns=final,
            fill=fill[final],
            center=filled.mean(),
            scale=filled.std(ddof=0),
            dropped=dropped,
        )

    def matrix(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return the standardised model matrix of any cohort's features."""
        missing = [c for c in self.columns if c not in features]
        if missing:
            raise ValueError(f"features lack columns {missing}")
        t = self.transform(features[self.columns]).fillna(self.fill)
        return (t - self.center) / self.scale

    def table(self) -> pd.DataFrame:
        """Return the design as a table (feature, label, transform, mean, sd)."""
        return pd.DataFrame(
            {
                "feature": self.columns,
                "label": [feature_label(c) for c in self.columns],
                "transform": [transform_of(c) for c in self.columns],
                "train_mean": self.center.to_numpy(),
                "train_sd": self.scale.to_numpy(),
            }
        )
