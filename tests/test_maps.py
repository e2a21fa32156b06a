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
from matplotlib.colors import to_hex

from gradient import Options, gtfs, pipeline
from gradient.output import write_outputs
from gradient.present import embed
from gradient.present.charts import ChartError, profile, profile_chart, save_figure, text, thin_labels
from gradient.present.colours import (
    BASEMAP_GREY,
    DIVERGING,
    MISSING_COLOUR,
    SEQUENTIAL,
    Scale,
    areas_scale,
    contrast_ratio,
)
from gradient.present.maps import describe_route, draw_route_map, route_map, safe_json, steepest
from gradient.present.netmap import NetworkMapError, draw_network_map, encode, network_map
from gradient.schema import metric_crs

HOSTILE = "<img src=x onerror=alert(1)> & `${alert(2)}` </script><script>alert(3)</script>"
NAMES = (HOSTILE, "B's stop #2", "C & D <depot>")
LABELS = pipeline.Labels("test LE", "2010-2015", "persons", "test feed")
ALT = (
    f"Map of route R from {HOSTILE} to C & D <depot> (2.0 km, 3 stops), coloured stop by stop by the life "
    "expectancy at birth (persons, 2010-2015) of the small area each stop stands in. Along the route it ranges "
    f"from 76.0 years at C & D <depot> to 80.0 years at {HOSTILE}, a difference of 4.0 years, over the 3 stops "
    f"with an estimate. The biggest fall between consecutive stops is 2.0 years, from 80.0 at {HOSTILE} to 78.0 "
    f"at B's stop #2, 1.0 km from {HOSTILE}. Sources: test LE 2010-2015; test feed."
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


@pytest.mark.parametrize("cmap", [DIVERGING, SEQUENTIAL], ids=["diverging", "sequential"])
def test_every_colour_stays_legible_on_the_basemap(cmap):
    for p in np.linspace(0, 1, 101):
        rgb = to_hex(cmap(p))
        assert contrast_ratio(rgb, BASEMAP_GREY) >= 3.0, (p, rgb)
        assert contrast_ratio(rgb, "#ffffff") >= 3.0, (p, rgb)
        assert rgb != MISSING_COLOUR


def test_scale_around_the_median_is_symmetric():
    s = Scale.around([70.0, 76.0, 80.0])
    assert (s.vmin, s.reference, s.vmax, s.clipped) == (70.0, 76.0, 82.0, False)
    assert s.colours([76.0, np.nan]) == [to_hex(DIVERGING(0.5)), MISSING_COLOUR]
    assert s.colours([60.0])[0] == s.colours([70.0])[0] == "#a50f15"
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
        ["Life expectancy: 80.0 years (95% CI 78.0 to 82.0)", "First stop of the route", "Area: A0",
         "Stop 1 of 3, 0.0 km from the start"],
        # the change's interval: 2 +- 1.96 sqrt(1 + 1) and 2 +- 1.96 sqrt(1 + 4) (gradient.stats)
        ["Life expectancy: 78.0 years (95% CI 76.0 to 80.0)",
         "Change from previous stop: \u22122.0 years (95% CI \u22124.8 to 0.8)",
         "Area: A1", "Stop 2 of 3, 1.0 km from the start"],
        ["Life expectancy: 76.0 years (95% CI 72.1 to 79.9)",
         "Change from previous stop: \u22122.0 years (95% CI \u22126.4 to 2.4)",
         "Area: A2", "Stop 3 of 3, 2.0 km from the start"],
    ]
    assert [p["k"] for p in d["pieces"]] == scale.colours([80.0, 78.0, 76.0])  # halfway between stops
    assert d["steep"]["text"] == "Biggest stop-to-stop fall: \u22122.0 years"
    assert d["steep"]["c"][0] == pytest.approx([d["stops"][0]["y"], d["stops"][0]["x"]], abs=1e-4)
    assert "\u25b2 78.0: median of the 3 areas served" in page


def test_stop_change_interval_is_shown_when_the_column_exists(hostile_stops):
    stops = hostile_stops.assign(le_delta_se=[np.nan, 1.0, 1.0])
    d = page_data(embed.map_html(draw_route_map(stops, title="R")))
    assert d["stops"][1]["lines"][2] == "Change from previous stop: \u22122.0 years (95% CI \u22124.0 to 0.0)"


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
            names = (stops["stop_name"].iloc[i - 1], stops["stop_name"].iloc[i])
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


def test_unknown_outside_script_is_refused():
    page = '<script src="https://example.org/tracker.js"></script>'
    with pytest.raises(embed.EmbedError, match=r"outside script https://example\.org/tracker\.js"):
        embed.inline_assets(page)


def test_unknown_outside_stylesheet_is_refused():
    page = '<link rel="stylesheet" href="https://example.org/x.css"/>'
    with pytest.raises(embed.EmbedError, match=r"outside stylesheet https://example\.org/x\.css"):
        embed.inline_assets(page)


def test_no_tiles_means_no_outside_request(hostile_stops):
    page = embed.map_html(draw_route_map(hostile_stops, title="R", tiles=None))
    assert "L.tileLayer(" not in page


# alt text and iframe snippet


def test_describe_route(hostile_stops):
    assert describe_route(hostile_stops, route="route R", sex="persons", period="2010-2015",
                          source=LABELS.source_line) == ALT
    nothing = hostile_stops.assign(le=np.nan, le_delta=np.nan)
    assert describe_route(nothing, route="route R").endswith("None of its stops has a life expectancy estimate.")


def test_save_embed_writes_page_snippet_and_alt_text(hostile_result, tmp_path):
    paths = embed.save_embed(route_map(hostile_result, "R-0-1"), tmp_path / "maps" / "R-0-1.html")
    assert [p.name for p in paths] == ["R-0-1.html", "R-0-1.iframe.html", "R-0-1.alt.txt"]
    assert paths[2].read_text(encoding="utf-8") == ALT + "\n"
    assert paths[1].read_text(encoding="utf-8") == (
        '<iframe src="R-0-1.html" title="Map: Route R: &lt;img src=x onerror=alert(1)&gt; &amp; `${alert(2)}` '
        '&lt;/script&gt;&lt;script&gt;alert(3)&lt;/script&gt; to C &amp; D &lt;depot&gt;" width="100%" '
        'height="560" style="border:0;display:block;width:100%" loading="lazy" '
        'sandbox="allow-scripts allow-popups"></iframe>\n'
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


def test_network_map_data(hostile_result):
    page = embed.map_html(network_map(hostile_result, tiles=None))
    d = page_data(page)
    assert [p["t"][0] for p in d["p"]] == ["Route R, direction 0", "Route R, direction 1"]
    assert d["p"][0]["t"][1:] == [
        f"{HOSTILE} to C & D <depot>", "Life expectancy 76.0 to 80.0 years (range 4.0)",
        "Trend \u22122.00 years per km (95% CI \u22123.96 to \u22120.04)", f"Biggest stop-to-stop fall 2.0 years: {HOSTILE} to B's stop #2",
    ]
    assert [p["w"] for p in d["p"]] == [6.0, 6.0]
    assert "<img src=x" not in page and safe_json(HOSTILE)[1:-1] in page


def test_encode_rounds_and_delta_encodes():
    line = shapely.LineString([(-82.45, 27.95), (-82.44999, 27.95001), (-82.44, 27.95001)])
    assert encode(np.array([line]), metric_crs([-82.44], [27.95]), 0.0) == [
        [2795000, -8245000, 1, 1, 0, 999]
    ]


def test_network_map_refuses_an_unknown_value(hostile_result):
    with pytest.raises(NetworkMapError, match=r"value='le' cannot colour a network map; choose one of le_range"):
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
    assert len(d["stops"]) == 68 and d["steep"]["text"] == "Biggest stop-to-stop fall: \u221212.7 years"
    assert "7th Av @ 22nd St to 7th Av @ 24th St" in paths[0].read_text(encoding="utf-8")


def test_network_maps_fit_the_budget(tmp_path):
    result, _ = hart()
    hart_size = embed.save_html(network_map(result), tmp_path / "hart.html").stat().st_size
    patterns, geometry = replicate(result.patterns, result.geometry, 700)
    m = draw_network_map(patterns, geometry, title="700 patterns", source=HART_LABELS.source_line)
    big = embed.save_html(m, tmp_path / "network700.html")
    print(f"\nnetwork maps: HART 85 patterns {hart_size} bytes, 700 patterns {big.stat().st_size} bytes")
    assert hart_size < 1_500_000
    assert big.stat().st_size < 8_000_000
    assert len(page_data(big.read_text(encoding="utf-8"))["p"]) == 700


# pipeline


def test_write_outputs_writes_maps_embeds_profiles_and_network(hostile_result, tmp_path):
    written = write_outputs(hostile_result, tmp_path, Options(maps=1), tiles=None)
    assert [p.name for p in written["maps"]] == ["R-0-1.html", "R-0-1.iframe.html", "R-0-1.alt.txt", "network.html"]
    assert [p.name for p in written["profiles"]] == ["R-0-1.png", "R-0-1.svg"]
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
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [text(HOSTILE, 28), "B's stop #2", "C & D <depot>"]
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == [
        "95% interval", "life expectancy at the stop", "78.0: median of the 3 areas served",
        text(f"biggest stop-to-stop fall: \u22122.0 years, {HOSTILE} to B's stop #2", 90),
    ]
    assert fig.get_suptitle() == text(f"Route R: {HOSTILE} to C & D <depot>")
    assert ax.get_title(loc="left") == "Life expectancy at birth at each stop, years (persons, 2010-2015)"
    assert fig.axes[1].texts[0].get_text() == "Sources: test LE 2010-2015; test feed"


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
