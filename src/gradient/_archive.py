"""Zip archives read safely: GTFS zips, zipped boundaries and workbooks (``.xlsx``, ``.ods``).

Every zip member gradient reads is checked twice against the same limits: before anything
is read, by the sizes the archive declares (:func:`check_members`), and while it is read,
by the bytes actually unpacked (:func:`open_member`, :func:`scan`), so that an archive whose
header lies about its sizes cannot get further than one that tells the truth. Memory stays
bounded: nothing is unpacked beyond the limits, and :func:`scan` reads a member a mebibyte
at a time. A member that is password-protected or compressed by a method Python's
:mod:`zipfile` cannot unpack (Deflate64, Zstandard, PPMd...) is refused by name.

This module imports nothing heavy.
"""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO

from .errors import InputError

MAX_RATIO = 100
"""A member that unpacks to more than :data:`RATIO_FLOOR` bytes at more than this many times its
packed size is refused as a zip bomb (text and XML pack about 5 to 20 times)."""

RATIO_FLOOR = 64 * 2**20
"""Members unpacking to at most this many bytes are never refused for their ratio alone."""

MAX_WORKBOOK_BYTES = 2**30
"""A workbook (``.xlsx``, ``.ods``: zips of XML) that unpacks to more than this (1 GiB) is refused; a
table of every small area of a country unpacks to a few tens of MiB."""

MAX_VECTOR_BYTES = 4 * 2**30
"""A zipped or gzipped boundary or route-lines file that unpacks to more than this (4 GiB) is refused."""

CHUNK = 2**20
"""Bytes unpacked at a time by :func:`scan`."""

SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
"""Compression methods Python's :mod:`zipfile` unpacks."""

METHOD_NAMES = {
    1: "Shrink",
    2: "Reduce",
    3: "Reduce",
    4: "Reduce",
    5: "Reduce",
    6: "Implode",
    9: "Deflate64",
    10: "PKWARE Implode",
    18: "IBM TERSE",
    19: "IBM LZ77",
    20: "Zstandard",
    93: "Zstandard",
    94: "MP3",
    95: "XZ",
    96: "JPEG",
    97: "WavPack",
    98: "PPMd",
    99: "AES encryption",
}
"""Names of the compression methods Python cannot unpack, for messages."""

DAMAGED = (zlib.error, zipfile.BadZipFile, EOFError)
"""What reading a damaged zip member raises (bad deflate data, a bad CRC, a truncated member)."""


def normalised(name: str) -> str:
    """A member's path with ``/`` between folders, as zips written on Windows sometimes do not."""
    return name.replace("\\", "/")


def is_hidden(name: str) -> bool:
    """Whether a member is system clutter, never data: in ``__MACOSX/``, or any part starting with ``.``.

    Examples
    --------
    >>> [is_hidden(n) for n in ["stops.txt", "__MACOSX/stops.txt", "feed/._stops.txt", ".DS_Store"]]
    [False, True, True, True]
    """
    parts = PurePosixPath(normalised(name)).parts
    return any(p == "__MACOSX" or p.startswith(".") for p in parts)


def check_paths(infos: list[zipfile.ZipInfo], path: Path, error: type[InputError]) -> None:
    """Refuse a member path that is absolute or climbs out of its folder (``..``)."""
    for info in infos:
        name = info.filename
        parts = PurePosixPath(normalised(name)).parts
        if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or ".." in parts:
            raise error(f"the zip holds {name!r}, a path that leaves its folder; refusing to read it", path)


def check_members(infos: list[zipfile.ZipInfo], path: Path, error: type[InputError], limit: int) -> None:
    """Refuse, before reading, members that cannot be read or would unpack beyond the limits.

    Parameters
    ----------
    infos : list of zipfile.ZipInfo
        The members that will be read.
    path : Path
        The archive, named in messages.
    error : type
        The error to raise.
    limit : int
        Bytes all of them together may unpack to.

    Raises
    ------
    InputError
        Of type ``error``, naming the archive and the member: password-protected, a
        compression method Python cannot unpack, a ratio beyond :data:`MAX_RATIO`, or in
        all more than ``limit`` bytes.
    """
    for info in infos:
        unreadable(info, path, error)
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise error(
                f"{info.filename!r} in the zip would unpack {info.file_size / max(info.compress_size, 1):.0f} times "
                "its packed size (a zip bomb?); refusing to read it",
                path,
            )
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise error(
            f"the zip would unpack to {total / 2**30:.1f} GiB, over the {limit / 2**30:.0f} GiB limit; refusing to "
            "read it",
            path,
        )


def unreadable(info: zipfile.ZipInfo, path: Path, error: type[InputError]) -> None:
    """Refuse a member that is password-protected or compressed by a method Python cannot unpack."""
    if info.flag_bits & 0x1:
        raise error(
            f"{info.filename!r} in the zip is password-protected; gradient cannot read it: give the archive "
            "without a password",
            path,
        )
    if info.compress_type not in SUPPORTED_METHODS:
        method = METHOD_NAMES.get(info.compress_type, "an unknown method")
        raise error(
            f"{info.filename!r} in the zip is compressed with {method} (method {info.compress_type}), which "
            "gradient cannot unpack; re-save the archive with ordinary (Deflate) compression",
            path,
        )


class Budget:
    """Bytes still allowed to be unpacked from one archive (:func:`open_member` counts them)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0


class _Bounded(io.RawIOBase):
    """A zip member's bytes, counted as they are unpacked; over the limits, the reading stops."""

    def __init__(self, raw: IO[bytes], info: zipfile.ZipInfo, path: Path, budget: Budget, error: type[InputError]):
        self._raw, self._info, self._path, self._budget, self._error = raw, info, path, budget, error
        self._allowed = max(RATIO_FLOOR, MAX_RATIO * max(info.compress_size, 1))
        self._seen = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        self._count(len(data))
        buffer[: len(data)] = data
        return len(data)

    def _count(self, n: int) -> None:
        self._seen += n
        self._budget.used += n
        if self._seen > self._allowed:
            raise self._error(
                f"{self._info.filename!r} in the zip unpacked to more than {self._allowed / 2**20:,.0f} MiB, over "
                f"{MAX_RATIO} times its packed size (a zip bomb?); refusing to read it",
                self._path,
            )
        if self._budget.used > self._budget.limit:
            raise self._error(
                f"the zip unpacked to more than {self._budget.limit / 2**30:.0f} GiB, the limit; refusing to read it",
                self._path,
            )

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def open_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, budget: Budget, error: type[InputError]
) -> io.BufferedReader:
    """A member's bytes, read through the limits on bytes actually unpacked.

    Raises
    ------
    InputError
        Of type ``error``: the member is password-protected or compressed by a method
        Python cannot unpack; while reading, it unpacks beyond :data:`MAX_RATIO` times its
        packed size (over :data:`RATIO_FLOOR`) or the archive beyond ``budget``.
    """
    unreadable(info, path, error)
    try:
        raw = zf.open(info)
    except (RuntimeError, NotImplementedError) as exc:  # encryption or a method zipfile knows it cannot read
        raise error(f"{info.filename!r} in the zip cannot be read ({exc})", path) from exc
    return io.BufferedReader(_Bounded(raw, info, path, budget, error), buffer_size=CHUNK)


def scan(path: Path, error: type[InputError], limit: int, what: str = "the zip") -> None:
    """Unpack every member of a zip a mebibyte at a time, keeping nothing: refuse it before another reader does.

    For archives read by code that is not ours (python-calamine's workbooks, GDAL's
    zipped shapefiles): every member is checked by its declared sizes, then by its bytes
    actually unpacked, and a damaged one (bad data, a CRC that does not check out, sizes
    that lie) is named.

    Raises
    ------
    InputError
        Of type ``error``, naming the archive and the member.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            check_paths(infos, path, error)
            check_members(infos, path, error, limit)
            budget = Budget(limit)
            for info in infos:
                try:
                    with open_member(zf, info, path, budget, error) as fh:
                        while fh.read(CHUNK):
                            pass
                except DAMAGED as exc:
                    raise error(f"{info.filename!r} in {what} is damaged ({exc}); get the file again", path) from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise error(f"cannot open {what} ({exc})", path) from exc


def scan_gzip(path: Path, error: type[InputError], limit: int) -> None:
    """Unpack a gzip file a mebibyte at a time, keeping nothing: refuse it if it unpacks beyond ``limit``."""
    seen = 0
    try:
        with gzip.open(path, "rb") as fh:
            while block := fh.read(CHUNK):
                seen += len(block)
                if seen > limit:
                    raise error(
                        f"the gzip file unpacks to more than {limit / 2**30:.0f} GiB, the limit; refusing to read it",
                        path,
                    )
    except (OSError, EOFError, zlib.error) as exc:
        raise error(f"cannot unpack the gzip file ({exc})", path) from exc


def is_gzip(path: Path) -> bool:
    """Whether a file starts with gzip's magic bytes."""
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def check_packed(path: Path, error: type[InputError], limit: int = MAX_VECTOR_BYTES) -> None:
    """Refuse a zip or gzip file another reader (GDAL) would unpack beyond the limits (:func:`scan`).

    Files that are neither are left alone.
    """
    if path.is_file() and zipfile.is_zipfile(path):
        scan(path, error, limit)
    elif is_gzip(path):
        scan_gzip(path, error, limit)
