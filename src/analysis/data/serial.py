"""JSON-ready values: dataclasses, mappings, sequences and dates, for records and manifests."""

from __future__ import annotations

import dataclasses
from datetime import date


def jsonable(obj: object) -> object:
    """Return ``obj`` with dataclasses as dicts, tuples as lists and dates as ISO strings."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    return obj
