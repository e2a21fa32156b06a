"""Street networks: loading and filtering, walking catchments with known answers, street-following lines.

Nothing here touches the internet: every osmnx download function is replaced by one that
fails, and the download path is tested with a stand-in for the download.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
import walk_reference
from conftest import UTM17, line_feed, squares, to_lonlat

from gradient import GradientWarning, InputError, NetworkError, Options, datasets
from gradient._sensitivity import sensitivity
from gradient.assign import netarrays, networkfiles, walks
from gradient.assign import streets as networks
from gradient.assign.catchments import assign, assign_network
from gradient.assign.netarrays import StreetArrays
from gradient.assign.networkfiles import read_streets
from gradient.pipeline import run_patterns
from gradient.sources import gtfs, tfl

X0, Y0 = 360000.0, 3090000.0  # the origin of conftest's squares (A0 80±1, A1 78±1, A2 76±2)

# the hand-built areas here carry no population on purpose: every catchment says it weights by
# length or area alone (tests/test_attributes.py checks the warning itself)
pytestmark = pytest.mark.filterwarnings("ignore:the areas have no population:gradient.errors.GradientWarning")


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("tests never download")

    for name in ("graph_from_polygon", "graph_from_bbox", "graph_from_place", "graph_from_point", "graph_from_address"):
        monkeypatch.setattr(ox, name, refuse)
    monkeypatch.setattr(ox.settings, "requests_timeout", 0.001)


def grid(edges, nodes, crs=UTM17) -> nx.MultiDiGraph:
    """A MultiDiGraph as osmnx makes them: nodes with x, y (metres from X0, Y0), edges with length."""
    G = nx.MultiDiGraph(crs=crs)
    for n, (x, y) in nodes.items():
        G.add_node(n, x=X0 + x, y=Y0 + y)
    for u, v in edges:
        (x1, y1), (x2, y2) = nodes[u], nodes[v]
        G.add_edge(u, v, key=0, length=float(np.hypot(x2 - x1, y2 - y1)), highway="residential")
    return G


# a street along y = 0 with a branch north at x = 800; a-b is one-way eastbound (walkers ignore it)
NODES = {"a": (-400, 0), "b": (200, 0), "c": (800, 0), "d": (800, 300), "e": (1400, 0)}
EDGES = [("a", "b"), ("b", "c"), ("c", "b"), ("c", "d"), ("d", "c"), ("c", "e"), ("e", "c")]


def stops_xy(points):
    x, y = np.array(points, dtype=float).T
    lon, lat = to_lonlat(X0 + x, Y0 + y)
    return pd.DataFrame({"stop_id": [f"s{i}" for i in range(len(points))], "lon": lon, "lat": lat})


def test_400_m_walk_weights_by_street_length():
    # stop 5 m off the street at x = 300: the walk reaches x = -100 .. 700 (c, at 500 m, is too far):
    # 600 m of street in A0 (x < 500) and 200 m in A1
    got, w = assign_network(stops_xy([(300, 5)]), squares(), grid(EDGES, NODES), walk_m=400, return_weights=True)
    assert got.columns.tolist() == ["stop_id", "area_id", "le", "le_se", "n_areas", "method", "weighting"]
    row = got.iloc[0]
    assert (row["stop_id"], row["area_id"], row["n_areas"], row["method"]) == ("s0", "A0", 2, "network")
    assert row["weighting"] == "length"
    assert row["le"] == pytest.approx(0.75 * 80 + 0.25 * 78)
    assert row["le_se"] == pytest.approx(np.sqrt(0.75**2 + 0.25**2))
    assert w.columns.tolist() == ["stop_id", "area_id", "weight", "area_le", "le_se"]
    assert w["area_id"].tolist() == ["A0", "A1"]
    np.testing.assert_allclose(w["weight"], [0.75, 0.25])


def test_600_m_walk_reaches_round_the_corner():
    # x = -300 .. 800 on the main street (800 m in A0, 300 m in A1), then 100 m up the branch and
    # 100 m east past c, both in A1: weights 800 / 1300 and 500 / 1300
    lengths, snapped = networks.catchment_lengths(grid(EDGES, NODES), stops_xy([(300, 5)]), squares(), walk_m=600)
    assert snapped.tolist() == [True]
    assert lengths["area"].tolist() == [0, 1]
    np.testing.assert_allclose(lengths["length_m"], [800, 500], atol=1e-6)
    got = assign_network(stops_xy([(300, 5)]), squares(), grid(EDGES, NODES), walk_m=600)
    assert got["le"].item() == pytest.approx((800 * 80 + 500 * 78) / 1300)


def test_area_without_estimate_is_left_out_not_zero():
    sq = squares(values=(80.0, np.nan, 76.0))
    got, w = assign_network(stops_xy([(300, 5)]), sq, grid(EDGES, NODES), walk_m=400, return_weights=True)
    assert got["le"].item() == 80 and got["n_areas"].item() == 1
    assert w["weight"].tolist() == [1.0]


def test_stop_off_the_network_falls_back_to_a_buffer():
    stops = stops_xy([(300, 5), (2000, 0)])  # the second is 600 m from the nearest street
    with pytest.warns(
        GradientWarning,
        match=r"1 of 2 stops are over 100 m from the street network and take "
        r"200 m buffers instead",
    ):
        got, w = assign_network(stops, squares(), grid(EDGES, NODES), return_weights=True)
    assert got["stop_id"].tolist() == ["s0", "s1"]
    assert got["method"].tolist() == ["network", "buffer"]
    assert got["le"].tolist()[1] == 76 and got["n_areas"].tolist() == [2, 1]
    assert w.groupby("stop_id")["weight"].sum().tolist() == pytest.approx([1, 1])


def test_network_method_needs_a_network_and_sane_arguments():
    stops = stops_xy([(300, 5)])
    with pytest.raises(InputError, match=r"method='network' needs a street network: give network=GRAPH"):
        assign(stops, squares(), method="network")
    with pytest.raises(InputError, match=r"method='walk' is not one of point, buffer, network"):
        assign(stops, squares(), method="walk")
    with pytest.raises(InputError, match=r"walk_m=0 must be a positive number of metres"):
        assign_network(stops, squares(), grid(EDGES, NODES), walk_m=0)
    with pytest.raises(InputError, match=r"weight='area' is not one of auto, length, population"):
        assign_network(stops, squares(), grid(EDGES, NODES), weight="area")
    with pytest.raises(InputError, match=r"weight='population' needs a population column"):
        assign_network(stops, squares(), grid(EDGES, NODES), weight="population")
    G = grid(EDGES, NODES)
    del G.graph["crs"]
    with pytest.raises(InputError, match=r"the street network declares no crs"):
        assign_network(stops, squares(), G)


# --- street-following geometry on a zig-zag one-way street ---------------------------------

ZIGZAG = {"n0": (0, -20), "n1": (500, -300), "n2": (1000, -20), "n3": (1500, -300), "n4": (2000, -20)}


def test_straight_patterns_follow_the_streets(tmp_path):
    with pytest.warns(GradientWarning, match=r"2 of 2 patterns have no shape in the feed"):
        patterns, ps = gtfs.stop_patterns(gtfs.read_feed(line_feed(tmp_path / "f", with_shape=False)))
    G = grid([("n0", "n1"), ("n1", "n2"), ("n2", "n3"), ("n3", "n4")], ZIGZAG)  # one way, eastbound
    with pytest.warns(
        GradientWarning,
        match=r"1 of 2 patterns without route geometry now follow the street "
        r"network \(0 of their stop-to-stop hops stay straight.*1 stay straight",
    ):
        new, new_ps = networks.street_geometry(patterns, ps, G)
    assert new.columns.tolist() == patterns.columns.tolist() and new_ps.columns.tolist() == ps.columns.tolist()
    src = new.set_index("pattern_id")["geometry_source"]
    assert src.to_dict() == {"R-0-1": "street_network", "R-1-1": "straight_line"}  # no way back westward
    hop = 20 + 2 * np.hypot(500, 280) + 20  # stop, node 20 m away, two zig-zag edges, node, stop
    east = new_ps[new_ps["pattern_id"] == "R-0-1"]
    np.testing.assert_allclose(east["dist_m"], [0, hop, 2 * hop], rtol=1e-6)
    line = new.set_index("pattern_id").to_crs(UTM17).geometry["R-0-1"]
    assert line.length == pytest.approx(2 * hop, rel=1e-6)
    assert shapely.get_coordinates(line)[2] == pytest.approx([X0 + 500, Y0 - 300])
    straight = ps.groupby("pattern_id")["dist_m"].max()["R-0-1"]
    assert straight <= east["dist_m"].max() < 2 * straight
    west = new_ps[new_ps["pattern_id"] == "R-1-1"]
    assert west["dist_m"].tolist() == ps[ps["pattern_id"] == "R-1-1"]["dist_m"].tolist()


def test_patterns_with_geometry_are_left_alone(tmp_path):
    patterns, ps = gtfs.stop_patterns(gtfs.read_feed(line_feed(tmp_path / "f")))
    G = grid([("n0", "n1"), ("n1", "n2")], ZIGZAG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new, new_ps = networks.street_geometry(patterns, ps, G)
    assert new is patterns and new_ps is ps


# --- loading ------------------------------------------------------------------------------


def test_moorgate_walk_and_drive_filters():
    walk = networks.load_network(datasets.get_path("moorgate_walk"), "walk")
    drive = networks.load_network(datasets.get_path("moorgate_walk"), "drive")
    highways = {h for _, _, h in walk.edges(data="highway") for h in (h if isinstance(h, list) else [h])}
    assert "footway" in highways
    drive_highways = {h for _, _, h in drive.edges(data="highway") for h in (h if isinstance(h, list) else [h])}
    assert not drive_highways & {"footway", "steps", "corridor", "service", "path", "pedestrian"}
    assert (len(walk), walk.number_of_edges(), len(drive), drive.number_of_edges()) == WALK_DRIVE_COUNTS


WALK_DRIVE_COUNTS = (475, 1126, 68, 128)  # walk ignores one-way tags; drive has no footways


def test_westminster_graphml_loads():
    G = networks.load_network(datasets.get_path("westminster_drive"))
    assert (len(G), G.number_of_edges()) == (3311, 7478)
    assert G.graph["crs"] == "epsg:4326"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("bad.osm", "<osm><way", r"bad\.osm: not a readable OSM XML file"),
        ("bad.xml", "<html></html>", r"bad\.xml: root element is <html>, not <osm>"),
        ("bad.graphml", "not xml at all", r"bad\.graphml: not a readable osmnx GraphML file"),
        ("net.shp", "", r"net\.shp: unknown street network format '\.shp'; give \.graphml or \.osm"),
        ("empty.osm", "<osm version='0.6'></osm>", r"empty\.osm: no streets of type 'all' in this"),
    ],
)
def test_bad_network_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(NetworkError, match=message):
        networks.load_network(path)


def test_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(NetworkError, match=r"nope\.osm: no such street network file"):
        networks.load_network(tmp_path / "nope.osm")
    with pytest.raises(InputError, match=r"network_type='bike' is not one of all, drive, walk"):
        networks.load_network(datasets.get_path("moorgate_walk"), "bike")


def test_download_is_cached_and_fails_clearly_offline(tmp_path, monkeypatch):
    stops = stops_xy([(0, 0), (1000, 0)])
    with pytest.raises(
        NetworkError,
        match=r"could not download the drive network from OpenStreetMap "
        r"\(ConnectionError: tests never download\); without internet",
    ):
        networks.download_network(stops, cache_dir=tmp_path)
    G = ox.project_graph(nx.convert_node_labels_to_integers(grid(EDGES, NODES)), to_latlong=True)
    monkeypatch.setattr(ox, "graph_from_polygon", lambda *a, **k: G)  # a stand-in download
    first = networks.download_network(stops, cache_dir=tmp_path)
    cached = list(tmp_path.glob("osm_drive_*.graphml"))
    assert len(cached) == 1 and first is G
    monkeypatch.setattr(ox, "graph_from_polygon", lambda *a, **k: pytest.fail("downloaded again"))
    again = networks.download_network(stops, cache_dir=tmp_path)
    assert (len(again), again.number_of_edges()) == (5, 7)


# --- central London: the bundled networks --------------------------------------------------


@pytest.fixture(scope="module")
def central():
    return networks.load_network([datasets.get_path("westminster_drive"), datasets.get_path("city_of_london_drive")])


@pytest.fixture(scope="module")
def route_25():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        patterns, ps = tfl.read_tfl_sequences(datasets.get_path("tfl_sequences"))  # no route lines: straight
    keep = patterns["route_name"].isin(["25", "390"])
    return patterns[keep].reset_index(drop=True), ps[ps["pattern_id"].isin(patterns.loc[keep, "pattern_id"])]


def test_central_london_walks(central, msoas, route_25):
    _, ps = route_25
    with pytest.warns(GradientWarning, match=CENTRAL_FALLBACK):
        got, w = assign_network(ps, msoas, central, return_weights=True)
    assert got["method"].value_counts().to_dict() == CENTRAL_METHODS
    assert got["le"].notna().all() and not (got["le"] == 0).any()
    np.testing.assert_allclose(w.groupby("stop_id")["weight"].sum(), 1)


# routes 25 and 390 run on beyond Westminster and the City (Ilford, Archway): those stops take buffers
CENTRAL_FALLBACK = r"129 of 185 stops are over 100 m from the street network and take 200 m buffers instead"
CENTRAL_METHODS = {"buffer": 129, "network": 56}


def test_central_london_street_following(central, route_25):
    patterns, ps = route_25
    with pytest.warns(GradientWarning, match=r"now follow the street network"):
        new, new_ps = networks.street_geometry(patterns, ps, central)
    routed = new.loc[new["geometry_source"] == "street_network", "pattern_id"]
    assert sorted(routed) == CENTRAL_ROUTED
    before = ps.groupby("pattern_id")["dist_m"].max()[routed]
    after = new_ps.groupby("pattern_id")["dist_m"].max()[routed]
    assert ((after >= before) & (after < 2 * before)).all()


CENTRAL_ROUTED = ["25-0-1", "25-1-1", "390-0-1", "390-1-1"]


def test_pipeline_and_sensitivity_with_a_network(central, msoas, route_25):
    patterns, ps = route_25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        res = run_patterns(patterns, ps, msoas, Options(method="network", network=central, walk_m=400))
        long = sensitivity(patterns, ps, msoas, methods=[("point", None), ("network", 400.0)], network=central)
    assert set(res.geometry["geometry_source"]) == {"street_network"}
    assert res.patterns["n_stops_le"].tolist() == res.patterns["n_stops"].tolist()
    assert long["method"].unique().tolist() == ["point", "network 400 m"]
    assert len(long) == 2 * len(patterns)


def test_command_line_network_method(tmp_path):
    osm = datasets.get_path("westminster_drive").parent
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradient",
            "run",
            "--tfl-sequences",
            str(datasets.get_path("tfl_sequences")),
            "--areas",
            str(datasets.get_path("msoa_boundaries")),
            "--le",
            str(datasets.get_path("ons_msoa_le")),
            "--le-format",
            "ons-msoa",
            "--route",
            "390",
            "--maps",
            "0",
            "--out",
            str(tmp_path),
            "--method",
            "network",
            "--network",
            str(osm / "westminster_drive_2024-02.graphml"),
            str(osm / "city_of_london_drive_2024-02.osm"),
            "--walk-m",
            "400",
            "--network-cache",
            str(tmp_path / "cache"),
            "--wide",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    patterns = pd.read_csv(tmp_path / "patterns.csv")
    assert set(patterns["geometry_source"]) == {"street_network"}
    assert "stops are over 100 m from the street network" in proc.stderr
    assert len(list((tmp_path / "cache").glob("*-all-v*.npz"))) == 2  # one per file


def test_command_line_network_method_needs_a_network(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradient",
            "run",
            "--tfl-sequences",
            str(datasets.get_path("tfl_sequences")),
            "--areas",
            str(datasets.get_path("msoa_boundaries")),
            "--le",
            str(datasets.get_path("ons_msoa_le")),
            "--le-format",
            "ons-msoa",
            "--out",
            str(tmp_path),
            "--method",
            "network",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "gradient: error: --method network needs a street network: give --network FILE (GraphML or OSM XML)"
    )


# --- issue 30: local searches, arrays read once, a cache; held equal to today's method -------

REAL = {
    "central": (["westminster_drive", "city_of_london_drive"], "all"),
    "moorgate_walk": (["moorgate_walk"], "walk"),
    "moorgate_drive": (["moorgate_walk"], "drive"),
}


@pytest.fixture(scope="module")
def london_stops():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        _, ps = tfl.read_tfl_sequences(datasets.get_path("tfl_sequences"))
    return ps.drop_duplicates("stop_id")[["stop_id", "lon", "lat"]].reset_index(drop=True)


def assert_same_catchments(got, expected):
    (lengths, snapped), (lengths0, snapped0) = got, expected
    assert snapped.tolist() == snapped0.tolist()
    assert lengths.columns.tolist() == ["stop", "area", "length_m"]
    assert lengths[["stop", "area"]].to_numpy().tolist() == lengths0[["stop", "area"]].to_numpy().tolist()
    np.testing.assert_allclose(lengths["length_m"], lengths0["length_m"], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("case", sorted(REAL))
def test_catchments_equal_todays_on_the_bundled_networks(case, london_stops, msoas, tmp_path):
    names, network_type = REAL[case]
    paths = [datasets.get_path(n) for n in names]
    G = networks.load_network(paths, network_type)
    expected = walk_reference.catchment_lengths(G, london_stops, msoas.frame, walk_m=400)
    assert expected[1].sum() > 0 and len(expected[0]) > 0
    assert_same_catchments(networks.catchment_lengths(G, london_stops, msoas.frame, walk_m=400), expected)
    arrays = read_streets(paths, network_type, cache_dir=tmp_path)
    assert_same_catchments(walks.catchment_lengths(arrays, london_stops, msoas.frame, walk_m=400, chunk=64), expected)


def jittered_grid(side: int = 40, keep: float = 0.65, seed: int = 30) -> nx.MultiDiGraph:
    """A street grid as osmnx stores one: 40 m blocks, nodes moved up to 8 m, about a third of the
    blocks' sides missing, one street in five bent, a few closed loops; two-way streets both ways."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=UTM17)
    xy = {}
    for i in range(side):
        for j in range(side):
            xy[i * side + j] = (X0 + 40 * i + rng.uniform(-8, 8), Y0 + 40 * j + rng.uniform(-8, 8))
    for n, (x, y) in xy.items():
        G.add_node(n, x=x, y=y)
    for i in range(side):
        for j in range(side):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < side and j + dj < side and rng.random() < keep:
                    a, b = i * side + j, (i + di) * side + j + dj
                    (x1, y1), (x2, y2) = xy[a], xy[b]
                    data = {"highway": "residential"}
                    if rng.random() < 0.2:
                        mid = ((x1 + x2) / 2 + rng.uniform(-10, 10), (y1 + y2) / 2 + rng.uniform(-10, 10))
                        data["geometry"] = shapely.LineString([(x1, y1), mid, (x2, y2)])
                    line = data.get("geometry", shapely.LineString([(x1, y1), (x2, y2)]))
                    G.add_edge(a, b, length=line.length, **data)
                    G.add_edge(
                        b, a, length=line.length, **{**data, "geometry": line.reverse()} if "geometry" in data else data
                    )
    for n in rng.choice(side * side, 5, replace=False):  # cul-de-sac loops
        x, y = xy[int(n)]
        loop = shapely.LineString([(x, y), (x + 15, y + 5), (x + 5, y + 15), (x, y)])
        G.add_edge(int(n), int(n), length=loop.length, highway="residential", geometry=loop)
    G.remove_nodes_from([n for n, d in G.degree() if d == 0])
    return G


def voronoi_areas(n: int, box, seed: int = 30):
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = box
    seeds = shapely.multipoints(np.c_[rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds)), shapely.box(*box))
    return gpd.GeoDataFrame(
        {"area_id": [f"V{i:02d}" for i in range(len(cells))], "le": 80.0, "le_se": 1.0}, geometry=cells, crs=UTM17
    ).to_crs("EPSG:4326")


@pytest.fixture(scope="module")
def generated():
    G = jittered_grid()
    box = (X0 - 100, Y0 - 100, X0 + 40 * 40 + 100, Y0 + 40 * 40 + 100)
    rng = np.random.default_rng(7)
    pts = np.c_[rng.uniform(-200, 1800, 400), rng.uniform(-200, 1800, 400)]
    return G, voronoi_areas(12, box), stops_xy(pts)


@pytest.mark.parametrize("walk_m", [150.0, 400.0])
def test_catchments_equal_todays_on_a_generated_grid(generated, walk_m):
    G, areas, stops = generated
    expected = walk_reference.catchment_lengths(G, stops, areas, walk_m=walk_m)
    assert 0 < expected[1].sum() < len(stops)  # some stops lie beyond the grid
    for chunk in (1, 37, 256):
        assert_same_catchments(walks.catchment_lengths(G, stops, areas, walk_m=walk_m, chunk=chunk), expected)


def test_graphml_read_straight_into_arrays_as_osmnx_reads_it(generated, tmp_path):
    G = ox.project_graph(generated[0], to_latlong=True)
    path = tmp_path / "grid.graphml"
    ox.save_graphml(G, path)
    fields = ["node_ids", "x", "y", "u", "v", "key", "offsets", "coords"]
    for p, network_type in ((path, "all"), (datasets.get_path("westminster_drive"), "all")) + tuple(
        (datasets.get_path("westminster_drive"), t) for t in ("walk", "drive")
    ):
        direct = read_streets(p, network_type, cache_dir=False)
        by_osmnx = StreetArrays.from_graph(networks.load_network(p, network_type))
        assert direct.crs == by_osmnx.crs
        for f in fields:
            np.testing.assert_array_equal(getattr(direct, f), getattr(by_osmnx, f), err_msg=f"{p.name} {f}")


def test_joined_files_read_into_arrays_as_networkx_joins_them():
    paths = [datasets.get_path("westminster_drive"), datasets.get_path("city_of_london_drive")]
    direct = read_streets(paths, cache_dir=False)
    by_osmnx = StreetArrays.from_graph(networks.load_network(paths))
    for f in ["node_ids", "x", "y", "u", "v", "key", "offsets", "coords"]:
        np.testing.assert_array_equal(getattr(direct, f), getattr(by_osmnx, f), err_msg=f)


def test_network_arrays_are_cached_by_content(tmp_path, monkeypatch, london_stops, msoas):
    path = tmp_path / "net.osm"
    path.write_bytes(datasets.get_path("moorgate_walk").read_bytes())
    cache = tmp_path / "cache"
    first = read_streets(path, "walk", cache_dir=cache)
    (cached,) = cache.glob("*.npz")
    assert cached.name == f"{networkfiles.file_digest(path)}-walk-v{netarrays.CACHE_VERSION}.npz"
    monkeypatch.setattr(networkfiles, "_read_file", lambda *a: pytest.fail("read the file again"))
    again = read_streets(path, "walk", cache_dir=cache)
    for f in ["node_ids", "x", "y", "u", "v", "key", "offsets", "coords"]:
        np.testing.assert_array_equal(getattr(again, f), getattr(first, f))
    assert_same_catchments(
        walks.catchment_lengths(again, london_stops, msoas.frame),
        walks.catchment_lengths(networks.load_network(path, "walk"), london_stops, msoas.frame),
    )
    monkeypatch.undo()
    copy = tmp_path / "copy.osm"
    copy.write_bytes(path.read_bytes())
    read_streets(copy, "walk", cache_dir=cache)  # the same content: the same cached file
    assert len(list(cache.glob("*.npz"))) == 1
    read_streets(path, "drive", cache_dir=cache)  # another network type: another
    path.write_text(path.read_text().replace("Moorgate", "Moorgate Street"))  # changed content: read again
    read_streets(path, "walk", cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 3
    cached.write_bytes(b"damaged")
    with caplog_at(networkfiles.log) as records:
        read_streets(copy, "walk", cache_dir=cache)
    assert any("unreadable" in r.getMessage() for r in records)


class caplog_at:
    """The log records a logger emits inside the block."""

    def __init__(self, logger):
        import logging

        self.logger, self.records = logger, []
        self.handler = logging.Handler()
        self.handler.emit = self.records.append

    def __enter__(self):
        self.logger.addHandler(self.handler)
        return self.records

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)


def test_bad_and_missing_files_for_arrays(tmp_path):
    with pytest.raises(NetworkError, match=r"nope\.pbf: no such street network file"):
        read_streets(tmp_path / "nope.pbf")
    bad = tmp_path / "bad.graphml"
    bad.write_text("not xml at all")
    with pytest.raises(NetworkError, match=r"bad\.graphml: not a readable osmnx GraphML file"):
        read_streets(bad, cache_dir=False)
    shp = tmp_path / "net.shp"
    shp.write_text("")
    with pytest.raises(NetworkError, match=r"net\.shp: unknown street network format '\.shp'"):
        read_streets(shp, cache_dir=False)
    with pytest.raises(InputError, match=r"network_type='bike' is not one of all, drive, walk"):
        read_streets(shp, "bike")


def test_osm_pbf_through_pyosmium_walks_as_osm_xml(tmp_path, london_stops, msoas):
    osmium = pytest.importorskip("osmium")
    pbf = tmp_path / "moorgate.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(datasets.get_path("moorgate_walk"))):
            writer.add(obj)
    for network_type, differ in (("walk", 3), ("drive", 0)):
        arrays = read_streets(pbf, network_type, cache_dir=False)
        assert arrays.crs == "epsg:4326"
        expected = walk_reference.catchment_lengths(
            networks.load_network(datasets.get_path("moorgate_walk"), network_type), london_stops, msoas.frame
        )
        got = walks.catchment_lengths(arrays, london_stops, msoas.frame)
        assert got[1].tolist() == expected[1].tolist()
        assert got[0][["stop", "area"]].to_numpy().tolist() == expected[0][["stop", "area"]].to_numpy().tolist()
        # The one difference: a closed way that osmnx joins into a loop from one node to itself (a 65.35 m
        # loop at Moorgate), which today's method counts as 0 m, is cut where the way starts and counted.
        diff = got[0]["length_m"].to_numpy() - expected[0]["length_m"].to_numpy()
        assert (np.abs(diff) > 1e-6).sum() == differ
        assert diff.min() > -1e-6 and diff.max() < MOORGATE_LOOP_M + 1e-6


MOORGATE_LOOP_M = 65.3502


def test_local_searches_give_the_whole_graphs_distances_and_paths(generated):
    from scipy.sparse.csgraph import dijkstra

    net = StreetArrays.from_graph(generated[0]).metric(UTM17, undirected=False)
    matrix = walks.sparse_graph(len(net.node_ids), net.u, net.v, net.length)
    rng = np.random.default_rng(3)
    sources = rng.choice(len(net.node_ids), 60, replace=False)
    limits = rng.uniform(50, 600, 60)
    whole, whole_pred = dijkstra(matrix, indices=sources, limit=limits.max(), return_predecessors=True)
    seen = []
    for max_cells in (10**9, 500):  # the second splits batches down to a few sources
        got = np.full_like(whole, np.inf)
        batches = list(
            walks.local_searches(matrix, sources, limits, batch=16, return_predecessors=True, max_cells=max_cells)
        )
        for rows, nodes, d, pred in batches:
            assert d.shape == pred.shape == (len(rows), len(nodes))
            got[np.ix_(rows, nodes)] = d
            # a path read from the local predecessors has the whole graph's length
            r = len(rows) - 1
            far = int(np.argmax(np.where(np.isfinite(d[r]), d[r], -1)))
            path = [far]
            while pred[r, path[-1]] >= 0:
                path.append(pred[r, path[-1]])
            steps = matrix[nodes[path[::-1][:-1]], nodes[path[::-1][1:]]]
            assert np.asarray(steps).sum() == pytest.approx(d[r, far])
        ok = np.isfinite(got)
        within = whole <= limits[:, None]
        assert (ok >= within).all()  # every node within its source's limit is found, at the same distance
        np.testing.assert_array_equal(got[within], whole[within])
        seen.append(len(batches))
    assert seen[0] == 4 and seen[1] > 30  # split where sources times nodes would exceed 500
