"""Crime harm: harm indices, harm per person, cohorts and the harm-escalation model.

Light imports only here (the synthetic generator imports the index); the models live in
their own modules.

Modules
-------
index
    :class:`HarmIndex`, :class:`HarmMeasure`, :class:`CountingRule`, the packaged
    Cambridge CHI family medians (:func:`cambridge_chi`).
official
    Official per-code tables from CSV (:func:`load_css_table`, :func:`load_chi_code_table`),
    versioned by file hash; :func:`fine_to_days`.
person
    Harm per person over windows (:func:`harm_in_window`, :func:`rolling_harm`).
features, cohort
    Features at a date from earlier records only; :class:`HighHarmRule`,
    :func:`build_cohort`.
design, logistic, bayes, boosting, baselines
    The models: logistic regression (default), hierarchical Bayesian logistic regression
    (PyMC, nutpie), gradient boosting, the points score and prior harm.
metrics, truth, sensitivity
    Evaluation, checks against the synthetic truth, index sensitivity.
pipeline, output, plots, command
    The run (:func:`run_harm`), its writers and the ``analysis harm`` subcommand.
"""

from analysis.harm.cohort import Cohort, HighHarmRule, build_cohort
from analysis.harm.index import (
    CAMBRIDGE_CHI_VERSION,
    CountingRule,
    HarmIndex,
    HarmMeasure,
    cambridge_chi,
    cambridge_chi_by_family,
)
from analysis.harm.official import fine_to_days, load_chi_code_table, load_css_table
from analysis.harm.person import harm_in_window, rolling_harm, trailing_harm

__all__ = [
    "CAMBRIDGE_CHI_VERSION",
    "Cohort",
    "CountingRule",
    "HarmIndex",
    "HarmMeasure",
    "HighHarmRule",
    "build_cohort",
    "cambridge_chi",
    "cambridge_chi_by_family",
    "fine_to_days",
    "harm_in_window",
    "load_chi_code_table",
    "load_css_table",
    "rolling_harm",
    "trailing_harm",
]
