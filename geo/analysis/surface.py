"""The accessibility surface: a square grid over the study with walking minutes in every cell.

Every cell of a square grid (100 m by default) in the study's metric CRS gets, per facility
type, the walk from its centre to the nearest facility — the walk a point query
(:meth:`~geo.analysis.study.Study.nearest`) measures from that point: the centre joins the
nearest street within the snapping limit (250 m, :mod:`geo.network.snapping`; a centre
farther than that is *unreachable*, never "far"), walks along the streets, and a facility
nearer than that street is walked to directly. Minutes are the metres at each walker's speed
(:data:`~geo.analysis.params.PROFILES`). The cells are targets of the study's one
multi-source search per type (:meth:`Study.facility_table`, the table coverage uses too),
never a search per cell.

Residents are allocated to cells from the compounds by area (dasymetric: people live in
their compound, nowhere else): a compound's population, elderly and households are split
over the cells its outline overlaps in proportion to the overlapping area, so a compound's
shares add up to its counts exactly; a compound without area (a point, a line) gives all to
the cell holding its representative point.

The grid is aligned to multiples of the cell size in the CRS (the same cells for every data
version) and spans the network and every layer. See ``docs/surface.md``.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from geo.analysis.params import PROFILES
from geo.analysis.study import Study
from geo.crs import from_wgs84
from geo.errors import QueryError
from geo.network.snapping import Snap
from geo.schema import FACILITY_LAYERS

__all__ = [
    "DEFAULT_CELL_M",
    "FORMATS",
    "MAX_CELLS",
    "NODATA",
    "Surface",
    "allocate_by_area",
    "surface",
    "surface_bytes",
    "surface_frame",
]

#: 100 m: a minute and a half's walk at 4 km/h, finer than a Shanghai block (~150–250 m).
DEFAULT_CELL_M = 100.0
#: The most cells one surface may have (a 1M-node city at 100 m has ~650,000).
MAX_CELLS = 5_000_000
#: Minutes of an unreachable cell in a GeoTIFF band.
NODATA = -9999.0
#: What :func:`surface_bytes` writes.
FORMATS = ("geojson", "gpkg", "tif")
_COUNTS = ("population", "elderly", "households")


@dataclass(frozen=True, eq=False)
class Surface:
    """A grid of cells with walks to the nearest facility of every type, and residents.

    Cells are numbered row by row from the north-west corner: cell ``i`` is at row
    ``i // ncols`` (0 = northmost), column ``i % ncols``.

    Parameters
    ----------
    crs : pyproj.CRS
        The metric CRS of the grid (the study's).
    cell_m : float
        The side of a cell, metres.
    x0, y0 : float
        The grid's west and north edges in ``crs``.
    nrows, ncols : int
        Rows and columns.
    metres : dict of str to numpy.ndarray
        Per type, float64 walking metres from each cell's centre to the nearest facility;
        NaN where the centre is unreachable (no street within the snapping limit), ``inf``
        where it is on the network but no facility of the type can be reached.
    facility : dict of str to numpy.ndarray
        Per type, int64 position of that facility in the layer, -1 where none.
    snap_m : numpy.ndarray
        Metres from each centre to the street it joins (NaN: unreachable; 0 in
        straight-line mode).
    counts : dict of str to numpy.ndarray
        ``population``, ``elderly`` and ``households`` allocated to each cell (float64).
    method : str
        ``network`` or ``straight_line``.
    """

    crs: pyproj.CRS
    cell_m: float
    x0: float
    y0: float
    nrows: int
    ncols: int
    metres: dict[str, np.ndarray]
    facility: dict[str, np.ndarray]
    snap_m: np.ndarray
    counts: dict[str, np.ndarray]
    method: str

    def __len__(self) -> int:
        return self.nrows * self.ncols

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """The cells' centres in :attr:`crs`.

        Returns
        -------
        x, y : numpy.ndarray
            float64 metres, one per cell in cell order.
        """
        col = np.tile(np.arange(self.ncols), self.nrows)
        row = np.repeat(np.arange(self.nrows), self.ncols)
        return self.x0 + (col + 0.5) * self.cell_m, self.y0 - (row + 0.5) * self.cell_m

    def minutes(self, kind: str, speed_kmh: float) -> np.ndarray:
        """Walking minutes to the nearest ``kind`` at ``speed_kmh`` (NaN where none).

        Parameters
        ----------
        kind : str
            A facility type.
        speed_kmh : float
            The walker's speed.

        Returns
        -------
        numpy.ndarray
            float64, rounded to 0.1 minute as coverage rounds.
        """
        metres = np.where(np.isfinite(self.metres[kind]), self.metres[kind], np.nan)
        return np.round(metres / (speed_kmh * 1000.0 / 60.0), 1)

    def cells_in(self, bbox: tuple[float, float, float, float] | None) -> np.ndarray:
        """The cells meeting a box given in :attr:`crs` (every cell for None).

        Parameters
        ----------
        bbox : tuple of float, optional
            ``minx, miny, maxx, maxy`` metres.

        Returns
        -------
        numpy.ndarray
            int64 cell numbers, ascending.
        """
        if bbox is None:
            return np.arange(len(self), dtype=np.int64)
        minx, miny, maxx, maxy = bbox
        c0 = max(math.floor((minx - self.x0) / self.cell_m), 0)
        c1 = min(math.floor((maxx - self.x0) / self.cell_m), self.ncols - 1)
        r0 = max(math.floor((self.y0 - maxy) / self.cell_m), 0)
        r1 = min(math.floor((self.y0 - miny) / self.cell_m), self.nrows - 1)
        if c0 > c1 or r0 > r1:
            return np.empty(0, dtype=np.int64)
        rows, cols = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij")
        return (rows * self.ncols + cols).ravel().astype(np.int64)

    def kept(self) -> np.ndarray:
        """Whether each cell is part of the study: reachable, or home to someone.

        Returns
        -------
        numpy.ndarray
            bool per cell; the vector outputs leave the others out.
        """
        return np.isfinite(self.snap_m) | (self.counts["population"] > 0)


def _extent(study: Study) -> tuple[float, float, float, float]:
    boxes = []
    if study.network is not None and study.network.n_nodes:
        net = study.network
        boxes.append((net.node_x.min(), net.node_y.min(), net.node_x.max(), net.node_y.max()))
    for frame in study.layers.values():
        if len(frame) and frame.geometry.notna().any():
            boxes.append(tuple(frame.geometry.to_crs(study.crs).total_bounds))
    box = np.array([b for b in boxes if np.isfinite(b).all()], dtype=float)
    if not len(box):
        raise QueryError("研究区没有任何数据 / the study holds no data: nothing to grid")
    return box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()


def surface(
    study: Study, cell_m: float = DEFAULT_CELL_M, types: tuple[str, ...] = FACILITY_LAYERS
) -> Surface:
    """The accessibility surface of a study: walks per cell and type, residents per cell.

    Parameters
    ----------
    study : Study
        Layers and network; its facility tables are shared with coverage (computed once).
    cell_m : float
        The side of a cell, 10–1,000 metres (default 100).
    types : tuple of str
        The facility types.

    Returns
    -------
    Surface

    Raises
    ------
    QueryError
        A cell size out of range, or more than :data:`MAX_CELLS` cells.

    Examples
    --------
    On the drawn neighbourhood (:mod:`geo.testing`): the cell whose centre is 50 m north of
    street A's 450 m mark walks 50 m to A, 50 m along it and 20 m to clinic c1 (400, 20):
    120 m, 1.8 minutes at 4 km/h and 2.4 at 3 km/h.

    >>> from geo.testing import X0, Y0, drawn_study
    >>> grid = surface(drawn_study())
    >>> i = grid.cells_in((X0 + 450, Y0 + 50, X0 + 450, Y0 + 50))[0]
    >>> round(float(grid.metres["clinics"][i]), 3), float(grid.minutes("clinics", 3.0)[i])
    (120.0, 2.4)
    """
    if not 10.0 <= cell_m <= 1000.0:
        raise QueryError(
            f"格网边长须在 10–1000 米之间 / cell size must be 10–1000 m, got {cell_m:g}"
        )
    minx, miny, maxx, maxy = _extent(study)
    x0 = math.floor(minx / cell_m) * cell_m
    y0 = math.ceil(maxy / cell_m) * cell_m
    ncols = max(math.ceil((maxx - x0) / cell_m), 1)
    nrows = max(math.ceil((y0 - miny) / cell_m), 1)
    if nrows * ncols > MAX_CELLS:
        raise QueryError(
            f"格网过大 / too many cells: {nrows:,} × {ncols:,} = {nrows * ncols:,} at {cell_m:g} m "
            f"(at most {MAX_CELLS:,}); 请用更大的格网 / use larger cells"
        )
    empty = {k: np.empty(0) for k in _COUNTS}
    grid = Surface(study.crs, float(cell_m), x0, y0, nrows, ncols, {}, {}, np.empty(0), empty,
                   study.method)  # fmt: skip
    x, y = grid.centres()
    base = study.snap(x, y, kind=None) if study.network is not None else None
    snap_m = np.where(base.ok, base.distance, np.nan) if base is not None else np.zeros(len(x))
    for kind in types:
        snap = _snap_for(study, kind, base, x, y) if base is not None else None
        metres, label, _ = study.walk_metres(x, y, kind, 1, origin_snap=snap)
        metres, label = metres[:, 0], label[:, 0]
        fx, fy = study.facility_xy(kind)
        if snap is not None:
            metres = np.where(snap.ok, metres, np.nan)
            if len(fx):  # a facility nearer than the street is walked to directly
                direct, nearest = cKDTree(np.column_stack([fx, fy])).query(np.column_stack([x, y]))
                better = snap.ok & (direct <= snap.distance) & ~(metres < direct)
                metres = np.where(better, direct, metres)
                label = np.where(better, nearest, label)
        grid.metres[kind] = metres
        grid.facility[kind] = np.where(np.isfinite(metres), label, -1).astype(np.int64)
    areas = study.layers["residential_areas"]
    values = np.column_stack(
        [pd.to_numeric(areas[c], errors="coerce").fillna(0).to_numpy(float) if c in areas
         else np.zeros(len(areas)) for c in _COUNTS]
    ) if len(areas) else np.zeros((0, len(_COUNTS)))  # fmt: skip
    metric = areas.geometry.to_crs(study.crs).to_numpy() if len(areas) else np.empty(0, object)
    allocated = allocate_by_area(grid, metric, values)
    counts = {name: allocated[:, i] for i, name in enumerate(_COUNTS)}
    return Surface(grid.crs, grid.cell_m, x0, y0, nrows, ncols, grid.metres, grid.facility,
                   snap_m, counts, study.method)  # fmt: skip


def _snap_for(study: Study, kind: str, base: Snap, x: np.ndarray, y: np.ndarray) -> Snap:
    """The cells' snap for walks to ``kind``, from their snap for any type: only cells that
    joined a piece (a small fragment) holding other types but no ``kind`` are snapped again
    (the pieces of ``kind`` are a subset, so every other cell keeps its street)."""
    pieces = study.pieces(kind)
    if pieces == study.pieces(None):
        return base
    net = study.network
    assert net is not None
    piece = net.component[net.edge_u[np.where(base.ok, base.edge, 0)]]
    off = np.flatnonzero(base.ok & ~np.isin(piece, np.asarray(pieces)))
    if not len(off):
        return base
    again = study.snap(x[off], y[off], kind=kind)
    fields = {}
    for name in ("edge", "offset", "distance", "ok", "reason"):
        values = getattr(base, name).copy()
        values[off] = getattr(again, name)
        fields[name] = values
    return Snap(**fields)


def allocate_by_area(grid: Surface, shapes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Spread each shape's values over the grid's cells in proportion to overlapping area.

    Parameters
    ----------
    grid : Surface
        The grid (only its geometry is used).
    shapes : numpy.ndarray
        Polygons in the grid's CRS, one per row of ``values`` (None or empty: nothing).
    values : numpy.ndarray
        ``(n, m)`` counts per shape.

    Returns
    -------
    numpy.ndarray
        ``(cells, m)`` float64: a shape's cells add up to its values (a shape of no area, or
        one outside the grid's overlap, gives everything to the cell of its representative
        point).

    Examples
    --------
    A 100 m grid and a 100 × 50 m compound of 300 people straddling two cells, 3:1:

    >>> grid = Surface(pyproj.CRS(32651), 100.0, 0.0, 100.0, 1, 2, {}, {}, np.zeros(2), {}, "")
    >>> allocate_by_area(grid, np.array([shapely.box(25, 0, 125, 50)]), np.array([[300.0]]))
    array([[225.],
           [ 75.]])
    """
    out = np.zeros((len(grid), values.shape[1]))
    present = np.flatnonzero(~shapely.is_missing(shapes) & ~shapely.is_empty(shapes))
    if not len(present):
        return out
    shapes, values = shapes[present], values[present]
    broken = ~shapely.is_valid(shapes)  # a self-touching outline: its area as drawn, made valid
    if broken.any():
        shapes = shapes.copy()
        shapes[broken] = shapely.make_valid(shapes[broken])
    bounds = shapely.bounds(shapes)
    c0 = np.clip(np.floor((bounds[:, 0] - grid.x0) / grid.cell_m), 0, grid.ncols - 1).astype(int)
    c1 = np.clip(np.floor((bounds[:, 2] - grid.x0) / grid.cell_m), 0, grid.ncols - 1).astype(int)
    r0 = np.clip(np.floor((grid.y0 - bounds[:, 3]) / grid.cell_m), 0, grid.nrows - 1).astype(int)
    r1 = np.clip(np.floor((grid.y0 - bounds[:, 1]) / grid.cell_m), 0, grid.nrows - 1).astype(int)
    width, height = c1 - c0 + 1, r1 - r0 + 1
    owner = np.repeat(np.arange(len(shapes)), width * height)
    start = np.repeat(np.cumsum(width * height) - width * height, width * height)
    step = np.arange(len(owner)) - start
    col = c0[owner] + step % width[owner]
    row = r0[owner] + step // width[owner]
    left, top = grid.x0 + col * grid.cell_m, grid.y0 - row * grid.cell_m
    boxes = shapely.box(left, top - grid.cell_m, left + grid.cell_m, top)
    overlap = shapely.area(shapely.intersection(shapes[owner], boxes))
    total = np.bincount(owner, weights=overlap, minlength=len(shapes))
    cell = row * grid.ncols + col
    spread = total[owner] > 0
    share = np.where(spread, overlap / np.where(spread, total[owner], 1.0), 0.0)
    for j in range(values.shape[1]):
        out[:, j] += np.bincount(cell, weights=share * values[owner, j], minlength=len(grid))
    lone = np.flatnonzero(total <= 0)
    if len(lone):
        point = shapely.point_on_surface(shapes[lone])
        col = np.clip(
            ((shapely.get_x(point) - grid.x0) // grid.cell_m).astype(int), 0, grid.ncols - 1
        )
        row = np.clip(
            ((grid.y0 - shapely.get_y(point)) // grid.cell_m).astype(int), 0, grid.nrows - 1
        )
        for j in range(values.shape[1]):
            np.add.at(out[:, j], row * grid.ncols + col, values[lone, j])
    return out


def _columns(grid: Surface, kinds: tuple[str, ...], profiles: tuple[str, ...],
             cells: np.ndarray) -> dict[str, np.ndarray]:  # fmt: skip
    columns: dict[str, np.ndarray] = {}
    for kind in kinds:
        metres = grid.metres[kind][cells]
        columns[f"{kind}_walk_m"] = np.round(np.where(np.isfinite(metres), metres, np.nan), 1)
        for name in profiles:
            columns[f"{kind}_minutes_{name}"] = grid.minutes(kind, PROFILES[name].speed_kmh)[cells]
    columns["snap_m"] = np.round(grid.snap_m[cells], 1)
    for name in _COUNTS:
        columns[name] = np.round(grid.counts[name][cells], 2)
    return columns


def _choose(types: tuple[str, ...] | None, profiles: tuple[str, ...] | None,
            grid: Surface) -> tuple[tuple[str, ...], tuple[str, ...]]:  # fmt: skip
    kinds = tuple(types) if types else tuple(grid.metres)
    for kind in kinds:
        if kind not in grid.metres:
            raise QueryError(f"没有设施类型 '{kind}' / no facility type '{kind}'; use "
                             f"{', '.join(grid.metres)}")  # fmt: skip
    walkers = tuple(profiles) if profiles else tuple(PROFILES)
    for name in walkers:
        if name not in PROFILES:
            raise QueryError(f"未知步行速度档 '{name}' / unknown walking profile '{name}'; "
                             f"use {', '.join(PROFILES)}")  # fmt: skip
    return kinds, walkers


def surface_frame(
    grid: Surface,
    types: tuple[str, ...] | None = None,
    profiles: tuple[str, ...] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    crs: str = "wgs84",
    limit: int | None = None,
) -> gpd.GeoDataFrame:
    """The cells of the study (:meth:`Surface.kept`) as square polygons with their numbers.

    Parameters
    ----------
    grid : Surface
    types : tuple of str, optional
        Facility types to include (default all).
    profiles : tuple of str, optional
        Walkers whose minutes to include (default ``standard`` and ``elderly``).
    bbox : tuple of float, optional
        Only cells meeting this WGS-84 box (``minlon, minlat, maxlon, maxlat``).
    crs : str
        ``wgs84``, ``gcj02``, ``bd09`` (labelled EPSG:4326), or ``metric``: the grid's
        own CRS, where the cells are exact squares.
    limit : int, optional
        At most this many cells (the first in cell order); ``attrs["matched"]`` says how
        many there were.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by cell number: ``row``, ``col``, per type ``T_walk_m`` and
        ``T_minutes_<walker>`` (NaN where none), ``snap_m``, ``population``, ``elderly``,
        ``households``.
    """
    kinds, walkers = _choose(types, profiles, grid)
    box = None
    if bbox is not None:
        to_metric = pyproj.Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
        box = to_metric.transform_bounds(*bbox)
    cells = grid.cells_in(box)
    cells = cells[grid.kept()[cells]]
    matched = len(cells)
    cells = cells[:limit] if limit is not None else cells
    row, col = cells // grid.ncols, cells % grid.ncols
    left, top = grid.x0 + col * grid.cell_m, grid.y0 - row * grid.cell_m
    frame = pd.DataFrame({"row": row, "col": col, **_columns(grid, kinds, walkers, cells)},
                         index=pd.Index(cells, name="cell"))  # fmt: skip
    if crs == "metric":
        squares = shapely.box(left, top - grid.cell_m, left + grid.cell_m, top)
        out = gpd.GeoDataFrame(frame, geometry=squares, crs=grid.crs)
        out.attrs["matched"] = matched
        return out
    to_wgs = pyproj.Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    xs = np.column_stack([left, left + grid.cell_m, left + grid.cell_m, left, left])
    ys = np.column_stack([top, top, top - grid.cell_m, top - grid.cell_m, top])
    lon, lat = to_wgs.transform(xs.ravel(), ys.ravel())
    if crs != "wgs84":
        lon, lat = from_wgs84(np.asarray(lon), np.asarray(lat), crs)
    rings = np.stack([np.asarray(lon), np.asarray(lat)], axis=1).reshape(len(cells), 5, 2)
    squares = shapely.polygons(rings) if len(cells) else np.empty(0, dtype=object)
    out = gpd.GeoDataFrame(frame, geometry=squares, crs="EPSG:4326")
    out.attrs["matched"] = matched
    return out


def _band_descriptions(kinds: tuple[str, ...], walkers: tuple[str, ...]) -> list[tuple[str, str]]:
    bands = [(f"{kind}_minutes_{name}", "min") for kind in kinds for name in walkers]
    return [*bands, ("population", "persons"), ("elderly", "persons")]


def _tif(grid: Surface, kinds: tuple[str, ...], walkers: tuple[str, ...],
         bbox: tuple[float, float, float, float] | None) -> bytes:  # fmt: skip
    """A GeoTIFF in the grid's CRS: one float32 band of minutes per type and walker
    (:data:`NODATA` where unreachable), then residents and elderly per cell; the rows and
    columns meeting ``bbox`` (WGS-84) only, when given."""
    import rasterio
    from affine import Affine
    from rasterio.io import MemoryFile

    rows, cols = slice(0, grid.nrows), slice(0, grid.ncols)
    if bbox is not None:
        to_metric = pyproj.Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
        cells = grid.cells_in(to_metric.transform_bounds(*bbox))
        if not len(cells):
            raise QueryError("bbox 与研究区不相交 / the bbox does not meet the study's grid")
        rows = slice(int(cells[0] // grid.ncols), int(cells[-1] // grid.ncols) + 1)
        cols = slice(int(cells[0] % grid.ncols), int(cells[-1] % grid.ncols) + 1)
    bands = _band_descriptions(kinds, walkers)
    data = [np.nan_to_num(grid.minutes(kind, PROFILES[name].speed_kmh), nan=NODATA)
            for kind in kinds for name in walkers]  # fmt: skip
    data += [grid.counts["population"], grid.counts["elderly"]]
    data = [values.reshape(grid.nrows, grid.ncols)[rows, cols] for values in data]
    x0, y0 = grid.x0 + cols.start * grid.cell_m, grid.y0 - rows.start * grid.cell_m
    profile = {"driver": "GTiff", "height": rows.stop - rows.start,
               "width": cols.stop - cols.start, "count": len(bands), "dtype": "float32",
               "crs": rasterio.crs.CRS.from_wkt(grid.crs.to_wkt()), "nodata": NODATA,
               "compress": "deflate",
               "transform": Affine(grid.cell_m, 0.0, x0, 0.0, -grid.cell_m, y0)}  # fmt: skip
    with MemoryFile() as memory:
        with memory.open(**profile) as raster:
            for i, (values, (name, unit)) in enumerate(zip(data, bands, strict=True), start=1):
                raster.write(np.asarray(values, dtype=np.float32), i)
                raster.set_band_description(i, name)
                raster.update_tags(i, units=unit)
            raster.update_tags(
                TITLE="15分钟社区生活圈可达性格网 / 15-minute life circle accessibility surface",
                CELL_M=f"{grid.cell_m:g}",
                METHOD=grid.method,
                MINUTES="从格网中心经最近道路步行到最近设施 / walk from the cell's centre via "
                "its nearest street to the nearest facility",
            )
        return bytes(memory.read())


def surface_bytes(
    grid: Surface,
    fmt: str = "geojson",
    types: tuple[str, ...] | None = None,
    profiles: tuple[str, ...] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    crs: str = "wgs84",
    limit: int | None = None,
) -> bytes:
    """The surface as a file: GeoJSON (WGS-84 polygons), GeoPackage or GeoTIFF (the grid's CRS).

    Parameters
    ----------
    grid : Surface
    fmt : {"geojson", "gpkg", "tif"}
        The format.
    types, profiles : tuple of str, optional
        As :func:`surface_frame` (default: every type, both walkers).
    bbox : tuple of float, optional
        WGS-84 box: the cells meeting it (a GeoTIFF: the rows and columns that do).
    crs : str
        GeoJSON only: ``wgs84``, ``gcj02`` or ``bd09``.
    limit : int, optional
        GeoJSON and GeoPackage: at most this many cells (``numberMatched`` says how many).

    Returns
    -------
    bytes
        GeoJSON: the cells of :func:`surface_frame` with ``cell_m``, ``method`` and
        ``crs`` members; GeoPackage: layer ``surface``, the same in the grid's CRS;
        GeoTIFF: a band per type and walker of minutes (nodata :data:`NODATA`), then
        residents and elderly.

    Raises
    ------
    QueryError
        An unknown format, type or walker.
    """
    from geo.layers.geojson import to_feature_collection
    from geo.layers.query import with_members

    kinds, walkers = _choose(types, profiles, grid)
    if fmt == "tif":
        return _tif(grid, kinds, walkers, bbox)
    if fmt == "geojson":
        frame = surface_frame(grid, kinds, walkers, bbox, crs, limit)
        members = {"cell_m": grid.cell_m, "method": grid.method, "crs_metric": grid.crs.to_string(),
                   "numberMatched": frame.attrs["matched"], "numberReturned": len(frame),
                   "speeds_kmh": {k: p.speed_kmh for k, p in PROFILES.items()}}  # fmt: skip
        if crs != "wgs84":
            members["coordinates"] = crs
        return with_members(to_feature_collection(frame.assign(id=frame.index)), **members)
    if fmt == "gpkg":
        import pyogrio

        frame = surface_frame(grid, kinds, walkers, bbox, "metric", limit).reset_index()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "surface.gpkg"
            pyogrio.write_dataframe(frame, path, layer="surface", driver="GPKG")
            return path.read_bytes()
    raise QueryError(f"不支持的格式 / unknown format '{fmt}': {', '.join(FORMATS)}")
