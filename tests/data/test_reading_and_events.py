"""Whole-file faults raise clearly; real point-event files load with their faults quarantined."""

from __future__ import annotations

import gzip

import pytest

from analysis.data import LoadError, LoadOptions, load_events
from analysis.data.reading import read_table


def test_empty_file(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("")
    with pytest.raises(LoadError, match=r"e\.csv: the file is empty"):
        read_table(p)


def test_missing_file(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        read_table(tmp_path / "nope.csv")


def test_wrong_encoding_names_line(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("a,b\n1,2\nCaf\xe9,3\n".encode("latin-1"))
    with pytest.raises(LoadError, match=r"not valid utf-8 text .*line 3.*--encoding"):
        read_table(p)
    assert read_table(p, encoding="latin-1").records.iloc[1]["a"] == "Café"


def test_tab_delimited_detected(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a\tb\n1\t2\n")
    with pytest.raises(LoadError, match="tab-delimited"):
        read_table(p)
    assert read_table(p, delimiter="\t").records["b"].tolist() == ["2"]


def test_repeated_header(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("a,a\n1,2\n")
    with pytest.raises(LoadError, match="repeated"):
        read_table(p)


def test_malformed_rows_and_blank_lines_are_accounted(tmp_path):
    p = tmp_path / "m.csv.gz"
    p.write_bytes(gzip.compress(b"\xef\xbb\xbfa,b\n1,2\n\n3\n4,5,6\n7,8\n"))
    t = read_table(p)
    assert t.header == ["a", "b"]
    assert t.records["_row"].tolist() == [2, 6]
    assert t.malformed["row"].tolist() == [4, 5]
    assert t.blank_lines == 1
    assert t.n_read == 4


def test_corrupt_gzip(tmp_path):
    p = tmp_path / "x.csv.gz"
    p.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(LoadError, match="gzip"):
        read_table(p)


def test_events_need_columns(tmp_path):
    with pytest.raises(ValueError, match="--time-col"):
        load_events(tmp_path / "x.csv", LoadOptions())
    with pytest.raises(ValueError, match="--crs"):
        load_events(tmp_path / "x.csv", LoadOptions(time_col="t", x_col="x", y_col="y"))


def test_cincinnati_file(external_dir):
    result = load_events(
        external_dir / "cincinnati_burglary_2016-2018.csv.gz",
        LoadOptions(
            time_col="offense_date", lon_col="longitude", lat_col="latitude", id_col="incident_no"
        ),
    )
    s = result.summary()
    assert s["read"] == 8723 == s["accepted"] + s["rejected"]
    # 426 rows have NA coordinates; incidents split over several rows keep their first row
    assert s["reasons"]["invalid_coordinate"] == 426
    assert s["reasons"]["duplicate_id"] > 1000
    assert result.accepted["event_id"].is_unique
    assert result.crs == "EPSG:32616"  # UTM 16N, estimated from the points
    assert result.accepted["time"].min().year == 2016


def test_austin_file(external_dir):
    result = load_events(
        external_dir / "austin_aggravated_assaults_2019.csv.gz",
        LoadOptions(
            time_col="date", lon_col="longitude", lat_col="latitude", target_crs="EPSG:32614"
        ),
    )
    s = result.summary()
    assert s["read"] == 8696 == s["accepted"] + s["rejected"]
    assert s["reasons"]["exact_duplicate"] == 18
    assert set(result.accepted.columns) >= {"time", "x", "y", "src_location_type"}


@pytest.mark.parametrize("name", ["robbery", "burglary"])
def test_nottingham_files(external_dir, name):
    path = external_dir / f"policeuk_nottingham_{name}_2022.csv.gz"
    opts = dict(time_col="month", lon_col="longitude", lat_col="latitude", target_crs="EPSG:27700")
    strict = load_events(path, LoadOptions(**opts))
    kept = load_events(path, LoadOptions(**opts, exact_duplicates="keep"))
    assert strict.n_read == kept.n_read
    assert strict.summary()["reasons"].get("exact_duplicate", 0) > 0
    assert len(kept.accepted) == kept.n_read - len(kept.rejected)
    assert len(kept.accepted) > len(strict.accepted)
    assert any("--keep-exact-duplicates" in n for n in strict.notes)
    x = kept.accepted["x"]
    assert x.between(440_000, 470_000).all()  # Nottingham in British National Grid
