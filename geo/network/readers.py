"""Reading street networks from files: the reader is chosen by the file name.

`read_network` reads line layers through `geo.network.lines.from_lines`, OpenStreetMap
extracts and osmnx GraphML through `geo.network.osm`. `fetch_network` downloads a place from
OpenStreetMap. `geo.network.cache.load_network` remembers what `read_network` built.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd

from geo.errors import SourceReadError
from geo.network.graph import WalkNetwork
from geo.network.lines import from_lines
from geo.network.quality import join_near_misses

__all__ = [
    "LINE_FORMATS",
    "OSM_XML_FORMATS",
    "fetch_network",
    "gpkg_layer",
    "layer_note",
    "read_network",
]

logger = logging.getLogger(__name__)

#: File name endings read as line layers (through pyogrio); see `read_network` for the rest.
LINE_FORMATS = (".geojson", ".json", ".gpkg", ".shp")

#: File name endings read as OpenStreetMap XML (through pyosmium, `geo.network.osmxml`).
OSM_XML_FORMATS = (".osm", ".osm.gz", ".osm.bz2")


def read_network(
    path: str | os.PathLike[str], *, layer: str | None = None, join_within: float | None = None
) -> WalkNetwork:
    """Read a street network, choosing the reader by file name.

    ``.geojson``, ``.json``, ``.gpkg``, ``.shp``: a line layer (`from_lines`; ``layer`` picks
    one of a GeoPackage's layers). ``.osm.pbf``: an OpenStreetMap extract, walkable ways only
    (`geo.network.osm.read_osm_pbf`). ``.osm`` (also ``.osm.gz``, ``.osm.bz2``): OpenStreetMap
    XML such as an openstreetmap.org Export (`geo.network.osmxml.read_osm_xml`).
    ``.graphml``: an osmnx GraphML file (`geo.network.osm.read_graphml`).

    Parameters
    ----------
    path : path-like
        The street network file.
    layer : str, optional
        Which layer of a GeoPackage (default: the first, see `gpkg_layer`); ignored for
        other kinds (a GeoJSON or shapefile holds one layer).
    join_within : float, optional
        Join near misses up to this many metres (`geo.network.quality.join_near_misses`),
        whatever the kind of file; default: join none.

    Returns
    -------
    WalkNetwork
        In the UTM zone of the data, lengths in metres.

    Raises
    ------
    SourceReadError
        The file does not exist, has an ending not listed above, or cannot be read; a
        GeoPackage has no layer ``layer`` (the message lists those it has).
    NetworkError
        The file holds no usable streets: no CRS, no lines, shapes that are not lines, no
        walkable ways; or an ``.osm.pbf`` without pyrosm installed.
    """
    net = _read(Path(path).expanduser(), layer)
    if join_within is not None:
        net, _ = join_near_misses(net, join_within)
    return net


def _read(source: Path, wanted: str | None) -> WalkNetwork:
    if not source.is_file():
        raise SourceReadError(f"找不到路网文件 / street network file not found: {source}")
    lowered = source.name.lower()
    if lowered.endswith(".pbf"):
        from geo.network.osm import read_osm_pbf  # networkx and pyrosm load only when used

        return read_osm_pbf(source)
    if lowered.endswith(OSM_XML_FORMATS):
        from geo.network.osmxml import read_osm_xml  # pyosmium loads only when used

        return read_osm_xml(source)
    if lowered.endswith(".graphml"):
        from geo.network.osm import read_graphml

        return read_graphml(source)
    if not lowered.endswith(LINE_FORMATS):
        raise SourceReadError(
            f"不支持的路网格式 / unsupported street network format: {source.name}; use "
            f"{', '.join(LINE_FORMATS)}, .osm, .osm.pbf or .graphml"
        )
    from pyogrio.errors import DataLayerError, DataSourceError

    layer: str | None = None
    if lowered.endswith(".gpkg"):
        layer, layers = gpkg_layer(source, wanted)
        if wanted is None and len(layers) > 1:
            logger.info("%s: %d layers, read the first, %r", source, len(layers), layer)
    try:  # a layer named explicitly, so pyogrio does not warn that it took the first
        frame = gpd.read_file(source, layer=layer)
    except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
        raise SourceReadError(f"无法读取路网文件 / cannot read {source}: {exc}") from exc
    return from_lines(frame, source=str(source) + (f" ({layer})" if layer else ""))


def gpkg_layer(path: str | os.PathLike[str], wanted: str | None = None) -> tuple[str, list[str]]:
    """Which layer of a GeoPackage `read_network` reads, and the layers it has.

    Parameters
    ----------
    path : path-like
        The ``.gpkg`` file.
    wanted : str, optional
        The layer asked for (``--layer``); default: the first.

    Returns
    -------
    layer : str
        ``wanted``, or the first layer when it is None.
    layers : list of str
        Every layer of the file, in its order.

    Raises
    ------
    SourceReadError
        The file cannot be read, has no layers, or has no layer ``wanted``: the message
        lists the layers it has.
    """
    import pyogrio
    from pyogrio.errors import DataSourceError

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except (DataSourceError, OSError, RuntimeError) as exc:
        raise SourceReadError(f"无法读取路网文件 / cannot read {path}: {exc}") from exc
    if not layers:
        raise SourceReadError(f"GeoPackage 中没有图层 / {path} has no layers")
    if wanted is not None and wanted not in layers:
        raise SourceReadError(
            f"{path}: 没有图层 '{wanted}' / no layer '{wanted}'; "
            f"可用 / available: {', '.join(layers)}"
        )
    return wanted or layers[0], layers


def layer_note(path: str | os.PathLike[str], layer: str | None = None) -> str | None:
    """A bilingual note on the layer `read_network` reads, for ``lifecircle network info``.

    Parameters
    ----------
    path : path-like
        The street network file.
    layer : str, optional
        The layer asked for (``--layer``).

    Returns
    -------
    str or None
        For a GeoPackage of several layers and no ``layer``: which layer is read and which
        others there are; for a file that is not a GeoPackage and a ``layer``: that it is
        ignored; else None.

    Raises
    ------
    SourceReadError
        A GeoPackage without the layer ``layer`` (the message lists those it has), or one
        that cannot be read.
    """
    name = Path(path).name
    if not name.lower().endswith(".gpkg"):
        if layer is None:
            return None
        return (
            f"提示 / note: --layer 只用于 GeoPackage，已忽略 / --layer applies to GeoPackages "
            f"only; ignored for {name}"
        )
    chosen, layers = gpkg_layer(path, layer)
    if layer is not None or len(layers) == 1:
        return None
    others = ", ".join(other for other in layers if other != chosen)
    return (
        f"提示 / note: {name} 有 {len(layers)} 个图层，已取第一个 '{chosen}'，其余：{others}；"
        f"用 --layer 选择 / {name} has {len(layers)} layers; read the first, '{chosen}'; "
        f"the others: {others} (choose with --layer)"
    )


def fetch_network(place: str) -> WalkNetwork:
    """Download the walking network of a place from OpenStreetMap (needs osmnx and internet).

    Offline, or without osmnx, raises a bilingual `NetworkError` saying to pass an
    ``.osm.pbf`` file instead; see `geo.network.osm.fetch_place`.

    Parameters
    ----------
    place : str
        A place name as ``osmnx.graph_from_place`` takes it, e.g. ``"Yangpu, Shanghai"``.

    Returns
    -------
    WalkNetwork
        osmnx's ``walk`` network of the place, in its UTM zone.

    Raises
    ------
    NetworkError
        Without osmnx, offline, or when OpenStreetMap knows no such place.
    """
    from geo.network.osm import fetch_place

    return fetch_place(place)
