"""The sentence and the decision behind it: every case worded, nothing said that is not supported."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gradient.stats import claims
from gradient.story import headline

BASE = {
    "route_name": "25",
    "first_stop": "Oxford Circus",
    "last_stop": "Ilford",
    "le_first": 85.0,
    "le_last": 74.0,
    "le_change": -11.0,
    "le_change_se": 2.0,
    "le_change_ci_low": -14.9,
    "le_change_ci_high": -7.1,
    "le_change_significant": True,
    "le_change_stops": 57,
    "le_change_from": "Oxford Circus",
    "le_change_to": "Ilford",
    "le_change_from_seq": 1,
    "le_change_to_seq": 58,
    "steepest_fall": 7.7,
    "steepest_fall_ci_low": 3.2,
    "steepest_fall_ci_high": 12.2,
    "steepest_fall_significant": True,
    "steepest_fall_from": "Stratford",
    "steepest_fall_to": "Maryland",
    "steepest_fall_from_seq": 30,
    "steepest_fall_to_seq": 34,
    "steepest_fall_stops": 4,
    "le_range": 12.0,
    "le_range_ci_low": 4.0,
    "le_range_significant": True,
    "le_range_from": "Holborn",
    "le_range_to": "Maryland",
    "le_range_from_seq": 10,
    "le_range_to_seq": 34,
    "le_range_falls": True,
}


def row(**changes) -> pd.Series:
    return pd.Series({**BASE, **changes})


def words(text: str) -> int:
    return len(text.split())


def test_the_end_to_end_change_leads_when_it_is_the_stronger_claim():
    text = headline.headline(row())
    assert text == (
        "On route 25, life expectancy falls by 11.0 years from Oxford Circus to Ilford (95% interval 7.1 to 14.9)."
    )
    assert claims.lead(row()).kind == "change"


def test_a_supported_steep_stretch_leads_with_its_metres_minutes_and_rate():
    r = row(le_change_significant=False, le_change_ci_low=-15.0, le_change_ci_high=1.0)
    story = headline.Story(metres=1260.0, minutes=5.0, largest_hop_share=0.4)
    text = headline.headline(r, story)
    assert text == (
        "On route 25, life expectancy falls by 7.7 years over the four stops (1.3 km, about 5 minutes) "
        "from Stratford to Maryland (95% interval 3.2 to 12.2), about 1.9 years for every stop you pass."
    )
    assert words(text) <= 40
    assert headline.story_label(r, story) == "\u22127.7 years over 4 stops"
    assert headline.takeaway(r) == "Life expectancy falls 7.7 years over four stops on route 25"


def test_no_per_stop_rate_when_one_hop_makes_the_fall():
    r = row(le_change_significant=False, le_change_ci_low=-15.0, le_change_ci_high=1.0)
    assert "every" not in headline.headline(r, headline.Story(metres=900.0, largest_hop_share=0.9))


def test_a_one_hop_fall_names_its_distance():
    r = row(
        le_change_significant=False,
        le_change_ci_low=-15.0,
        le_change_ci_high=1.0,
        steepest_fall_stops=1,
        steepest_fall=16.9,
        steepest_fall_ci_low=10.0,
        steepest_fall_ci_high=23.8,
        steepest_fall_from="Queensdale Road",
        steepest_fall_to="Wilsham Street",
    )
    text = headline.headline(r, headline.Story(metres=208.0))
    assert text == (
        "On route 25, life expectancy falls by 16.9 years in the 208 m from Queensdale Road to Wilsham "
        "Street (95% interval 10.0 to 23.8)."
    )


def test_a_supported_rise_is_called_a_rise_with_a_positive_interval():
    r = row(
        le_first=74.0,
        le_last=85.0,
        le_change=11.0,
        le_change_ci_low=7.1,
        le_change_ci_high=14.9,
        steepest_fall_significant=False,
        steepest_fall_ci_low=-1.0,
    )
    assert headline.headline(r) == (
        "On route 25, life expectancy rises by 11.0 years from Oxford Circus to Ilford (95% interval 7.1 to 14.9)."
    )


def test_nothing_supported_says_so():
    r = row(
        le_change_significant=False,
        le_change_ci_low=-15.0,
        le_change_ci_high=1.0,
        steepest_fall_significant=False,
        steepest_fall_ci_low=-1.0,
        le_range_significant=False,
    )
    assert claims.lead(r) is None
    assert headline.headline(r) == (
        "On route 25, from Oxford Circus to Ilford, neither the change in life expectancy "
        "from end to end nor any fall over a few stops can be told apart from the "
        "estimates' margins of error."
    )
    assert headline.story_label(r) is None
    assert headline.takeaway(r) == "No clear change in life expectancy along route 25"


def test_the_range_is_never_stated_as_a_change():
    # The contract: a change in words only where le_change_significant or steepest_fall_significant holds.
    r = row(
        le_change_significant=False,
        le_change_ci_low=-15.0,
        le_change_ci_high=1.0,
        steepest_fall_significant=False,
        steepest_fall_ci_low=-1.0,
        le_range_significant=True,
    )
    assert claims.lead(r) is None
    text = headline.headline(r)
    assert not any(w in text for w in ("falls by", "rises by", " lower ", " higher ")), text
    assert headline.story_label(r) is None


def test_both_ends_in_one_area_and_loops_are_worded_as_such():
    r = row(
        le_change=0.0,
        le_change_se=0.0,
        le_change_ci_low=0.0,
        le_change_ci_high=0.0,
        le_change_significant=False,
        steepest_fall_significant=False,
        steepest_fall_ci_low=-1.0,
        le_range_significant=False,
    )
    assert "(both ends lie in the same small area)" in headline.headline(r)
    loop = row(**{**r.to_dict(), "first_stop": "Harrow Bus Station", "last_stop": "Harrow Bus Station"})
    text = headline.headline(loop)
    assert "a loop from and back to Harrow Bus Station" in text and "between" not in text.lower()


def test_untested_and_too_little_data():
    r = row(
        le_change_se=math.nan, le_change_significant=pd.NA, steepest_fall_ci_low=math.nan, le_range_significant=pd.NA
    )
    assert headline.headline(r) == (
        "On route 25, life expectancy is 85.0 years at Oxford Circus and 74.0 at Ilford; "
        "the source gives no margins of error, so the difference is untested."
    )
    empty = row(le_change=math.nan, le_change_stops=pd.NA, steepest_fall=math.nan, le_range=math.nan)
    assert headline.headline(empty) == (
        "On route 25, too few stops have a life expectancy estimate to say how it changes."
    )


def test_a_doubtful_estimate_is_named():
    r = row(le_change_significant=False, le_change_ci_low=-15.0, le_change_ci_high=1.0)
    story = headline.Story(metres=1260.0, doubts=("the estimate for Holland Park is imprecise",))
    assert headline.headline(r, story).endswith(", though the estimate for Holland Park is imprecise.")


def test_names_with_and_read_naturally():
    r = row(le_change_from="Abendroth Ave and Adee St", le_change_to="Bay and Park")
    text = headline.headline(r)
    assert "from Abendroth Ave and Adee St to Bay and Park" in text and "Between" not in text


def test_credit_line():
    assert headline.credit("female", "2016-2020", "ONS", "HART") == (
        "Life expectancy at birth (female, 2016-2020): ONS. Stops: HART."
    )


@pytest.mark.parametrize("kind", ["change", "stretch", "drop", "slope", "range"])
def test_every_claim_kind_has_a_verdict(kind):
    got = claims.claims(row())[kind]
    assert got.verdict in ("falls", "rises", "cannot_tell", "same_area", "untested", "never_falls", "no_data")


CHANGE_WORDS = ("falls by", "rises by", " lower ", " higher ", " falls ", " rises ")


@pytest.mark.parametrize("family", ["pattern", "network"])
def test_real_headlines_state_a_change_only_where_the_contract_flags_support_it(hart_patterns, tracts, family):
    # ../shared/CONTRACT.md: `headline` states a change in words only where le_change_significant or
    # steepest_fall_significant supports it; the range's own test is never printed as a change.
    import warnings

    from gradient import Options, pipeline
    from gradient.errors import GradientWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        table = pipeline.run_patterns(*hart_patterns, tracts, Options(draws=400, family=family)).patterns
    supported = table["le_change_significant"].fillna(False) | table["steepest_fall_significant"].fillna(False)
    says = table["headline"].map(lambda t: any(w in t for w in CHANGE_WORDS))
    assert not (says & ~supported).any(), table.loc[says & ~supported, "headline"].tolist()[:3]
    assert (says == supported).all()  # and a supported change is stated
