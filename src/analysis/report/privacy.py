"""The privacy scan of a month's public files, before anything is published.

A month is published only if none of its public files (everything outside ``restricted/``)
holds:

- a **person identifier**, as it stands in the input and as published (keyed when a
  pseudonym key was set);
- a **crime reference** of the extract (crime-level rows stay restricted);
- a crime's **exact coordinates**: an easting and northing of one recorded crime written
  next to each other (within three numbers of each other, so a CSV row, a JSON pair or a
  table row all count). Published cell centroids are rounded to 10 m, so a pair whose two
  values are both multiples of 10 m is taken for a centroid and not flagged; a crime
  recorded exactly on such a point is the one case the scan cannot tell apart;
- an **absolute path** of the server: the run's folders, the data folder, the project, the
  user's home and the Python environment.

The scan is a last line of defence: the pages are built from aggregates in the first place.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.folder import FolderData
from analysis.report.disclosure import find_identifiers

#: Published coordinates (cell centroids) are rounded to this many metres.
PUBLISHED_PRECISION_M = 10
#: A number that could be a British National Grid easting or northing, in metres.
_NUMBER = re.compile(r"(?<![\w.\-])(\d{5,7})(?:\.(\d+))?(?![\w])")
#: How far apart (in numbers) an easting and its northing may be written.
_PAIR_WINDOW = 3


@dataclass
class Sensitive:
    """What no public file may contain."""

    person_ids: set[str] = field(default_factory=set)
    crime_refs: set[str] = field(default_factory=set)
    points: set[tuple[int, int]] = field(default_factory=set)
    roots: list[str] = field(default_factory=list)


def _refs(frame: pd.DataFrame | None) -> set[str]:
    if frame is None or "crime_ref" not in frame:
        return set()
    return {str(v).strip() for v in frame["crime_ref"].dropna() if str(v).strip()}


def _points(frame: pd.DataFrame | None, ex: str, ny: str) -> set[tuple[int, int]]:
    if frame is None or ex not in frame or ny not in frame:
        return set()
    e = pd.to_numeric(frame[ex], errors="coerce").to_numpy(dtype=float)
    n = pd.to_numeric(frame[ny], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(e) & np.isfinite(n) & (np.abs(e) < 1e7) & (np.abs(n) < 1e7)
    return set(zip(np.round(e[ok]).astype(int), np.round(n[ok]).astype(int), strict=True))


def server_roots(run_folders: dict[str, str]) -> dict[str, str]:
    """Absolute folders no public file may name, each with what replaces it in a notebook.

    Parameters
    ----------
    run_folders : dict
        The run's folders (staging, data, project, reports), each with its path relative to
        the run's folder.

    Returns
    -------
    dict
        Those folders, the Python environment (``<venv>``, ``<python>``) and the user's home
        (``~``), longest first so that a folder inside another is replaced by its own name.
    """
    roots = dict(run_folders)
    for folder, name in (
        (sys.prefix, "<venv>"),
        (sys.base_prefix, "<python>"),
        (str(Path.home()), "~"),
    ):
        for form in {folder, str(Path(folder).resolve())}:
            if len(form) > 1 and form not in roots:  # never "/"
                roots[form] = name
    return dict(sorted(roots.items(), key=lambda kv: -len(kv[0])))


def sensitive_values(data: FolderData, roots: Iterable[str]) -> Sensitive:
    """Collect the run's identifiers, crime references, crime points and server folders."""
    ids = data.person_ids() | data.folder.person_ids_raw(data.options)
    refs: set[str] = set()
    points: set[tuple[int, int]] = set()
    for result in (data.crimes, data.charges):
        if result is None:
            continue
        refs |= _refs(result.accepted) | _refs(result.rejected)
    if data.crimes is not None:
        points |= _points(data.crimes.accepted, "x", "y")
        points |= _points(data.crimes.rejected, "easting", "northing")
    return Sensitive(person_ids=ids, crime_refs=refs, points=points, roots=list(roots))


def absolute(root: str) -> re.Pattern[str]:
    """``root`` where it starts a path: not inside a relative path such as ``../work/x``."""
    return re.compile(r"(?<![\w.])" + re.escape(root))


def find_points(text: str, points: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Crime points whose easting and northing are written next to each other in ``text``."""
    if not points:
        return set()
    values = []
    for m in _NUMBER.finditer(text):
        frac = m.group(2)
        v = int(m.group(1)) + (1 if frac and frac[0] >= "5" else 0)
        values.append(v)
    found = set()
    for i, a in enumerate(values):
        for b in values[i + 1 : i + 1 + _PAIR_WINDOW]:
            for pair in ((a, b), (b, a)):
                if pair in points and not (
                    pair[0] % PUBLISHED_PRECISION_M == 0 and pair[1] % PUBLISHED_PRECISION_M == 0
                ):
                    found.add(pair)
    return found


def scan(paths: Iterable[Path], sensitive: Sensitive, base: Path) -> dict[str, object]:
    """Scan public files; return the findings by kind, with files named relative to ``base``.

    Returns
    -------
    dict
        ``status`` (``ok`` or ``failed``), ``scanned_files``, the number of values checked of
        each kind, and for each kind found the files holding it (``person_ids``,
        ``crime_refs``, ``coordinates``, ``server_paths``); values themselves are never
        recorded.
    """
    paths = list(paths)

    def rel(p: str | Path) -> str:
        return str(Path(p).relative_to(base))

    found: dict[str, set[str]] = {
        "person_ids": set(),
        "crime_refs": set(),
        "coordinates": set(),
        "server_paths": set(),
    }
    for hit in find_identifiers(paths, sensitive.person_ids):
        found["person_ids"].add(rel(hit.split(": ")[0]))
    for hit in find_identifiers(paths, sensitive.crime_refs):
        found["crime_refs"].add(rel(hit.split(": ")[0]))
    patterns = [absolute(r) for r in sensitive.roots]
    for p in paths:
        text = p.read_text(errors="replace")
        if find_points(text, sensitive.points):
            found["coordinates"].add(rel(p))
        if any(pat.search(text) for pat in patterns):
            found["server_paths"].add(rel(p))
    report: dict[str, object] = {
        "status": "failed" if any(found.values()) else "ok",
        "scanned_files": len(paths),
        "identifiers_checked": len(sensitive.person_ids),
        "crime_refs_checked": len(sensitive.crime_refs),
        "crime_points_checked": len(sensitive.points),
        "server_folders_checked": len(sensitive.roots),
    }
    report.update({k: sorted(v) for k, v in found.items() if v})
    return report
