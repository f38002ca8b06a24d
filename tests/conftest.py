"""Shared fixtures and the hypothesis profiles (CI runs a bounded profile)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.register_profile(
    "heavy", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # on demand: HYPOTHESIS_PROFILE=heavy pytest tests/data/test_fuzz_contracts.py
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def external_dir() -> Path:
    return ROOT / "data" / "external"


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write rows with the csv module (so quoting is right)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def write_csv():
    """Return a function writing a CSV file from a header and rows."""
    return _write_csv
