"""A second measure, names and populations beside life expectancy: known answers, the real
route 25, the same clear errors as a life expectancy table."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import line_feed, squares

from gradient import AreasError, GradientWarning, Options, cli, datasets, pipeline
from gradient.areas import attributes
from gradient.sources import gtfs


@pytest.fixture(scope="module")
def route25(msoas_with_imd):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        return pipeline.run(
            datasets.get_path("tfl_sequences"),
            msoas_with_imd,
            route_lines=datasets.get_path("tfl_route_lines"),
            kind="tfl",
            routes=["25"],
            options=Options(draws=400),
        )


@pytest.fixture(scope="module")
def msoas_with_imd(msoas):
    return attributes.add_context(
        msoas, datasets.get_path("imd2019_msoa"), "msoa_code", "Score", "IMD 2019 score (higher = more deprived)"
    )


def context_table(tmp_path, rows):
    path = tmp_path / "ctx.csv"
    pd.DataFrame(rows, columns=["code", "value"]).to_csv(path, index=False)
    return path


def test_known_values_and_correlation(tmp_path):
    # five stops in five squares: life expectancy 80, 78, 76, 74, 72 and a measure 10, 30, 20, 40, 50
    xs = tuple(float(i) * 1000 for i in range(5))
    folder = line_feed(tmp_path / "feed", xs=xs, names=tuple("ABCDE"))
    areas = squares(values=(80.0, 78.0, 76.0, 74.0, 72.0), ses=(1.0,) * 5, xs=xs)
    areas = attributes.add_context(
        areas,
        context_table(tmp_path, [(f"A{i}", v) for i, v in enumerate([10, 30, 20, 40, 50])]),
        "code",
        "value",
        "a score",
    )
    patterns, ps = gtfs.stop_patterns(gtfs.read_feed(folder))
    res = pipeline.run_patterns(patterns, ps, areas, Options(draws=200))
    east = res.stops[res.stops["pattern_id"] == "R-0-1"]
    assert east["context"].tolist() == [10, 30, 20, 40, 50]
    row = res.patterns.set_index("pattern_id").loc["R-0-1"]
    assert (row["context_first"], row["context_last"]) == (10, 50)
    assert row["context_le_corr"] == pytest.approx(np.corrcoef([80, 78, 76, 74, 72], [10, 30, 20, 40, 50])[0, 1])
    assert row["context_n_areas"] == 5
    assert res.labels.context == "a score"
    cols = res.patterns.columns.tolist()
    assert cols[cols.index("headline") + 1 : cols.index("headline") + 4] == [
        "context_first",
        "context_last",
        "context_le_corr",
    ]


def test_route_25_takes_each_stops_msoa_score_and_the_measure_falls_as_life_expectancy_rises(route25):
    imd = pd.read_csv(datasets.get_path("imd2019_msoa")).set_index("msoa_code")["Score"]
    s = route25.stops.dropna(subset=["le"])
    np.testing.assert_allclose(s["context"], imd.reindex(s["area_id"]).to_numpy())
    corr = route25.patterns.set_index("pattern_id")["context_le_corr"]
    assert (corr < -0.4).all()  # the more deprived the area, the lower its life expectancy
    note = route25.patterns.set_index("pattern_id").loc["25-0-1", "context_note"]
    assert "not evidence of a cause" in note and "IMD 2019 score" in note
    assert route25.stops["area_name"].notna().all() and "Holborn" in " ".join(route25.stops["area_name"])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("X1", 10), ("X2", 20)], r"no area id of the context table matches the areas"),
        ([("A0", 10), ("A1", "ten"), ("A2", 30)], r"1 value\(s\) in 'value' are not numbers \(e\.g\. 'ten'\)"),
        (
            [("A0", 10), ("A0", 11), ("A1", 20)],
            r"area id A0 appears more than once in 'code' with different values "
            r"\(10\.0 and 11\.0 in 'value'\)",
        ),
    ],
)
def test_a_bad_context_table_gets_the_same_clear_errors(tmp_path, rows, message):
    with pytest.raises(AreasError, match=message):
        attributes.add_context(squares(), context_table(tmp_path, rows), "code", "value")


def test_repeats_and_gaps_are_warned_not_fatal(tmp_path):
    path = context_table(tmp_path, [("A0", 10), ("A0", 10), ("A1", ":")])
    with pytest.warns(GradientWarning) as caught:
        got = attributes.add_context(squares(), path, "code", "value")
    text = " ".join(str(w.message) for w in caught)
    assert "appear more than once in 'code' with identical values" in text
    assert "suppression markers" in text and "2 of 3 areas have no value in the context table" in text
    assert got.frame["context"].tolist()[0] == 10 and got.frame["context"].isna().sum() == 2  # missing, never 0


def test_tract_ids_that_lost_their_zeros_are_padded_back(tmp_path):
    assert attributes.pad_like(pd.Series(["1057010100"]), pd.Series(["01057010100"])).tolist() == ["01057010100"]


def test_us_tracts_are_weighted_by_their_census_population(tracts, hart_patterns):
    assert tracts.credits[-1].role == "population" and tracts.credits[-1].source.startswith("US Census")
    patterns, ps = hart_patterns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        res = pipeline.run_patterns(
            patterns[patterns["route_name"] == "8"], ps, tracts, Options(method="buffer", draws=200)
        )
    counts = res.stops.drop_duplicates("stop_id")["weighting"].value_counts().to_dict()
    assert set(counts) <= {"population", "area"} and counts["population"] > 0.9 * sum(counts.values())


def test_buffers_without_population_say_so(tmp_path):
    folder = line_feed(tmp_path / "feed")
    patterns, ps = gtfs.stop_patterns(gtfs.read_feed(folder))
    with pytest.warns(GradientWarning, match=r"the areas have no population, so catchments weight areas by area alone"):
        res = pipeline.run_patterns(patterns, ps, squares(), Options(method="buffer", draws=200))
    assert (res.stops["weighting"] == "area").all()


def test_the_command_line_takes_context_and_names(tmp_path, capsys):
    code = cli.main(
        [
            "run",
            "--tfl-sequences",
            str(datasets.get_path("tfl_sequences")),
            "--areas",
            str(datasets.get_path("msoa_boundaries")),
            "--le",
            str(datasets.get_path("ons_msoa_le")),
            "--le-format",
            "ons-msoa",
            "--route",
            "25",
            "--maps",
            "0",
            "--draws",
            "200",
            "--context",
            str(datasets.get_path("imd2019_msoa")),
            "--context-id",
            "msoa_code",
            "--context-col",
            "Score",
            "--context-name",
            "IMD 2019 score",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    stops = pd.read_csv(tmp_path / "out" / "stops.csv")
    assert "context" in stops.columns and stops["context"].notna().any()
    assert stops["area_name"].notna().any()
    code = cli.main(
        [
            "run",
            "--tfl-sequences",
            str(datasets.get_path("tfl_sequences")),
            "--areas",
            str(datasets.get_path("msoa_boundaries")),
            "--le",
            str(datasets.get_path("ons_msoa_le")),
            "--le-format",
            "ons-msoa",
            "--context",
            str(datasets.get_path("imd2019_msoa")),
            "--out",
            str(tmp_path / "o2"),
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.strip().endswith("--context needs --context-id and --context-col")
