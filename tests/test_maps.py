"""Maps and charts: self-contained files, and feed text that stays text."""

from __future__ import annotations

import json
import re

import pytest
from conftest import line_feed, squares

from gradient import embed, gtfs, pipeline
from gradient.charts import profile_chart, save_figure
from gradient.maps import route_map, safe_json

HOSTILE = "<img src=x onerror=alert(1)> & `${alert(2)}` </script><script>alert(3)</script>"


@pytest.fixture()
def hostile_result(tmp_path):
    feed = gtfs.read_feed(line_feed(tmp_path / "feed", names=(HOSTILE, "B's stop #2", "C & D <depot>")))
    patterns, ps = gtfs.stop_patterns(feed)
    return pipeline.run_patterns(patterns, ps, squares())


def test_saved_map_is_self_contained(hostile_result, tmp_path):
    stops = hostile_result.stops[hostile_result.stops["pattern_id"] == "R-0-1"]
    m = route_map(stops, title="Route R", source="Sources: test", period="2010-2015", sex="persons")
    path = embed.save_html(m, tmp_path / "map.html")
    page = path.read_text(encoding="utf-8")
    assert not re.findall(r'<script[^>]+src=', page)
    assert not re.findall(r'<link[^>]+href="http', page)
    assert "L.map(" in page and "leaflet" in page.lower()
    assert "Life expectancy at birth, years (persons, 2010-2015)" in page
    assert path.stat().st_size < 1_500_000
    assert not list(tmp_path.glob(".*.part"))


def test_feed_text_never_becomes_markup(hostile_result, tmp_path):
    stops = hostile_result.stops[hostile_result.stops["pattern_id"] == "R-0-1"]
    m = route_map(stops, title=f"Route {HOSTILE}", source=HOSTILE)
    page = embed.map_html(m)
    assert "<img src=x" not in page
    assert "<script>alert(3)" not in page
    assert safe_json(HOSTILE) in page  # stop names reach the page only as JSON data for textContent
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # title and source, HTML-escaped


def test_safe_json_roundtrips():
    text = safe_json({"name": HOSTILE, "sep": "\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": HOSTILE, "sep": "\u2028"}


def test_unknown_outside_script_is_refused():
    page = '<script src="https://example.org/tracker.js"></script>'
    with pytest.raises(embed.EmbedError, match=r"outside script https://example\.org/tracker\.js"):
        embed.inline_assets(page)


def test_profile_chart_files(hostile_result, tmp_path):
    stops = hostile_result.stops[hostile_result.stops["pattern_id"] == "R-0-1"]
    fig = profile_chart(stops, title="Route R", subtitle="persons | Sources: test")
    png = save_figure(fig, tmp_path / "p.png")
    svg = save_figure(fig, tmp_path / "p.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert "<svg" in text and "&lt;img" in text and "<img" not in text
