"""Walking networks cached on disk: built once, read back in a fraction of the time.

`load_network` is `geo.network.readers.read_network` remembered in an ``.npz`` under the
settings' cache folder (``$LIFECIRCLE_CACHE``, else ``~/.cache/lifecircle``) until the source
file changes.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.atomic import atomic_write_bytes
from geo.errors import NetworkError, SourceReadError
from geo.network.graph import WalkNetwork
from geo.network.quality import join_near_misses
from geo.network.readers import read_network
from geo.settings import current

__all__ = ["NETWORK_CACHE_VERSION", "default_cache_dir", "load_network"]

logger = logging.getLogger(__name__)

#: Bumped whenever the way networks are built changes, so that older caches are rebuilt.
#: 3: edges keep their level (``edge_level``) and the tag values guessed at; ``.osm`` files
#: leave out squares' outlines (``area=yes``).
NETWORK_CACHE_VERSION = 3


def default_cache_dir() -> Path:
    """The settings' cache folder: ``$LIFECIRCLE_CACHE``, else ``~/.cache/lifecircle``.

    Never inside the package, which may be installed read-only.

    Returns
    -------
    pathlib.Path
        With ``~`` expanded; it may not exist yet.
    """
    return Path(current().cache).expanduser()


def load_network(
    path: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    layer: str | None = None,
    join_within: float | None = None,
) -> WalkNetwork:
    """`read_network`, remembered on disk until the source file changes.

    The cache entry (an ``.npz`` of arrays, geometries as coordinates, no pickle) is named
    after the source's absolute path and stamped with its size, modification time and
    `NETWORK_CACHE_VERSION`; a stale or unreadable entry is rebuilt, logged at INFO. Entries
    are written atomically; a cache that cannot be written is logged and skipped.

    Parameters
    ----------
    path : path-like
        The street network file, any kind `read_network` reads.
    cache_dir : path-like, optional
        Where the entries are kept (default: `default_cache_dir`).
    layer : str, optional
        The GeoPackage layer, as in `read_network`; part of the entry's name.
    join_within : float, optional
        Join near misses up to this many metres after reading (or loading) the network
        (`geo.network.quality.join_near_misses`); the cache keeps the network as read.

    Returns
    -------
    WalkNetwork
        From the cache when its entry is fresh, else built by `read_network`.

    Raises
    ------
    SourceReadError
        The file does not exist, or (as in `read_network`) cannot be read.
    NetworkError
        As `read_network`: the file holds no usable streets.
    """
    source = Path(path).expanduser().resolve()
    try:
        stat = source.stat()
    except OSError as exc:
        raise SourceReadError(f"找不到路网文件 / street network file not found: {source}") from exc
    stamp = f"{source}|{layer}|{stat.st_size}|{stat.st_mtime_ns}|v{NETWORK_CACHE_VERSION}"
    key = hashlib.sha256(f"{source}|{layer}".encode()).hexdigest()[:16]
    entry = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    entry = entry / f"network-{source.stem}-{key}.npz"

    net = _read_cache(entry, stamp)
    if net is None:
        net = read_network(source, layer=layer)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(entry, _cache_bytes(net, stamp))
        except OSError as exc:
            logger.warning("network cache %s not written: %s", entry, exc)
    if join_within is not None:
        net, _ = join_near_misses(net, join_within)
    return net


def _cache_bytes(net: WalkNetwork, stamp: str) -> bytes:
    arrays: dict[str, Any] = {
        "stamp": np.array(stamp),
        "crs": np.array(net.crs.to_wkt()),
        "source": np.array(net.source),
        "node_x": net.node_x,
        "node_y": net.node_y,
        "edge_u": net.edge_u,
        "edge_v": net.edge_v,
        "edge_length": net.edge_length,
    }
    if net.__dict__["_edge_geometry"] is not None:  # straight lines are rebuilt, not stored
        # Coordinates, not WKB: decoding 1.3 M WKB blobs from one buffer needs a Python-level
        # split per edge and took 3.5 s here, against 1.5 s for this vectorised round trip.
        xy, owner = shapely.get_coordinates(net.edge_geometry, return_index=True)
        arrays |= {"geometry_xy": xy, "geometry_edge": owner}
    if net.edge_level is not None:
        arrays["edge_level"] = net.edge_level
    if net.unknown_tags:
        tags, values, counts = zip(*net.unknown_tags, strict=True)
        arrays |= {
            "unknown_tag": np.asarray(tags, dtype=str),
            "unknown_value": np.asarray(values, dtype=str),
            "unknown_count": np.asarray(counts, dtype=np.int64),
        }
    if net.name is not None:
        codes, values = pd.factorize(pd.Series(net.name, dtype=object), use_na_sentinel=True)
        arrays |= {"name_code": codes.astype(np.int64), "name_value": np.asarray(values, dtype=str)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _read_cache(entry: Path, stamp: str) -> WalkNetwork | None:
    if not entry.exists():
        return None
    try:
        with np.load(entry, allow_pickle=False) as cached:
            if str(cached["stamp"]) != stamp:
                logger.info("network cache %s is stale; rebuilding", entry)
                return None
            geometry = None
            if "geometry_xy" in cached:
                geometry = shapely.linestrings(
                    cached["geometry_xy"], indices=cached["geometry_edge"]
                )
            names = None
            if "name_code" in cached:
                values = np.append(cached["name_value"].astype(object), [None])
                names = values[cached["name_code"]]  # code -1 picks the appended None
            unknown: tuple[tuple[str, str, int], ...] = ()
            if "unknown_tag" in cached:
                unknown = tuple(
                    (str(tag), str(value), int(count))
                    for tag, value, count in zip(
                        cached["unknown_tag"], cached["unknown_value"], cached["unknown_count"],
                        strict=True,
                    )
                )  # fmt: skip
            return WalkNetwork.from_edges(
                cached["edge_u"],
                cached["edge_v"],
                cached["edge_length"],
                cached["node_x"],
                cached["node_y"],
                pyproj.CRS.from_wkt(str(cached["crs"])),
                edge_geometry=geometry,
                source=str(cached["source"]),
                name=names,
                edge_level=cached.get("edge_level"),
                unknown_tags=unknown,
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, NetworkError) as exc:
        logger.info("network cache %s is unreadable (%s); rebuilding", entry, exc)
        return None
