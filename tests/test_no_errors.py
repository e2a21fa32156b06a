"""Tables without errors: a table with only estimates runs end to end, every sentence says that no
interval could be computed, and nothing is claimed that cannot be tested."""

from __future__ import annotations

import re
import warnings

import pandas as pd
import pytest
from conftest import line_feed, squares

from gradient import cli, datasets, pipeline
from gradient.errors import GradientWarning
from gradient.story import words

PHRASE = "no interval could be computed"
UNTESTABLE = re.compile(r"significant|confidence|\b\d+(st|nd|rd|th) of\b|falls by|rises by|told apart|strongest", re.I)
"""Words of a claim that needs an interval: a tested change, a place in a list."""


def says_it(text: str) -> bool:
    return PHRASE in text.lower()


@pytest.fixture(scope="module")
def ohid_run(tmp_path_factory):
    """London's route 25 against OHID's Local Health table: male estimates, no intervals at all (real data)."""
    out = tmp_path_factory.mktemp("ohid")
    argv = [
        "run",
        "--tfl-sequences",
        str(datasets.get_path("tfl_sequences")),
        "--tfl-route-lines",
        str(datasets.get_path("tfl_route_lines")),
        "--areas",
        str(datasets.get_path("msoa_boundaries")),
        "--area-id",
        "MSOA2011",
        "--le",
        str(datasets.get_path("ohid_msoa_le_2015_2019")),
        "--le-format",
        "csv",
        "--le-id",
        "Code",
        "--le-col",
        "Life expectancy at birth for males",
        "--route",
        "25",
        "1",
        "--maps",
        "2",
        "--out",
        str(out),
    ]
    return argv, out


def test_a_table_with_only_estimates_runs_and_says_so_on_every_line(ohid_run, capsys):
    argv, out = ohid_run
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    sentences = [line for line in printed if not re.match(r"^(tables|maps|profiles|print): ", line)]
    assert len(sentences) == 5
    assert all(says_it(line) for line in sentences), sentences
    assert not any(UNTESTABLE.search(line) for line in sentences), sentences
    patterns = pd.read_csv(out / "patterns.csv")
    assert len(patterns) == 4 and patterns["le_first"].notna().all()
    assert all(says_it(h) for h in patterns["headline"])
    assert not any(UNTESTABLE.search(h) for h in patterns["headline"])
    for col in ("rank", "rank_low", "rank_high", "le_change_significant", "steepest_fall_significant"):
        assert patterns[col].isna().all(), col
    assert patterns["lead"].eq("none").all()
    assert pd.read_csv(out / "stretches.csv").empty
    methods = (out / "methods.md").read_text()
    assert says_it(methods) and not UNTESTABLE.search(methods.split("**Sources.**")[0])
    for alt in sorted((out / "maps").glob("*-*.alt.txt")):  # route maps: their sentence is the headline
        assert says_it(alt.read_text()) and not UNTESTABLE.search(alt.read_text()), alt.name
    for svg in sorted((out / "profiles").glob("*.svg")):
        assert "Life expectancy along route" in svg.read_text() and PHRASE in svg.read_text(), svg.name


def test_known_answers_without_errors(tmp_path):
    """Three stops over squares of 80, 78 and 76 years, published without errors."""
    areas = squares().drop(columns="le_se")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        result = pipeline.run(line_feed(tmp_path / "feed"), areas)
    row = result.pattern("R-0-1")
    assert (row["le_first"], row["le_last"], row["le_change"]) == (80.0, 76.0, -4.0)
    assert row["headline"].endswith(
        "life expectancy is 80.0 years at A and 76.0 at C; no interval could be computed (the source gives no "
        "margins of error)."
    )
    assert row["takeaway"] == (
        "Life expectancy along route R: no interval could be computed (the source gives no margins of error)"
    )
    assert pd.isna(row["rank"]) and pd.isna(row["le_change_ci_low"])
    assert result.labels.intervals is False
    assert says_it(result.summary.count_sentence) and says_it(result.summary.power_sentence)


def test_one_phrase_for_every_words_function():
    voice = words.Voice(intervals=False, place="Tampa")
    texts = [
        words.scope_sentence(voice, 3),
        words.count_sentence({1.0: (0, 0)}, voice),
        words.power_sentence(float("nan"), float("nan"), voice),
        *words.console_lines([], voice, 3, True),
        words.stretch_sentence({"from_stop": "A", "to_stop": "B", "routes": "1"}, voice),
        words.takeaway({"route_name": "1", "lead": "none", "le_change": -1.0, "le_change_se": 0.0}, voice),
    ]
    assert all(says_it(t) for t in texts), texts
    assert not any(UNTESTABLE.search(t) for t in texts), texts
