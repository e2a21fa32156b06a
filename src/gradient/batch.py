"""Many GTFS feeds at once on dask.distributed: one task per feed.

Each feed runs exactly as :func:`gradient.pipeline.run` runs it alone (the same
areas, options and labels, so the same bytes in its CSVs) and writes
``<out>/<feed name>/stops.csv`` and ``patterns.csv`` with
:func:`gradient.output.write.write_outputs`. A feed that fails is reported, not raised:
the other feeds still run.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import geopandas as gpd
from tqdm.auto import tqdm

from .errors import GradientError, InputError
from .options import Options, as_options
from .schema import safe_file_name

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
"""Worker processes of the local cluster :func:`run_batch` starts by default."""


@dataclass
class FeedOutcome:
    """What became of one feed.

    Attributes
    ----------
    feed : str
        The feed's path as given.
    out_dir : Path
        Its output folder, ``<out>/<feed name>``.
    n_patterns : int
        Rows of its ``patterns.csv`` (0 if it failed).
    error : str or None
        One line saying why it failed; None if it did not.
    warnings : list of str
        Warnings its run raised (e.g. stops outside every area).
    """

    feed: str
    out_dir: Path
    n_patterns: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the feed ran and its outputs were written."""
        return self.error is None


def feed_dirs(feeds: Sequence[str | Path], out: str | Path) -> list[Path]:
    """Output folder of each feed: ``out`` / the feed's file-name-safe name.

    The name is the zip's stem or the folder's name, file-name safe
    (:func:`gradient.schema.safe_file_name`: ``con.zip`` gets ``_con``); a name already taken (ignoring case, as some
    file systems do) gets ``-2``, ``-3``... in the order given, so that no two feeds
    ever share a folder, even when a feed's own name ends in ``-2``.

    Examples
    --------
    >>> [p.name for p in feed_dirs(["a/hart.zip", "b/hart", "c/x y.zip", "d/hart-2.zip"], "out")]
    ['hart', 'hart-2', 'x_y', 'hart-2-2']
    """
    taken: set[str] = set()
    dirs = []
    for feed in feeds:
        p = Path(feed)
        base = safe_file_name(p.stem if p.suffix.lower() == ".zip" else p.name)
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base[: 60 - len(str(n)) - 1]}-{n}"  # never cut by the name's length limit
        taken.add(name.lower())
        dirs.append(Path(out) / name)
    return dirs


def run_feed(
    feed: str,
    areas: gpd.GeoDataFrame,
    out_dir: str | Path,
    options: Options | None = None,
    le_source: str = "",
    period: str = "",
) -> FeedOutcome:
    """Run one feed and write its tables; failures come back in the outcome, not raised.

    Parameters
    ----------
    feed : str
        A GTFS zip or folder.
    areas : geopandas.GeoDataFrame
        As for :func:`gradient.run`.
    out_dir : str or Path
        Where its outputs go (:func:`gradient.output.write_outputs`).
    options : Options, optional
        Every option of :func:`gradient.run`; ``maps`` maps per feed.
    le_source, period : str
        Override the source and period the areas name, as ``gradient run`` does.

    Returns
    -------
    FeedOutcome
    """
    from . import pipeline
    from .output import write_outputs

    options = Options(maps=0) if options is None else as_options(options)
    outcome = FeedOutcome(str(feed), Path(out_dir))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            patterns, stops, name = pipeline.read_source(feed, options=options, kind="gtfs")
            labels = pipeline.labels_from(areas, name, pipeline.source_credits(feed, None, name))
            labels = replace(labels, le_source=le_source or labels.le_source, period=period or labels.period)
            result = pipeline.run_patterns(patterns, stops, areas, options, labels)
            write_outputs(result, out_dir)
            outcome.n_patterns = len(result.patterns)
        except GradientError as exc:
            message = " ".join(str(exc).split())
            outcome.error = message if message.startswith(str(feed)) else f"{feed}: {message}"
        except Exception as exc:  # a bug or an unreadable file: report it, keep the batch going
            log.exception("feed %s failed", feed)
            outcome.error = " ".join(f"{feed}: {type(exc).__name__}: {exc}".split())
    outcome.warnings = [" ".join(str(w.message).split()) for w in caught]
    return outcome


def run_batch(
    feeds: Sequence[str | Path],
    areas: gpd.GeoDataFrame,
    out: str | Path,
    options: Options | None = None,
    *,
    scheduler: str | None = None,
    n_workers: int = DEFAULT_WORKERS,
    processes: bool = True,
    progress: bool = False,
    le_source: str = "",
    period: str = "",
    connect_timeout: float = 10.0,
) -> list[FeedOutcome]:
    """Run many GTFS feeds against the same areas, one dask task per feed.

    Parameters
    ----------
    feeds : sequence of str or Path
        GTFS zips or folders.
    areas : geopandas.GeoDataFrame
        ``AREA_COLUMNS`` (:func:`gradient.areas.load.load_areas`); sent to every worker once.
    out : str or Path
        Each feed writes ``out/<feed name>/`` (:func:`feed_dirs`).
    scheduler : str, optional
        Address of a running dask scheduler (``tcp://host:8786``); by default a local
        cluster of ``n_workers`` workers (one thread each) on 127.0.0.1 is started
        and shut down afterwards.
    n_workers : int, default 2
    processes : bool, default True
        Local workers as processes (False: threads of this process, for tests).
        Each feed's warnings are recorded with :func:`warnings.catch_warnings`, which
        is not thread-safe, so with ``processes=False`` keep ``n_workers=1``.
    options : Options, optional
        Every option of :func:`gradient.run`, the same for every feed (default
        ``Options(maps=0)``); a street network is given as files and each worker
        loads it.
    progress : bool, default False
        A progress bar (tqdm) of feeds done.
    le_source, period : str
        As for :func:`run_feed`.
    connect_timeout : float, default 10
        Seconds to wait for ``scheduler`` before giving up.

    Returns
    -------
    list of FeedOutcome
        One per feed, in the order given.

    Raises
    ------
    InputError
        If ``feeds`` is empty or the scheduler cannot be reached.
    """
    from ._extras import require

    require("batch", "gradient batch (many feeds on dask.distributed)")
    from dask.distributed import as_completed

    from ._cluster import connect

    if not feeds:
        raise InputError("no feeds given; name one or more GTFS zips or folders", param="feeds")
    options = Options(maps=0) if options is None else as_options(options)
    dirs = feed_dirs(feeds, out)
    with connect(scheduler, n_workers, processes, connect_timeout) as client:
        shared = client.scatter(areas, broadcast=True)
        futures = {
            client.submit(run_feed, str(feed), shared, str(d), options, le_source, period, pure=False): i
            for i, (feed, d) in enumerate(zip(feeds, dirs))
        }
        outcomes: list[FeedOutcome | None] = [None] * len(feeds)
        for future in tqdm(as_completed(futures), total=len(futures), desc="feeds", unit="feed", disable=not progress):
            i = futures[future]
            try:
                outcomes[i] = future.result()
            except Exception as exc:  # the worker died, or the task could not run at all
                outcomes[i] = FeedOutcome(
                    str(feeds[i]), dirs[i], error=" ".join(f"{feeds[i]}: {type(exc).__name__}: {exc}".split())
                )
    return [o for o in outcomes if o is not None]
