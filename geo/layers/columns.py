"""The coordinate columns of a CSV/XLSX table, and the CRS their headers name.

Planners' tables say in the header which system a column is in: ``经度(BD09)``,
``bd_lng``, ``lng_gcj02``, ``wgs84_lon``, ``高德经度``, ``纬度（GCJ-02）``. :func:`header_crs`
reads that; :func:`choose_columns` finds every candidate pair of columns and picks one:

1. ``--lon-col``/``--lat-col`` when given;
2. else a pair whose header says WGS-84 (``wgs84_lon``, ``经度(WGS84)``, ``gps_lat``);
3. else a pair whose header names another system it can convert exactly: GCJ-02, then
   BD-09 (a known system beats an unknown one);
4. else the pair without a system in its header (``lng``/``lat``, ``经度``/``纬度``), read
   in ``--crs`` or WGS-84 as before.

A header that names its system may have a partner that names none (``经度(GCJ02),纬度``,
``lng_gcj02,lat``): they are one pair, in the named system, unless the table also has a
complete unnamed pair or the unnamed column would serve two systems. A lon and a lat
naming different systems are never paired.

When there were several candidate pairs, a warning says which pair was used and which were
ignored, so a table with ``lng,lat`` (Baidu) and ``wgs84_lon,wgs84_lat`` is never read
silently from the wrong pair. Pure: column names in, a choice out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from geo.errors import Problem, SourceReadError

__all__ = [
    "CRS_PREFERENCE",
    "HEADER_CRS_PATTERNS",
    "CoordinateColumns",
    "choose_columns",
    "header_base",
    "header_crs",
]

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬")
PAIR_NAMES = ("location", "lnglat", "lonlat", "经纬度")  # Gaode: "121.5,31.2"
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")

#: Header text naming a CRS, matched lower-cased anywhere in a column name. A name that
#: matches patterns of two systems names none (``wgs84转bd09`` is not a header to trust).
HEADER_CRS_PATTERNS: tuple[tuple[str, str], ...] = (
    ("bd09", r"bd[-_ ]?09(?:ll)?|baidu|百度|(?<![a-z])bd(?![a-z])|^bd(?=lng|lat|lon|x|y)"),
    ("gcj02", r"gcj[-_ ]?(?:0?2)?|gaode|amap|高德|腾讯|tencent|火星"),
    ("wgs84", r"wgs[-_ ]?(?:84)?|gps|cgcs[-_ ]?(?:2000)?|epsg[:_ ]?4326|4326|4490"),
)
#: Which pair wins when a table has several: explicit WGS-84, then the systems lifecircle
#: converts exactly, then a pair whose header names no system (None).
CRS_PREFERENCE: tuple[str | None, ...] = ("wgs84", "gcj02", "bd09", None)

_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")
_SEPARATORS = " _-.:：/"
_NAMES: dict[str | None, str] = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def header_crs(name: str) -> str | None:
    """The CRS a column header names: ``wgs84``, ``gcj02``, ``bd09`` or None.

    Parameters
    ----------
    name : str
        A column header.

    Returns
    -------
    str or None
        None when the header names no system, or names two.

    Examples
    --------
    >>> [header_crs(n) for n in ("经度(BD09)", "bd_lng", "lat_gcj02", "wgs84_lon", "高德纬度")]
    ['bd09', 'bd09', 'gcj02', 'wgs84', 'gcj02']
    >>> header_crs("lng"), header_crs("纬度（GCJ-02）"), header_crs("百度经度")
    (None, 'gcj02', 'bd09')
    """
    text = str(name).strip().lower()
    found = {crs for crs, pattern in HEADER_CRS_PATTERNS if re.search(pattern, text)}
    return found.pop() if len(found) == 1 else None


def header_base(name: str) -> str:
    """A header without its CRS and bracketed parts, lower-cased: what the column holds.

    Parameters
    ----------
    name : str
        A column header.

    Returns
    -------
    str

    Examples
    --------
    >>> [header_base(n) for n in ("经度(BD09)", "bd_lng", "lng_gcj02", "WGS84_Lon", "高德纬度")]
    ['经度', 'lng', 'lng', 'lon', '纬度']
    """
    text = _BRACKETS.sub("", str(name)).strip().lower()
    for _, pattern in HEADER_CRS_PATTERNS:
        text = re.sub(pattern, "", text)
    return text.strip(_SEPARATORS)


@dataclass
class CoordinateColumns:
    """The columns a table's positions are read from, and what the header says of them.

    Parameters
    ----------
    lon, lat : str or None
        The longitude and latitude columns.
    pair : str or None
        A ``"lon,lat"`` column (Gaode's ``location``), used where lon/lat are blank.
    wkt : str or None
        A WKT column, used first where it is filled.
    crs : str or None
        ``wgs84``, ``gcj02`` or ``bd09`` when the used columns' headers name it.
    ignored : list of str
        Other coordinate columns, not read (a second pair in another system).
    notes : list of Problem
        A warning naming the pair used and the pairs ignored, when there was a choice.
    """

    lon: str | None
    lat: str | None
    pair: str | None
    wkt: str | None
    crs: str | None = None
    ignored: list[str] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def used(self) -> list[str]:
        """The columns positions are read from, in the order lon, lat, pair, wkt."""
        return [c for c in (self.lon, self.lat, self.pair, self.wkt) if c is not None]


def _best(columns: Sequence[str], names: tuple[str, ...]) -> str | None:
    return next((c for n in names for c in columns if header_base(c) == n), None)


def _forced(columns: Sequence[str], wanted: str, source: str) -> str:
    found = [c for c in columns if c.lower() == wanted.lower()]
    if not found:
        raise SourceReadError(
            f"{source}: 没有列 '{wanted}' / no column '{wanted}'; 现有列 / columns: "
            f"{', '.join(columns)}"
        )
    return found[0]


def _same_crs(columns: list[str], source: str) -> str | None:
    tags = {tag for c in columns if (tag := header_crs(c)) is not None}
    if len(tags) > 1:
        raise SourceReadError(
            f"{source}: 坐标列 {' 与 '.join(columns)} 的表头写着不同的坐标系 / the headers of "
            f"{' and '.join(columns)} name different CRSs ({', '.join(sorted(tags))}); "
            "用 --lon-col/--lat-col 选同一组 / choose one pair with --lon-col and --lat-col"
        )
    return tags.pop() if tags else None


def _pairs(columns: list[str]) -> dict[str | None, tuple[str, str]]:
    """Candidate (lon, lat) pairs by the CRS their headers name.

    A column naming a CRS whose partner names none (``经度(GCJ02)`` + ``纬度``) is paired
    with it and takes its CRS, unless the unnamed columns form a pair of their own or
    two systems would share the same unnamed column (then it is ambiguous: no pair)."""
    groups = {tag: [c for c in columns if header_crs(c) == tag] for tag in CRS_PREFERENCE}
    by_crs: dict[str | None, tuple[str, str]] = {}
    halves: dict[str | None, tuple[str, str]] = {}
    bare_lon, bare_lat = _best(groups[None], LON_NAMES), _best(groups[None], LAT_NAMES)
    for tag in CRS_PREFERENCE:
        lon, lat = _best(groups[tag], LON_NAMES), _best(groups[tag], LAT_NAMES)
        if lon is not None and lat is not None:
            by_crs[tag] = (lon, lat)
        elif tag is not None and (lon or bare_lon) and (lat or bare_lat):
            halves[tag] = (str(lon or bare_lon), str(lat or bare_lat))
    if None not in by_crs and len(halves) == 1:
        by_crs.update(halves)
    return by_crs


def choose_columns(
    columns: Sequence[str], lon_col: str | None, lat_col: str | None, source: str
) -> CoordinateColumns:
    """Pick the coordinate columns of a table and the CRS their headers name.

    Parameters
    ----------
    columns : sequence of str
        The table's headers.
    lon_col, lat_col : str or None
        ``--lon-col``/``--lat-col``; a given one is used, the other found beside it.
    source : str
        The file, for messages.

    Returns
    -------
    CoordinateColumns
        The columns, their header CRS, the ignored pairs and a note when there was a
        choice (see the module docstring for the order).

    Raises
    ------
    SourceReadError
        A forced column does not exist, the table has no coordinate columns, or the
        headers of the chosen lon and lat columns name different systems.

    Examples
    --------
    >>> chosen = choose_columns(["名称", "lng", "lat", "wgs84_lon", "wgs84_lat"], None, None, "t.csv")
    >>> chosen.lon, chosen.lat, chosen.crs, chosen.ignored
    ('wgs84_lon', 'wgs84_lat', 'wgs84', ['lng', 'lat'])
    """
    columns = list(columns)
    if lon_col is not None or lat_col is not None:
        lon = _forced(columns, lon_col, source) if lon_col is not None else None
        lat = _forced(columns, lat_col, source) if lat_col is not None else None
        tag = header_crs(lon or lat or "")
        near = [c for c in columns if header_crs(c) == tag] if tag else columns
        lon = lon or _best(near, LON_NAMES) or _best(columns, LON_NAMES)
        lat = lat or _best(near, LAT_NAMES) or _best(columns, LAT_NAMES)
        if lon is None or lat is None:
            _no_columns(columns, source)
        crs = _same_crs([c for c in (lon, lat) if c is not None], source)
        return CoordinateColumns(lon, lat, None, None, crs)

    by_crs = _pairs(columns)
    pair, wkt = _best(columns, PAIR_NAMES), _best(columns, WKT_NAMES)
    if not by_crs:
        if pair is None and wkt is None:
            _no_columns(columns, source)
        crs = _same_crs([c for c in (pair, wkt) if c is not None], source)
        return CoordinateColumns(None, None, pair, wkt, crs)
    tag = next(t for t in CRS_PREFERENCE if t in by_crs)
    lon, lat = by_crs[tag]
    others = [(t, p) for t, p in by_crs.items() if t != tag]
    # A location/WKT column in another system than the chosen pair is not read either.
    extra = [c for c in (pair, wkt) if c is not None and header_crs(c) not in (None, tag)]
    pair = pair if pair not in extra else None
    wkt = wkt if wkt not in extra else None
    ignored = [c for _, p in others for c in p] + extra
    notes = []
    if ignored:
        zh = "；".join(f"{a}/{b}（{_NAMES.get(t, '未注明坐标系')}）" for t, (a, b) in others)
        en = "; ".join(f"{a}/{b} ({_NAMES.get(t, 'CRS not named')})" for t, (a, b) in others)
        zh = "；".join(filter(None, [zh, "、".join(extra)]))
        en = "; ".join(filter(None, [en, ", ".join(extra)]))
        used = _NAMES.get(tag, "未注明坐标系"), _NAMES.get(tag, "CRS not named")
        notes.append(
            Problem(
                source,
                None,
                "crs",
                f"表中有多组坐标列：使用 {lon}/{lat}（{used[0]}），忽略 {zh} / the table has "
                f"several coordinate columns: used {lon}/{lat} ({used[1]}), ignored {en}",
                "要用另一组，用 --lon-col/--lat-col 指定（必要时加 --crs）/ to use another pair, "
                "pass --lon-col and --lat-col (and --crs if its header does not say)",
                "warning",
            )
        )
    return CoordinateColumns(lon, lat, pair, wkt, tag, ignored, notes)


def _no_columns(columns: list[str], source: str) -> None:
    raise SourceReadError(
        f"{source}: 找不到坐标列 / no coordinate columns (lon/lng/x/经度 + lat/y/纬度, "
        "location or wkt); 用 --lon-col/--lat-col 指定 / pass --lon-col and --lat-col. "
        f"现有列 / columns: {', '.join(columns)}"
    )
