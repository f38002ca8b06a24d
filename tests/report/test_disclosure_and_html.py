"""Disclosure control and the self-contained HTML renderer, with known answers."""

from __future__ import annotations

import nbformat
import pandas as pd

from analysis.report.disclosure import find_identifiers, suppress_counts
from analysis.report.html import notebook_to_html


def test_primary_and_secondary_suppression():
    t = pd.DataFrame({"group": ["a", "b", "c"], "x": [25, 4, 30], "y": [12, 40, 0]})
    out = suppress_counts(t, ["x", "y"])
    # 4 is primary; row b then has a single hidden cell, so its other cell (40) is hidden too;
    # column x has one hidden cell (4) plus, after that, column y has one hidden cell (40),
    # so the smallest other non-zero cells of each column are hidden as well.
    assert out.loc[1, "x"] == "<10" and out.loc[1, "y"] == "<10"
    assert out.loc[0, "x"] == "<10"  # 25 < 30: smallest other non-zero in column x
    assert out.loc[0, "y"] == "<10"  # 12: the only other non-zero in column y
    assert out.loc[2, "x"] == "30" and out.loc[2, "y"] == "0"  # zeros are not disclosive


def test_no_secondary_without_totals():
    t = pd.DataFrame({"x": [25, 4, 30]})
    assert suppress_counts(t, ["x"], total=False)["x"].tolist() == ["25", "<10", "30"]


def test_find_identifiers(tmp_path):
    f = tmp_path / "a.html"
    f.write_text("<p>P0123456789abcdef and P0123456789abcdeg and XP0123456789abcdef</p>")
    assert find_identifiers([f]) == [f"{f}: P0123456789abcdef"]
    assert find_identifiers([f], known={"Pffffffffffffffff"}) == []


def test_html_is_code_free_and_self_contained(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
            nbformat.v4.new_code_cell(
                "secret_code = 1",
                outputs=[
                    nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="warning!\n"),
                    nbformat.v4.new_output(
                        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
                    ),
                ],
            ),
        ]
    )
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    page = notebook_to_html(path, title="T", banner="TEST MODE - not for use")
    assert "<h1>Title</h1>" in page and "<table>" in page
    assert "hello" in page and "warning!" not in page and "secret_code" not in page
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in page
    assert "<script" not in page and "http" not in page
    assert page.count("TEST MODE - not for use") == 2
