"""Disclosure control and the self-contained HTML renderer, with known answers."""

from __future__ import annotations

import re

import nbformat
import pandas as pd

from analysis.report.disclosure import find_identifiers, suppress_counts
from analysis.report.html import MISSING_ALT, accessible_fragment, index_page, notebook_to_html
from analysis.report.tables import styled


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
    assert f'alt="{MISSING_ALT}"' in page  # a bare figure is flagged, not left without alt
    assert "<script" not in page and "http" not in page
    assert page.count("TEST MODE - not for use") == 2


def _notebook(tmp_path, *cells):
    path = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=list(cells)), path)
    return path


def test_page_frame_landmarks_viewport_and_notices(tmp_path):
    path = _notebook(tmp_path, nbformat.v4.new_markdown_cell("## No top heading\n\ntext"))
    notice = "Synthetic data: invented crimes and people. Not for operational use."
    page = notebook_to_html(path, title="Data quality", banner="TEST MODE", notices=[notice])
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<html lang="en">' in page and "<title>Data quality</title>" in page
    header = page[page.index("<header>") : page.index("</header>")]
    main = page[page.index("<main>") : page.index("</main>")]
    assert page.index("</header>") < page.index("<main>") < page.index("<footer>")
    # the notice is its own box at the top, distinct from the red test-mode banner
    assert f'<div class="notice" role="note">{notice}</div>' in header
    assert '<div class="banner">TEST MODE</div>' in header
    assert page.count(notice) == 1 and page.count("TEST MODE") == 2
    # a notebook without a level-1 heading gets the title as its heading, above its h2
    assert "<h1>Data quality</h1>" in header and "<h2>No top heading</h2>" in main
    assert notebook_to_html(path, title="T").count('class="notice"') == 0


def test_tables_are_boxed_named_and_scoped():
    frame = pd.DataFrame({"file": ["a.csv"], "read": [10]}).set_index("file")
    fragment = (
        "<h2>Reconciliation &amp; checks</h2>"
        + styled(frame, "Rows read per file", labels={"read": "Rows read"}).to_html()
        + frame.to_html()
        + "<table><tr><th>h</th></tr><tr><th>r</th><td>1</td></tr></table>"
    )
    out = accessible_fragment(fragment)
    boxes = re.findall(
        r'<div class="table-wrap" role="region" tabindex="0" aria-label="([^"]*)">', out
    )
    # named by the caption, else by the heading before the table
    heading = "Table: Reconciliation &amp; checks"
    assert boxes == ["Rows read per file", heading, heading]
    assert out.count("<table") == out.count("</table></div>") == 3
    thead = re.findall(r"<thead>.*?</thead>", out, flags=re.S)
    tbody = re.findall(r"<tbody>.*?</tbody>", out, flags=re.S)
    assert all('scope="col"' in h and 'scope="row"' not in h for h in thead)
    assert '<th scope="row">a.csv</th>' in tbody[1]
    assert '<th scope="col">h</th>' in out and '<th scope="row">r</th>' in out
    cells = re.findall(r"<th\b[^>]*>", out)
    assert len(cells) == 7 and all(" scope=" in c for c in cells)
    # pandas' empty corner cells are not headers (a header needs text)
    assert thead[1].count("<td></td>") == 2 and '<th scope="col"></th>' not in out
    linked = accessible_fragment(
        "<table><tr><th><a href='a.html'>A</a></th><th> </th></tr></table>"
    )
    assert "<th scope=\"col\"><a href='a.html'>A</a></th><td> </td>" in linked


def test_headings_never_skip_a_level_and_scripts_are_dropped():
    out = accessible_fragment(
        "<h1>A</h1><h3>B</h3><h4>C</h4><h3>D</h3><h2>E</h2><h5>F</h5>"
        "<script>alert(1)</script><svg viewBox='0 0 1 1'><path d='M0'/></svg>"
    )
    levels = [int(n) for n in re.findall(r"<h(\d)>", out)]
    assert levels == [1, 2, 3, 2, 2, 3]
    assert re.findall(r"</h(\d)>", out) == [str(n) for n in levels]
    assert "<script" not in out and "alert" not in out
    assert "<svg viewBox='0 0 1 1'><path d='M0'/></svg>" in out


def test_index_page():
    steps = [
        {"title": "Data quality", "status": "ok", "seconds": 3.14, "html": "01_data_quality.html"},
        {"title": "Harm & escalation", "status": "failed", "seconds": 1},
        {"title": "Committee", "status": "not run (an earlier step failed)"},
    ]
    manifest = {
        "code": {"commit": "abc123", "dirty": False, "analysis_version": "0.1.0"},
        "started": "2026-10-01T08:00:00",
        "finished": "2026-10-01T08:03:00",
        "status": "failed",
    }
    page = index_page("2026-10", steps, manifest, banner=None, notices=["Synthetic data."])
    assert (
        "<title>Monthly report 2026-10</title>" in page
        and "<h1>Monthly report 2026-10</h1>" in page
    )
    assert '<a href="01_data_quality.html">Data quality</a>' in page
    assert (
        '<th scope="row">Harm &amp; escalation</th><td class="text">failed</td><td>1.0</td>' in page
    )
    assert '<td class="text">not run (an earlier step failed)</td><td></td>' in page
    assert "<td>3.1</td>" in page and "abc123" in page and "local changes" not in page
    assert "2026-10-01T08:00:00" in page and "2026-10-01T08:03:00" in page
    assert '<a href="manifest.json">manifest.json</a>' in page
    assert 'aria-label="Reports of the 2026-10 run"' in page and "<main>" in page
    assert '<div class="notice" role="note">Synthetic data.</div>' in page
    assert 'class="banner"' not in page
    dirty = {**manifest, "code": {**manifest["code"], "dirty": True}}
    test = index_page("2026-10", steps, dirty, banner="TEST MODE", notices=())
    assert test.count("TEST MODE") == 2 and "with local changes" in test
