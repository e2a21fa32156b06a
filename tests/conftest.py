"""Shared fixtures: the real bundled data, and tiny hand-built cases with known answers."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from gradient import areas, datasets
from gradient.sources import gtfs

matplotlib.use("Agg")  # the tests draw into files; the library itself never picks a backend

UTM17 = "EPSG:32617"  # the UTM zone of Tampa, where the hand-built cases are placed
ROOT = Path(__file__).resolve().parents[1]


def to_lonlat(x, y):
    """UTM 17N metres to WGS84 degrees."""
    return Transformer.from_crs(UTM17, "EPSG:4326", always_xy=True).transform(x, y)


def write_feed(
    folder: Path,
    stops: pd.DataFrame,
    stop_times: pd.DataFrame,
    trips: pd.DataFrame,
    shapes: pd.DataFrame | None = None,
    routes: pd.DataFrame | None = None,
) -> Path:
    """Write a GTFS folder from tables."""
    folder.mkdir(parents=True, exist_ok=True)
    if routes is None:
        routes = pd.DataFrame({"route_id": sorted(trips["route_id"].unique())})
        routes["route_short_name"] = routes["route_id"]
        routes["route_type"] = 3
    pd.DataFrame(
        {"agency_name": ["Test"], "agency_url": ["http://example.org"], "agency_timezone": ["America/New_York"]}
    ).to_csv(folder / "agency.txt", index=False)
    routes.to_csv(folder / "routes.txt", index=False)
    stops.to_csv(folder / "stops.txt", index=False)
    trips.to_csv(folder / "trips.txt", index=False)
    stop_times.to_csv(folder / "stop_times.txt", index=False)
    if shapes is not None:
        shapes.to_csv(folder / "shapes.txt", index=False)
    return folder


def line_feed(
    folder: Path, xs=(0.0, 1000.0, 2000.0), names=("A", "B", "C"), n_trips=(3, 1), with_shape: bool = True
) -> Path:
    """A straight east-west route R with stops at metres ``xs``.

    Direction 0 runs west to east on ``n_trips[0]`` trips; direction 1 runs back on
    ``n_trips[1]`` trips.
    """
    x0, y0 = 360000.0, 3090000.0
    lon, lat = to_lonlat(np.asarray(xs) + x0, np.full(len(xs), y0))
    ids = [f"s{i}" for i in range(len(xs))]
    stops = pd.DataFrame({"stop_id": ids, "stop_name": list(names), "stop_lat": lat, "stop_lon": lon})
    trips, times = [], []
    for direction, count in enumerate(n_trips):
        order = ids if direction == 0 else ids[::-1]
        for k in range(count):
            tid = f"t{direction}{k}"
            trips.append(
                {
                    "route_id": "R",
                    "service_id": "S",
                    "trip_id": tid,
                    "direction_id": direction,
                    "shape_id": f"sh{direction}" if with_shape else "",
                }
            )
            for seq, sid in enumerate(order, start=1):
                t = f"{6 + k}:{seq * 2:02d}:00"
                times.append(
                    {"trip_id": tid, "arrival_time": t, "departure_time": t, "stop_id": sid, "stop_sequence": seq}
                )
    shapes = None
    if with_shape:
        sx = np.linspace(xs[0] - 100, xs[-1] + 100, 25) + x0
        slon, slat = to_lonlat(sx, np.full(len(sx), y0 + 5))
        rows = []
        for direction in (0, 1):
            o = range(len(sx)) if direction == 0 else range(len(sx) - 1, -1, -1)
            rows += [
                {
                    "shape_id": f"sh{direction}",
                    "shape_pt_lat": slat[i],
                    "shape_pt_lon": slon[i],
                    "shape_pt_sequence": n + 1,
                }
                for n, i in enumerate(o)
            ]
        shapes = pd.DataFrame(rows)
    return write_feed(folder, stops, pd.DataFrame(times), pd.DataFrame(trips), shapes)


def run_args(feed, out, *extra, le=None, fmt="usaleep", areas_file=None) -> list[str]:
    """``gradient run`` on ``feed`` against Hillsborough County's tracts (or ``areas_file``) and
    ``le`` (default the bundled USALEEP), without maps, into ``out``; ``extra`` before ``--out``."""
    return [
        str(a)
        for a in (
            "run",
            "--gtfs",
            feed,
            "--areas",
            areas_file or datasets.get_path("hillsborough_tracts"),
            "--le",
            le or datasets.get_path("usaleep"),
            "--le-format",
            fmt,
            "--maps",
            "0",
            *extra,
            "--out",
            out,
        )
    ]


def squares(values=(80.0, 78.0, 76.0), ses=(1.0, 1.0, 2.0), xs=(0.0, 1000.0, 2000.0)) -> gpd.GeoDataFrame:
    """One 1 km square area centred on each stop of :func:`line_feed`, as ``areas``."""
    x0, y0 = 360000.0, 3090000.0
    boxes = [shapely.box(x0 + x - 500, y0 - 500, x0 + x + 500, y0 + 500) for x in xs]
    gdf = gpd.GeoDataFrame(
        {"area_id": [f"A{i}" for i in range(len(xs))], "le": list(values), "le_se": list(ses)},
        geometry=boxes,
        crs=UTM17,
    ).to_crs("EPSG:4326")
    gdf["area_id"] = gdf["area_id"].astype("string")
    return gdf


@pytest.fixture(scope="session")
def hart_path() -> Path:
    return datasets.get_path("hart_gtfs")


@pytest.fixture(scope="session")
def tracts():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return areas.load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")


@pytest.fixture(scope="session")
def msoas():
    """England's MSOAs with ONS's official 2009-2013 male estimates (and the bundled names), loaded once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return areas.load_areas(
            datasets.get_path("msoa_boundaries"), datasets.get_path("ons_msoa_le_2009_2013"), "ons-msoa", sex="male"
        )


@pytest.fixture(scope="session")
def hart_feed(hart_path):
    return gtfs.read_feed(hart_path)


@pytest.fixture(scope="session")
def hart_patterns(hart_feed):
    return gtfs.stop_patterns(hart_feed)
