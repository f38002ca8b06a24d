"""Fairness audit of the harm-escalation model: group metrics with intervals and suppression.

Sex, age band and ethnicity are used here only, never as model features. Groups smaller
than the minimum size (10 people by default) are suppressed and marked as such.
"""

from analysis.fairness.audit import MIN_GROUP_SIZE, AuditSettings, audit_models, fairness_table
from analysis.fairness.groups import AGE_BANDS, age_band, audit_attributes

__all__ = [
    "AGE_BANDS",
    "MIN_GROUP_SIZE",
    "AuditSettings",
    "age_band",
    "audit_attributes",
    "audit_models",
    "fairness_table",
]
