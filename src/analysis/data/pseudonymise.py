"""Keyed pseudonymisation of person identifiers (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd

#: Environment variable holding the pseudonymisation key.
KEY_ENV = "ANALYSIS_PSEUDONYM_KEY"

#: Hex characters kept from each digest (64 bits: collisions are negligible below ~10^8 people).
DIGEST_CHARS = 16


def key_from_env() -> bytes | None:
    """Return the key in ``ANALYSIS_PSEUDONYM_KEY``, or None if it is unset or empty."""
    value = os.environ.get(KEY_ENV, "")
    return value.encode() if value else None


def pseudonymise(ids: pd.Series, key: bytes, prefix: str = "P") -> pd.Series:
    """Replace identifiers by a keyed hash.

    The same identifier and key always give the same pseudonym, so records link across
    files; without the key the mapping cannot be recomputed or reversed by dictionary attack.

    Parameters
    ----------
    ids : pandas.Series
        Raw identifiers (converted to stripped strings).
    key : bytes
        Secret key; keep it out of the repository and out of reports.
    prefix : str
        Prefix marking the value as a pseudonym.

    Returns
    -------
    pandas.Series of str
    """
    if not key:
        raise ValueError("pseudonymisation needs a non-empty key")

    def one(value: str) -> str:
        mac = hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()
        return prefix + mac[:DIGEST_CHARS]

    return ids.astype(str).map(one)
