"""stop_times.txt streamed in chunks and collapsed as it arrives gives what the whole table gives.

The streamed path (a GTFS path given to :func:`gradient.sources.gtfs.stop_patterns`) and the
whole-table path (:func:`gradient.sources.gtfs.read_feed`, then ``stop_patterns`` of the
feed) must return identical tables and warnings, however the rows are ordered and wherever
the chunks cut them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from conftest import run_args
from geopandas.testing import assert_geodataframe_equal

from gradient import FeedError
from gradient.sources import _stream, gtfs
from gradient.sources._collapse import Collector


def _unpack(zip_path, folder):
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(folder)
    return folder


def _whole(folder, **kw):
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        out = gtfs.stop_patterns(gtfs.read_feed(folder), **kw)
    return out, [str(w.message) for w in said]


def _streamed(folder, monkeypatch, chunk_rows, block_bytes, client=None, **kw):
    """The streamed path in chunks of ``chunk_rows`` rows (blocks collapsed on ``client``'s workers, if given);
    the whole-table reader is forbidden (no fallback)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the streamed path fell back to the whole-table reader")

    with monkeypatch.context() as m:
        m.setattr(_stream, "CHUNK_ROWS", chunk_rows)
        m.setattr(_stream, "BLOCK_BYTES", block_bytes)
        m.setattr(gtfs, "read_feed", refuse)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            if client is None:
                out = gtfs.stop_patterns(folder, **kw)
            else:
                out = gtfs.read_patterns(folder, client=client, **kw)[:2]
    return out, [str(w.message) for w in said]


def _assert_same(a, b):
    (pa_, sa), wa = a
    (pb, sb), wb = b
    assert_geodataframe_equal(pa_, pb, check_less_precise=False)
    pd.testing.assert_frame_equal(sa, sb, check_exact=True)
    assert wa == wb


@pytest.fixture(scope="module")
def messy_hart(hart_path, tmp_path_factory):
    """HART with its stop times out of order, blank times to interpolate and blank directions to infer."""
    folder = _unpack(hart_path, tmp_path_factory.mktemp("messy_hart"))
    st = pd.read_csv(folder / "stop_times.txt", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(26)
    # trips in a random order, and one row in 50 moved anywhere: trips in pieces across the file
    trip_order = pd.Series(rng.permutation(st["trip_id"].nunique()), index=st["trip_id"].unique())
    st = st.iloc[np.argsort(trip_order[st["trip_id"]].to_numpy(), kind="stable")].reset_index(drop=True)
    moved = rng.random(len(st)) < 0.02
    position = np.where(moved, rng.integers(0, len(st), len(st)), np.arange(len(st)))
    st = st.iloc[np.argsort(position, kind="stable")].reset_index(drop=True)
    # blank times at one stop in ten that is neither first nor last of its trip: interpolated
    seq = st["stop_sequence"].astype(int)
    inner = (seq > seq.groupby(st["trip_id"]).transform("min")) & (seq < seq.groupby(st["trip_id"]).transform("max"))
    blank = inner & (rng.random(len(st)) < 0.1)
    st.loc[blank, ["arrival_time", "departure_time"]] = ""
    st.to_csv(folder / "stop_times.txt", index=False)
    trips = pd.read_csv(folder / "trips.txt", dtype=str, keep_default_na=False)
    routes = sorted(trips["route_id"].unique())
    trips.loc[trips["route_id"].isin(routes[:3]), "direction_id"] = ""  # three routes' directions inferred
    trips.to_csv(folder / "trips.txt", index=False)
    return folder


@pytest.mark.parametrize("all_patterns", [False, True])
def test_streamed_in_small_chunks_equals_the_whole_table(messy_hart, monkeypatch, all_patterns):
    whole = _whole(messy_hart, all_patterns=all_patterns)
    assert any("directions" in w for w in whole[1])  # the messy feed exercises inference
    streamed = _streamed(messy_hart, monkeypatch, 4096, 1 << 16, all_patterns=all_patterns)
    _assert_same(whole, streamed)
    # in one chunk too (the default sizes hold the whole feed)
    _assert_same(
        whole, _streamed(messy_hart, monkeypatch, _stream.CHUNK_ROWS, _stream.BLOCK_BYTES, all_patterns=all_patterns)
    )


def test_every_row_in_its_own_place(hart_path, tmp_path, monkeypatch):
    """Rows in a random order and chunks of 97 rows: nearly every trip arrives in pieces."""
    folder = _unpack(hart_path, tmp_path / "feed")
    trips = pd.read_csv(folder / "trips.txt", dtype=str, keep_default_na=False)
    keep = trips["route_id"].isin(sorted(trips["route_id"].unique())[:4])
    trips[keep].to_csv(folder / "trips.txt", index=False)
    st = pd.read_csv(folder / "stop_times.txt", dtype=str, keep_default_na=False)
    st = st[st["trip_id"].isin(trips.loc[keep, "trip_id"])]
    st.sample(frac=1.0, random_state=3).to_csv(folder / "stop_times.txt", index=False)
    _assert_same(_whole(folder), _streamed(folder, monkeypatch, 97, 1 << 12))


def test_the_command_line_path_streams_the_bundled_feed(hart_path, hart_patterns, monkeypatch):
    (patterns, stops), _ = _streamed(hart_path, monkeypatch, _stream.CHUNK_ROWS, _stream.BLOCK_BYTES)
    assert_geodataframe_equal(patterns, hart_patterns[0], check_less_precise=False)
    pd.testing.assert_frame_equal(stops, hart_patterns[1], check_exact=True)


def test_a_repeated_stop_sequence_across_chunks_is_refused_in_the_whole_readers_words(hart_path, tmp_path, monkeypatch):
    folder = _unpack(hart_path, tmp_path / "feed")
    st = pd.read_csv(folder / "stop_times.txt", dtype=str, keep_default_na=False)
    first = st["trip_id"].iloc[0]
    twice = st[st["trip_id"] == first].iloc[[1]]
    pd.concat([st, twice]).to_csv(folder / "stop_times.txt", index=False)  # the repeat is the file's last row
    monkeypatch.setattr(_stream, "CHUNK_ROWS", 4096)
    with pytest.raises(FeedError, match=rf"trip {first} has stop_sequence .* on more than one stop"):
        gtfs.stop_patterns(folder)


@pytest.mark.parametrize("reuse", [True, False])
def test_blocks_are_whole_lines_and_every_byte_once(monkeypatch, reuse):
    """Lines of any length, longer than a block too, with or without a last newline."""
    import io

    monkeypatch.setattr(_stream, "BLOCK_BYTES", 16)
    rng = np.random.default_rng(23)
    for _ in range(500):
        lines = [b"x" * int(n) for n in rng.integers(0, 40, size=rng.integers(0, 8))]
        data = b"\n".join(lines) + (b"\n" if rng.random() < 0.5 else b"")
        blocks = [b.to_pybytes() for b in _stream._blocks(io.BytesIO(data), reuse=reuse)]
        assert b"".join(blocks) == data
        assert all(b.endswith(b"\n") for b in blocks[:-1]) and all(blocks)


def test_collector_in_pieces_equals_one_piece():
    """Trips cut anywhere and written in any order collapse to the same trips, stop lists and timings."""
    rng = np.random.default_rng(7)
    lists = [rng.choice(30, size=n, replace=False) for n in (5, 8, 8, 3)]
    trip, stop, seq, secs = [], [], [], []
    for t in range(40):
        stops = lists[t % len(lists)]
        start = 3600.0 * (t % 5) + (0.5 if t == 7 else 0.0)  # trip 7 starts at a fraction of a second
        times = start + 60.0 * np.arange(len(stops))
        if t == 9:
            times[1] = np.nan  # a blank time: the timing is kept as written
        trip += [t] * len(stops)
        stop += list(stops)
        seq += list(range(1, len(stops) + 1))
        secs += list(times)
    trip, stop, seq, secs = map(np.asarray, (trip, stop, seq, secs))

    def collapse(order, cuts):
        c = Collector()
        for part in np.split(order, cuts):
            c.add(trip[part], stop[part], seq[part], secs[part])
        return c.finish(pd.Index([f"t{i:02d}" for i in range(40)]), pd.Index([f"s{i}" for i in range(30)]))

    one = collapse(np.arange(len(trip)), [])
    many = collapse(rng.permutation(len(trip)), [10, 11, 50, 100, 170])

    def expanded(c):
        stops = [tuple(c.stops_of(k)) for k in c.pattern]
        times = [tuple(c.timing_secs[c.timing_start[k] : c.timing_start[k + 1]]) for k in c.timing]
        return list(c.trip_ids), stops, times

    assert expanded(one)[:2] == expanded(many)[:2]
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(expanded(one)[2], expanded(many)[2], strict=True))
    # whole-second timings at other hours are one a length (5, 8 and 3 stops); the fraction and the blank are kept apart
    assert len(one.timing_start) - 1 == 5
    assert one.n_rows == many.n_rows == len(trip)


def test_a_feed_that_falls_back_says_so_in_the_debug_log(hart_path, tmp_path, caplog):
    folder = _unpack(hart_path, tmp_path / "feed")
    st = pd.read_csv(folder / "stop_times.txt", dtype=str, keep_default_na=False)
    st.loc[5, "stop_id"] = "no such stop"
    st.to_csv(folder / "stop_times.txt", index=False)
    with caplog.at_level("DEBUG", logger="gradient.sources.gtfs"):
        with pytest.raises(FeedError, match="stop_times.txt refers to 1 stop.s. missing from stops.txt"):
            gtfs.stop_patterns(folder)
    assert "read whole" in caplog.text


# --- on a dask cluster: each block collapsed on a worker, merged here in the file's order ------------


@pytest.fixture(scope="module")
def thread_client():
    from gradient._cluster import connect

    with connect(None, n_workers=2, processes=False) as client:
        yield client


def test_blocks_merged_from_a_cluster_give_what_one_process_gives(messy_hart, monkeypatch, thread_client):
    # trips in pieces across the file, so across blocks and workers: put together in the merge
    alone = _streamed(messy_hart, monkeypatch, _stream.CHUNK_ROWS, 2**25)
    _assert_same(_streamed(messy_hart, monkeypatch, _stream.CHUNK_ROWS, 150_000, thread_client), alone)
    _assert_same(_streamed(messy_hart, monkeypatch, _stream.CHUNK_ROWS, 1_000_003, thread_client), alone)


def test_merged_collectors_finish_as_one(hart_feed):
    st = hart_feed.stop_times
    trips = pd.Index(hart_feed.trips["trip_id"].astype("string"))
    stops = pd.Index(hart_feed.stops["stop_id"].astype("string"))
    trip = trips.get_indexer(st["trip_id"].astype("string"))
    stop = stops.get_indexer(st["stop_id"].astype("string"))
    seq = st["stop_sequence"].astype(np.int64).to_numpy()
    secs = np.arange(len(st), dtype=float) % 5000
    one = Collector()
    one.add(trip, stop, seq, secs)
    merged = Collector()
    for a, b in [(0, 1000), (1000, 123_457), (123_457, len(st))]:  # cuts inside trips
        part = Collector()
        part.add(trip[a:b], stop[a:b], seq[a:b], secs[a:b])
        merged.merge(part)
    x, y = one.finish(trips, stops), merged.finish(trips, stops)
    pd.testing.assert_index_equal(x.trip_ids, y.trip_ids)

    def per_trip(c):  # each trip's stop list and seconds (ids may differ: the pieces of cut trips get ids too)
        secs = [c.timing_secs[c.timing_start[t] : c.timing_start[t + 1]].tobytes() for t in c.timing]
        return [c.stops_of(p).tobytes() for p in c.pattern], secs

    assert per_trip(x) == per_trip(y)
    assert x.n_rows == y.n_rows == len(st)


def test_gradient_run_on_a_local_cluster_writes_the_same_files(hart_path, tmp_path, monkeypatch):
    from gradient import cli

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(run_args(hart_path, tmp_path / "alone")) == 0
        monkeypatch.setattr(_stream, "BLOCK_BYTES", 3_000_000)  # several blocks, on two worker processes
        assert cli.main(run_args(hart_path, tmp_path / "cluster", "--cluster", "local")) == 0
    for name in ("patterns.csv", "stops.csv", "stretches.csv", "methods.md"):
        assert (tmp_path / "cluster" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes(), name


def test_gradient_run_on_a_scheduler_given_by_address_writes_the_same_files(hart_path, tmp_path, monkeypatch):
    # a scheduler and workers started on their own, as on other machines: only its address is given
    from dask.distributed import Client

    from gradient import cli

    file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", file], **quiet
    )
    workers = None
    try:
        for _ in range(300):
            if file.exists() and file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        workers = subprocess.Popen(
            [*dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"], cwd=tmp_path, **quiet
        )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert cli.main(run_args(hart_path, tmp_path / "alone")) == 0
            monkeypatch.setattr(_stream, "BLOCK_BYTES", 3_000_000)  # several blocks, on both workers
            assert cli.main(run_args(hart_path, tmp_path / "cluster", "--cluster", address)) == 0
        with Client(address, timeout="30s") as client:  # the blocks were collapsed there
            assert "collapse_block" in client.run_on_scheduler(
                lambda dask_scheduler: list(dask_scheduler.task_prefixes)
            )
    finally:
        for process in (workers, scheduler):
            if process is not None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    for name in ("patterns.csv", "stops.csv", "stretches.csv", "methods.md"):
        assert (tmp_path / "cluster" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes(), name


def test_cluster_is_for_gtfs_and_names_an_address(tmp_path):
    from gradient import OptionError, Options, datasets, pipeline

    with pytest.raises(OptionError, match="must be 'local' or a dask scheduler's address"):
        Options(cluster=5)
    with pytest.raises(OptionError, match="reads a GTFS feed's stop times on dask"):
        pipeline.read_source(datasets.get_path("tfl_sequences"), options=Options(cluster="local"))
