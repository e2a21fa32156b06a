"""Benchmark: walking catchments for a whole city (issue 30), stage by stage, against SciPy and pandana.

Run from the project root:

    .venv/bin/python benchmarks/bench_walk.py --nodes 1000000 --stops 20000      # London-sized
    .venv/bin/python benchmarks/bench_walk.py --nodes 100000 --stops 5000 --before  # today's method too
    .venv/bin/python benchmarks/bench_walk.py --real                             # the bundled networks
    .venv/bin/python benchmarks/bench_walk.py --nodes 1000000 --stops 20000 --cli  # gradient run, twice
    .venv/bin/python benchmarks/bench_walk.py --nodes 100000 --stops 5000 --pbf     # OSM PBF readers

The generated network is a jittered 40 m grid (nodes moved up to 8 m, 62.5% of the blocks'
sides kept: about 2.5 directed edges per node, London's density; one street in five bent),
written as osmnx GraphML in WGS84 around central London; the areas are Voronoi cells at MSOA
density (one per 2.5 km^2) with made-up life expectancy; the stops lie on routes of 50 stops
about 350 m apart. Files are made once under ``--folder`` (default /tmp/gradient-walk-bench).

Each stage prints its time and its peak memory (the process's resident set, its high-water
mark reset before the stage: Linux's /proc/self/clear_refs). In the same run: SciPy's bounded
Dijkstra from the stops on the whole graph, in chunks of 256 (``--baseline-stops`` of them,
extrapolated to all), and pandana (its contraction hierarchy and ``nodes_in_range`` from the
stops' nearest nodes) if it imports. ``--before`` also runs today's method as it was before
issue 30 (``tests/walk_reference.py``: osmnx's GraphML reader, ``graph_to_gdfs``, a Dijkstra
from each stop on the whole graph, every edge overlaid).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

ROOT = Path(__file__).resolve().parents[1]
UTM = "EPSG:32630"
X0, Y0 = 680000.0, 5690000.0  # south-west corner, metres (UTM 30N): London
GRID_M = 40.0


# --- memory and time ------------------------------------------------------------------------


def _hwm_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


ROWS: list[tuple[str, float, float]] = []


@contextmanager
def stage(name: str):
    """Time a stage and its peak resident memory (the high-water mark reset first)."""
    Path("/proc/self/clear_refs").write_text("5")
    t0 = time.perf_counter()
    yield
    seconds = time.perf_counter() - t0
    ROWS.append((name, seconds, _hwm_gb()))
    print(f"  {name:<62} {seconds:8.2f} s  {_hwm_gb():6.2f} GB peak", flush=True)


# --- generated city -------------------------------------------------------------------------


def make_city(folder: Path, n_nodes: int, n_stops: int, seed: int = 30) -> dict[str, Path]:
    """The generated network (GraphML), areas (GeoJSON), life expectancy (CSV) and stops (CSV), made once."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"{n_nodes}-{seed}"
    files = {
        "network": folder / f"grid-{tag}.graphml",
        "areas": folder / f"areas-{tag}.geojson",
        "le": folder / f"le-{tag}.csv",
        "stops": folder / f"stops-{tag}-{n_stops}.csv",
    }
    rng = np.random.default_rng(seed)
    side = int(round(np.sqrt(n_nodes)))
    extent = side * GRID_M
    to_lonlat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    if not files["network"].is_file():
        _write_grid(files["network"], side, rng, to_lonlat)
    if not files["areas"].is_file():
        import geopandas as gpd

        n_areas = max(2, int(round(extent**2 / 2.5e6)))
        seeds = shapely.multipoints(np.c_[X0 + rng.uniform(0, extent, n_areas), Y0 + rng.uniform(0, extent, n_areas)])
        box = shapely.box(X0 - 200, Y0 - 200, X0 + extent + 200, Y0 + extent + 200)
        cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box)), box)
        ids = [f"E{i:07d}" for i in range(len(cells))]
        gpd.GeoDataFrame({"area_id": ids}, geometry=cells, crs=UTM).to_crs("EPSG:4326").to_file(files["areas"])
        le = pd.DataFrame({"area_id": ids, "le": rng.normal(80, 3, len(ids)).round(1), "le_se": 1.0})
        le.to_csv(files["le"], index=False)
    if not files["stops"].is_file():
        _write_stops(files["stops"], n_stops, extent, rng, to_lonlat)
    return files


def _write_grid(path: Path, side: int, rng, to_lonlat) -> None:
    """A jittered 40 m grid as osmnx GraphML (WGS84; both directions of every street, osmnx's order)."""
    i, j = np.divmod(np.arange(side * side), side)
    x = X0 + GRID_M * i + rng.uniform(-8, 8, side * side)
    y = Y0 + GRID_M * j + rng.uniform(-8, 8, side * side)
    a = np.r_[np.flatnonzero(i < side - 1), np.flatnonzero(j < side - 1)]
    b = np.r_[a[: (i < side - 1).sum()] + side, a[(i < side - 1).sum() :] + 1]
    keep = rng.random(len(a)) < 0.625
    a, b = a[keep], b[keep]
    bent = rng.random(len(a)) < 0.2
    mx = (x[a] + x[b]) / 2 + rng.uniform(-10, 10, len(a))
    my = (y[a] + y[b]) / 2 + rng.uniform(-10, 10, len(a))
    length = np.where(
        bent,
        np.hypot(mx - x[a], my - y[a]) + np.hypot(x[b] - mx, y[b] - my),
        np.hypot(x[b] - x[a], y[b] - y[a]),
    )
    lon, lat = (c.tolist() for c in to_lonlat.transform(x, y))  # Python floats: repr gives every digit
    mlon, mlat = (c.tolist() for c in to_lonlat.transform(mx, my))
    bent, length = bent.tolist(), length.tolist()
    used = np.zeros(side * side, bool)
    used[a] = used[b] = True
    u, v = np.r_[a, b], np.r_[b, a]
    forward = np.r_[np.ones(len(a), bool), np.zeros(len(a), bool)]
    e = np.r_[np.arange(len(a)), np.arange(len(a))]
    order = np.lexsort((v, u))
    head = (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<key id="d9" for="edge" attr.name="geometry" attr.type="string"/>\n'
        '<key id="d8" for="edge" attr.name="length" attr.type="string"/>\n'
        '<key id="d7" for="edge" attr.name="reversed" attr.type="string"/>\n'
        '<key id="d6" for="edge" attr.name="oneway" attr.type="string"/>\n'
        '<key id="d5" for="edge" attr.name="highway" attr.type="string"/>\n'
        '<key id="d4" for="edge" attr.name="osmid" attr.type="string"/>\n'
        '<key id="d3" for="node" attr.name="street_count" attr.type="string"/>\n'
        '<key id="d2" for="node" attr.name="x" attr.type="string"/>\n'
        '<key id="d1" for="node" attr.name="y" attr.type="string"/>\n'
        '<key id="d0" for="graph" attr.name="crs" attr.type="string"/>\n'
        '<graph edgedefault="directed"><data key="d0">epsg:4326</data>\n'
    )
    degree = np.bincount(np.r_[a, b], minlength=side * side).tolist()
    u, v, e, forward = u.tolist(), v.tolist(), e.tolist(), forward.tolist()
    part = path.with_suffix(".part")
    with open(part, "w", encoding="utf-8") as f:
        f.write(head)
        for n in np.flatnonzero(used).tolist():
            f.write(
                f'<node id="{n + 1}">\n  <data key="d1">{lat[n]!r}</data>\n  <data key="d2">{lon[n]!r}</data>\n'
                f'  <data key="d3">{degree[n]}</data>\n</node>\n'
            )
        for k in order.tolist():
            s, t, ek = u[k], v[k], e[k]
            geom = ""
            if bent[ek]:
                pts = [(lon[s], lat[s]), (mlon[ek], mlat[ek]), (lon[t], lat[t])]
                geom = '  <data key="d9">LINESTRING (' + ", ".join(f"{p!r} {q!r}" for p, q in pts) + ")</data>\n"
            f.write(
                f'<edge source="{s + 1}" target="{t + 1}" id="0">\n  <data key="d4">{ek + 1}</data>\n'
                f'  <data key="d5">residential</data>\n  <data key="d6">False</data>\n'
                f'  <data key="d7">{not forward[k]}</data>\n  <data key="d8">{length[ek]:.3f}</data>\n{geom}</edge>\n'
            )
        f.write("</graph></graphml>\n")
    part.replace(path)


def _write_stops(path: Path, n_stops: int, extent: float, rng, to_lonlat) -> None:
    """Routes of 50 stops about 350 m apart, wandering across the grid, as a stop-sequence table."""
    per = 50
    n_routes = int(np.ceil(n_stops / per))
    rows = []
    for r in range(n_routes):
        x, y = rng.uniform(0.1, 0.9, 2) * extent
        heading = rng.uniform(0, 2 * np.pi)
        for k in range(min(per, n_stops - r * per)):
            rows.append((f"R{r}", f"R{r}-0", k + 1, f"S{r * per + k}", f"Stop {r * per + k}", X0 + x, Y0 + y))
            heading += rng.normal(0, 0.3)
            step = rng.uniform(300, 400)
            x, y = x + step * np.cos(heading), y + step * np.sin(heading)
            if not (0 < x < extent and 0 < y < extent):
                heading += np.pi
                x, y = np.clip(x, 1, extent - 1), np.clip(y, 1, extent - 1)
    table = pd.DataFrame(rows, columns=["route_id", "pattern_id", "stop_sequence", "stop_id", "stop_name", "x", "y"])
    table["stop_lon"], table["stop_lat"] = to_lonlat.transform(table.pop("x").to_numpy(), table.pop("y").to_numpy())
    table.to_csv(path, index=False, float_format="%.7f")


# --- the stages -----------------------------------------------------------------------------


def walk_stages(network, areas, stops: pd.DataFrame, walk_m: float, cache: Path | None):
    """The new method, stage by stage: read (cold, then from the cache), arrays, overlay, searches."""
    import geopandas as gpd

    from gradient.assign import networkfiles, walks

    if cache is not None:
        with stage("read: the file into arrays (first run: cache cold)"):
            networkfiles.read_streets(network, cache_dir=cache)
    with stage("read: the arrays from the cache (second run)" if cache else "read: the file into arrays"):
        arrays = networkfiles.read_streets(network, cache_dir=cache if cache is not None else False)
    with stage("arrays: projected lines, two-way streets once"):
        net = arrays.metric(UTM, undirected=True)
        tree = shapely.STRtree(net.lines)
    with stage("overlay: streets crossing area boundaries cut"):
        pieces = walks._area_pieces(net, tree, areas, UTM)
    pts = np.asarray(gpd.points_from_xy(stops["lon"], stops["lat"], crs="EPSG:4326").to_crs(UTM))
    with stage(f"searches: snap, local bounded Dijkstra, measure ({len(stops):,} stops)"):
        lengths, snapped = walks._walk(net, tree, pts, pieces, walk_m, 100.0, walks.BATCH)
    return arrays, net, pts, lengths, snapped


def before_stages(network, areas, stops: pd.DataFrame, walk_m: float):
    """Today's method before issue 30 (tests/walk_reference.py), stage by stage."""
    sys.path.insert(0, str(ROOT / "tests"))
    import walk_reference as ref

    from gradient.assign.streets import load_network

    with stage("before: read (osmnx load_graphml, a networkx graph)"):
        G = load_network(network)
    with stage("before: arrays (graph_to_gdfs, reprojection, de-duplication)"):
        _, _, _, _, lines, _ = ref._metric_edges(G, UTM, undirected=True)
    with stage("before: overlay (every edge with the areas)"):
        ref._area_pieces(lines, areas, UTM)
    with stage("before: whole catchment_lengths (all of the above but the read)"):
        lengths, snapped = ref.catchment_lengths(G, stops, areas, walk_m=walk_m, crs=UTM)
    arrays_s, overlay_s, whole_s = (r[1] for r in ROWS[-3:])
    print(f"  {'before: searches (whole minus arrays and overlay)':<62} {whole_s - arrays_s - overlay_s:8.2f} s")
    return lengths, snapped


def scipy_baseline(net, pts, walk_m: float, n: int) -> float:
    """SciPy's bounded Dijkstra from ``n`` stops on the whole graph, chunks of 256 (the search only)."""
    from scipy.sparse.csgraph import dijkstra

    from gradient.assign import walks

    tree = shapely.STRtree(net.lines)
    (which, edge), _ = tree.query_nearest(pts[:n], max_distance=100.0, return_distance=True, all_matches=False)
    along = shapely.line_locate_point(net.lines[edge], pts[which])
    m = len(net.node_ids)
    s = np.arange(len(which))
    matrix = walks.sparse_graph(
        m + len(s),
        np.r_[net.u, net.v, m + s, m + s],
        np.r_[net.v, net.u, net.u[edge], net.v[edge]],
        np.r_[net.length, net.length, along, net.length[edge] - along],
    )
    t0 = time.perf_counter()
    for start in range(0, len(s), 256):
        dijkstra(matrix, directed=True, indices=m + s[start : start + 256], limit=walk_m)
    return time.perf_counter() - t0


def pandana_baseline(net, pts, walk_m: float, n: int) -> tuple[float, float] | str:
    """Time pandana's contraction hierarchy, and ``nodes_in_range`` from ``n`` stops' nearest nodes."""
    try:
        import pandana
    except ImportError as exc:
        return f"pandana does not import here ({exc})"
    from scipy.spatial import cKDTree

    nodes = pd.DataFrame({"x": net.xy[:, 0], "y": net.xy[:, 1]})
    t0 = time.perf_counter()
    p = pandana.Network(nodes["x"], nodes["y"], pd.Series(net.u), pd.Series(net.v), pd.DataFrame({"w": net.length}))
    built = time.perf_counter() - t0
    near = cKDTree(net.xy).query(shapely.get_coordinates(pts[:n]))[1]
    t1 = time.perf_counter()
    for start in range(0, n, 1000):
        p.nodes_in_range(near[start : start + 1000].tolist(), walk_m)
    return built, time.perf_counter() - t1


# --- runs -----------------------------------------------------------------------------------


def generated(args) -> None:
    import geopandas as gpd

    from gradient.areas.load import load_areas  # noqa: F401  (imported once, outside the stages)

    files = make_city(args.folder, args.nodes, args.stops)
    areas = gpd.read_file(files["areas"])
    stops = pd.read_csv(files["stops"], usecols=["stop_id", "stop_lon", "stop_lat"])
    stops = stops.rename(columns={"stop_lon": "lon", "stop_lat": "lat"}).drop_duplicates("stop_id")
    print(
        f"network: {files['network']} ({files['network'].stat().st_size / 1e6:,.0f} MB); {len(areas)} areas; "
        f"{len(stops):,} stops; {args.walk_m:g} m walk"
    )
    with tempfile.TemporaryDirectory(dir=args.folder) as cache:
        arrays, net, pts, lengths, snapped = walk_stages(files["network"], areas, stops, args.walk_m, Path(cache))
    print(
        f"  {len(arrays):,} nodes, {arrays.number_of_edges():,} directed edges ({len(net.u):,} streets); "
        f"{snapped.sum():,} stops snapped, {len(lengths):,} stop-area rows"
    )
    ours = ROWS[-1][1]
    n = min(args.baseline_stops or len(stops), len(stops))
    t = scipy_baseline(net, pts, args.walk_m, n)
    whole = t * len(stops) / n
    print(
        f"  SciPy bounded Dijkstra on the whole graph, {n:,} stops: {t:.1f} s "
        f"({whole:.1f} s for all {len(stops):,}{'' if n == len(stops) else ', extrapolated'}): "
        f"{whole / ours:.1f}x this version's searches"
    )
    got = pandana_baseline(net, pts, args.walk_m, n) if args.pandana else "not run (--pandana)"
    if isinstance(got, str):
        print(f"  pandana: {got}")
    else:
        built, queries = got
        per = queries * len(stops) / n
        print(
            f"  pandana: contraction hierarchy {built:.1f} s, nodes_in_range for {n:,} stops {queries:.1f} s "
            f"({per:.1f} s for all); build + queries {(built + per) / ours:.1f}x this version's searches"
        )
    if args.before:
        old, old_snapped = before_stages(files["network"], areas, stops, args.walk_m)
        same = old[["stop", "area"]].equals(lengths[["stop", "area"]]) and (old_snapped == snapped).all()
        diff = np.abs(old["length_m"].to_numpy() - lengths["length_m"].to_numpy()).max() if same else np.nan
        print(f"  before and after: same stop-area pairs {same}, largest length difference {diff:.2e} m")


def real(args) -> None:
    """The bundled central-London networks with every London bus stop."""
    import walk_reference as ref

    from gradient import areas as areas_
    from gradient import datasets
    from gradient.assign import networkfiles, streets, walks

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_assign import london_stops

    stops = london_stops(datasets.get_path("tfl_sequences"))
    msoas = areas_.load_areas(
        datasets.get_path("msoa_boundaries"), datasets.get_path("ons_msoa_le_2009_2013"), "ons-msoa", sex="male"
    ).frame
    for name, paths, network_type in (
        ("Westminster + City (drive)", ["westminster_drive", "city_of_london_drive"], "all"),
        ("Moorgate (walk)", ["moorgate_walk"], "walk"),
    ):
        files = [datasets.get_path(p) for p in paths]
        print(f"{name}: {len(stops):,} London stops, {args.walk_m:g} m walk")
        t0 = time.perf_counter()
        G = streets.load_network(files, network_type)
        t1 = time.perf_counter()
        old = ref.catchment_lengths(G, stops, msoas, walk_m=args.walk_m)
        t2 = time.perf_counter()
        with tempfile.TemporaryDirectory() as cache:
            networkfiles.read_streets(files, network_type, cache_dir=cache)
            t3 = time.perf_counter()
            arrays = networkfiles.read_streets(files, network_type, cache_dir=cache)
            t4 = time.perf_counter()
        new = walks.catchment_lengths(arrays, stops, msoas, walk_m=args.walk_m)
        t5 = time.perf_counter()
        same = old[0][["stop", "area"]].equals(new[0][["stop", "area"]])
        print(
            f"  {len(G):,} nodes; {old[1].sum():,} stops on the network; same pairs {same}, largest difference "
            f"{np.abs(old[0]['length_m'].to_numpy() - new[0]['length_m'].to_numpy()).max():.1e} m"
        )
        print(
            f"  before: read {t1 - t0:.2f} s, catchments {t2 - t1:.2f} s;  after: read {t3 - t2:.2f} s "
            f"(cache warm {t4 - t3:.2f} s), catchments {t5 - t4:.2f} s ({(t2 - t1) / (t5 - t4):.1f}x)"
        )


def cli(args) -> None:
    """``gradient run --method network`` twice on the generated city: cache cold, then warm; the same stops.csv."""
    files = make_city(args.folder, args.nodes, args.stops)
    cache = args.folder / "cache"
    results = []
    for run in ("first run (cache cold)", "second run (cache warm)"):
        out = args.folder / f"out-{len(results)}"
        if run.startswith("first"):
            for old in cache.glob("*.npz"):
                old.unlink()
        command = [
            "/usr/bin/time", "-f", "%e s %M KB", sys.executable, "-m", "gradient", "run",
            "--sequences", str(files["stops"]), "--areas", str(files["areas"]), "--area-id", "area_id",
            "--le", str(files["le"]), "--le-format", "csv", "--le-id", "area_id", "--le-col", "le",
            "--le-se-col", "le_se", "--method", "network", "--network", str(files["network"]),
            "--walk-m", f"{args.walk_m:g}", "--network-cache", str(cache), "--maps", "0", "--out", str(out),
        ]  # fmt: skip
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode:
            print(proc.stderr[-3000:])
            raise SystemExit(f"{run} failed")
        seconds, _, kb, _ = proc.stderr.strip().splitlines()[-1].split()
        print(f"  gradient run, {run}: {float(seconds):.1f} s, {int(kb) / 2**20:.2f} GB peak", flush=True)
        results.append((out / "stops.csv").read_bytes())
    print(f"  stops.csv identical in both runs: {results[0] == results[1]}")


def pbf(args) -> None:
    """The generated grid as OSM PBF (written by pyosmium): this reader against pyrosm, and the same catchments."""
    import geopandas as gpd
    import osmium

    from gradient.assign import networkfiles, walks

    files = make_city(args.folder, args.nodes, args.stops)
    path = files["network"].with_suffix(".osm.pbf")
    arrays = networkfiles.read_streets(files["network"], cache_dir=False)
    if not path.is_file():
        part = path.with_name(path.name + ".part.osm.pbf")
        part.unlink(missing_ok=True)
        with osmium.SimpleWriter(str(part)) as writer:
            ids = arrays.node_ids
            for n, (x, y) in enumerate(zip(arrays.x.tolist(), arrays.y.tolist())):
                writer.add_node(osmium.osm.mutable.Node(id=int(ids[n]), location=(x, y)))
            extra = int(ids.max()) + 1  # a bent street's middle point is a node of its own
            keep = np.flatnonzero(arrays.u < arrays.v)  # one way per street
            for w, e in enumerate(keep.tolist()):
                refs = [int(ids[arrays.u[e]])]
                for x, y in arrays.coords[arrays.offsets[e] + 1 : arrays.offsets[e + 1] - 1].tolist():
                    writer.add_node(osmium.osm.mutable.Node(id=extra, location=(x, y)))
                    refs.append(extra)
                    extra += 1
                refs.append(int(ids[arrays.v[e]]))
                writer.add_way(osmium.osm.mutable.Way(id=w + 1, nodes=refs, tags={"highway": "residential"}))
        part.replace(path)
    print(f"network: {path} ({path.stat().st_size / 1e6:,.0f} MB)")
    with stage("read: the PBF into arrays (pyosmium)"):
        got = networkfiles.read_streets(path, cache_dir=False)
    try:
        from pyrosm import OSM
    except ImportError as exc:
        print(f"  pyrosm does not import here ({exc})")
    else:
        with stage("read: the PBF into GeoDataFrames (pyrosm get_network)"):
            OSM(str(path)).get_network(network_type="all", nodes=True)
    areas = gpd.read_file(files["areas"])
    stops = pd.read_csv(files["stops"], usecols=["stop_id", "stop_lon", "stop_lat"])
    stops = stops.rename(columns={"stop_lon": "lon", "stop_lat": "lat"}).drop_duplicates("stop_id")
    a, a_snapped = walks.catchment_lengths(got, stops, areas, walk_m=args.walk_m, crs=UTM)
    b, b_snapped = walks.catchment_lengths(arrays, stops, areas, walk_m=args.walk_m, crs=UTM)
    both = a.merge(b, on=["stop", "area"], how="outer", suffixes=("_pbf", "_graphml")).fillna(0.0)
    diff = np.abs(both["length_m_pbf"] - both["length_m_graphml"]).to_numpy()
    print(
        f"  {len(got):,} nodes from the PBF, {len(arrays):,} from the GraphML; {len(a):,} and {len(b):,} stop-area "
        f"rows; median difference {np.median(diff):.3f} m (PBF keeps 7 decimals of a degree); "
        f"{both.loc[diff > 1, 'stop'].nunique()} stops differ by over 1 m (a stop about equally near two streets "
        f"snaps to the other); {(a_snapped != b_snapped).sum()} differ in snapping"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="nodes of the generated grid (default 1M)")
    parser.add_argument("--stops", type=int, default=20_000, help="stops (default 20,000)")
    parser.add_argument("--walk-m", type=float, default=400.0)
    parser.add_argument("--baseline-stops", type=int, default=0, help="stops for SciPy and pandana (default all)")
    parser.add_argument("--pandana", action="store_true", help="also time pandana (if it imports)")
    parser.add_argument("--before", action="store_true", help="also run today's method before issue 30")
    parser.add_argument("--real", action="store_true", help="the bundled networks instead of a generated one")
    parser.add_argument("--cli", action="store_true", help="gradient run twice (cache cold, then warm)")
    parser.add_argument("--pbf", action="store_true", help="the generated grid as OSM PBF: pyosmium against pyrosm")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/gradient-walk-bench"))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sys.path.insert(0, str(ROOT / "tests"))
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}")
    if args.real:
        real(args)
    elif args.cli:
        cli(args)
    elif args.pbf:
        pbf(args)
    else:
        generated(args)


if __name__ == "__main__":
    main()
