"""Wales as well as England: the bundled names table's Welsh names, and a feed that crosses the border.

No Welsh MSOA boundaries are bundled (the bundled boundaries are England's 6,791; ``gradient fetch
msoa-boundaries`` gets England and Wales'), so the border here is hand-built: three boxes around the
Wye at Chepstow carrying the real codes of Chepstow North & Trellech and Chepstow South (Wales) and
Tidenham & Woolaston (England), joined to the real 2016-2020 table (which has Wales) and names."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
import shapely

from gradient import cli, datasets
from gradient.areas import attributes, load
from gradient.errors import AreasError, GradientWarning

BOXES = {
    "W02000342": (-2.72, 51.645, -2.68, 51.70),  # Chepstow North & Trellech, Gogledd Cas-gwent a Thryleg
    "W02000343": (-2.72, 51.60, -2.68, 51.645),  # Chepstow South, De Cas-gwent
    "E02004635": (-2.68, 51.60, -2.62, 51.70),  # Tidenham & Woolaston (England, no Welsh name)
}
STOPS = [(-2.70, 51.68), (-2.70, 51.66), (-2.70, 51.63), (-2.69, 51.62), (-2.66, 51.63), (-2.64, 51.65)]


@pytest.fixture
def border(tmp_path):
    features = [
        {"type": "Feature", "properties": {"MSOA11CD": code}, "geometry": shapely.geometry.mapping(shapely.box(*b))}
        for code, b in BOXES.items()
    ]
    areas = tmp_path / "border.geojson"
    areas.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    seq = pd.DataFrame(
        {
            "route_id": "X14",
            "pattern_id": "X14-south",
            "stop_sequence": range(1, len(STOPS) + 1),
            "stop_id": [f"C{i}" for i in range(len(STOPS))],
            "stop_name": ["High Beech", "Garden City", "Chepstow Bus Station", "Bulwark", "Wye Bridge", "Tutshill"],
            "stop_lat": [p[1] for p in STOPS],
            "stop_lon": [p[0] for p in STOPS],
        }
    )
    seq.to_csv(tmp_path / "x14.csv", index=False)
    return areas, tmp_path / "x14.csv"


def load_border(areas, lang):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        return load.load_areas(areas, datasets.get_path("ons_msoa_le"), "ons-msoa", sex="male", names_lang=lang)


@pytest.mark.parametrize(
    ("lang", "names"),
    [
        ("en", ["Chepstow North & Trellech", "Chepstow South", "Tidenham & Woolaston"]),
        ("cy", ["Gogledd Cas-gwent a Thryleg", "De Cas-gwent", "Tidenham & Woolaston"]),
        (
            "both",
            [
                "Gogledd Cas-gwent a Thryleg / Chepstow North & Trellech",
                "De Cas-gwent / Chepstow South",
                "Tidenham & Woolaston",
            ],
        ),
    ],
)
def test_welsh_names_from_the_bundled_table(border, lang, names):
    areas = load_border(border[0], lang)
    frame = areas.frame.set_index("area_id")
    assert frame.loc[list(BOXES), "area_name"].tolist() == names
    assert frame.loc[list(BOXES), "le"].round(1).tolist() == [85.2, 80.0, 83.0]  # the table has Wales too
    assert any(c.role == "area names" for c in areas.credits)


def test_an_unknown_language_is_refused(border):
    with pytest.raises(AreasError, match=r"names_lang='fr' is not one of en, cy, both"):
        load_border(border[0], "fr")
    with pytest.raises(AreasError, match=r"names_lang='de' is not one of en, cy, both"):
        attributes.add_msoa_names(load_border(border[0], "en"), datasets.get_path("msoa_names"), "de")


def test_a_feed_across_the_border_with_welsh_names(border, tmp_path, capsys):
    areas, seq = border
    argv = ["run", "--sequences", str(seq), "--areas", str(areas), "--le", str(datasets.get_path("ons_msoa_le"))]
    argv += ["--le-format", "ons-msoa", "--sex", "male", "--names-lang", "cy", "--family", "route", "--maps", "1"]
    assert cli.main(argv + ["--out", str(tmp_path / "out")]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    stops = pd.read_csv(tmp_path / "out" / "stops.csv")
    assert stops["area_id"].tolist() == ["W02000342"] * 2 + ["W02000343"] * 2 + ["E02004635"] * 2
    assert (
        stops["area_name"].tolist()
        == ["Gogledd Cas-gwent a Thryleg"] * 2 + ["De Cas-gwent"] * 2 + ["Tidenham & Woolaston"] * 2
    )
    assert stops["le"].round(1).tolist() == [85.2, 85.2, 80.0, 80.0, 83.0, 83.0]
    headline = pd.read_csv(tmp_path / "out" / "patterns.csv")["headline"].iloc[0]
    # 5.2 years between the two Chepstow MSOAs, with errors near 0.5 years each: the sentence states it
    assert "falls by 5.2 years where it crosses from Gogledd Cas-gwent a Thryleg into De Cas-gwent" in headline
    assert headline in out
