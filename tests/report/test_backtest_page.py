"""The backtest page shows every cited leaderboard, with the scores the committee sees."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.forecast.output import read_leaderboard
from analysis.report import backtest_page, committee, views
from analysis.report.html import MISSING_ALT
from analysis.report.palette import series_style
from analysis.report.plan import MonthlyPlan

ROOT = Path(__file__).resolve().parents[2]
KNIFE = "benchmarks/bayes/leaderboards/synthetic_knife_1km2"


class _Tables(HTMLParser):
    """Every table of a page: its caption and its rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._in_caption:
            self.tables[-1]["caption"] += data
        if self._cell is not None:
            self._cell.append(data)


def _tables(page: str) -> list[dict]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


@pytest.fixture(scope="module")
def plan() -> MonthlyPlan:
    """The plan of the published month, on this checkout's saved leaderboards."""
    manifest = json.loads((ROOT / "reports" / "2026-10" / "manifest.json").read_text())
    return replace(MonthlyPlan.from_dict(manifest["plan"]), project_dir=str(ROOT))


def test_page_scores_of_the_models_in_use_are_the_committees(plan):
    boards = {b.name: b for b in views.leaderboards(plan)}
    perf = committee.performance_table(plan).reset_index()
    in_use = perf.loc[perf["model"].str.endswith(" (in use)")]
    assert len(in_use) == sum(1 for g in plan.groups if g.evidence.get("leaderboard"))
    for g in plan.groups:
        board = boards[Path(g.evidence["leaderboard"]).name]
        page = backtest_page.board_frame(board, plan)
        row = page.loc[page["in_use"].str.contains(g.label, regex=False)]
        assert row["model"].tolist() == [g.model_chosen]
        theirs = in_use.loc[in_use["target"].str.startswith(g.label)].iloc[0]
        assert round(row["crps"].iloc[0], 4) == theirs["CRPS"]
        assert round(row["log_score"].iloc[0], 4) == theirs["log score"]
        assert round(row["pai_5pct"].iloc[0], 2) == theirs["PAI at 5%"]
        assert round(row["coverage_90"].iloc[0], 3) == theirs["90% interval coverage"]
        # as the page prints them
        shown = _tables(backtest_page.board_table(board, plan).to_html())[0]
        head, *rows = shown["rows"]
        mine = next(r for r in rows if r[0] == f"{g.model_chosen} (in use)")
        cells = dict(zip(head, mine, strict=True))
        assert cells["CRPS (lower is better)"] == f"{theirs['CRPS']:.4f}"
        assert cells["Log score (lower is better)"] == f"{theirs['log score']:.4f}"


def test_knife_board_caption_names_data_and_held_out_periods(plan):
    board = read_leaderboard(ROOT / KNIFE)
    run = json.loads((ROOT / KNIFE / "run.json").read_text())
    origins = run["origins"]
    first = date(2018, 1, 1) + timedelta(days=28 * min(origins))
    last = date(2018, 1, 1) + timedelta(days=28 * (max(origins) + 1) - 1)
    caption = backtest_page.board_table(board, plan).caption
    assert caption.startswith("Leaderboard synthetic_knife_1km2: knife crime with injury in ")
    assert "data/sample/crimes.csv.gz" in caption and "1 km² cells" in caption
    assert f"{len(origins)} held-out 28-day periods" in caption
    assert f"{first:%d %b %Y} to {last:%d %b %Y}" in caption
    # the oracle (only on synthetic data) is a row of the board and says the data are synthetic
    oracle = ROOT / "benchmarks/leaderboards/synthetic_knife_1km2/oracle.csv"
    with_oracle = read_leaderboard(ROOT / KNIFE, oracle=oracle)
    assert "(synthetic data)" in backtest_page.board_table(with_oracle, plan).caption
    assert "(synthetic data)" not in caption
    assert backtest_page.ORACLE in backtest_page.board_frame(with_oracle, plan)["model"].tolist()


def test_glossary_defines_every_score_and_model_shown(plan, tmp_path):
    boards = views.leaderboards(plan)
    terms = backtest_page.glossary(boards).data["Term"].tolist()
    for score in ("CRPS", "Log score", "MAE", "Hit rate", "PAI", "PEI*", "PIT"):
        assert score in terms
    assert "90% interval coverage" in terms
    for b in boards:
        for model in b.scores["model"]:
            assert f"{model} (model)" in terms
    assert f"{backtest_page.ORACLE} (model)" in terms
    odd = tmp_path / "odd"
    odd.mkdir()
    pd.DataFrame({"model": ["mystery"], "n_origins": [1], "crps": [0.1]}).to_csv(
        odd / "summary.csv", index=False
    )
    with pytest.raises(KeyError, match="mystery"):
        backtest_page.glossary([read_leaderboard(odd)])


def test_figures_are_redrawn_from_the_saved_scores(plan):
    board = read_leaderboard(ROOT / KNIFE)
    curves = pd.read_csv(ROOT / KNIFE / "hit_rate_curves.csv")
    at5 = curves.loc[np.isclose(curves["share"], 0.05)].set_index("model")["hit_rate"]
    hit = backtest_page.hit_rate_figure(board, plan)
    assert hit.png.startswith(b"\x89PNG")
    assert f"{at5.idxmax()} captures the most ({at5.max():.1%})" in hit.alt
    assert f"bayes, in use, {at5['bayes']:.1%}" in hit.alt
    pit = pd.read_csv(ROOT / KNIFE / "pit_histogram.csv")
    alt = backtest_page.pit_figure(board, plan).alt
    best = pit.loc[pit["uniformity_p"].idxmax(), "model"]
    assert f"{len(pit)} models" in alt and f"Most even: {best} " in alt
    cov = backtest_page.coverage_figure(board, plan).alt
    assert "90% intervals covered from" in cov
    # a board saved before PIT histograms existed says so instead of failing
    old = read_leaderboard(ROOT / "benchmarks/leaderboards/cincinnati_burglary")
    assert "No PIT histograms" in backtest_page.pit_figure(old, plan).data


def test_series_styles_differ():
    styles = [series_style(i) for i in range(84)]
    assert len({(s["color"], s["marker"]) for s in styles}) == 84
    assert len({(s["color"], str(s["linestyle"])) for s in styles[:14]}) == 14


def test_backtest_page_shows_the_knife_models_row(monthly_run):
    page = (monthly_run.folder / "03_forecast_backtest.html").read_text()
    plan = MonthlyPlan.from_dict(monthly_run.manifest["plan"])
    tables = _tables(page)
    for cited in plan.leaderboards:
        assert any(f"Leaderboard {Path(cited).name}:" in t["caption"] for t in tables), cited
    knife = next(t for t in tables if "Leaderboard synthetic_knife_1km2:" in t["caption"])
    head, *rows = knife["rows"]
    bayes = dict(zip(head, next(r for r in rows if r[0] == "bayes (in use)"), strict=True))
    saved = read_leaderboard(ROOT / KNIFE).scores.set_index("model").loc["bayes"]
    assert bayes["CRPS (lower is better)"] == f"{saved['crps']:.4f}"
    assert bayes["Log score (lower is better)"] == f"{saved['log_score']:.4f}"
    assert any(r[0] == backtest_page.ORACLE for r in rows)
    assert any(t["caption"].startswith("Glossary") for t in tables)
    assert MISSING_ALT not in page and page.count("<img") >= 3 * len(plan.leaderboards) - 2
