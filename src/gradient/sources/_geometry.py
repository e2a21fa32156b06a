"""Distances of stops along a route line, measured in metres and never going backwards.

A plain projection of each stop onto its route line fails on loops and out-and-back
shapes: a stop on the way out may lie closer to the way back. :func:`monotone_along`
instead chooses, for all stops of a pattern at once, the segments of the line that
minimise the summed stop-to-line distance *subject to the order of the stops*, by
dynamic programming over a stops × segments matrix (numpy, no per-segment loop).
"""

from __future__ import annotations

import numpy as np
import shapely

from .. import _arrays


def segment_projection(points: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project every point onto every segment of a polyline.

    Parameters
    ----------
    points : ndarray of shape (m, 2)
        Metric coordinates of the stops.
    line : ndarray of shape (k, 2)
        Metric coordinates of the line's vertices, k >= 2.

    Returns
    -------
    dist : ndarray of shape (m, k - 1)
        Distance in metres from each point to each segment.
    along : ndarray of shape (m, k - 1)
        Distance in metres along the whole line of each point's projection on
        each segment.
    """
    a = line[:-1]
    ab = line[1:] - a
    seg_len = np.hypot(ab[:, 0], ab[:, 1])
    start = np.concatenate([[0.0], np.cumsum(seg_len)[:-1]])
    sq = seg_len**2
    px, py = points[:, :1], points[:, 1:]  # columns: points x segments broadcast in two planes
    ax, ay, bx, by = a[:, 0], a[:, 1], ab[:, 0], ab[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(sq > 0, ((px - ax) * bx + (py - ay) * by) / sq, 0.0)
    t = np.clip(t, 0.0, 1.0)
    dist = np.hypot(px - (ax + t * bx), py - (ay + t * by))
    along = start[None, :] + t * seg_len[None, :]
    return dist, along


def monotone_along(
    points: np.ndarray,
    line: np.ndarray,
    max_segment_m: float = 25.0,
    nearest: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance along ``line`` of each of the ordered ``points``, never decreasing.

    Parameters
    ----------
    points : ndarray of shape (m, 2)
        Metric coordinates of the stops, in the order the route serves them.
    line : ndarray of shape (k, 2)
        Metric coordinates of the route line, in travel order, k >= 2.
    max_segment_m : float, default 25
        The line is first cut into pieces no longer than this, so that order is
        enforced within long straight segments too (a stop may not be matched more
        than one piece behind the previous one).
    nearest : tuple of ndarray, optional
        Each point's distance along ``line`` of its nearest point, and its distance to
        the line, if already computed (:func:`nearest_along` does many lines at once).

    Returns
    -------
    along : ndarray of shape (m,)
        Metres from the start of ``line`` to each stop's matched position;
        non-decreasing.
    offset : ndarray of shape (m,)
        Metres from each stop to its matched position on the line (how well the
        stop fits the line).

    Notes
    -----
    When every stop's nearest point on the line already comes in order, that is the
    answer (it is the unconstrained minimum, so the constrained one too) and the
    dynamic programme is skipped; most patterns are like that. Otherwise it minimises
    ``sum_i dist(i, s_i)`` over piece choices ``s_1 <= s_2 <= ...``:
    ``best_i = dist_i + cummin(best_{i-1})``, then back-tracks. Two stops matched
    to the same segment in reverse order are set to the same position.
    """
    if nearest is not None and np.all(np.diff(nearest[0]) >= 0):
        return nearest
    geom = shapely.LineString(line)
    if nearest is None:
        pts = shapely.points(points)
        nearest = shapely.line_locate_point(geom, pts), shapely.distance(geom, pts)
    if np.all(np.diff(nearest[0]) >= 0):
        return nearest
    line = shapely.get_coordinates(shapely.segmentize(geom, max_segment_m))
    dist, along_all = segment_projection(points, line)
    m = len(points)
    best = np.empty_like(dist)
    best[0] = dist[0]
    for i in range(1, m):
        best[i] = dist[i] + np.minimum.accumulate(best[i - 1])
    choice = np.empty(m, dtype=np.int64)
    choice[-1] = int(np.argmin(best[-1]))
    for i in range(m - 1, 0, -1):
        choice[i - 1] = int(np.argmin(best[i - 1][: choice[i] + 1]))
    rows = np.arange(m)
    along = np.maximum.accumulate(along_all[rows, choice])
    return along, dist[rows, choice]


PIECE_VERTICES = 16
"""Vertices of each piece a line is cut into to find a stop's nearest segment (pieces share an end)."""

NEAR_M = 100.0
"""Stops are looked for on the pieces of their line within this many metres; a stop further from
its line than that is measured on the whole line."""


NEAREST_BLOCK = 2**15
"""Points looked for at a time by :func:`nearest_along`, line by line: at least one line, and more
while their points come to no more than this. Each point is looked for on its own line only, so
the numbers are the same however the lines are grouped; the spatial index and the pairs it finds
stay a block's. A nation's 11,472 patterns (434,968 stops) at once took 5.4 s, 3.4 s of it system
time, on the 2-core virtual machine of ``benchmarks/``; in blocks, 1.4 s."""


def nearest_along(lines: list[np.ndarray], points: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`_nearest_along`, :data:`NEAREST_BLOCK` points at a time."""
    ends = np.cumsum([len(p) for p in points], dtype=np.int64)  # points up to and including each line
    out: list[tuple[np.ndarray, np.ndarray]] = []
    a = 0
    while a < len(lines):
        before = int(ends[a - 1]) if a else 0
        b = max(a + 1, int(np.searchsorted(ends, before + NEAREST_BLOCK, side="right")))
        out += _nearest_along(lines[a:b], points[a:b])
        a = b
    return out


def _nearest_along(lines: list[np.ndarray], points: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each line and its points, every point's distance along the line of its nearest point, and to the line.

    What :func:`shapely.line_locate_point` and :func:`shapely.distance` give line by line, found
    without measuring every point against every segment of its line: each line is cut into
    pieces of :data:`PIECE_VERTICES` vertices, a spatial index (shapely's ``STRtree``) gives the
    pieces whose boxes lie within :data:`NEAR_M` of each point, and the point is measured on the
    nearest piece of its own line (the first along the line where two are as near; a piece within
    ``NEAR_M`` is always among those found, so the nearest is too). A point with no piece of its
    line that near is measured on the whole line. Distances along agree with the whole line's to
    the last few bits (a piece's start is its preceding segments' summed length); distances to
    the line are the same numbers.
    """
    if not lines:
        return []
    counts = np.array([len(p) for p in points])
    xy = np.concatenate(points)
    pts = shapely.points(xy)
    owner = np.repeat(np.arange(len(lines)), counts)  # each point's line
    pieces, piece_line, piece_start = _pieces(lines)
    x, y = xy[:, 0], xy[:, 1]
    tree = shapely.STRtree(pieces)
    at, found = tree.query(shapely.box(x - NEAR_M, y - NEAR_M, x + NEAR_M, y + NEAR_M))
    own = piece_line[found] == owner[at]
    at, found = at[own], found[own]
    dist = shapely.distance(pieces[found], pts[at])
    order = np.lexsort((found, dist, at))  # per point: nearest, then first along its line
    at, found, dist = at[order], found[order], dist[order]
    first = np.flatnonzero(np.r_[True, at[1:] != at[:-1]]) if len(at) else np.empty(0, dtype=np.int64)
    near = dist[first] <= NEAR_M
    at, found, dist = at[first][near], found[first][near], dist[first][near]
    along = np.full(len(pts), np.nan)
    offset = np.full(len(pts), np.nan)
    along[at] = piece_start[found] + shapely.line_locate_point(pieces[found], pts[at])
    offset[at] = dist
    far = np.flatnonzero(np.isnan(offset))
    if len(far):  # further than NEAR_M from every piece of their line: on the whole line
        whole = {i: shapely.LineString(lines[i]) for i in np.unique(owner[far])}
        each = np.array([whole[i] for i in owner[far]], dtype=object)
        along[far] = shapely.line_locate_point(each, pts[far])
        offset[far] = shapely.distance(each, pts[far])
    cut = np.cumsum(counts)[:-1]
    return list(zip(np.split(along, cut), np.split(offset, cut)))


def _pieces(lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every line cut into pieces of at most :data:`PIECE_VERTICES` vertices, consecutive pieces sharing a vertex.

    Returns the pieces (shapely LineStrings, line by line in order along each), the line of each
    and the distance along its line of each piece's first vertex.
    """
    step = PIECE_VERTICES - 1
    coords = np.concatenate(lines)
    k = np.array([len(c) for c in lines])
    line_start = np.r_[0, np.cumsum(k)[:-1]]
    n_pieces = np.maximum((k - 2) // step + 1, 1)  # k - 1 segments, ``step`` a piece
    piece_line = np.repeat(np.arange(len(lines)), n_pieces)
    start = _arrays.within(n_pieces) * step  # vertex where each piece starts, within its line
    size = np.minimum(start + PIECE_VERTICES, k[piece_line]) - start
    vertex = _arrays.ranges(line_start[piece_line] + start, size)
    pieces = shapely.linestrings(coords[vertex], indices=np.repeat(np.arange(len(size)), size))
    seg = segment_lengths(coords)
    walked = np.empty(len(coords))
    for a, n in zip(line_start, k):  # each line's own running sum, in order, as GEOS adds them up
        walked[a] = 0.0
        np.cumsum(seg[a : a + n - 1], out=walked[a + 1 : a + n])
    return pieces, piece_line, walked[line_start[piece_line] + start]


def segment_lengths(line: np.ndarray) -> np.ndarray:
    """Length of each segment of a polyline (shape (k, 2)), as GEOS measures it (``sqrt(dx*dx + dy*dy)``).

    Distances along a line come from GEOS; measured the same way, a line's summed segments end
    exactly at its length (``numpy.hypot`` can differ in the last bit).
    """
    d = np.diff(line, axis=0)
    return np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])


def straight_along(points: np.ndarray) -> np.ndarray:
    """Cumulative straight-line metres between consecutive ``points`` (shape (m, 2))."""
    steps = np.hypot(*np.diff(points, axis=0).T) if len(points) > 1 else np.empty(0)
    return np.concatenate([[0.0], np.cumsum(steps)])


def substring(line: np.ndarray, start: float, end: float) -> np.ndarray:
    """The part of a polyline between two distances along it (metres), as coordinates.

    Parameters
    ----------
    line : ndarray of shape (k, 2)
        Metric coordinates.
    start, end : float
        Distances along the line, ``0 <= start <= end <= length``.

    Returns
    -------
    ndarray of shape (n, 2)
        The interpolated start point, the vertices strictly between, and the end
        point (two equal points if ``start == end``).

    Notes
    -----
    The coordinates of ``shapely.ops.substring`` (a test holds them equal), in a sixth of its
    time (33 against 216 microseconds for a 400-point shape): it runs once per pattern.
    """
    cum = np.concatenate([[0.0], np.cumsum(segment_lengths(line))])
    x = np.interp([start, end], cum, line[:, 0])
    y = np.interp([start, end], cum, line[:, 1])
    inner = line[(cum > start) & (cum < end)]
    return np.vstack([[x[0], y[0]], inner, [x[1], y[1]]])
