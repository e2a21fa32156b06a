"""Words: every sentence, title and label says only what its row supports, in the names and words
readers know, with the run's own level; the count and power in words; credits complete."""

from __future__ import annotations

import pytest

from gradient.credits import Credit, Labels
from gradient.story import words

LEAD = {
    "route_name": "N38",
    "first_stop": "Victoria Bus Station",
    "last_stop": "Walthamstow Bus Station",
    "n_stops": 60,
    "n_stops_le": 60,
    "length_m": 21000.0,
    "le_first": 85.0,
    "le_last": 74.0,
    "le_change": -11.0,
    "le_change_se": 2.0,
    "le_change_from": "VICTORIA BUS STATION",
    "le_change_to": "WALTHAMSTOW BUS STATION",
    "lead": "stretch",
    "lead_fall": 12.1,
    "lead_low": 4.8,
    "lead_high": 19.4,
    "lead_robustness": 1.6,
    "lead_from": "ROCHDALE ROAD",
    "lead_to": "SHORTLANDS ROAD",
    "lead_from_area_name": "Leyton",
    "lead_to_area_name": "Walthamstow",
    "lead_hops": 1,
    "lead_steps": 1,
}


def row(**changes) -> dict:
    return {**LEAD, **changes}


def test_one_step_between_neighbourhoods_is_a_crossing_with_no_distance():
    text = words.headline(row())
    assert text == (
        "On route N38, life expectancy falls by 12.1 years where it crosses from Leyton into Walthamstow, "
        "between Rochdale Road and Shortlands Road, with 95% confidence between 4.8 and 19.4 years; it would "
        "still hold with margins of error 1.6 times as wide."
    )
    assert " m " not in text and "per stop" not in text and "every stop" not in text


def test_a_longer_stretch_names_its_stops_and_neighbourhoods():
    text = words.headline(row(lead_hops=4, lead_steps=3))
    assert "over four stops, from Rochdale Road (Leyton) to Shortlands Road (Walthamstow)," in text


def test_the_end_to_end_change_is_said_as_such():
    text = words.headline(row(lead="change", lead_fall=11.0, lead_low=7.1, lead_high=14.9, lead_hops=59))
    assert text.startswith("On route N38, life expectancy falls by 11.0 years from end to end, from Rochdale Road")


def test_a_stretch_and_an_end_to_end_change_that_disagree_are_both_said():
    text = words.headline(row(change_supported=True, le_change=9.2, le_change_from="A", le_change_to="B"))
    assert "; though from end to end, from A to B, it rises by 9.2 years" in text


def test_a_stretch_against_an_unsupported_end_to_end_estimate_says_it_is_not_shown():
    # the route's estimates rise end to end, not supported: the fall is not left to stand alone
    text = words.headline(row(change_supported=False, le_change=17.1))
    assert "; from end to end, no change can be told apart from the margins of error." in text
    assert "rises" not in text
    # the same way as the stretch: nothing to add
    assert "from end to end" not in words.headline(row(change_supported=False, le_change=-3.0))


def test_a_rise_is_a_rise():
    text = words.headline(row(lead_fall=-6.0, lead_low=2.0, lead_high=10.0))
    assert "life expectancy rises by 6.0 years" in text and "between 2.0 and 10.0 years" in text


def test_nothing_supported_says_so_and_names_the_doubt_it_would_rest_on():
    assert words.headline(row(lead="none")) == (
        "On route N38, from Victoria Bus Station to Walthamstow Bus Station, no change in life expectancy can be "
        "told apart from the estimates' margins of error."
    )
    text = words.headline(row(lead="none", doubt_names="Baker's Arms"))
    assert text.endswith("without leaning on the estimate for Baker's Arms, which is in doubt.")


def test_untested_and_too_little_data():
    assert words.headline(row(lead="none", le_change_se=None)).endswith(
        "; no interval could be computed (the source gives no margins of error)."
    )
    assert "too few stops" in words.headline(row(lead="none", n_stops_le=1))


def test_an_express_says_what_it_is():
    text = words.headline(row(sparse=True, n_stops=3, length_m=17500.0))
    assert text.startswith("On route N38, an express with three stops over 17.5 km, life expectancy falls")


def test_the_level_used_is_the_level_printed():
    voice = words.Voice(alpha=0.1)
    text = words.headline(row(), voice)
    assert "with 90% confidence" in text and "95%" not in text
    assert "90% interval" in words.doubt_text("imprecise", 3.0, voice)
    assert "90%" in words.band_label(voice)


def test_short_forms_state_the_finding():
    assert words.story_label(row()) == "\u221212.1 years, Leyton to Walthamstow"
    assert words.takeaway(row()) == "Life expectancy falls 12.1 years from Leyton to Walthamstow on route N38"
    assert words.takeaway(row(lead="none")).startswith("No change in life expectancy along route N38")
    assert words.story_label(row(lead="none")) is None


def test_routes_that_tell_one_story():
    assert words.story_routes_words({"story_routes": "18; N18"}, night_prefix="N") == "route 18 (and the N18 at night)"
    assert words.story_routes_words({"story_routes": "295; 316"}) == "routes 295 and 316"


def test_a_run_of_some_routes_gives_no_network_place():
    r = {"rank": 1, "rank_low": 1, "rank_high": 3}
    assert words.place_in_list(r, 724, whole_network=True).startswith("1st of 724 routes")
    assert words.place_in_list(r, 3, whole_network=False).startswith("1st of the 3 routes run")
    assert words.place_in_list(r, 1, whole_network=False) == ""


def test_the_count_sentence():
    voice = words.Voice(place="London")
    text = words.count_sentence({1.0: (37, 85), 5.0: (2, 15)}, voice)
    assert text.startswith(
        "In London, 37 stretches of street, served by 85 routes, change in life expectancy by at least"
    )
    assert "(two of them by at least 5 years)" in text and "with 95% confidence every one of them does" in text
    assert "no stretch of street can be shown" in words.count_sentence({1.0: (0, 0), 5.0: (0, 0)}, voice)


def test_power_in_words():
    text = words.power_sentence(4.9, 1.2, words.Voice(unit="MSOAs"))
    assert "a step of 4.9 years" in text and "80% of the time" in text


def test_credits_name_every_source_with_its_licence():
    labels = Labels(
        credits=(
            Credit(
                "life expectancy", "Office for National Statistics", "Open Government Licence v3.0", "Crown copyright"
            ),
            Credit("stops", "Transport for London", "Powered by TfL Open Data"),
        ),
        byline="Graphic: A. Reporter",
    )
    text = words.credit_text(labels)
    assert text.startswith("Graphic: A. Reporter. Life expectancy: Office for National Statistics")
    assert "Powered by TfL Open Data" in text and "Open Government Licence v3.0" in text


CHANGE_WORDS = ("falls by", "rises by", " falls ", " rises ")


@pytest.mark.parametrize("family", ["route", "network"])
def test_real_headlines_state_a_change_only_where_the_table_supports_it(hart_patterns, tracts, family):
    # ../shared/CONTRACT.md: `headline` states a change only where le_change_significant or
    # steepest_fall_significant supports it; here, only where it holds with the errors widened too.
    import warnings

    from gradient import Options, pipeline
    from gradient.errors import GradientWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        table = pipeline.run_patterns(*hart_patterns, tracts, Options(draws=2000, family=family)).patterns
    flags = table["le_change_significant"].fillna(False) | table["steepest_fall_significant"].fillna(False)
    says = table["headline"].map(lambda t: any(w in t for w in CHANGE_WORDS))
    assert not (says & ~flags).any(), table.loc[says & ~flags, "headline"].tolist()[:3]
    assert (says == (table["lead"] != "none")).all()
    assert (table.loc[says, "lead_robustness"] >= 1.25).all()
    assert not table["headline"].str.contains("CI|MSOA|Highlighted|per stop|every stop", regex=True).any()


def test_a_run_at_another_level_never_prints_95(tmp_path):
    from gradient import cli, datasets

    out = tmp_path / "out"
    code = cli.main(
        [
            "run",
            "--gtfs",
            str(datasets.get_path("hart_gtfs")),
            "--areas",
            str(datasets.get_path("hillsborough_tracts")),
            "--le",
            str(datasets.get_path("usaleep")),
            "--le-format",
            "usaleep",
            "--alpha",
            "0.1",
            "--family",
            "route",
            "--maps",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    found = [p for p in out.rglob("*") if p.is_file() and "95%" in p.read_text(encoding="utf-8", errors="ignore")]
    assert found == []
    assert "90%" in (out / "patterns.csv").read_text() and "90%" in (out / "methods.md").read_text()
