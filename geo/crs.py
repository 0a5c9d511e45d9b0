"""Chinese coordinate systems: GCJ-02 (Gaode/Amap, Tencent) and BD-09 (Baidu) to WGS-84 and back.

Chinese web maps publish positions in GCJ-02, an obfuscated datum that moves points by
hundreds of metres in Shanghai, and Baidu adds a second shift on top (BD-09). lifecircle
stores WGS-84 only, so every import converts and every export to a Gaode/Baidu tool converts
back.

The forward transforms are the published formulas (Krasovsky ellipsoid, polynomial offsets
around 105°E 35°N). Their inverses have no closed form; the usual one-step approximation
(subtract the forward offset once) is off by up to a couple of metres, so the inverses here
iterate the forward transform to a residual below 1e-10° (about 0.01 mm).

As the systems define, points outside China pass through unchanged. "Outside" is the
rectangle used by the public implementations (lon 72.004–137.8347, lat 0.8293–55.8271); the
BD-09 step is applied on the same test so that a Helsinki point is never shifted by either.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from geo.errors import CRSError

__all__ = [
    "CHINESE_CRS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_geometries",
    "convert_pairs",
    "crs_label",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geometries_from_wgs84",
    "geometries_to_wgs84",
    "in_china",
    "parse_crs",
    "to_wgs84",
    "transform_geometries",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_MAX_ITERATIONS = 30
_TOLERANCE_DEG = 1e-10

#: Canonical names of the non-EPSG systems; everything else is a :class:`pyproj.CRS`.
CHINESE_CRS = ("wgs84", "gcj02", "bd09")

_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs_84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "crs84": "wgs84",
    "gps": "wgs84",
    # CGCS2000 (EPSG:4490) and WGS-84 differ by a few centimetres: far below what a
    # walking analysis can notice, so they are treated as one.
    "cgcs2000": "wgs84",
    "cgcs-2000": "wgs84",
    "epsg:4490": "wgs84",
    "4490": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "高德": "gcj02",
    "tencent": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
    "百度": "bd09",
}


def _arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), scalar


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> tuple[Any, Any]:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def in_china(lon: Any, lat: Any) -> np.ndarray:
    """True where GCJ-02/BD-09 apply (the rectangle the public implementations use).

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees (any of the three systems: the rectangle is far wider than their shifts).

    Returns
    -------
    numpy.ndarray
        Boolean, shaped like the input (a NumPy bool for scalars).

    Examples
    --------
    >>> bool(in_china(121.4737, 31.2304)), bool(in_china(24.9384, 60.1699))  # Helsinki
    (True, False)
    """
    lon, lat, _ = _arrays(lon, lat)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _offset_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    out += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return out


def _offset_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    out += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return out


def _gcj_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * math.pi)
    china = in_china(lon, lat)
    return np.where(china, lon + dlon, lon), np.where(china, lat + dlat, lat)


def _bd_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    china = in_china(lon, lat)
    return (
        np.where(china, z * np.cos(theta) + 0.0065, lon),
        np.where(china, z * np.sin(theta) + 0.006, lat),
    )


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    lon: np.ndarray,
    lat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x, y) = (lon, lat) by fixed-point iteration.

    The forward offset changes by less than 1e-5 of a degree per degree moved, so the
    iteration contracts fast: three to five steps reach 1e-10° in Shanghai.
    """
    x, y = lon.copy(), lat.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if np.all(np.abs(dx) < _TOLERANCE_DEG) and np.all(np.abs(dy) < _TOLERANCE_DEG):
            break
    return x, y


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS-84 → GCJ-02 (Gaode/Amap, Tencent).

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees in WGS-84.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        Degrees in GCJ-02; floats for scalar input. Points outside China are unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(121.4737, 31.2304)  # People's Square, Shanghai
    >>> round(lon, 6), round(lat, 6)
    (121.478223, 31.228458)
    """
    lon, lat, scalar = _arrays(lon, lat)
    return _out(*_gcj_forward(lon, lat), scalar)


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → WGS-84, exact inverse by iteration.

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees in GCJ-02.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        Degrees in WGS-84; floats for scalar input. Points outside China are unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(121.4737, 31.2304))
    >>> round(lon, 9), round(lat, 9)
    (121.4737, 31.2304)
    """
    lon, lat, scalar = _arrays(lon, lat)
    return _out(*_invert(_gcj_forward, lon, lat), scalar)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → BD-09 (Baidu).

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees in GCJ-02.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        Degrees in BD-09; floats for scalar input. Points outside China are unchanged.
    """
    lon, lat, scalar = _arrays(lon, lat)
    return _out(*_bd_forward(lon, lat), scalar)


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 → GCJ-02, exact inverse by iteration.

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees in BD-09.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        Degrees in GCJ-02; floats for scalar input. Points outside China are unchanged.
    """
    lon, lat, scalar = _arrays(lon, lat)
    return _out(*_invert(_bd_forward, lon, lat), scalar)


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS-84 → BD-09 (through GCJ-02, as Baidu defines it).

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees in WGS-84.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        Degrees in BD-09; floats for scalar input. Points outside China are unchanged.
    """
    lon, lat, scalar = _arrays(lon, lat)
    return _out(*_bd_forward(*_gcj_forward(lon, lat)), scalar)


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 → WGS-84, both steps inverted exactly.

    Parameters
    ----------
    lon, lat : float or array-like
        Degrees in BD-09.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        Degrees in WGS-84; floats for scalar input. Points outside China are unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(121.54, 31.30))
    >>> round(lon, 9), round(lat, 9)
    (121.54, 31.3)
    """
    lon, lat, scalar = _arrays(lon, lat)
    gx, gy = _invert(_bd_forward, lon, lat)
    return _out(*_invert(_gcj_forward, gx, gy), scalar)


def parse_crs(value: Any) -> str | CRS:
    """Canonical form of a CRS name: ``'wgs84'``, ``'gcj02'``, ``'bd09'`` or a pyproj CRS.

    Accepts the names above and their aliases (``gaode``, ``amap``, ``baidu``, ``cgcs2000``,
    ``EPSG:4490`` …) case-insensitively, and anything pyproj understands (``EPSG:32651``).

    Parameters
    ----------
    value : str, int, pyproj.CRS or None
        None means WGS-84.

    Returns
    -------
    str or pyproj.CRS
        One of :data:`CHINESE_CRS`, or a pyproj CRS; EPSG:4326 and EPSG:4490 (CGCS2000)
        become ``'wgs84'``.

    Raises
    ------
    CRSError
        Neither an alias nor anything pyproj can read.

    Examples
    --------
    >>> parse_crs("Gaode"), parse_crs("CGCS2000"), parse_crs("EPSG:32651").to_epsg()
    ('gcj02', 'wgs84', 32651)
    """
    if value is None:
        return "wgs84"
    if isinstance(value, CRS):
        return "wgs84" if value.to_epsg() in (4326, 4490) else value
    text = str(value).strip()
    alias = _ALIASES.get(text.lower())
    if alias:
        return alias
    try:
        crs = CRS.from_user_input(int(text) if text.isdigit() else text)
    except PyprojCRSError:
        raise CRSError(
            f"无法识别的坐标系 '{value}' / unknown CRS '{value}'. 可用 / use: wgs84, gcj02 "
            "(高德/腾讯 Gaode/Tencent), bd09 (百度 Baidu), cgcs2000, or an EPSG code such as "
            "EPSG:32651."
        ) from None
    return "wgs84" if crs.to_epsg() in (4326, 4490) else crs


@functools.lru_cache(maxsize=32)
def _transformer(source: CRS, target: CRS) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


_WGS84 = CRS.from_epsg(4326)


def to_wgs84(x: Any, y: Any, crs: Any) -> tuple[Any, Any]:
    """Coordinates in ``crs`` → WGS-84 lon/lat.

    Parameters
    ----------
    x, y : float or array-like
        Coordinates in ``crs`` (degrees, or metres for a projected EPSG system).
    crs : str or pyproj.CRS
        Anything :func:`parse_crs` accepts.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        WGS-84 degrees; floats for scalar input.

    Raises
    ------
    CRSError
        ``crs`` cannot be parsed.
    """
    parsed = parse_crs(crs)
    if parsed == "gcj02":
        return gcj02_to_wgs84(x, y)
    if parsed == "bd09":
        return bd09_to_wgs84(x, y)
    x, y, scalar = _arrays(x, y)
    if parsed == "wgs84":
        return _out(x, y, scalar)
    lon, lat = _transformer(parsed, _WGS84).transform(x, y)
    return _out(np.asarray(lon), np.asarray(lat), scalar)


def from_wgs84(lon: Any, lat: Any, crs: Any) -> tuple[Any, Any]:
    """WGS-84 lon/lat → coordinates in ``crs``.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS-84 degrees.
    crs : str or pyproj.CRS
        Anything :func:`parse_crs` accepts.

    Returns
    -------
    x, y : float or numpy.ndarray
        Coordinates in ``crs``; floats for scalar input.

    Raises
    ------
    CRSError
        ``crs`` cannot be parsed.

    Examples
    --------
    >>> x, y = from_wgs84(123.0, 0.0, "EPSG:32651")  # UTM 51N's central meridian
    >>> round(x, 3), round(y, 3)
    (500000.0, 0.0)
    """
    parsed = parse_crs(crs)
    if parsed == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if parsed == "bd09":
        return wgs84_to_bd09(lon, lat)
    lon, lat, scalar = _arrays(lon, lat)
    if parsed == "wgs84":
        return _out(lon, lat, scalar)
    x, y = _transformer(_WGS84, parsed).transform(lon, lat)
    return _out(np.asarray(x), np.asarray(y), scalar)


def transform_geometries(
    geoms: Any, func: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """Apply a vectorised ``(x, y) -> (x, y)`` function to every coordinate of many geometries.

    One call over all coordinates (``shapely.transform``), structure and holes kept.

    Parameters
    ----------
    geoms : array-like or geopandas.GeoSeries
        Shapely geometries.
    func : callable
        Takes and returns arrays of x and y.

    Returns
    -------
    numpy.ndarray
        New geometries, an object array in the input's order.
    """
    values = np.asarray(getattr(geoms, "values", geoms), dtype=object)

    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(values, apply)


def geometries_to_wgs84(geoms: Any, crs: Any) -> np.ndarray:
    """Geometries in ``crs`` → WGS-84.

    Parameters
    ----------
    geoms : array-like or geopandas.GeoSeries
        Shapely geometries in ``crs``.
    crs : str or pyproj.CRS
        Anything :func:`parse_crs` accepts.

    Returns
    -------
    numpy.ndarray
        WGS-84 geometries (object array).
    """
    return transform_geometries(geoms, lambda x, y: to_wgs84(x, y, crs))


def geometries_from_wgs84(geoms: Any, crs: Any) -> np.ndarray:
    """WGS-84 geometries → ``crs``.

    Parameters
    ----------
    geoms : array-like or geopandas.GeoSeries
        Shapely geometries in WGS-84.
    crs : str or pyproj.CRS
        Anything :func:`parse_crs` accepts.

    Returns
    -------
    numpy.ndarray
        Geometries in ``crs`` (object array).
    """
    return transform_geometries(geoms, lambda x, y: from_wgs84(x, y, crs))


def crs_label(parsed: str | CRS) -> str:
    """A short name of a parsed CRS for messages and reports: ``gcj02``, ``EPSG:32651``.

    Parameters
    ----------
    parsed : str or pyproj.CRS
        A :func:`parse_crs` result.

    Returns
    -------
    str
        The name itself, ``EPSG:<code>``, or the CRS's name when it has no EPSG code.

    Examples
    --------
    >>> crs_label(parse_crs("baidu")), crs_label(parse_crs(32651))
    ('bd09', 'EPSG:32651')
    """
    if isinstance(parsed, str):
        return parsed
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.name


def convert_geometries(geoms: np.ndarray, parsed: str | CRS, to_wgs: bool = True) -> np.ndarray:
    """Geometries from ``parsed`` (a :func:`parse_crs` result) to WGS-84, or back.

    Missing and empty geometries stay as they are; GCJ-02 and BD-09 go through the exact
    inverses of this module, EPSG systems through pyproj.

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries (object array), None where missing.
    parsed : str or pyproj.CRS
        The other CRS.
    to_wgs : bool
        True: ``parsed`` → WGS-84; False: WGS-84 → ``parsed``.

    Returns
    -------
    numpy.ndarray
        A new object array (``geoms`` itself when ``parsed`` is ``wgs84``).

    Examples
    --------
    >>> point = shapely.Point(121.5, 31.2)
    >>> there = convert_geometries(np.array([point, None]), "gcj02", to_wgs=False)
    >>> back = convert_geometries(there, "gcj02")
    >>> round(back[0].x, 9), back[1] is None
    (121.5, True)
    """
    if parsed == "wgs84":
        return geoms
    out = np.array(geoms, dtype=object)
    present = ~(shapely.is_missing(out) | shapely.is_empty(out))
    if not present.any():
        return out
    convert = geometries_to_wgs84 if to_wgs else geometries_from_wgs84
    out[present] = np.asarray(convert(out[present], parsed), dtype=object)
    return out


def convert_pairs(value: Any, parsed: str | CRS, to_wgs: bool = True) -> Any:
    """A list of ``[lon, lat]`` pairs (a compound's ``entrances``) converted like
    :func:`convert_geometries`; anything that is not such a list is returned unchanged
    (validation reports it).

    Parameters
    ----------
    value : Any
        Usually a list of ``[lon, lat]`` pairs.
    parsed : str or pyproj.CRS
        The other CRS (a :func:`parse_crs` result).
    to_wgs : bool
        True: ``parsed`` → WGS-84; False: WGS-84 → ``parsed``.

    Returns
    -------
    list of list of float, or Any
        New pairs; ``value`` itself when ``parsed`` is ``wgs84`` or ``value`` is not a
        non-empty list of numbers that form pairs.
    """
    if not isinstance(value, list) or not value or parsed == "wgs84":
        return value
    try:
        xy = np.asarray(value, dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        return value
    x, y = (to_wgs84 if to_wgs else from_wgs84)(xy[:, 0], xy[:, 1], parsed)
    return [[float(a), float(b)] for a, b in zip(np.atleast_1d(x), np.atleast_1d(y), strict=True)]
