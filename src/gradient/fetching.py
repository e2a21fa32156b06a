"""Official sources by name, downloaded once into a cache, with their checksums and licences.

Finding the data is the hardest step for an analyst. :func:`fetch` (``gradient fetch NAME
[ARG]``) downloads one official source by name into a cache folder (default
``data/raw/fetched/``, or ``$GRADIENT_CACHE``), records its address, size, SHA-256 checksum,
licence and credit in ``manifest.json`` beside it, and on later calls returns the cached file
without the network (checking its checksum). Offline it says what to download, from where,
and where to put it; a file put there by hand is checked and recorded like a download.

Sources (:data:`SOURCES`):

- ``gtfs URL`` (or a Mobility Database id, ``mdb-1234``): a GTFS feed;
- ``tracts STATE`` (FIPS code or postal code): US Census Bureau 2010 TIGER/Line census tracts;
- ``usaleep STATE`` (postal code, or ``US``): CDC/NCHS USALEEP life expectancy by tract;
- ``msoa-boundaries``: England and Wales' 2011 MSOA boundaries (ONS, generalised), GeoJSON;
- ``ons-le-msoa``: ONS life expectancy by MSOA, England, 2009 to 2013 (the official release);
- ``osm-walk PLACE``: an OpenStreetMap walking network (osmnx ``graph_from_place``), GraphML.

Addresses are built on base URLs (:data:`BASE_URLS`) that ``$GRADIENT_<NAME>_URL`` replaces
(``GRADIENT_CENSUS_URL=http://127.0.0.1:8000``), so that tests and mirrors serve their own
copies; ``url=`` (``--url``) replaces one source's whole address. HTTP uses the standard
library only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import tempfile
import urllib.parse
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from . import __version__
from .errors import FetchError

log = logging.getLogger(__name__)

BASE_URLS = {
    "census": "https://www2.census.gov",
    "cdc": "https://ftp.cdc.gov",
    "ons": "https://www.ons.gov.uk",
    "ons_arcgis": "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services",
    "mobility": "https://files.mobilitydatabase.org",
}
"""Where each publisher's files are; ``$GRADIENT_<KEY>_URL`` (e.g. ``GRADIENT_ONS_ARCGIS_URL``) replaces one."""

OGL = "Open Government Licence v3.0"


@dataclass(frozen=True)
class Source:
    """One official source :func:`fetch` knows by name.

    Attributes
    ----------
    name, what : str
        Its name and what it is, in one line.
    arg : str
        What its argument is (empty: none).
    base : str
        Its publisher's key in :data:`BASE_URLS` (empty: the argument is the address).
    path : str
        The address after the base, with ``{arg}`` (formatted from the argument).
    file : str
        The cached file's name, with ``{arg}``.
    licence, credit : str
        Its licence, and who published what.
    use : str
        How ``gradient run`` takes it.
    manual : str
        What to download by hand, where that is not simply the address (empty: the address).
    """

    name: str
    what: str
    arg: str
    base: str
    path: str
    file: str
    licence: str
    credit: str
    use: str
    manual: str = ""


SOURCES = {
    s.name: s
    for s in (
        Source(
            "gtfs",
            "a GTFS feed, by its address or its Mobility Database id (mdb-1234)",
            "URL or mdb-ID",
            "mobility",
            "/{arg}/latest.zip",
            "{arg}.zip",
            "as its publisher states (see the feed's own licence)",
            "GTFS feed",
            "--gtfs FILE",
        ),
        Source(
            "tracts",
            "US Census Bureau, TIGER/Line 2010 census tracts of a state",
            "STATE (FIPS code or postal code, e.g. 12 or FL)",
            "census",
            "/geo/tiger/TIGER2010/TRACT/2010/tl_2010_{arg}_tract10.zip",
            "tl_2010_{arg}_tract10.zip",
            "public domain",
            "US Census Bureau, TIGER/Line 2010 census tracts",
            "--areas FILE (with --le-format usaleep)",
        ),
        Source(
            "usaleep",
            "CDC/NCHS U.S. Small-area Life Expectancy Estimates Project (USALEEP), 2010-2015, of a state",
            "STATE (postal code, e.g. FL, or US for every state)",
            "cdc",
            "/pub/Health_Statistics/NCHS/Datasets/NVSS/USALEEP/CSV/{arg}_A.CSV",
            "{arg}_A.CSV",
            "public domain",
            "CDC National Center for Health Statistics, USALEEP, 2010 to 2015",
            "--le FILE --le-format usaleep",
        ),
        Source(
            "msoa-boundaries",
            "Office for National Statistics, MSOA 2011 boundaries of England and Wales (generalised, clipped)",
            "",
            "ons_arcgis",
            "/MSOA_Dec_2011_Boundaries_Generalised_Clipped_BGC_EW_V3_2022/FeatureServer/0/query",
            "msoa2011_bgc_england_wales.geojson",
            f"{OGL}; contains OS data © Crown copyright and database right",
            "Office for National Statistics, MSOA 2011 boundaries (generalised, clipped), England and Wales",
            "--areas FILE (with --le-format ons-msoa)",
            "the GeoJSON download of 'MSOA (Dec 2011) Boundaries Generalised Clipped BGC EW V3' from the ONS Open "
            "Geography Portal, https://geoportal.statistics.gov.uk,",
        ),
        Source(
            "ons-le-msoa",
            "Office for National Statistics, life expectancy at birth by MSOA, England, 2009 to 2013",
            "",
            "ons",
            "/file?uri=/peoplepopulationandcommunity/healthandsocialcare/healthandlifeexpectancies/datasets/"
            "lifeexpectancyleandhealthylifeexpectancyhleatbirthbysexformiddlelayersuperoutputareasmsoasinengland/"
            "current/hlereferencetable2_tcm77-417533.xls",
            "ons_le_hle_msoa_england_2009_2013.xls",
            f"{OGL}; Crown copyright 2015",
            "Office for National Statistics, life expectancy and healthy life expectancy at birth by MSOA, England, "
            "2009 to 2013",
            "--le FILE --le-format ons-msoa --sex male",
        ),
        Source(
            "osm-walk",
            "an OpenStreetMap walking network of a place (osmnx graph_from_place)",
            "PLACE (e.g. 'Tampa, Florida, USA')",
            "",
            "",
            "{arg}.graphml",
            "Open Database Licence (ODbL); © OpenStreetMap contributors",
            "OpenStreetMap walking network",
            "--method network --network FILE",
        ),
    )
}
"""Every source :func:`fetch` knows, by name."""

STATES = dict(
    AL="01", AK="02", AZ="04", AR="05", CA="06", CO="08", CT="09", DE="10", DC="11", FL="12", GA="13", HI="15",
    ID="16", IL="17", IN="18", IA="19", KS="20", KY="21", LA="22", ME="23", MD="24", MA="25", MI="26", MN="27",
    MS="28", MO="29", MT="30", NE="31", NV="32", NH="33", NJ="34", NM="35", NY="36", NC="37", ND="38", OH="39",
    OK="40", OR="41", PA="42", RI="44", SC="45", SD="46", TN="47", TX="48", UT="49", VT="50", VA="51", WA="53",
    WV="54", WI="55", WY="56", PR="72",
)  # fmt: skip
"""US states (and DC, Puerto Rico): postal code -> FIPS code."""

PAGE = 2000
"""Features asked for at once from an ArcGIS feature service (its usual maximum)."""

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Fetched:
    """A source in the cache.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    name, arg, url : str
        The source, its argument, and where it came from.
    sha256 : str
        The file's SHA-256 checksum.
    bytes : int
    licence, credit : str
    fetched : str
        The date it was downloaded (or recorded, when put there by hand), ISO 8601.
    cached : bool
        Whether this call found it in the cache (no download).
    """

    path: Path
    name: str
    arg: str
    url: str
    sha256: str
    bytes: int
    licence: str
    credit: str
    fetched: str
    cached: bool = False


def cache_dir(cache: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``cache``, else ``$GRADIENT_CACHE``, else ``data/raw/fetched`` (of the working folder)."""
    return Path(cache or os.environ.get("GRADIENT_CACHE") or "data/raw/fetched")


def base_url(key: str) -> str:
    """A publisher's base URL: ``$GRADIENT_<KEY>_URL`` if set, else :data:`BASE_URLS`' (no trailing slash)."""
    return os.environ.get(f"GRADIENT_{key.upper()}_URL", BASE_URLS[key]).rstrip("/")


def fetch(
    name: str,
    arg: str = "",
    *,
    cache: str | os.PathLike[str] | None = None,
    url: str | None = None,
    force: bool = False,
    timeout: float = 60.0,
) -> Fetched:
    """Download an official source by name into the cache, once, and record its checksum and licence.

    Parameters
    ----------
    name : str
        One of :data:`SOURCES`: ``gtfs``, ``tracts``, ``usaleep``, ``msoa-boundaries``,
        ``ons-le-msoa``, ``osm-walk``.
    arg : str
        The source's argument: a feed's address or Mobility Database id (``gtfs``), a
        state (``tracts``: FIPS or postal code; ``usaleep``: postal code or ``US``), a
        place (``osm-walk``); none for the others.
    cache : str or Path, optional
        The cache folder (see :func:`cache_dir`). Files go in ``<cache>/<name>/``, the
        record in ``<cache>/manifest.json``.
    url : str, optional
        The whole address instead of the known one (a mirror, or a source that moved).
    force : bool, default False
        Download again even if the cache has it.
    timeout : float, default 60
        Seconds to wait for the server.

    Returns
    -------
    Fetched
        The cached file, its address, checksum, licence and credit. ``cached`` is True
        when nothing was downloaded: the file was recorded before (and its checksum
        still matches), or was put there by hand (then checked and recorded now).

    Raises
    ------
    FetchError
        If the name or argument is unknown (the message lists the valid ones), the
        server cannot be reached (the message says what to download, from where and
        where to put it), answers with an error, or a cached file no longer matches its
        checksum (download it again with ``force=True``).

    Examples
    --------
    >>> import gradient
    >>> tracts = gradient.fetch("tracts", "FL")  # doctest: +SKIP
    >>> tracts.path  # doctest: +SKIP
    PosixPath('data/raw/fetched/tracts/tl_2010_12_tract10.zip')
    """
    source, arg, address = resolve(name, arg, url)
    folder = cache_dir(cache)
    target = folder / source.name / source.file.format(arg=_file_stem(arg))
    records = _read_manifest(folder)
    key = target.relative_to(folder).as_posix()
    if target.is_file() and not force:
        return _from_cache(target, key, records, folder, source, arg, address)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.name == "osm-walk":
        _osm_walk(arg, target, source)
    elif source.name == "msoa-boundaries" and url is None:
        _arcgis(address, target, timeout, source)
    else:
        _download(address, target, timeout, source)
    done = _record(target, key, records, folder, source, arg, address)
    log.info("%s %s: %s (%d bytes, sha256 %s)", name, arg, target, done.bytes, done.sha256)
    return done


def resolve(name: str, arg: str = "", url: str | None = None) -> tuple[Source, str, str]:
    """A source, its argument as the publisher spells it, and its address.

    Raises
    ------
    FetchError
        If the name is unknown, or the argument is missing or not one the source takes.
    """
    if name not in SOURCES:
        raise FetchError(f"no source named {name!r}; choose one of {', '.join(SOURCES)}", param="name")
    source = SOURCES[name]
    arg = str(arg or "").strip()
    if source.arg and not arg:
        raise FetchError(f"{name} needs an argument: {source.arg}", param="arg")
    if not source.arg and arg:
        raise FetchError(f"{name} takes no argument (got {arg!r})", param="arg")
    if name == "tracts":
        fips = STATES.get(arg.upper(), arg.zfill(2) if arg.isdigit() else "")
        if fips not in STATES.values():
            raise FetchError(f"{arg!r} is not a US state's FIPS or postal code (e.g. 12 or FL)", param="arg")
        arg = fips
    elif name == "usaleep":
        code = arg.upper()
        by_fips = {v: k for k, v in STATES.items()}
        code = by_fips.get(code.zfill(2), code) if code.isdigit() else code
        if code != "US" and code not in STATES:
            raise FetchError(f"{arg!r} is not a US state's postal code (e.g. FL) or US", param="arg")
        arg = code
    elif name == "gtfs" and url is None and not re.fullmatch(r"mdb-\d+", arg):
        if not re.match(r"https?://", arg):
            raise FetchError(
                f"{arg!r} is neither a feed's address (http:// or https://) nor a Mobility Database id (mdb-1234)",
                param="arg",
            )
        return source, arg, arg
    if url is not None:
        return source, arg, url
    if name == "osm-walk":
        return source, arg, f"osmnx.graph_from_place({arg!r}, network_type='walk')"
    return source, arg, base_url(source.base) + source.path.format(arg=arg)


def _file_stem(arg: str) -> str:
    """A file name for an argument: as is where it is a safe name, else made safe and told apart by a hash."""
    if not arg:
        return ""
    from .schema import safe_name

    stem = re.sub(r"\.zip$", "", urllib.parse.urlparse(arg).path.rsplit("/", 1)[-1] if "://" in arg else arg)
    if safe_name(stem) == stem and "://" not in arg:
        return stem
    return f"{safe_name(stem, 40)}-{hashlib.sha1(arg.encode()).hexdigest()[:8]}"


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("files", {})
    except (json.JSONDecodeError, AttributeError) as exc:
        raise FetchError(f"the cache's record is damaged ({exc}); remove it and fetch again", path) from exc


def _write_manifest(folder: Path, records: dict) -> None:
    from ._files import write_atomic

    text = json.dumps({"gradient": __version__, "files": records}, indent=2, ensure_ascii=False, sort_keys=True)
    write_atomic(folder / MANIFEST, text + "\n")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _from_cache(target: Path, key: str, records: dict, folder: Path, source: Source, arg: str, url: str) -> Fetched:
    """The cached file, checked against its record; a file put there by hand is recorded now."""
    record = records.get(key)
    if record is None:
        log.info("%s was put in the cache by hand: recorded now", target)
        done = _record(target, key, records, folder, source, arg, url, by_hand=True)
        return Fetched(**{**asdict(done), "cached": True})
    digest = _sha256(target)
    if digest != record["sha256"]:
        raise FetchError(
            f"no longer matches the checksum recorded when it was fetched (sha256 {record['sha256'][:12]}…, now "
            f"{digest[:12]}…); fetch it again with --force",
            target,
        )
    fields = ("name", "arg", "url", "sha256", "bytes", "licence", "credit", "fetched")
    return Fetched(path=target, **{k: record[k] for k in fields}, cached=True)


def _record(
    target: Path, key: str, records: dict, folder: Path, source: Source, arg: str, url: str, by_hand: bool = False
) -> Fetched:
    credit = source.credit + (f" ({url})" if source.name == "gtfs" else "")
    done = Fetched(
        path=target,
        name=source.name,
        arg=arg,
        url=url,
        sha256=_sha256(target),
        bytes=target.stat().st_size,
        licence=source.licence,
        credit=credit,
        fetched=date.today().isoformat(),
    )
    entry = {k: v for k, v in asdict(done).items() if k not in ("path", "cached")}
    if by_hand:
        entry["note"] = "put in the cache by hand; recorded by gradient fetch"
    records[key] = entry
    _write_manifest(folder, records)
    return done


def _offline(url: str, target: Path, reason: object, manual: str = "") -> FetchError:
    host = urllib.parse.urlparse(url).netloc or url
    return FetchError(
        f"cannot reach {host} ({reason}): download {manual or url} yourself and put it at {target}, then run this "
        "again (the file is checked and recorded as if fetched)"
    )


def _open(url: str, timeout: float, target: Path, manual: str = ""):
    import urllib.error  # with http.client and ssl: only a download needs them
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": f"gradient/{__version__}"})
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (addresses are http(s) by construction)
    except urllib.error.HTTPError as exc:
        raise FetchError(
            f"{url} answered {exc.code} {exc.reason}; the source may have moved: give its address with --url "
            f"(or put the file at {target})"
        ) from exc
    except (urllib.error.URLError, socket.timeout, ConnectionError) as exc:
        raise _offline(url, target, getattr(exc, "reason", exc), manual) from exc


def _download(url: str, target: Path, timeout: float, source: Source) -> None:
    """Stream ``url`` to ``target``: to a temporary file beside it, renamed when complete."""
    if not re.match(r"https?://", url):
        raise FetchError(f"{url!r} is not an http:// or https:// address", param="url")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, _open(url, timeout, target) as response:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
        if os.path.getsize(tmp) == 0:
            raise FetchError(f"{url} sent an empty file; try again later, or give another address with --url")
        os.replace(tmp, target)
    except OSError as exc:  # the connection dropped while reading
        raise _offline(url, target, exc) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _arcgis(url: str, target: Path, timeout: float, source: Source) -> None:
    """Every feature of an ArcGIS feature service layer as one GeoJSON file, asked for a page at a time."""
    from ._files import write_atomic

    features: list = []
    while True:
        query = {
            "where": "1=1",
            "outFields": "MSOA11CD,MSOA11NM",
            "outSR": "4326",
            "f": "geojson",
            "orderByFields": "MSOA11CD",
            "resultOffset": str(len(features)),
            "resultRecordCount": str(PAGE),
        }
        page_url = f"{url}?{urllib.parse.urlencode(query)}"
        with _open(page_url, timeout, target, source.manual) as response:
            try:
                page = json.loads(response.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise FetchError(f"{url} did not answer with GeoJSON ({exc}); give another address with --url") from exc
        if "error" in page:
            raise FetchError(f"{url} answered {page['error']}; the source may have moved: give its address with --url")
        got = page.get("features", [])
        features += got
        more = page.get("exceededTransferLimit") or page.get("properties", {}).get("exceededTransferLimit")
        if not got or (not more and len(got) < PAGE):
            break
    if not features:
        raise FetchError(f"{url} answered with no features; give another address with --url")
    write_atomic(target, json.dumps({"type": "FeatureCollection", "features": features}))


def _osm_walk(place: str, target: Path, source: Source) -> None:
    """A place's OpenStreetMap walking network, by osmnx, saved as GraphML."""
    try:
        import osmnx as ox
    except ImportError as exc:  # pragma: no cover (a dependency)
        raise FetchError("osm-walk needs osmnx: pip install osmnx") from exc
    try:
        graph = ox.graph_from_place(place, network_type="walk")
    except Exception as exc:  # osmnx raises requests', its own and ValueError types: all mean "could not get it"
        raise FetchError(
            f"cannot get the walking network of {place!r} from OpenStreetMap ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160]}); where there is internet run this again, or save one with "
            f"osmnx.save_graphml(osmnx.graph_from_place({place!r}, network_type='walk'), {str(target)!r})"
        ) from exc
    tmp = target.with_name(f".{target.name}.part")
    ox.save_graphml(graph, tmp)
    os.replace(tmp, target)


def describe(done: Fetched) -> str:
    """One line saying what a fetch gave and how to use it."""
    how = "from the cache" if done.cached else f"downloaded from {done.url}"
    size = f"{done.bytes / 1e6:.1f} MB" if done.bytes >= 1e5 else f"{done.bytes:,} bytes"
    use = SOURCES[done.name].use.replace("FILE", str(done.path))
    return f"{done.path} ({size}, sha256 {done.sha256[:12]}…) {how}; licence: {done.licence}; use: {use}"


__all__ = ["BASE_URLS", "Fetched", "SOURCES", "Source", "STATES", "base_url", "cache_dir", "describe", "fetch"]
