"""The outcome of a load: accepted rows, quarantined rows with reasons, and a reconciliation."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.data.serial import write_csv

log = logging.getLogger("analysis.data")

#: Columns that lead every quarantine file.
REJECT_COLUMNS = ("row", "reason", "column", "detail")


@dataclass
class LoadResult:
    """Accepted and rejected rows of one file, and how they reconcile.

    Attributes
    ----------
    source : str
        Path of the file read.
    format : str
        Contract the file was read under (``crimes``, ``charges``, ``policeuk``, ``events``).
    accepted : pandas.DataFrame
        Rows that passed every check, in canonical columns; ``row`` is the file row.
    rejected : pandas.DataFrame
        One row per quarantined record: ``row``, ``reason``, ``column``, ``detail``, then the
        record's raw fields (a raw field whose name clashes gets the suffix ``_raw``).
    sha256 : str
        Hash of the file's bytes.
    blank_lines : int
        Empty lines skipped (not records).
    notes : list of str
        Anything the user should know about the load (assumptions applied).
    crs : str, optional
        Coordinate reference system of ``accepted.x``/``accepted.y``.
    """

    source: str
    format: str
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    sha256: str
    blank_lines: int = 0
    notes: list[str] = field(default_factory=list)
    crs: str | None = None

    @property
    def n_read(self) -> int:
        """Records read from the file."""
        return len(self.accepted) + len(self.rejected)

    def reasons(self) -> dict[str, int]:
        """Return quarantined row counts by reason, most frequent first."""
        counts = self.rejected["reason"].value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def summary(self) -> dict[str, object]:
        """Return the reconciliation as a JSON-ready dict.

        The first four keys are ``read``, ``accepted``, ``rejected`` and ``reasons``;
        ``read == accepted + rejected`` always holds.
        """
        return {
            "read": self.n_read,
            "accepted": len(self.accepted),
            "rejected": len(self.rejected),
            "reasons": self.reasons(),
            "source": self.source,
            "format": self.format,
            "sha256": self.sha256,
            "blank_lines_skipped": self.blank_lines,
            "crs": self.crs,
            "notes": list(self.notes),
        }

    def log(self) -> None:
        """Log the reconciliation at INFO level."""
        s = self.summary()
        log.info(
            "%s (%s): read %d = accepted %d + rejected %d %s",
            self.source,
            self.format,
            s["read"],
            s["accepted"],
            s["rejected"],
            s["reasons"] or "",
        )

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``accepted.parquet``, ``rejected.csv`` and ``summary.json`` to a folder.

        Text in ``rejected.csv`` that a spreadsheet would run as a formula is neutralised
        (:func:`analysis.data.serial.csv_safe`).

        Parameters
        ----------
        out_dir : str or Path
            Folder, created if missing.

        Returns
        -------
        dict of str to Path
            The files written.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "accepted": out / "accepted.parquet",
            "rejected": out / "rejected.csv",
            "summary": out / "summary.json",
        }
        self.accepted.to_parquet(paths["accepted"], index=False)
        write_csv(self.rejected, paths["rejected"], index=False)
        paths["summary"].write_text(json.dumps(self.summary(), indent=2) + "\n")
        return paths


def reconciliation_lines(label: str, summary: dict[str, object]) -> list[str]:
    """The lines every command prints after reading a file: nothing is lost silently.

    Parameters
    ----------
    label : str
        What was read (the file's path, or its role such as ``charges``).
    summary : dict
        :meth:`LoadResult.summary` (at least ``read``, ``accepted``, ``rejected``; with
        ``reasons`` and ``notes`` when present).

    Returns
    -------
    list of str
        ``"<label>: read R = accepted A + rejected Q"``, then one indented line per
        quarantine reason with its count, then one per note (the exact-duplicate note
        among them).
    """
    lines = [
        f"{label}: read {summary['read']} = accepted {summary['accepted']} "
        f"+ rejected {summary['rejected']}"
    ]
    reasons = summary.get("reasons") or {}
    lines += [f"  {reason}: {n}" for reason, n in dict(reasons).items()]
    lines += [f"  note: {note}" for note in list(summary.get("notes") or [])]
    return lines
