"""The data layer: contracts, loaders that lose nothing, validation and offence groups.

Every loader returns a :class:`~analysis.data.result.LoadResult` holding the accepted rows,
the quarantined rows with their reasons, and a reconciliation (read = accepted + rejected).
"""

from analysis.data.errors import LoadError
from analysis.data.loaders import (
    FORMATS,
    load,
    load_charges,
    load_crimes,
    load_events,
    load_policeuk,
)
from analysis.data.options import DuplicatePolicy, LoadOptions
from analysis.data.result import LoadResult

__all__ = [
    "FORMATS",
    "DuplicatePolicy",
    "LoadError",
    "LoadOptions",
    "LoadResult",
    "load",
    "load_charges",
    "load_crimes",
    "load_events",
    "load_policeuk",
]
