"""``gradient fetch``: official sources by name, downloaded once into a cache with checksums and licences.

Every test points the publishers' base URLs at a local HTTP server on 127.0.0.1 serving small copies
of the real files (cut from the bundled data); none needs the internet."""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import socket
import threading
import urllib.parse
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import line_feed

import gradient
from gradient import cli, datasets, fetching
from gradient.errors import FetchError, GradientWarning

ARCGIS_LAYER = "/MSOA_Dec_2011_Boundaries_Generalised_Clipped_BGC_EW_V3_2022/FeatureServer/0/query"
LONDON_MSOAS = ["E02000001", "E02000977", "E02000979", "E02006801", "E02006802"]


class Publisher(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; answers an ArcGIS feature-service query a page at a time; counts requests."""

    requests: list[str] = []
    features: list[dict] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).requests.append(self.path)
        url = urllib.parse.urlparse(self.path)
        if url.path.endswith("/FeatureServer/0/query"):
            query = urllib.parse.parse_qs(url.query)
            start, count = int(query["resultOffset"][0]), int(query["resultRecordCount"][0])
            page = self.features[start : start + count]
            more = start + count < len(self.features)
            body = json.dumps({"type": "FeatureCollection", "features": page, "exceededTransferLimit": more}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/geo+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small copies of the real files, laid out as their publishers serve them."""
    root = tmp_path_factory.mktemp("publishers")
    tracts = gpd.read_file(datasets.get_path("hillsborough_tracts"))
    tracts = tracts.rename(columns={"census_tract_GEOID": "GEOID10"})[["GEOID10", "geometry"]].head(40)
    shp = root / "shp"
    shp.mkdir()
    tracts.to_crs("EPSG:4269").to_file(shp / "tl_2010_12_tract10.shp")  # TIGER/Line's own CRS, NAD83
    tiger = root / "geo/tiger/TIGER2010/TRACT/2010/tl_2010_12_tract10.zip"
    tiger.parent.mkdir(parents=True)
    with zipfile.ZipFile(tiger, "w") as z:
        for part in shp.iterdir():
            z.write(part, part.name)
    usaleep = pd.read_csv(datasets.get_path("usaleep"), dtype=str)
    fl = usaleep[usaleep["Tract ID"].isin(tracts["GEOID10"])]
    cdc = root / "pub/Health_Statistics/NCHS/Datasets/NVSS/USALEEP/CSV/FL_A.CSV"
    cdc.parent.mkdir(parents=True)
    fl.to_csv(cdc, index=False)
    shutil.copy(datasets.get_path("ons_msoa_le_2009_2013"), root / "file")  # ons.gov.uk/file?uri=...
    feed = line_feed(root / "feed")
    (root / "mdb-1234").mkdir()
    shutil.make_archive(str(root / "mdb-1234" / "latest"), "zip", feed)
    shutil.copy(root / "mdb-1234" / "latest.zip", root / "my_feed.zip")
    msoas = gpd.read_file(datasets.get_path("msoa_boundaries"))
    msoas = msoas[msoas["MSOA2011"].isin(LONDON_MSOAS)].rename(columns={"MSOA2011": "MSOA11CD"})
    Publisher.features = json.loads(msoas[["MSOA11CD", "geometry"]].to_json())["features"]
    return root


@pytest.fixture(scope="module")
def server(files):
    handler = lambda *a, **k: Publisher(*a, directory=str(files), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def online(server, monkeypatch):
    for key in fetching.BASE_URLS:
        monkeypatch.setenv(f"GRADIENT_{key.upper()}_URL", server)
    Publisher.requests = []
    return server


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "arg", "served", "cached"),
    [
        ("tracts", "FL", "geo/tiger/TIGER2010/TRACT/2010/tl_2010_12_tract10.zip", "tracts/tl_2010_12_tract10.zip"),
        ("tracts", "12", "geo/tiger/TIGER2010/TRACT/2010/tl_2010_12_tract10.zip", "tracts/tl_2010_12_tract10.zip"),
        ("usaleep", "fl", "pub/Health_Statistics/NCHS/Datasets/NVSS/USALEEP/CSV/FL_A.CSV", "usaleep/FL_A.CSV"),
        ("ons-le-msoa", "", "file", "ons-le-msoa/ons_le_hle_msoa_england_2009_2013.xls"),
        ("gtfs", "mdb-1234", "mdb-1234/latest.zip", "gtfs/mdb-1234.zip"),
    ],
)
def test_fetch_once_then_from_the_cache(tmp_path, online, files, name, arg, served, cached):
    first = gradient.fetch(name, arg, cache=tmp_path)
    assert first.path == tmp_path / cached and not first.cached
    assert first.sha256 == sha256(files / served) == sha256(first.path)
    assert first.url == f"{online}/{served}" or (name == "ons-le-msoa" and first.url.startswith(f"{online}/file?uri="))
    record = json.loads((tmp_path / "manifest.json").read_text())["files"][cached]
    assert record["sha256"] == first.sha256 and record["bytes"] == first.path.stat().st_size
    assert record["licence"] == fetching.SOURCES[name].licence and record["credit"] and record["url"] == first.url
    n = len(Publisher.requests)
    again = gradient.fetch(name, arg, cache=tmp_path)
    assert again.cached and again.sha256 == first.sha256 and len(Publisher.requests) == n  # no request at all


def test_msoa_boundaries_come_a_page_at_a_time(tmp_path, online, monkeypatch):
    monkeypatch.setattr(fetching, "PAGE", 2)
    done = gradient.fetch("msoa-boundaries", cache=tmp_path)
    pages = [r for r in Publisher.requests if ARCGIS_LAYER in r]
    assert [urllib.parse.parse_qs(urllib.parse.urlparse(r).query)["resultOffset"] for r in pages] == [
        ["0"],
        ["2"],
        ["4"],
    ]
    got = gpd.read_file(done.path)
    assert sorted(got["MSOA11CD"]) == LONDON_MSOAS and got.crs.to_epsg() == 4326


def test_a_gtfs_feed_by_its_address(tmp_path, online):
    done = gradient.fetch("gtfs", f"{online}/my_feed.zip", cache=tmp_path)
    assert done.path.parent == tmp_path / "gtfs" and done.path.name.startswith("my_feed-")
    assert zipfile.is_zipfile(done.path) and done.credit == f"GTFS feed ({online}/my_feed.zip)"


def test_fetched_tracts_and_usaleep_run_end_to_end(tmp_path, online, capsys):
    assert cli.main(["fetch", "tracts", "FL", "--cache", str(tmp_path / "cache")]) == 0
    assert cli.main(["fetch", "usaleep", "FL", "--cache", str(tmp_path / "cache")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"tracts FL: {tmp_path / 'cache' / 'tracts' / 'tl_2010_12_tract10.zip'} (")
    assert "downloaded from " in printed[0] and "licence: public domain; use: --areas " in printed[0]
    code = cli.main(
        [
            "run",
            "--gtfs",
            str(datasets.get_path("hart_gtfs")),
            "--areas",
            str(tmp_path / "cache" / "tracts" / "tl_2010_12_tract10.zip"),
            "--le",
            str(tmp_path / "cache" / "usaleep" / "FL_A.CSV"),
            "--le-format",
            "usaleep",
            "--route",
            "1",
            "--maps",
            "0",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    stops = pd.read_csv(tmp_path / "out" / "stops.csv", dtype={"area_id": str})
    assert stops["le"].notna().any() and stops["area_id"].dropna().str.fullmatch(r"12057\d{6}").all()


def test_offline_it_says_what_to_download_and_where_to_put_it(tmp_path, monkeypatch, capsys):
    port = closed_port()
    monkeypatch.setenv("GRADIENT_CENSUS_URL", f"http://127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}/geo/tiger/TIGER2010/TRACT/2010/tl_2010_12_tract10.zip"
    target = tmp_path / "tracts" / "tl_2010_12_tract10.zip"
    with pytest.raises(FetchError, match=r"cannot reach 127\.0\.0\.1:\d+ \(\[Errno 111\] Connection refused\)"):
        gradient.fetch("tracts", "FL", cache=tmp_path)
    assert cli.main(["fetch", "tracts", "FL", "--cache", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"gradient: error: cannot reach 127.0.0.1:{port} ([Errno 111] Connection refused): download {url} yourself "
        f"and put it at {target}, then run this again (the file is checked and recorded as if fetched)\n"
    )
    assert not target.exists() and not list(target.parent.glob(".*.part"))  # nothing half-written


def test_offline_boundaries_say_which_download(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIENT_ONS_ARCGIS_URL", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(FetchError, match=r"download the GeoJSON download of 'MSOA \(Dec 2011\) Boundaries .*"):
        gradient.fetch("msoa-boundaries", cache=tmp_path)


def test_a_file_put_there_by_hand_is_checked_and_recorded(tmp_path, monkeypatch, files):
    monkeypatch.setenv("GRADIENT_CDC_URL", f"http://127.0.0.1:{closed_port()}")  # offline
    target = tmp_path / "usaleep" / "FL_A.CSV"
    target.parent.mkdir()
    shutil.copy(files / "pub/Health_Statistics/NCHS/Datasets/NVSS/USALEEP/CSV/FL_A.CSV", target)
    done = gradient.fetch("usaleep", "FL", cache=tmp_path)
    assert done.cached and done.sha256 == sha256(target)
    record = json.loads((tmp_path / "manifest.json").read_text())["files"]["usaleep/FL_A.CSV"]
    assert record["note"] == "put in the cache by hand; recorded by gradient fetch"
    target.write_text("changed")
    with pytest.raises(FetchError, match=r"FL_A\.CSV: no longer matches the checksum recorded when it was fetched"):
        gradient.fetch("usaleep", "FL", cache=tmp_path)


def test_force_and_url(tmp_path, online):
    first = gradient.fetch("usaleep", "FL", cache=tmp_path)
    url = f"{online}/pub/Health_Statistics/NCHS/Datasets/NVSS/USALEEP/CSV/FL_A.CSV"
    again = gradient.fetch("usaleep", "FL", cache=tmp_path, url=url, force=True)
    assert not again.cached and again.sha256 == first.sha256 and again.url == url


def test_an_address_that_is_not_there(tmp_path, online):
    with pytest.raises(FetchError, match=r"/nothing\.zip answered 404 File not found; the source may have moved"):
        gradient.fetch("gtfs", f"{online}/nothing.zip", cache=tmp_path)
    assert not list((tmp_path / "gtfs").iterdir())


@pytest.mark.parametrize(
    ("name", "arg", "match"),
    [
        ("census", "", r"no source named 'census'; choose one of gtfs, tracts, usaleep, msoa-boundaries"),
        ("tracts", "", r"tracts needs an argument: STATE \(FIPS code or postal code, e\.g\. 12 or FL\)"),
        ("tracts", "XX", r"'XX' is not a US state's FIPS or postal code"),
        ("usaleep", "99", r"'99' is not a US state's postal code \(e\.g\. FL\) or US"),
        ("msoa-boundaries", "E02", r"msoa-boundaries takes no argument \(got 'E02'\)"),
        ("gtfs", "feed.zip", r"'feed\.zip' is neither a feed's address \(http:// or https://\) nor a Mobility"),
    ],
)
def test_bad_names_and_arguments(tmp_path, name, arg, match):
    with pytest.raises(FetchError, match=match):
        gradient.fetch(name, arg, cache=tmp_path)


def test_osm_walk_offline(tmp_path, monkeypatch):
    import osmnx as ox

    port = closed_port()
    monkeypatch.setattr(ox.settings, "nominatim_url", f"http://127.0.0.1:{port}/")
    monkeypatch.setattr(ox.settings, "overpass_url", f"http://127.0.0.1:{port}/api")
    monkeypatch.setattr(ox.settings, "use_cache", False)
    monkeypatch.setattr(ox.settings, "requests_timeout", 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FetchError, match=r"cannot get the walking network of 'Tampa, Florida, USA' from Open"):
            gradient.fetch("osm-walk", "Tampa, Florida, USA", cache=tmp_path)


def test_osm_walk_from_the_cache(tmp_path):
    """A walking network saved where fetch would save it is read without the network."""
    target = tmp_path / "osm-walk" / f"{fetching._file_stem('Westminster, London')}.graphml"
    target.parent.mkdir()
    shutil.copy(datasets.get_path("westminster_drive"), target)
    done = gradient.fetch("osm-walk", "Westminster, London", cache=tmp_path)
    assert done.cached and done.path == target and "ODbL" in done.licence
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        assert len(gradient.load_network(done.path).nodes) > 1000
