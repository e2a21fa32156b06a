"""Maps and charts: legible colours, self-contained files, feed text that stays text, sizes."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import line_feed, squares
from mapdata import HART_LABELS, hart, replicate
from matplotlib.colors import to_hex, to_rgb
from matplotlib.text import Text

from gradient import Areas, GradientWarning, OptionError, Options, pipeline
from gradient.output import write_outputs
from gradient.present import embed
from gradient.present.charts import ChartError, profile, profile_chart, save_figure, text, thin_labels
from gradient.present.colours import (
    LIFE,
    MISSING_COLOUR,
    PALETTES,
    STRENGTH,
    Scale,
    areas_scale,
    lightness,
    reference_scale,
)
from gradient.present.maps import describe_route, draw_route_map, route_map, safe_json, steepest
from gradient.present.netmap import NetworkMapError, draw_network_map, encode, network_map, one_per_route
from gradient.present.netmap import profile_code as network_profile_code
from gradient.present.page import esc
from gradient.schema import metric_crs
from gradient.sources import gtfs
from gradient.story import words
from gradient.story.names import display_name

HOSTILE = "<img src=x onerror=alert(1)> & `${alert(2)}` </script><script>alert(3)</script>"
NAMES = (HOSTILE, "B's stop #2", "C & D <depot>")
LABELS = pipeline.Labels("test LE", "2010-2015", "persons", "test feed")
ALT_UNTESTED = (  # stops alone: nothing to test a difference with, so none is claimed
    f"Map of route R from {HOSTILE} to C & D <depot> (2.0 km, 3 stops), coloured stop by stop by the life "
    "expectancy at birth (persons, 2010-2015) of the neighbourhood each stop stands in. Along the route it ranges "
    f"from 76.0 years at C & D <depot> to 80.0 years at {HOSTILE} over the 3 stops with an estimate (the "
    f"difference is not tested here). The biggest fall between consecutive stops is 2.0 years, from {HOSTILE} to "
    "B's stop #2. Sources: test LE 2010-2015; test feed."
)
ALT = (  # with the pattern's row: its sentence, and what its intervals allow (gradient.story.words)
    f"Map of route R from {HOSTILE} to C & D <depot> (2.0 km, 3 stops), coloured stop by stop by the life "
    "expectancy at birth (persons, 2010-2015) of the neighbourhood each stop stands in. On route R, an express "
    f"with three stops over 2.0 km, from {HOSTILE} to C & D <depot>, no change in life expectancy can be told apart "
    "from the estimates' margins of error. Along the route it ranges "
    f"from 76.0 years at C & D <depot> to 80.0 years at {HOSTILE} over the 3 stops with an estimate; the two "
    "cannot be told apart from the estimates' margins of error. The biggest fall between consecutive stops is "
    f"2.0 years, from {HOSTILE} to B's stop #2, within the estimates' margins of error. Sources: test LE "
    "2010-2015; test feed."
)


@pytest.fixture()
def hostile_result(tmp_path):
    feed = gtfs.read_feed(line_feed(tmp_path / "feed", names=NAMES))
    patterns, ps = gtfs.stop_patterns(feed)
    return pipeline.run_patterns(patterns, ps, squares(), labels=LABELS)


@pytest.fixture()
def hostile_stops(hostile_result):
    return hostile_result.stops_of("R-0-1")


def page_data(page: str) -> dict:
    """The JSON blob a route or network map draws from."""
    return json.loads(re.search(r"var d = (\{.*?\});\n", page).group(1))


# colours


@pytest.mark.parametrize("name", sorted(PALETTES))
@pytest.mark.parametrize("vision", ["normal", "deuteranomaly", "protanomaly", "tritanomaly"])
def test_the_palette_reads_in_greyscale_and_with_colour_blindness(name, vision):
    """Lightness (CIE L*) changes monotonically along the palette, under full colour-vision deficiencies too,
    so order survives greyscale print; measured with colorspacious (a test extra), not our own formula."""
    from colorspacious import cspace_convert

    rgb = PALETTES[name](np.linspace(0, 1, 64))[:, :3]
    if vision != "normal":
        rgb = np.clip(cspace_convert(rgb, {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}, "sRGB1"), 0, 1)
    L = cspace_convert(rgb, "sRGB1", "CIELab")[:, 0]
    step = np.diff(L)
    assert (step > 0).all() if name == "life" else (step < 0).all()
    assert np.ptp(L) > (70 if name == "life" else 40)
    assert MISSING_COLOUR not in {to_hex(c) for c in rgb}


def test_our_lightness_matches_colorspacious():
    from colorspacious import cspace_convert

    for c in ("#440154", "#21918c", "#fde725", "#9e9e9e"):
        assert lightness(c) == pytest.approx(cspace_convert(to_rgb(c), "sRGB1", "CIELab")[0], abs=0.05)


def test_low_life_expectancy_is_always_the_darker():
    s = Scale.around([70.0, 76.0, 80.0])
    dark, light = s.colours([71.0, 81.0])
    assert lightness(dark) < lightness(light) - 50
    assert lightness(to_hex(STRENGTH(1.0))) < lightness(to_hex(STRENGTH(0.0)))


def test_scale_around_the_median_is_symmetric():
    s = Scale.around([70.0, 76.0, 80.0])
    assert (s.vmin, s.reference, s.vmax, s.clipped) == (70.0, 76.0, 82.0, False)
    assert s.colours([76.0, np.nan]) == [to_hex(LIFE(0.5)), MISSING_COLOUR]
    assert s.colours([60.0])[0] == s.colours([70.0])[0] == to_hex(LIFE(0.0))
    clipped = Scale.around([70.0, 76.0, 76.0, 77.0, 100.0], coverage=0.5)
    assert (clipped.vmin, clipped.vmax, clipped.clipped) == (75.0, 77.0, True)


def test_areas_scale_counts_each_area_once(hostile_result):
    s = areas_scale(hostile_result.stops)
    assert (s.vmin, s.reference, s.vmax) == (76.0, 78.0, 80.0)
    assert s.reference_label == "median of the 3 areas served"


def test_hart_scale_is_centred_on_the_median_of_the_tracts_served():
    result, _ = hart()
    s = areas_scale(result.stops, "tracts")
    assert s.reference == pytest.approx(77.5)
    assert (s.vmin, s.vmax) == (pytest.approx(69.4), pytest.approx(85.6))
    assert s.reference_label == "median of the 184 tracts served" and s.clipped


# route maps


def test_saved_map_is_self_contained(hostile_stops, tmp_path):
    m = draw_route_map(hostile_stops, title="Route R", source="Sources: test", period="2010-2015", sex="persons")
    path = embed.save_html(m, tmp_path / "map.html")
    page = path.read_text(encoding="utf-8")
    assert not re.findall(r"<script[^>]+src=", page)
    assert not re.findall(r'<link[^>]+href="http', page)
    assert "L.map(" in page and "leaflet" in page.lower()
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<meta name="viewport" content="width=device-width' in page
    assert "Life expectancy at birth, years (persons, 2010-2015)" in page
    assert path.stat().st_size < 1_500_000
    assert not list(tmp_path.glob(".*.part"))


def test_route_map_data(hostile_stops):
    scale = Scale.around([76.0, 78.0, 80.0], reference_label="median of the 3 areas served")
    page = embed.map_html(draw_route_map(hostile_stops, title="Route R", scale=scale))
    d = page_data(page)
    assert [s["k"] for s in d["stops"]] == scale.colours([80.0, 78.0, 76.0])
    assert [s["lines"][1:] for s in d["stops"]] == [
        [
            "Life expectancy: 80.0 years (95% interval 78.0 to 82.0)",
            "First stop of the route",
            "Neighbourhood: A0",
            "Stop 1 of 3, 0.0 km from the start",
        ],
        # the change's interval: 2 +- 1.96 sqrt(1 + 1) and 2 +- 1.96 sqrt(1 + 4) (gradient.stats.figures)
        [
            "Life expectancy: 78.0 years (95% interval 76.0 to 80.0)",
            "Change from the previous stop: \u22122.0 years (95% interval \u22124.8 to +0.8)",
            "Neighbourhood: A1",
            "Stop 2 of 3, 1.0 km from the start",
        ],
        # A2's error (2 years) is larger than the spread between these three areas: flagged imprecise
        [
            "Life expectancy: 76.0 years (95% interval 72.1 to 79.9)",
            "Estimate uncertain: its 95% interval spans 8 years",
            "Change from the previous stop: \u22122.0 years (95% interval \u22126.4 to +2.4)",
            "Neighbourhood: A2",
            "Stop 3 of 3, 2.0 km from the start",
        ],
    ]
    assert [p["k"] for p in d["pieces"]] == scale.colours([80.0, 78.0, 76.0])  # halfway between stops
    assert d["steep"]["text"] == "Biggest stop-to-stop fall: \u22122.0 years"
    assert d["steep"]["c"][0] == pytest.approx([d["stops"][0]["y"], d["stops"][0]["x"]], abs=1e-4)
    assert "\u25b2 78.0: median of the 3 areas served" in page


def test_stop_change_interval_is_shown_when_the_column_exists(hostile_stops):
    stops = hostile_stops.assign(le_delta_se=[np.nan, 1.0, 1.0])
    d = page_data(embed.map_html(draw_route_map(stops, title="R")))
    assert (
        d["stops"][1]["lines"][2] == "Change from the previous stop: \u22122.0 years (95% interval \u22124.0 to +0.0)"
    )


def test_steepest_is_the_first_largest_fall(hostile_stops):
    assert steepest(hostile_stops) == 1
    assert steepest(hostile_stops.assign(le_delta=[np.nan, 1.0, 0.0])) is None
    assert steepest(hostile_stops.assign(le_delta=[np.nan, -1.0, -3.0])) == 2


def test_steepest_stretch_is_the_one_in_patterns_csv():
    result, _ = hart()
    for _, row in result.patterns.iterrows():
        stops = result.stops_of(row["pattern_id"]).sort_values("stop_sequence")
        i = steepest(stops)
        if i is None:
            assert not row["max_drop"] > 0, row["pattern_id"]
        else:
            names = (display_name(stops["stop_name"].iloc[i - 1]), display_name(stops["stop_name"].iloc[i]))
            assert names == (row["max_drop_from"], row["max_drop_to"]), row["pattern_id"]
            assert -stops["le_delta"].iloc[i] == row["max_drop"]


def test_missing_values_are_grey_and_dashed(hostile_stops):
    stops = hostile_stops.assign(le=[80.0, np.nan, 76.0], le_delta=np.nan)
    d = page_data(embed.map_html(draw_route_map(stops, title="R")))
    assert d["stops"][1]["k"] == MISSING_COLOUR
    assert [p["m"] for p in d["pieces"]] == [0, 1, 0]
    assert d["steep"] is None


def test_area_layer_holds_only_areas_near_the_route(hostile_stops):
    far = squares(values=(70.0,), ses=(1.0,), xs=(9000.0,)).assign(area_id="FAR")
    areas = pd.concat([squares(), far], ignore_index=True)
    d = page_data(embed.map_html(draw_route_map(hostile_stops, title="R", areas=areas, areas_name="Tracts <b>")))
    assert [f["properties"]["lines"][0] for f in d["areas"]["features"]] == ["A0", "A1", "A2"]
    assert d["areasName"] == "Tracts &lt;b&gt;"  # Leaflet's layer control writes names as HTML
    assert d["showAreas"] is True


def test_feed_text_never_becomes_markup(hostile_stops):
    m = draw_route_map(hostile_stops, title=f"Route {HOSTILE}", source=HOSTILE)
    page = embed.map_html(m)
    assert "<img src=x" not in page
    assert "<script>alert(3)" not in page
    assert safe_json(HOSTILE) in page  # stop names reach the page only as JSON data for textContent
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # title, source, legend and description, escaped
    assert "Biggest stop-to-stop fall, \u22122.0 years: &lt;img src=x onerror=alert(1)&gt; &amp;" in page
    assert "to B&#x27;s stop #2</div>" in page


def test_safe_json_roundtrips():
    value = safe_json({"name": HOSTILE, "sep": "\u2028"})
    assert "<" not in value and ">" not in value and "&" not in value and "\u2028" not in value
    assert json.loads(value) == {"name": HOSTILE, "sep": "\u2028"}


@pytest.mark.parametrize("asset", ["JavascriptLink", "CssLink"], ids=["script", "stylesheet"])
def test_an_outside_script_or_stylesheet_is_refused(asset):
    import folium

    m = embed.Map(tiles=None)
    m.get_root().header.add_child(getattr(folium, asset)("https://example.org/tracker"))
    with pytest.raises(embed.EmbedError, match=r"outside file https://example\.org/tracker"):
        embed.map_html(m)


def test_pages_carry_leaflet_a_title_and_allow_pinch_zoom(hostile_stops):
    page = embed.map_html(draw_route_map(hostile_stops, title="Route <R>", tiles=None))
    assert "<title>Route &lt;R&gt;</title>" in page
    assert embed.VIEWPORT in page and "user-scalable=no" not in page
    assert "L.map(" in page and "cdn.jsdelivr" not in page and "jquery" not in page.lower()


def test_no_tiles_means_no_outside_request(hostile_stops):
    page = embed.map_html(draw_route_map(hostile_stops, title="R", tiles=None))
    assert "L.tileLayer(" not in page


def test_template_code_in_a_name_stays_text(hostile_stops):
    # branca renders every element as a Jinja template: a name must never run as one
    names = ["{{ 'pwn' ~ 'ed' }}", "{% for x in range(3) %}loop{% endfor %}", "{# gone #}"]
    stops = hostile_stops.assign(stop_name=names)
    page = embed.map_html(draw_route_map(stops, title="Route {{ 6 * 7 }}", source="{{ 'src' ~ 'x' }}", tiles=None))
    assert "pwned" not in page and "looploop" not in page and "srcx" not in page and "Route 42" not in page
    assert [s["lines"][0] for s in page_data(page)["stops"]] == names
    assert "Route &#123;&#123; 6 * 7 &#125;&#125;" in page


def story_row(result, label: str | None = "\u22124.0 years over 2 stops"):
    row = result.pattern("R-0-1").copy()
    row["story_from_seq"], row["story_to_seq"], row["story_label"] = 1, 3, label
    return row


def test_route_map_highlights_the_stretch_the_sentence_cites(hostile_result):
    stops = hostile_result.stops_of("R-0-1")
    page = embed.map_html(draw_route_map(stops, title="R", pattern=story_row(hostile_result), tiles=None))
    d = page_data(page)
    assert d["steep"]["text"] == "\u22124.0 years over 2 stops" and d["steep"]["cited"] is True
    first, last = d["stops"][0], d["stops"][-1]
    assert d["steep"]["c"][0] == pytest.approx([first["y"], first["x"]], abs=1e-4)
    assert d["steep"]["c"][-1] == pytest.approx([last["y"], last["x"]], abs=1e-4)
    assert (
        f"The change the sentence states: \u22124.0 years over 2 stops, {esc(HOSTILE)} to C &amp; D &lt;depot&gt;"
        in page
    )
    # no label of its own: a plain one, with the stops counted
    d = page_data(embed.map_html(draw_route_map(stops, pattern=story_row(hostile_result, None), tiles=None)))
    assert d["steep"]["text"] == "\u22124.0 years over 2 stops"
    # columns present but empty (the sentence cites no stretch): the biggest stop-to-stop fall, said as such
    empty = story_row(hostile_result).copy()
    empty["story_from_seq"] = empty["story_to_seq"] = pd.NA
    d = page_data(embed.map_html(draw_route_map(stops, pattern=empty, tiles=None)))
    assert d["steep"]["text"] == "Biggest stop-to-stop fall: \u22122.0 years, within the margins of error"
    assert d["steep"]["cited"] is False
    alt = describe_route(stops, route="route R", pattern=story_row(hostile_result))
    assert f"The highlighted stretch (\u22124.0 years over 2 stops) runs from {HOSTILE} to C & D <depot>." in alt


def test_popups_name_the_area_and_say_when_its_estimate_is_in_doubt(hostile_stops):
    stops = hostile_stops.assign(
        area_name=["Hackney Central", None, ""],
        area_doubt=["", "imprecise", "implausible"],
        le_se=[1.0, 4.6, 1.0],
        stop_name=["STRATFORD BUS STATION <>#[DLR]", "B", "C"],
    )
    d = page_data(embed.map_html(draw_route_map(stops, title="R", tiles=None)))
    lines = [s["lines"] for s in d["stops"]]
    assert lines[0][0] == "Stratford Bus Station" and "Neighbourhood: Hackney Central" in lines[0]
    assert "Interchange: Underground, National Rail, DLR" in lines[0]
    assert lines[1][2] == "Estimate uncertain: its 95% interval spans 18 years" and "Neighbourhood: A1" in lines[1]
    assert lines[2][2].startswith("Estimate doubtful: far from its neighbours'") and "Neighbourhood: A2" in lines[2]
    assert not any(line.startswith("Estimate") for line in lines[0])


def test_start_and_end_are_marked_and_named(hostile_stops):
    stops = hostile_stops.assign(stop_name=["HOLLES STREET", "B", "HAINAULT STREET"])
    d = page_data(embed.map_html(draw_route_map(stops, title="R", tiles=None)))
    assert [(e["kind"], e["text"]) for e in d["ends"]] == [("start", "Holles Street"), ("end", "Hainault Street")]
    assert d["ends"][0]["at"] == [d["stops"][0]["y"], d["stops"][0]["x"]]
    loop = page_data(embed.map_html(draw_route_map(stops.assign(stop_name=["X", "B", "X"]), tiles=None)))
    assert [e["text"] for e in loop["ends"]] == ["X (start and end)", ""]


def test_default_basemap_has_place_names_above_the_route(hostile_stops):
    page = embed.map_html(draw_route_map(hostile_stops, title="R"))
    assert "World_Light_Gray_Base" in page and "World_Light_Gray_Reference" in page
    assert '"pane": "gradient-names"' in page.replace("'", '"') or "gradient-names" in page
    assert "scrollWheelZoom: false" in page.replace('"scrollWheelZoom": false', "scrollWheelZoom: false")


def test_the_colour_reference_is_fixed_and_named(hostile_stops):
    table = squares(values=(70.0, 80.0, 90.0, 82.0), ses=(1.0,) * 4, xs=(0.0, 1000.0, 2000.0, 3000.0))
    assert reference_scale(hostile_stops, "areas").reference_label == "median of the 3 areas served"
    fixed = reference_scale(hostile_stops, 80.0, table)
    assert (fixed.reference, fixed.reference_label) == (80.0, "reference set by the publisher")
    whole = reference_scale(hostile_stops, "table", table)
    assert (whole.reference, whole.reference_label) == (81.0, "median of all 4 areas in the table")
    known = Areas(frame=table, reference=81.3, reference_label="median of England's MSOAs")
    england = reference_scale(hostile_stops, "table", known)
    assert (england.reference, england.reference_label) == (81.3, "median of England's MSOAs")
    # two runs against one table share one scale, whatever areas each serves
    assert reference_scale(hostile_stops.iloc[:1], "table", known) == england
    page = embed.map_html(draw_route_map(hostile_stops, title="R", scale=england, tiles=None))
    assert "\u25b2 81.3: median of England&#x27;s MSOAs" in page
    with pytest.warns(GradientWarning, match=r"scale_reference='table' needs the life expectancy table"):
        assert reference_scale(hostile_stops, "table").reference_label == "median of the 3 areas served"


def test_scale_reference_and_embed_base_url_options():
    assert Options(scale_reference="80.5").scale_reference == 80.5
    assert Options(scale_reference="table").scale_reference == "table"
    assert Options(embed_base_url="https://example.org/g/").embed_base_url == "https://example.org/g"
    with pytest.raises(OptionError, match=r"scale_reference='median' is not one of areas, table or a number"):
        Options(scale_reference="median")
    for bad in ("javascript:alert(1)", "ftp://example.org", "https://example.org/a b", 'https://x.org/"><b>'):
        with pytest.raises(OptionError, match=r"embed_base_url=.* must be an http:// or https:// address"):
            Options(embed_base_url=bad)


def test_embed_snippet_points_at_the_published_address(hostile_result, tmp_path):
    m = route_map(hostile_result, "R-0-1", tiles=None)
    paths = embed.save_embed(m, tmp_path / "R 0.html", base_url="https://example.org/graphics/buses/")
    snippet = paths[1].read_text(encoding="utf-8")
    assert 'src="https://example.org/graphics/buses/R%200.html"' in snippet
    assert 'sandbox="allow-scripts allow-popups"' in snippet and 'title="Map: No change in life expectancy' in snippet
    assert "padding-top:calc(66.67% + 230px)" in snippet  # the height follows the width
    with pytest.raises(OptionError, match=r"base_url='data:text/html,x' must be an http"):
        embed.save_embed(m, tmp_path / "x.html", base_url="data:text/html,x")


# alt text and iframe snippet


def test_describe_route(hostile_stops):
    assert (
        describe_route(hostile_stops, route="route R", sex="persons", period="2010-2015", source=LABELS.source_line)
        == ALT_UNTESTED
    )
    nothing = hostile_stops.assign(le=np.nan, le_delta=np.nan)
    assert describe_route(nothing, route="route R").endswith("None of its stops has a life expectancy estimate.")


def test_save_embed_writes_page_snippet_and_alt_text(hostile_result, tmp_path):
    paths = embed.save_embed(route_map(hostile_result, "R-0-1"), tmp_path / "maps" / "R-0-1.html")
    assert [p.name for p in paths] == ["R-0-1.html", "R-0-1.iframe.html", "R-0-1.alt.txt"]
    assert paths[2].read_text(encoding="utf-8") == ALT + "\n"
    title = "Map: No change in life expectancy along route R can be told apart from the margins of error"
    assert paths[1].read_text(encoding="utf-8") == (
        '<div class="gradient-embed" style="position:relative;width:100%;height:0;padding-top:calc(66.67% + 230px)">'
        f'<iframe src="R-0-1.html" title="{title}" style="position:absolute;top:0;left:0;width:100%;height:100%;'
        'border:0" loading="lazy" sandbox="allow-scripts allow-popups"></iframe></div>\n'
    )
    page = paths[0].read_text(encoding="utf-8")
    assert '<p id="gradient-desc" class="gradient-sr">Map of route R from &lt;img src=x' in page


def test_save_embed_needs_a_title_and_alt_text(tmp_path):
    import folium

    with pytest.raises(embed.EmbedError, match=r"save_embed needs a title and alt text"):
        embed.save_embed(folium.Map(tiles=None), tmp_path / "m.html")


def test_iframe_height_must_be_positive():
    with pytest.raises(embed.EmbedError, match=r"height must be a positive whole number of pixels, got 0"):
        embed.iframe_snippet("m.html", "Map", height=0)


# network maps


def finder_data(page: str) -> dict:
    """The network map's finder blob (after the map's script)."""
    blob = re.search(r'<script type="application/json" id="gradient-finder">(.*?)</script>', page, re.S)
    return json.loads(blob.group(1))


def test_network_map_data(hostile_result):
    page = embed.map_html(network_map(hostile_result, tiles=None))
    d = page_data(page)
    # one line per route, named by the way it runs, with what it says in a few words
    assert [p["t"] for p in d["p"]] == [
        ["Route R towards C & D <depot>", f"{HOSTILE} to C & D <depot>", "No change along it that the data support"]
    ]
    assert [p["w"] for p in d["p"]] == [0.8]  # no supported change: a thin grey context line
    f = finder_data(page)
    assert f["example"] == "R" and [r["r"] for r in f["routes"]] == ["R"]
    way = f["routes"][0]["d"][0]
    assert len(f["routes"][0]["d"]) == 2  # both directions
    assert way["w"] == "Route R towards C & D <depot>" and way["h"].startswith("On route R")
    assert [p[0] for p in f["places"]] == sorted([HOSTILE, "B's stop #2", "C & D <depot>"])
    assert "<img src=x" not in page and safe_json(HOSTILE)[1:-1] in page
    assert 'id="gradient-route"' in page and f["ui"]["find"] == "Find a route or a place"
    assert page.index('id="gradient-finder"') > page.index("var d = ")  # the map draws before the finder loads


def test_profile_code_round_trips():
    code = network_profile_code(np.array([0.0, 420.0, 1000.0]), np.array([80.0, np.nan, 76.5]))
    values = np.cumsum(np.array(decode(code)).reshape(-1, 2), axis=0)
    assert values.tolist() == [[0, 800], [42, 0], [100, 765]]  # the unknown travels as 0 (a gap)


def test_one_line_per_route_keeps_the_larger_value_in_ranking_order():
    p = pd.DataFrame(
        {
            "pattern_id": ["a0", "a1", "b0", "b1", "c0"],
            "route_name": ["A", "A", "B", "B", "C"],
            "le_range": [3.0, 5.0, 2.0, 2.0, np.nan],
        }
    )
    assert one_per_route(p, "le_range")["pattern_id"].tolist() == ["a1", "b0", "c0"]
    p["slope_per_km"] = [0.1, -0.3, 0.2, -0.2, np.nan]
    assert one_per_route(p, "slope_per_km")["pattern_id"].tolist() == ["a1", "b0", "c0"]


def test_network_colour_is_the_ranking_statistic():
    from gradient.present.netmap import _scale

    scale, strength = _scale(np.array([np.nan, -1.0, 0.5, 4.0]), "lead_low")
    assert np.isnan(strength[:2]).all()  # no supported change: grey, thin
    assert strength[3] == 1.0 and 0 < strength[2] < strength[3]  # the top-ranked route is the darkest
    dark, light = scale.colours([4.0, 0.5])
    assert lightness(dark) < lightness(light)


def test_encode_rounds_and_writes_encoded_polylines():
    line = shapely.LineString([(-82.45, 27.95), (-82.44999, 27.95001), (-82.44, 27.95001)])
    [text] = encode(np.array([line]), metric_crs([-82.44], [27.95]), 0.0)
    assert decode(text) == [2795000, -8245000, 1, 1, 0, 999]  # first point, then 1e-5 degree deltas
    assert text == "o~qiDnofvNAA?m}@" and json.dumps(text) == f'"{text}"'


def decode(text: str) -> list[int]:
    """Google's polyline decoding, as the page's script does it (deltas, not sums)."""
    out, i = [], 0
    while i < len(text):
        shift = result = 0
        while True:
            b = ord(text[i]) - 63
            i += 1
            result |= (b & 31) << shift
            shift += 5
            if b < 32:
                break
        out.append(~(result >> 1) if result & 1 else result >> 1)
    return out


def test_network_map_refuses_an_unknown_value(hostile_result):
    with pytest.raises(NetworkMapError, match=r"value='le' cannot colour a network map; choose one of lead_low, le_r"):
        draw_network_map(hostile_result.patterns, hostile_result.geometry, value="le")


def test_network_map_refuses_another_crs(hostile_result):
    with pytest.raises(NetworkMapError, match=r"geometry must be in EPSG:4326, found EPSG:32617"):
        draw_network_map(hostile_result.patterns, hostile_result.geometry.to_crs("EPSG:32617"))


# sizes on real data (the report quotes these)


def test_hart_route_map_fits_the_budget(tmp_path):
    result, tracts = hart()
    paths = embed.save_embed(route_map(result, "8-0-1", areas=tracts), tmp_path / "8-0-1.html")
    size = paths[0].stat().st_size
    print(f"\nHART route 8 map with tracts: {size} bytes")
    assert size < 1_500_000
    d = page_data(paths[0].read_text(encoding="utf-8"))
    assert len(d["stops"]) == 68 and d["steep"]["text"].startswith("Biggest stop-to-stop fall: \u221212.7 years")
    assert "7th Av at 22nd St to 7th Av at 24th St" in paths[0].read_text(encoding="utf-8")  # display names


def test_network_maps_fit_the_budget(tmp_path):
    result, _ = hart()
    hart_size = embed.save_html(network_map(result), tmp_path / "hart.html").stat().st_size
    patterns, geometry = replicate(result.patterns, result.geometry, 700)
    m = draw_network_map(patterns, geometry, title="700 patterns", source=HART_LABELS.source_line)
    big = embed.save_html(m, tmp_path / "network700.html")
    print(f"\nnetwork maps: HART 85 patterns {hart_size} bytes, 700 patterns {big.stat().st_size} bytes")
    assert hart_size < 1_500_000
    assert big.stat().st_size < 8_000_000
    assert len(page_data(big.read_text(encoding="utf-8"))["p"]) == patterns["route_name"].nunique() > 350


# pipeline


def test_write_outputs_writes_maps_embeds_profiles_and_network(hostile_result, tmp_path):
    written = write_outputs(hostile_result, tmp_path, Options(maps=1), tiles=None)
    assert [p.name for p in written["maps"]] == [
        "R-0-1.html",
        "R-0-1.iframe.html",
        "R-0-1.alt.txt",
        "network.html",
        "network.iframe.html",
        "network.alt.txt",
    ]
    assert [p.name for p in written["profiles"]] == ["R-0-1.png", "R-0-1.svg", "R-0-1.portrait.png", "R-0-1.alt.txt"]
    assert [p.name for p in written["print"]] == [
        "R-0-1.png",
        "R-0-1.svg",
        "R-0-1.pdf",
        "R-0-1.page.pdf",
        "R-0-1.alt.txt",
    ]
    alt = (tmp_path / "profiles" / "R-0-1.alt.txt").read_text(encoding="utf-8")
    assert alt.startswith("Chart of the life expectancy at birth") and alt.endswith("test feed.\n")
    assert write_outputs(hostile_result, tmp_path / "none", Options(maps=0))["maps"] == []


# profile charts


def test_profile_chart_files(hostile_stops, tmp_path):
    fig = profile_chart(hostile_stops, title="Route R", subtitle="persons", source="Sources: test")
    png = save_figure(fig, tmp_path / "p.png")
    svg = save_figure(fig, tmp_path / "p.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    content = svg.read_text()
    assert "<svg" in content and "&lt;img" in content and "<img" not in content
    assert "<dc:date>" not in content


def test_profile_chart_is_deterministic(hostile_result, tmp_path):
    for run in ("a", "b"):
        fig = profile(hostile_result, "R-0-1")
        for suffix in (".png", ".svg"):
            save_figure(fig, tmp_path / f"{run}{suffix}")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_profile_chart_content(hostile_result):
    fig = profile(hostile_result, "R-0-1")
    ax, key, foot = fig.axes[0], fig.axes[1], fig.axes[2]
    labels = ["".join(t.get_text().split()) for t in ax.get_xticklabels()]
    assert labels == ["".join(n.split()) for n in (text(HOSTILE), "B's stop #2", "C & D <depot>")]  # wrapped, never cut
    legend = [t.get_text().replace("\n", " ") for t in key.get_legend().get_texts()]
    assert legend == [
        "95% interval of each stop's estimate",
        words.dots_key(),
        words.doubt_key(["imprecise"]),
        "78.0: median of the 3 areas served",
        text(f"biggest stop-to-stop fall, \u22122.0 years, within the margins of error: {HOSTILE} to B's stop #2"),
    ]
    assert not [t for t in ax.texts if "years" in t.get_text()]  # no number on the plot for a fall that is noise
    assert fig.get_suptitle().replace("\n", " ") == (
        "No change in life expectancy along route R can be told apart from the margins of error"
    )
    assert ax.get_title(loc="left").replace("\n", " ") == text(
        f"Route R: {HOSTILE} to C & D <depot>. Life expectancy at birth at each stop, years (persons, 2010-2015)"
    )
    assert foot.texts[0].get_text() == "Sources: test LE 2010-2015; test feed"
    assert fig.alt_text.startswith("Chart of the life expectancy at birth (persons, 2010-2015) at each of the 3 stops")


def drawn_texts(fig) -> list:
    """Every text matplotlib draws: all Text artists, tick labels only for ticks inside the view."""
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    fig.canvas.draw()
    skipped = set()
    for axis in fig.findobj(Axis):
        lo, hi = sorted(axis.get_view_interval())
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            if not lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                skipped |= {id(tick.label1), id(tick.label2)}
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text() and id(t) not in skipped]


def long_route(n: int = 120) -> pd.DataFrame:
    """A long pattern with long capitalised names, a gap, a doubtful area and a fall near the end."""
    rng = np.random.default_rng(5)
    le = 80 + np.cumsum(rng.normal(0, 0.8, n))
    le[n - 3] = le[n - 4] - 9.0
    le[40:44] = np.nan
    return pd.DataFrame(
        {
            "pattern_id": "L",
            "stop_sequence": np.arange(1, n + 1),
            "stop_name": [f"VERY LONG STOP NAME NUMBER {k} / HIGH STREET STN <> #" for k in range(n)],
            "dist_m": np.arange(n) * 410.0,
            "le": le,
            "le_se": np.full(n, 1.2),
            "le_delta": np.r_[np.nan, np.diff(le)],
            "area_id": [f"E{k // 3}" for k in range(n)],
            "area_doubt": ["imprecise" if k == 10 else "" for k in range(n)],
        }
    )


@pytest.mark.parametrize("portrait", [False, True], ids=["landscape", "portrait"])
@pytest.mark.parametrize("route", ["short", "long"])
def test_every_chart_text_stays_inside_the_figure_and_the_plot_keeps_its_width(hostile_stops, route, portrait):
    stops = hostile_stops if route == "short" else long_route()
    fig = profile_chart(
        stops,
        title="Route 8: " + "A very long title indeed " * 3,
        subtitle="persons, 2010-2015",
        source="Sources: " + "a long source line " * 8,
        reference=78.0,
        reference_label="median of the 184 tracts served",
        pyplot=False,
        portrait=portrait,
    )
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    texts = drawn_texts(fig)
    assert len(texts) > 10
    for t in texts:
        box = t.get_window_extent(renderer)
        assert box.x0 >= -0.5 and box.y0 >= -0.5 and box.x1 <= width + 0.5 and box.y1 <= height + 0.5, t.get_text()
    # the plot keeps the width (on a phone, life expectancy's panel beside the names column)
    assert fig.axes[0].get_position().width > (0.35 if portrait else 0.8)


@pytest.mark.parametrize("portrait", [False, True], ids=["landscape", "portrait"])
def test_charts_name_stops_for_print_and_mark_doubtful_estimates(portrait):
    fig = profile_chart(long_route(), pyplot=False, portrait=portrait)
    if portrait:
        names = [
            t.get_text().replace("\n", " ") for t in fig.axes[0].texts if "Stop Name" in t.get_text().replace("\n", " ")
        ]
    else:
        names = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_xticklabels()]
    assert names[0] == "Very Long Stop Name Number 0 / High Street Station"  # in full, never cut
    assert not any("<>" in n or "#" in n or "\u2026" in n for n in names)
    words_drawn = " ".join(t.get_text().replace("\n", " ") for t in fig.findobj(Text))
    assert words.doubt_key(["imprecise"]) in words_drawn and "see the map" not in words_drawn
    hollow = [
        c for c in fig.axes[0].collections if len(c.get_facecolors()) and tuple(c.get_facecolors()[0]) == (1, 1, 1, 1)
    ]
    assert len(hollow) == 1 and len(hollow[0].get_offsets()) == 1


def test_a_gap_between_stops_is_drawn_as_a_gap(hostile_stops):
    far = hostile_stops.assign(dist_m=[0.0, 400.0, 5400.0])
    fig = profile_chart(far, pyplot=False)
    step = fig.axes[0].get_lines()[0]
    x, y = step.get_xdata(), step.get_ydata()
    assert np.isnan(y).any()  # the step line breaks between the stops 5 km apart
    held = x[np.isfinite(y) & (np.asarray(y) == y[-1])]
    assert held.min() >= 5.4 - 1.5 / 4 - 1e-9  # the last stop's value is held only near it, not across the gap
    assert any(line.get_linestyle() == ":" for line in fig.axes[0].get_lines())
    legend = [t.get_text().replace("\n", " ") for t in fig.axes[1].get_legend().get_texts()]
    assert words.gap_key(1.5) in legend


def test_chart_highlights_the_stretch_the_sentence_cites(hostile_result):
    row = hostile_result.pattern("R-0-1").copy()
    row["story_from_seq"], row["story_to_seq"], row["story_label"] = 1, 3, "\u22124.0 years over 2 stops"
    row["takeaway"] = "Life expectancy falls 4 years over two stops on route R"
    fig = profile_chart(hostile_result.stops_of("R-0-1"), pattern=row, pyplot=False)
    dashed = [line for line in fig.axes[0].get_lines() if line.get_linewidth() > 3]
    assert dashed[0].get_xdata() == pytest.approx([0.0, 1.0, 2.0])  # stops 1 to 3, not the biggest single fall
    assert [t.get_text() for t in fig.axes[0].texts] == ["\u22124.0 years over 2 stops"]
    legend = [t.get_text().replace("\n", " ") for t in fig.axes[1].get_legend().get_texts()]
    assert legend[-1] == text(
        f"the change the sentence states: \u22124.0 years over 2 stops, {HOSTILE} to C & D <depot>"
    )
    result = pipeline.Result(hostile_result.stops, pd.DataFrame([row]), hostile_result.geometry, hostile_result.labels)
    phone = profile(result, "R-0-1", portrait=True, pyplot=False)
    assert phone.texts[0].get_text().replace("\n", " ") == "Life expectancy falls 4 years over two stops on route R"
    assert [t.get_text() for t in phone.axes[0].texts if "years" in t.get_text()] == ["\u22124.0 years"]


def test_svg_keeps_its_text_as_text_and_the_portrait_fits_a_phone(hostile_result, tmp_path):
    svg = save_figure(profile(hostile_result, "R-0-1", pyplot=False), tmp_path / "p.svg").read_text()
    assert "<text" in svg and "B&#39;s stop #2" in svg or "B's stop #2" in svg
    assert "Sources: test LE 2010-2015; test feed" in svg
    png = save_figure(profile(hostile_result, "R-0-1", pyplot=False, portrait=True), tmp_path / "p.portrait.png")
    from PIL import Image

    with Image.open(png) as image:
        width, height = image.size
    assert width == 1080 and height >= 1350  # 390 px on a phone: a point of type is 1.5 px there


def test_dollar_signs_in_names_are_not_mathtext(hostile_stops, tmp_path):
    stops = hostile_stops.assign(stop_name=["Fare $1 stop", "B", "C $2"])
    save_figure(profile_chart(stops, title="$ route $"), tmp_path / "p.png")
    assert text("Fare $1 stop") == r"Fare \$1 stop"


def test_thin_labels_spread_names_out():
    assert thin_labels(np.array([0.0, 0.1, 0.2, 5.0, 10.0]), 5).tolist() == [0, 3, 4]
    km = np.linspace(0, 30, 68)
    idx = thin_labels(km, 14)
    assert len(idx) <= 14 and idx[0] == 0 and idx[-1] == 67
    assert np.diff(km[idx]).min() >= 30 / 16


def test_chart_suffix_must_be_png_or_svg(hostile_stops, tmp_path):
    with pytest.raises(ChartError, match=r"cannot save a chart as 'p\.jpg': use a \.png or \.svg file name"):
        save_figure(profile_chart(hostile_stops), tmp_path / "p.jpg")
