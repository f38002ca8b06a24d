"""Markdown tables of every simulation-based calibration run under ``benchmarks/bayes/``.

One row per run folder (``sbc``, ``sbc_*``): the model member, replicates, the share of
fits that passed the convergence checks, the chi-square p-value of each hyperparameter's
rank histogram, the randomised PIT's uniformity p-value and interval coverage; then, per
run, which checks the failed fits failed.

Usage: ``.venv/bin/python benchmarks/bayes_sbc_tables.py``
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd

ROOT = Path("benchmarks/bayes")


def member(settings: dict[str, object]) -> str:
    """Return the ``--model`` text of a run, or ``default``."""
    return str(settings.get("model") or "default")


def summary_table(folders: list[Path]) -> str:
    """Return one Markdown row per SBC run."""
    names: list[str] = []
    rows = []
    for folder in folders:
        s = json.loads((folder / "summary.json").read_text())
        ranks = {k: v["chi2_p"] for k, v in s["rank_uniformity"].items()}
        names += [k for k in ranks if k not in names]
        rows.append((folder.name, member(s["settings"]), s, ranks))
    head = ["run", "model", "replicates", "converged", *[f"`{n}` p" for n in names]]
    head += ["PIT p", "cover 50 / 80 / 90"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for folder, model, s, ranks in rows:
        conv = round(s["converged_share"] * s["replicates"])
        cells = [folder, f"`{model}`", str(s["replicates"]), f"{conv}/{s['replicates']}"]
        cells += [f"{ranks[n]:.2f}" if n in ranks else "" for n in names]
        cover = " / ".join(f"{100 * s[f'coverage_{k}']:.1f}" for k in (50, 80, 90))
        cells += [f"{s['pit_uniformity_p']:.2f}", cover]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def failure_counts(folder: Path) -> str:
    """Return which checks the run's unconverged fits failed, with counts."""
    fits = pd.read_csv(folder / "fits.csv")
    failed = fits.loc[~fits["converged"], "failures"].fillna("")
    counts: Counter[str] = Counter()
    for text in failed:
        seen = set()
        for item in filter(None, (t.strip() for t in text.split(";"))):
            if "divergent" in item:
                seen.add("divergences")
            elif "E-BFMI" in item:
                seen.add("E-BFMI")
            else:
                seen.add(re.split(r"[: ]", item)[0])
        counts.update(seen)
    parts = ", ".join(f"{k} {v}" for k, v in counts.most_common())
    return f"- `{folder.name}`: {len(failed)} of {len(fits)} failed" + (
        f" ({parts})" if parts else ""
    )


def main() -> None:
    """Print the tables."""
    folders = sorted(p for p in ROOT.glob("sbc*") if (p / "summary.json").exists())
    print(summary_table(folders))
    print()
    for folder in folders:
        print(failure_counts(folder))


if __name__ == "__main__":
    main()
