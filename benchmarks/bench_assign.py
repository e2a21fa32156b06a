"""Benchmark: assigning every London bus stop to England's MSOAs.

Run from the project root:  .venv/bin/python benchmarks/bench_assign.py

Times the point and 200 m buffer methods on all distinct stops of TfL's bus
sequences against the 6,791 MSOAs, and a naive per-stop Python loop (a buffer
intersected with every candidate area, one stop at a time) on a sample, and prints
ratios measured in this one run: absolute times on a shared machine are noise.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
import pandas as pd
from pyproj import Transformer

from gradient import areas, datasets
from gradient.assign.catchments import assign_buffer, assign_point


def london_stops(path) -> pd.DataFrame:
    """Distinct real stops (not virtual timing points) of the TfL bus sequences, in WGS84."""
    raw = pd.read_csv(
        path,
        sep="\t",
        dtype=str,
        usecols=["Stop_Code_LBSL", "Location_Easting", "Location_Northing", "Virtual_Bus_Stop"],
    )
    raw = raw[raw["Virtual_Bus_Stop"].str.strip().eq("0")].dropna()
    raw = raw.drop_duplicates("Stop_Code_LBSL")
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        raw["Location_Easting"].astype(float).to_numpy(), raw["Location_Northing"].astype(float).to_numpy()
    )
    return pd.DataFrame({"stop_id": raw["Stop_Code_LBSL"].to_numpy(), "lon": lon, "lat": lat})


def naive_buffer(stops: pd.DataFrame, msoas, radius_m: float) -> list[float]:
    """One stop at a time: the obvious loop the library avoids."""
    crs = "EPSG:32630"
    shapes = msoas.to_crs(crs)
    import geopandas as gpd

    points = gpd.GeoSeries(gpd.points_from_xy(stops["lon"], stops["lat"]), crs="EPSG:4326").to_crs(crs)
    out = []
    for point in points:
        circle = point.buffer(radius_m)
        w = shapes.geometry.intersection(circle).area.to_numpy()
        ok = (w > 0) & shapes["le"].notna().to_numpy()
        out.append(float(np.sum(w[ok] * shapes["le"].to_numpy()[ok]) / w[ok].sum()) if ok.any() else np.nan)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", default=None, help="TfL bus sequences TSV (default: bundled)")
    parser.add_argument("--sample", type=int, default=200, help="stops for the naive loop (default 200)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    path = args.sequences or datasets.get_path("tfl_sequences")
    stops = london_stops(path)
    msoas = areas.load_areas(datasets.get_path("msoa_boundaries"), datasets.get_path("ons_msoa_le"), "ons-msoa")

    t0 = time.perf_counter()
    point = assign_point(stops, msoas)
    t1 = time.perf_counter()
    buf = assign_buffer(stops, msoas, radius_m=200, weight="area")
    t2 = time.perf_counter()
    sample = stops.sample(args.sample, random_state=1)
    naive = naive_buffer(sample, msoas, 200)
    t3 = time.perf_counter()

    t_point, t_buf, t_naive = t1 - t0, t2 - t1, t3 - t2
    per_stop_naive = t_naive / len(sample)
    check = buf.set_index("stop_id").loc[sample["stop_id"], "le"].to_numpy()
    agree = np.nanmax(np.abs(check - np.asarray(naive)))
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}")
    print(f"stops: {len(stops)} distinct London bus stops; areas: {len(msoas)} MSOAs")
    print(f"point in polygon:         {t_point:6.2f} s")
    print(f"200 m buffers (area):     {t_buf:6.2f} s   ({t_buf / t_point:.1f} x the point method)")
    print(
        f"naive per-stop loop:      {per_stop_naive * len(stops):6.1f} s extrapolated from {len(sample)} stops "
        f"({per_stop_naive * len(stops) / t_buf:.0f} x slower than the vectorised buffers)"
    )
    print(f"largest difference between the two on the sample: {agree:.2e} years")
    print(f"stops with a value: point {point['le'].notna().mean():.1%}, buffer {buf['le'].notna().mean():.1%}")


if __name__ == "__main__":
    main()
