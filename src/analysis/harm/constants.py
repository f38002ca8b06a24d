"""Names shared by the run, its writers and the command line (light to import)."""

from __future__ import annotations

#: Models in the order they are reported (the first is the interpretable default).
MODEL_NAMES = ("logistic", "bayes_hierarchical", "gradient_boosting", "points_score", "prior_harm")
