"""Crime harm indices as versioned tables, and how a charge is weighed.

Only published figures are included. The Cambridge Crime Harm Index (Sherman, Neyroud and
Neyroud 2016) weights each offence by the days of imprisonment at the sentencing-guideline
starting point for a first offender (fine-only offences: days of minimum-wage work needed to
pay the fine). The table here holds the published *subgroup medians* (in days) by offence
family; families without a published median have no weight and are reported as such rather
than given an invented one.

The ONS Crime Severity Score (average sentence actually imposed, in custody days) ships with
**no weights**: its official table is read from a force's copy of the ONS spreadsheet with
:func:`analysis.harm.official.load_official_weights`. A force may likewise supply the
official Cambridge table by offence code; code weights then take precedence over the
family medians.

Harm is counted on charges. :class:`CountingRule` says which charges count (all charges by
default, or without acquittals and no-further-action, or convictions only), and
:class:`HarmMeasure` pairs an index with a counting rule; every harm figure in the package
is computed through a measure, so the index and the rule are always parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.offences import load_offence_codes

#: Version of the packaged Cambridge CHI table (bump when the table changes).
CAMBRIDGE_CHI_VERSION = "cambridge-chi-family-medians-v1"

#: Where the Cambridge CHI family medians come from.
CAMBRIDGE_CHI_SOURCE = (
    "Sherman, L., Neyroud, P. W. and Neyroud, E. (2016). The Cambridge Crime Harm Index: "
    "measuring total harm from crime based on sentencing guidelines. Policing: A Journal of "
    "Policy and Practice 10(3), 171-183. Subgroup medians in days as listed in issue 5 of "
    "this project (homicide 5,475; rape 2,555; violence with injury 365; violence without "
    "injury 10; robbery 365; residential burglary 273.5; possession of weapons 273.75; "
    "arson 185; public order 7.5; drug possession 3; criminal damage 2; shoplifting 1)."
)

#: Where the ONS Crime Severity Score comes from (weights are not shipped).
ONS_CSS_SOURCE = (
    "Office for National Statistics (2016). Research outputs: developing a Crime Severity "
    "Score for England and Wales using data on crimes recorded by the police (29 November "
    "2016). Weights per offence code from sentencing data; read from the force's copy of the "
    "official spreadsheet (no weights ship with the package)."
)

#: Families whose published median stands for one named offence only: the family weight
#: applies to codes whose description matches the pattern; other codes are unweighted.
CHI_FAMILY_SCOPE = {"sexual": r"(?i)^rape\b"}


class CountingRule(StrEnum):
    """Which charges count towards harm.

    ``CHARGES`` (the default) counts every charge, whatever its outcome.
    ``EXCLUDE_ACQUITTED_NFA`` drops charges that ended in acquittal or no further action
    (pending charges still count). ``CONVICTIONS`` counts convictions only.

    Notes
    -----
    The charges contract has no outcome date: an outcome is as known at the extract's
    cut-off, which may be after a reference date. Only the default rule is free of that
    look-ahead; the other two are sensitivity analyses.
    """

    CHARGES = "charges"
    EXCLUDE_ACQUITTED_NFA = "exclude-acquitted-nfa"
    CONVICTIONS = "convictions"

    def counted(self, outcome: pd.Series) -> np.ndarray:
        """Return which charges count, given their canonical outcomes."""
        out = outcome.astype("string").fillna("").to_numpy(dtype=object)
        if self is CountingRule.CHARGES:
            return np.ones(len(out), dtype=bool)
        if self is CountingRule.EXCLUDE_ACQUITTED_NFA:
            return ~np.isin(out, ["acquitted", "no_further_action"])
        return out == "convicted"


@dataclass(frozen=True)
class HarmIndex:
    """A harm index: weights (in days) by offence code and/or offence family.

    Parameters
    ----------
    name : str
        Short name (``cambridge_chi``, ``ons_css``).
    version : str
        Version of the table (a packaged version tag, or the hash of a supplied file).
    source : str
        Citation of the weights.
    by_family : pandas.Series
        Weight by offence family (may be empty).
    by_code : pandas.Series
        Weight by offence code (may be empty); takes precedence over ``by_family``.
    family_scope : dict of str to str
        For a family, a regular expression on the code description: the family weight
        applies only to matching codes.
    notes : tuple of str
        Approximations made, in words.
    """

    name: str
    version: str
    source: str
    by_family: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    by_code: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    family_scope: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Name and version, as written in outputs."""
        return f"{self.name} ({self.version})"

    def code_weights(self, codes: pd.DataFrame | None = None) -> pd.Series:
        """Return the weight of every code in an offence code table (NaN: no weight).

        Parameters
        ----------
        codes : pandas.DataFrame, optional
            Offence code table (index ``code``; columns ``family``, ``description``);
            default the packaged table.
        """
        codes = load_offence_codes() if codes is None else codes
        family = codes["family"].astype(str)
        weight = family.map(self.by_family).astype(float)
        for fam, pattern in self.family_scope.items():
            outside = (family == fam) & ~codes["description"].astype(str).str.contains(
                pattern, regex=True
            )
            weight[outside] = np.nan
        direct = pd.Series(codes.index, index=codes.index).map(self.by_code).astype(float)
        weight = direct.where(direct.notna(), weight)
        weight.name = self.label
        return weight

    def weigh(self, charges: pd.DataFrame, codes: pd.DataFrame | None = None) -> np.ndarray:
        """Return the harm weight (days) of each charge; charges without a weight get 0.

        Parameters
        ----------
        charges : pandas.DataFrame
            Needs ``offence_code``.
        codes : pandas.DataFrame, optional
            Offence code table; default the packaged table.
        """
        w = self.code_weights(codes)
        extra = self.by_code.index.difference(w.index)
        if len(extra):
            w = pd.concat([w, self.by_code.loc[extra].astype(float)])
        return charges["offence_code"].astype(str).map(w).fillna(0.0).to_numpy(dtype=float)

    def unweighted(self, charges: pd.DataFrame, codes: pd.DataFrame | None = None) -> pd.Series:
        """Count charges that get no weight from this index, by offence family and code.

        Returns
        -------
        pandas.Series
            Index ``family/code``; values: number of charges (empty if all are weighted).
        """
        w = self.code_weights(codes)
        code = charges["offence_code"].astype(str)
        missing = ~code.isin(w.index[w.notna()]) & ~code.isin(self.by_code.index)
        if not missing.any():
            return pd.Series(dtype="int64", name="charges_without_weight")
        fam = charges.loc[missing, "family"].astype("string").fillna("unknown").astype(str)
        key = fam + "/" + code[missing]
        return key.value_counts().sort_index().rename("charges_without_weight")


@dataclass(frozen=True)
class HarmMeasure:
    """An index with a counting rule: the full definition of how harm is measured.

    Parameters
    ----------
    index : HarmIndex
        Weights.
    counting : CountingRule
        Which charges count.
    """

    index: HarmIndex
    counting: CountingRule = CountingRule.CHARGES

    @property
    def name(self) -> str:
        """Short name, e.g. ``cambridge_chi/charges``."""
        return f"{self.index.name}/{self.counting.value}"

    def weigh(self, charges: pd.DataFrame, codes: pd.DataFrame | None = None) -> np.ndarray:
        """Return each charge's harm in days (0 when it does not count or has no weight)."""
        w = self.index.weigh(charges, codes)
        return np.where(self.counting.counted(charges["outcome"]), w, 0.0)


def cambridge_chi_by_family() -> pd.Series:
    """Return the Cambridge Crime Harm Index subgroup medians, in days, by offence family.

    Returns
    -------
    pandas.Series
        Index: offence family (as in the offence code table); values: days.

    Notes
    -----
    Families mapped to the published subgroups: ``sexual`` carries the *rape* median and
    is meant only for rape codes; ``burglary_residential`` the residential burglary median.
    """
    path = Path(str(resources.files("analysis.harm") / "reference"))
    table = pd.read_csv(path / "cambridge_chi_family_medians.csv")
    series = table.set_index("family")["days"].astype(float)
    series.name = CAMBRIDGE_CHI_VERSION
    return series


def cambridge_chi() -> HarmIndex:
    """Return the packaged Cambridge CHI index (published subgroup medians by family).

    Returns
    -------
    HarmIndex
        Family weights; the ``sexual`` family's rape median applies to rape codes only.
    """
    return HarmIndex(
        name="cambridge_chi",
        version=CAMBRIDGE_CHI_VERSION,
        source=CAMBRIDGE_CHI_SOURCE,
        by_family=cambridge_chi_by_family(),
        family_scope=dict(CHI_FAMILY_SCOPE),
        notes=(
            "Each code takes its family's published subgroup median, not the per-code "
            "figure of the official table (a force's official table replaces this).",
            "The 'sexual' family's median is the rape median and applies to rape codes "
            "only; other sexual offences are unweighted.",
            "Families without a published median (attempted murder, stalking and "
            "harassment, non-residential burglary, theft, vehicle crime, drug trafficking) "
            "have no weight: their charges add 0 days and are counted in the run log.",
        ),
    )


def index_families_without_weight(index: HarmIndex, codes: pd.DataFrame | None = None) -> list[str]:
    """Return offence families of the code table in which no code has a weight."""
    codes = load_offence_codes() if codes is None else codes
    w = index.code_weights(codes)
    weighted = codes.loc[w.notna(), "family"].unique()
    return sorted(set(codes["family"]) - set(weighted))


def zero_harm_charges(
    index: HarmIndex, charges: pd.DataFrame, codes: pd.DataFrame | None = None
) -> pd.Series:
    """Count charges that weigh 0 days under an index (no weight, or a weight of 0), by family.

    Parameters
    ----------
    index : HarmIndex
        The weights (the counting rule plays no part).
    charges : pandas.DataFrame
        Needs ``offence_code`` and ``family``.
    codes : pandas.DataFrame, optional
        Offence code table; default the packaged table.

    Returns
    -------
    pandas.Series
        Index: offence family; values: charges at zero harm, largest first (empty if none).
    """
    zero = index.weigh(charges, codes) == 0
    if not zero.any():
        return pd.Series(dtype="int64", name="zero_harm_charges")
    fam = charges.loc[zero, "family"].astype("string").fillna("unknown").astype(str)
    counts = fam.value_counts()
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
    return counts.rename("zero_harm_charges")
