"""A dask.distributed client: a running scheduler's, or a local cluster's started for the work.

``gradient batch`` runs many feeds on it; ``gradient run --cluster`` reads one large feed's
stop times on it (:func:`gradient.sources._stream.collapse`). Both connect here, so both
take the same addresses and say the same thing when a scheduler cannot be reached.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from .errors import InputError

LOCAL = "local"
"""The address that asks for a local cluster on this machine."""

DEFAULT_WORKERS = 2
"""Workers of a local cluster (one thread each)."""


@contextmanager
def connect(
    scheduler: str | None = None,
    n_workers: int = DEFAULT_WORKERS,
    processes: bool = True,
    connect_timeout: float = 10.0,
    what: str = "--scheduler",
) -> Iterator[Any]:
    """A client of ``scheduler``, or of a local cluster started (and shut down) for the block.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running dask scheduler (``tcp://host:8786``); None or ``"local"``
        starts a local cluster of ``n_workers`` workers, one thread each, on 127.0.0.1.
    n_workers : int, default 2
    processes : bool, default True
        Local workers as processes (False: threads of this process, for tests).
    connect_timeout : float, default 10
        Seconds to wait for ``scheduler``.
    what : str
        The option that gave the address, named when it cannot be reached.

    Yields
    ------
    dask.distributed.Client

    Raises
    ------
    MissingExtraError
        Without the ``batch`` extra (dask, distributed).
    InputError
        If the scheduler cannot be reached.
    """
    from ._extras import require

    require("batch", "a dask.distributed cluster")
    from dask.distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler and scheduler != LOCAL:
            client = Client(scheduler, timeout=f"{connect_timeout}s")
        else:
            where = {"host": "127.0.0.1"} if processes else {}  # threads talk in-process
            cluster = LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=processes, dashboard_address=":0", **where
            )
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(f"cannot reach the dask scheduler ({exc}); check {what}", scheduler) from exc
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
