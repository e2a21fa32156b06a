"""Life expectancy tables and boundaries: USALEEP, generic tables, and their errors."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import squares

from gradient import AreasError, GradientWarning, areas, datasets


def test_usaleep_reads_as_published(tmp_path):
    table = areas.read_usaleep(datasets.get_path("usaleep"))
    assert list(table.columns) == ["area_id", "le", "le_se", "suppressed"]
    assert len(table) == 65662 and not table["suppressed"].any()
    row = table.set_index("area_id").loc["01001020100"]
    assert (row["le"], row["le_se"]) == (73.1, 2.2348)


def test_usaleep_accepts_codes_without_leading_zeros(tmp_path):
    path = tmp_path / "AL_A.CSV"
    path.write_text(
        "Tract ID,STATE2KX,CNTY2KX,TRACT2KX,e(0),se(e(0)),Abridged life table flag\n"
        "1001020100,1,1,20100,73.1,2.2348,3\n"
    )
    assert areas.read_usaleep(path)["area_id"].tolist() == ["01001020100"]


def test_hillsborough_tracts_keep_tracts_without_estimates(tracts):
    assert len(tracts) == 321
    assert (tracts.period, tracts.sex, tracts.unit, tracts.le_source) == (
        "2010-2015",
        "persons",
        "census tracts",
        "USALEEP",
    )
    assert [c.role for c in tracts.credits] == ["life expectancy", "boundaries", "population"]
    tracts = tracts.frame
    # USALEEP has no population: the bundled 2010 census tract populations are joined (Hillsborough: 1,229,226)
    assert list(tracts.columns) == ["area_id", "le", "le_se", "geometry", "population"]
    assert tracts["population"].sum() == 1229226
    assert tracts.crs == "EPSG:4326"
    missing = tracts["le"].isna()
    assert missing.sum() == 55  # no USALEEP estimate: missing, never 0
    assert (tracts.loc[~missing, "le"] > 50).all()


def test_unmatched_boundaries_warn_with_counts():
    with pytest.warns(GradientWarning, match=r"55 of 321 areas in .* have no row in .* and stay missing \(e\.g\. "):
        areas.load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")


@pytest.fixture()
def boundary_file(tmp_path):
    path = tmp_path / "areas.geojson"
    squares().rename(columns={"area_id": "code"})[["code", "geometry"]].to_file(path, driver="GeoJSON")
    return path


def write_table(tmp_path, rows, name="le.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_generic_table_with_confidence_limits(tmp_path, boundary_file):
    table = write_table(
        tmp_path,
        {"id": ["A0", "A1", "A2"], "e0": [80, 78, 76], "lo": [78.04, 76.04, 72.08], "hi": [81.96, 79.96, 79.92]},
    )
    got = areas.load_areas(
        boundary_file, table, "csv", area_id="code", le_id="id", le_col="e0", le_ci_cols=("lo", "hi")
    ).frame
    assert got["le"].tolist() == [80, 78, 76]
    np.testing.assert_allclose(got["le_se"], [1.0, 1.0, 2.0], atol=1e-3)


def test_generic_table_without_errors_leaves_se_empty(tmp_path, boundary_file):
    table = write_table(tmp_path, {"id": ["A0", "A1", "A2"], "e0": [80, 78, 76]})
    got = areas.load_areas(boundary_file, table, "csv", area_id="code", le_id="id", le_col="e0").frame
    assert got["le_se"].isna().all()


def test_suppressed_blank_values_stay_missing(tmp_path, boundary_file):
    path = tmp_path / "le.csv"
    path.write_text("id,e0,se\nA0,80,1\nA1,,\nA2,76,2\n")
    with pytest.warns(
        GradientWarning,
        match=r"1 of 3 areas in .* have a row in .* but no value \(1 blank\) and "
        r"stay missing \(e\.g\. A1\)",
    ):
        got = areas.load_areas(boundary_file, path, "csv", area_id="code", le_id="id", le_col="e0", le_se_col="se")
    got = got.frame
    assert np.isnan(got["le"].iloc[1]) and got["le"].iloc[0] == 80


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            {"id": ["A0", "A0", "A2"], "e0": [80, 78, 76]},
            r"1 area id\(s\) appear more than once in 'id' with different values \(e\.g\. A0: 80 and 78 in 'e0'\)",
        ),
        (
            {"id": ["A0", "A1", "A2"], "e0": [80, "78 years", 76]},
            r"1 value\(s\) in 'e0' are not numbers \(e\.g\. '78 years'\)",
        ),
        ({"id": ["A0", "A1", "A2"], "e0": [80, 0, 76]}, r"1 value\(s\) in 'e0' are implausible for life expectancy"),
        ({"id": ["X0", "X1", "X2"], "e0": [80, 78, 76]}, r"no area id matches the boundaries"),
        ({"code": ["A0"], "e0": [80]}, r"no column\(s\) 'id'"),
    ],
)
def test_bad_tables_fail_clearly(tmp_path, boundary_file, rows, message):
    table = write_table(tmp_path, rows)
    with pytest.raises(AreasError, match=message):
        areas.load_areas(boundary_file, table, "csv", area_id="code", le_id="id", le_col="e0")


def test_partial_match_warns(tmp_path, boundary_file):
    table = write_table(tmp_path, {"id": ["A0", "A1"], "e0": [80, 78]})
    with pytest.warns(GradientWarning, match=r"1 of 3 areas in .* have no row .* \(e\.g\. A2\)"):
        got = areas.load_areas(boundary_file, table, "csv", area_id="code", le_id="id", le_col="e0")
    assert np.isnan(got.frame["le"].iloc[2])


def test_geojson_without_crs_is_wgs84(tmp_path):
    path = tmp_path / "nocrs.geojson"
    data = json.loads(squares()[["area_id", "geometry"]].to_json())
    data.pop("crs", None)
    path.write_text(json.dumps(data))
    got = areas.read_boundaries(path, "area_id")
    assert got.crs == "EPSG:4326"


def test_geopackage_without_crs_needs_one(tmp_path):
    path = tmp_path / "nocrs.gpkg"
    with warnings.catch_warnings():  # pyogrio warns that the file will have no CRS: that is the point
        warnings.simplefilter("ignore")
        squares()[["area_id", "geometry"]].set_crs(None, allow_override=True).to_file(path, driver="GPKG")
    with pytest.raises(AreasError, match=r"declares no CRS; give it with --areas-crs"):
        areas.read_boundaries(path, "area_id")
    assert areas.read_boundaries(path, "area_id", crs="EPSG:4326").crs == "EPSG:4326"


def test_wrong_crs_is_caught(tmp_path):
    path = tmp_path / "metres.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        squares().to_crs("EPSG:32617")[["area_id", "geometry"]].set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(AreasError, match="coordinates do not fit the CRS"):
        areas.read_boundaries(path, "area_id", crs="EPSG:4326")


def test_unknown_id_column_lists_columns(boundary_file):
    with pytest.raises(AreasError, match=r"no column 'GEOID' \(columns: code\)"):
        areas.read_boundaries(boundary_file, "GEOID")
    with pytest.raises(AreasError, match=r"name it with --area-id \(columns: code\)"):
        areas.read_boundaries(boundary_file)


def test_invalid_polygons_are_repaired(tmp_path):
    bowtie = gpd.GeoDataFrame(
        {"area_id": ["B"]},
        geometry=gpd.GeoSeries.from_wkt(["POLYGON((-82.5 27.9, -82.4 28.0, -82.4 27.9, -82.5 28.0, -82.5 27.9))"]),
        crs="EPSG:4326",
    )
    path = tmp_path / "bowtie.geojson"
    bowtie.to_file(path)
    with pytest.warns(GradientWarning, match=r"bowtie\.geojson: repaired 1 of 1 polygons that were invalid"):
        got = areas.read_boundaries(path, "area_id")
    assert got.is_valid.all()


# --- England: the ONS MSOA release and boundaries, as published ---


def test_ons_release_by_sex():
    path = datasets.get_path("ons_msoa_le")
    persons = areas.read_ons_msoa(path)
    males = areas.read_ons_msoa(path, "male")
    assert list(persons.columns) == ["area_id", "le", "le_se", "population", "suppressed", "le_doubt", "period"]
    assert len(persons) == len(males) == 7201
    assert (persons["period"] == "2016-2020").all()
    row = persons.set_index("area_id").loc["E02000001"]  # City of London 001, persons
    assert row["le"] == pytest.approx(93.315249, abs=1e-6)
    assert row["le_se"] == pytest.approx((95.919013 - 90.711484) / (2 * 1.959964), abs=1e-5)
    assert row["population"] == 44265
    assert males.set_index("area_id").loc["E02000001", "le"] == pytest.approx(93.654789, abs=1e-6)
    # suppressed estimates are blank in the release: missing, never 0
    assert persons["le"].isna().sum() == 68 and males["le"].isna().sum() == 284
    assert areas.read_ons_msoa(path, "female")["le"].isna().sum() == 112


def test_ons_2009_2013_reference_table_as_published():
    path = datasets.get_path("ons_msoa_le_2009_2013")
    males, females = areas.read_ons_msoa(path, "male"), areas.read_ons_msoa(path, "female")
    assert len(males) == len(females) == 6791 and (males["period"] == "2009-2013").all()
    row = males.set_index("area_id").loc["E02006397"]  # Runnymede 005, the sheet's first row
    assert row["le"] == pytest.approx(81.9592, abs=1e-4)
    assert row["le_se"] == pytest.approx((83.92139 - 79.99702) / (2 * 1.959964), abs=1e-5)  # LE's limits, not HLE's
    # ONS's own sheet of implausible estimates: kept, with the publisher's doubt
    assert males.set_index("area_id").loc["E02000815", "le_doubt"] == "implausible"  # Southwark 009, male 96.6
    assert (females["le_doubt"] == "implausible").sum() == 5
    with pytest.raises(AreasError, match=r"gives males and females separately, not persons: choose sex='male'"):
        areas.read_ons_msoa(path)


def test_a_table_off_the_official_level_says_so():
    with (
        pytest.warns(GradientWarning, match=r"67 of 6791 areas .* have a row .* but no value"),
        pytest.warns(
            GradientWarning, match=r"Its MSOAs average 83\.9 years \(persons\), 2\.3 years above the official"
        ),
    ):
        got = areas.load_areas(datasets.get_path("msoa_boundaries"), datasets.get_path("ons_msoa_le"), "ons-msoa")
    assert "2.3 years above the official series for 2015-2019" in got.credits[0].text()
    assert "could not be confirmed" in got.credits[0].text()


def test_ons_unknown_sex():
    with pytest.raises(AreasError, match=r"unknown sex 'all'; choose one of persons, male, female"):
        areas.read_ons_msoa(datasets.get_path("ons_msoa_le"), "all")


def test_ons_wrong_table(tmp_path):
    path = write_table(tmp_path, {"Code": ["E02000001"], "e0": [80]})
    with pytest.raises(AreasError, match=r"not an ONS MSOA life expectancy table: no column\(s\) 'Sex'"):
        areas.read_ons_msoa(path)


def test_msoa_boundaries_from_topojson(msoas):
    assert len(msoas) == 6791
    assert (msoas.period, msoas.sex, msoas.unit, msoas.le_source) == ("2009-2013", "male", "MSOAs", "ONS")
    assert msoas.reference == pytest.approx(79.46, abs=0.01)
    assert msoas.reference_label == "median of the 6,791 MSOAs in the table"
    assert [c.role for c in msoas.credits] == ["life expectancy", "boundaries", "area names"]
    assert "Crown copyright 2015" in msoas.credits[0].text() and "OS data" in msoas.credits[1].text()
    frame = msoas.frame
    assert frame.crs == "EPSG:4326" and frame.is_valid.all()
    assert list(frame.columns) == ["area_id", "le", "le_se", "geometry", "le_doubt", "area_name"]
    assert frame["le"].notna().all()  # the 2009-2013 release suppressed none; 1 set apart as implausible
    assert (frame["le_doubt"] == "implausible").sum() == 1
    # neighbourhood names readers know, from the bundled House of Commons Library table
    names = frame.set_index("area_id")["area_name"]
    assert names["E02000585"] == "Holland Park" and names.notna().all()


def test_msoa_invalid_polygons_are_repaired_and_counted():
    with pytest.warns(GradientWarning, match=r"repaired 72 of 6791 polygons that were invalid"):
        areas.read_boundaries(datasets.get_path("msoa_boundaries"), "MSOA2011")
