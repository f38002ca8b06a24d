"""The run manifest: what produced a report, so that anyone can audit or reproduce it."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from analysis import __version__
from analysis.data.reading import file_sha256

#: Packages whose versions every manifest records.
PACKAGES = (
    "analysis",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "scikit-learn",
    "pymc",
    "nutpie",
    "arviz",
    "geopandas",
    "shapely",
    "pyproj",
    "libpysal",
    "matplotlib",
    "papermill",
    "nbformat",
    "mistune",
)


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Return the installed version of each package ("not installed" when absent)."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_state(root: str | Path = ".", paths: Sequence[str] = ()) -> dict[str, object]:
    """Return the git commit of ``root`` and whether the work tree has local changes.

    Parameters
    ----------
    root : str or pathlib.Path
        A folder inside the checkout.
    paths : sequence of str
        Git pathspecs (``"src/*.py"`` matches in subfolders too) that limit which tracked
        files' changes count; every tracked file when empty.

    Returns
    -------
    dict
        ``commit`` (the full hash of HEAD) and ``dirty`` (None outside a git checkout).
    """

    def run(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = run("rev-parse", "HEAD")
        dirty = bool(run("status", "--porcelain", "--untracked-files=no", "--", *paths))
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown (not a git checkout)", "dirty": None}
    return {"commit": commit, "dirty": dirty}


def data_hashes(data_dir: str | Path) -> dict[str, str]:
    """Return the SHA-256 of every file in a data folder (recursively), by relative path."""
    base = Path(data_dir)
    return {
        str(p.relative_to(base)): file_sha256(p) for p in sorted(base.rglob("*")) if p.is_file()
    }


def now() -> str:
    """Return the current UTC time in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def base_manifest(
    parameters: dict[str, object], data_dir: str | Path, root: str | Path = "."
) -> dict[str, object]:
    """Return the manifest fields known before any notebook runs."""
    return {
        "parameters": parameters,
        "data_hashes": data_hashes(data_dir),
        "code": {"analysis_version": __version__, **git_state(root)},
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "started": now(),
    }
