"""The privacy scan: each kind of sensitive value planted in a public file fails the run."""

from __future__ import annotations

import nbformat
import pytest

from analysis.report.privacy import Sensitive, find_points, scan
from analysis.report.runner import Step, run_monthly

POINTS = {(410165, 290578), (414035, 286802), (405500, 287500)}


def test_a_crime_point_written_as_a_pair_is_found_in_any_layout():
    assert find_points("crime,410165,290578,3B", POINTS) == {(410165, 290578)}
    assert find_points('{"x": 414035.0,\n  "y": 286802.2}', POINTS) == {(414035, 286802)}
    assert find_points("<td>290578</td><td>410165</td>", POINTS) == {(410165, 290578)}


def test_numbers_that_are_not_a_pair_or_are_centroid_precision_are_not_found():
    assert find_points("410165, 11111, 22222, 33333, 290578", POINTS) == set()  # not adjacent
    assert find_points("405500,287500", POINTS) == set()  # 10 m precision: a centroid
    assert find_points("x4101650,290578", POINTS) == set()  # inside other tokens
    assert find_points("410166,290578", POINTS) == set()


def test_scan_reports_each_kind_with_files_and_never_the_values(tmp_path):
    sensitive = Sensitive(
        person_ids={"P0123456789abcdef", "RAW-00042"},
        crime_refs={"SYN20-0000001"},
        points=POINTS,
        roots=[str(tmp_path / "server")],
    )
    files = {
        "ids.csv": "person,P0123456789abcdef\n",
        "raw.html": "<td>RAW-00042</td>",
        "refs.json": '{"crime": "SYN20-0000001"}',
        "xy.csv": "410165,290578\n",
        "path.txt": f"see {tmp_path / 'server' / 'restricted'}",
        "clean.csv": "cell,expected\nC1,3.2\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    check = scan([tmp_path / n for n in files], sensitive, tmp_path)
    assert check["status"] == "failed"
    assert check["person_ids"] == ["ids.csv", "raw.html"]
    assert check["crime_refs"] == ["refs.json"]
    assert check["coordinates"] == ["xy.csv"]
    assert check["server_paths"] == ["path.txt"]
    flat = str(check)
    assert "SYN20-0000001" not in flat and "410165" not in flat and "RAW-00042" not in flat
    clean = scan([tmp_path / "clean.csv"], sensitive, tmp_path)
    assert clean["status"] == "ok" and clean["crime_points_checked"] == 3


PLANTS = {
    "crime_refs": "str(data.crimes.accepted['crime_ref'].iloc[0])",
    "person_ids": (
        "str(pd.read_csv(data.folder.paths['charges'], dtype=str)['person_id'].iloc[0])"
    ),
    "coordinates": (
        "(lambda c: f'{int(c.x)},{int(c.y)}')(data.crimes.accepted.loc["
        "(data.crimes.accepted.x % 10 != 0) | (data.crimes.accepted.y % 10 != 0)].iloc[0])"
    ),
    "server_paths": "os.path.abspath(run_dir)",
}


def planting(expression: str) -> nbformat.NotebookNode:
    """A step that writes one sensitive value into a public artefact."""
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "month = ''\ndata_dir = ''\nrun_dir = ''\nproject_dir = ''\n"
                "test_mode = True\nplan = None",
                metadata={"tags": ["parameters"]},
            ),
            nbformat.v4.new_code_cell(
                "import os\nfrom pathlib import Path\nimport pandas as pd\n"
                "from analysis.report.plan import MonthlyPlan\n"
                "data = MonthlyPlan.from_dict(plan).open_inputs()\n"
                "Path(run_dir, 'artefacts').mkdir(exist_ok=True)\n"
                f"Path(run_dir, 'artefacts', 'planted.csv').write_text('value\\n' + {expression})"
            ),
        ],
        metadata={
            "kernelspec": {"name": "analysis", "display_name": "analysis", "language": "python"}
        },
    )


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_a_planted_value_fails_the_run_and_the_last_good_month_stays(kind, tmp_path, small_folder):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nbformat.write(planting(PLANTS[kind]), nbdir / "plant.ipynb")
    out = tmp_path / "reports"
    (out / "2026-10").mkdir(parents=True)
    (out / "2026-10" / "index.html").write_text("last good month")
    result = run_monthly(
        "2026-10",
        data_dir=small_folder,
        out_root=out,
        notebooks_dir=nbdir,
        steps=(Step("plant", "plant", "P"),),
        progress=False,
    )
    assert result.manifest["steps"][0]["status"] == "ok"  # the step ran; the scan stopped it
    assert not result.ok and result.folder.parent == out / "failed"
    check = result.manifest["privacy_check"]
    assert check["status"] == "failed"
    assert check[kind] == ["artefacts/planted.csv"]
    assert (out / "2026-10" / "index.html").read_text() == "last good month"
