"""Census 2021 TS021 (ethnic group by LSOA) in both ONS shapes."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data.census import GROUPS, load_ts021
from analysis.data.errors import LoadError

BULK = (
    '"date","geography","geography code","Ethnic group: Total: All usual residents",'
    '"Ethnic group: Asian, Asian British or Asian Welsh",'
    '"Ethnic group: Asian, Asian British or Asian Welsh: Indian",'
    '"Ethnic group: Black, Black British, Black Welsh, Caribbean or African",'
    '"Ethnic group: Mixed or Multiple ethnic groups","Ethnic group: White",'
    '"Ethnic group: Other ethnic group"\n'
    '2021,"Birmingham 067A",E01008881,1000,400,100,200,50,300,50\n'
    '2021,"Birmingham 066A",E01008882,2000,100,50,100,100,1600,100\n'
)
NOMIS = (
    "mnemonic,2021 super output area - lower layer,Total: All usual residents,"
    '"Asian, Asian British or Asian Welsh","Black, Black British, Black Welsh, Caribbean or '
    'African",Mixed or Multiple ethnic groups,White,Other ethnic group\n'
    'E01008881,Birmingham 067A,"1,000",400,200,50,300,50\n'
)


def test_bulk_shape_keeps_the_five_groups_as_shares(tmp_path):
    path = tmp_path / "census2021-ts021-lsoa.csv"
    path.write_text(BULK)
    t = load_ts021(path)
    assert list(t["lsoa21cd"]) == ["E01008881", "E01008882"]
    assert list(t["residents"]) == [1000, 2000]
    assert t.loc[0, "share_asian"] == pytest.approx(0.4)  # the detailed "Indian" is not added
    shares = t[[f"share_{k}" for k in GROUPS]].sum(axis=1)
    assert shares.tolist() == pytest.approx([1.0, 1.0])


def test_nomis_shape_reads_the_same(tmp_path):
    path = tmp_path / "lsoa_ethnicity.csv"
    path.write_text(NOMIS)
    bulk = tmp_path / "bulk.csv"
    bulk.write_text(BULK)
    pd.testing.assert_frame_equal(load_ts021(path), load_ts021(bulk).head(1))


def test_a_bad_count_names_the_file_row_and_column(tmp_path):
    path = tmp_path / "lsoa_ethnicity.csv"
    path.write_text(BULK.replace(",300,50\n", ",three hundred,50\n", 1))
    with pytest.raises(LoadError, match=r"lsoa_ethnicity.csv: row 2, column 'Ethnic group: White'"):
        load_ts021(path)


def test_a_missing_group_is_named(tmp_path):
    path = tmp_path / "lsoa_ethnicity.csv"
    path.write_text(NOMIS.replace(",Other ethnic group", ",Something else"))
    with pytest.raises(LoadError, match="Other ethnic group"):
        load_ts021(path)


def test_a_data_folder_with_ts021_loads_it(tmp_path):
    import shutil
    from pathlib import Path

    from analysis.data.folder import DataFolder

    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    for name in ("study_area.geojson", "lsoa.geojson"):
        shutil.copy(sample / name, tmp_path / name)
    pd.read_csv(sample / "crimes.csv.gz", dtype=str, nrows=50).to_csv(
        tmp_path / "crimes.csv", index=False
    )
    (tmp_path / "lsoa_ethnicity.csv").write_text(NOMIS)
    data = DataFolder.locate(tmp_path).load()
    assert data.lsoa_ethnicity is not None and list(data.lsoa_ethnicity["lsoa21cd"]) == [
        "E01008881"
    ]
    assert data.synthetic is False and data.deployment == {}
    assert "lsoa_ethnicity" in data.hashes
