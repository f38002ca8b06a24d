"""Errors raised when a whole file cannot be used."""

from __future__ import annotations

from pathlib import Path


class LoadError(ValueError):
    """A file that cannot be read as the expected format at all.

    Row-level faults never raise: they are quarantined. This error is for files that are
    unusable as a whole (missing, empty, wrong delimiter or encoding, missing columns).

    Parameters
    ----------
    path : str or Path
        The file concerned.
    problem : str
        What is wrong, in words a user can act on.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
