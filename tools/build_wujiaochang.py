"""Build the 五角场 study (data/studies/wujiaochang/) from real OpenStreetMap and census data.

What it makes, a lifecircle folder store (``lifecircle serve --data data/studies/wujiaochang``):

  streets.osm                  the OSM export itself: the walking network is read from it
                               with OSM's own topology (ways join where they share a node;
                               geo.network.osmxml), walkable ways only
  residential_areas.geojson    named landuse=residential outlines of the export; population,
                               elderly and households ESTIMATED from the 2020 census
  clinics.geojson              real points: Geofabrik/OSM clinics, doctors, hospitals and the
                               official 五角场社区卫生服务中心 (facts list)
  neighbor_centers.geojson     real points: named OSM community centres
  charging_points.geojson      DRAWN (OSM has no e-bike chargers here), marked in `note`
  renovation_projects.geojson  DRAWN examples, marked in `note`
  README.md                    sources, licence (ODbL), what is real / estimated / drawn, and
                               the numbers measured here

Inputs (read only here, never at run time; default folder /work/shared/data):

  INPUT/wujiaochang/wujiaochang.osm                   OSM XML export (streets, outlines,
                                                      subdistrict boundaries)
  INPUT/yangpu/yangpu_huangpu_osm_layers.gpkg         Geofabrik layers `pois`, `pois_a`
  INPUT/yangpu/yangpu_subdistrict_population_census2020.csv
  FACTS (default INPUT/../facts/yangpu_health_and_culture_centres.csv, optional)

Every layer is written with geo.layers.store.write_layer (validated, the store's GeoJSON);
the store is validated as a whole at the end and the script exits 1 on any error. Running it
twice gives the same files.

Examples:

  python tools/build_wujiaochang.py                       # rebuild the bundled study
  python tools/build_wujiaochang.py --input ~/geodata     # inputs elsewhere
  python tools/build_wujiaochang.py --out /tmp/wjc --no-readme
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.atomic import atomic_write_bytes  # noqa: E402
from geo.layers.store import validate_store, write_layer  # noqa: E402
from geo.network.osm import walkable_mask  # noqa: E402

DEFAULT_INPUT = Path("/work/shared/data")
DEFAULT_OUT = ROOT / "data" / "studies" / "wujiaochang"
OSM_FILE = Path("wujiaochang") / "wujiaochang.osm"
GPKG_FILE = Path("yangpu") / "yangpu_huangpu_osm_layers.gpkg"
CENSUS_FILE = Path("yangpu") / "yangpu_subdistrict_population_census2020.csv"
FACTS_FILE = Path("..") / "facts" / "yangpu_health_and_culture_centres.csv"

SUBDISTRICT = "五角场街道"
DISTRICT = "杨浦区"
#: Subdistricts the export reaches into, and their districts (the admin_level=6 ways of the
#: export separate 江湾镇街道 and 曲阳路街道 from Yangpu's).
DISTRICT_OF = {
    "五角场街道": "杨浦区",
    "四平路街道": "杨浦区",
    "长海路街道": "杨浦区",
    "新江湾城街道": "杨浦区",
    "曲阳路街道": "虹口区",
    "江湾镇街道": "虹口区",
}
#: Persons per household: Shanghai's 2020 census average is about 2.3–2.5; 2.5 suits family
#: housing. Households are an estimate: population / 2.5.
PERSONS_PER_HOUSEHOLD = 2.5
#: Share of residents aged 60+: 39 %, the documented figure of 长白新村街道 (Yangpu), the only
#: subdistrict share in the project's sources. 五角场 has more students and young households,
#: so this is likely high for it.
ELDERLY_SHARE = 0.39
#: Year built is unknown for every outline; the schema needs a value: a placeholder decade.
BUILT_PLACEHOLDER = "1990s"
#: Facilities are kept up to this far outside the export's bounds: its ways reach beyond it,
#: and a clinic just across the edge serves the compounds at the edge.
FACILITY_MARGIN_M = 200.0
#: How many e-bike charging points to draw.
DRAWN_CHARGERS = 8

STREET_TAGS = ("bridge", "tunnel", "layer", "foot", "access")
_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def step(message: str) -> float:
    """Print a progress line; return the time, for the next line's duration."""
    print(f"  … {message}", file=sys.stderr, flush=True)
    return time.perf_counter()


def parse_hstore(text: Any) -> dict[str, str]:
    """GDAL's `other_tags` ('"k"=>"v","k2"=>"v2"', quotes and backslashes escaped) as a dict."""
    if not isinstance(text, str):
        return {}

    def unescape(value: str) -> str:
        return re.sub(r"\\(.)", r"\1", value)

    return {unescape(k): unescape(v) for k, v in _HSTORE.findall(text)}


def read_osm(path: Path, layer: str) -> gpd.GeoDataFrame:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's OSM driver warns about its layer order
        return gpd.read_file(path, layer=layer)


# --- streets ------------------------------------------------------------------------------


def streets(osm: Path) -> gpd.GeoDataFrame:
    lines = read_osm(osm, "lines")
    lines = lines[lines["highway"].notna()].copy()
    tags = lines["other_tags"].map(parse_hstore)
    for tag in STREET_TAGS:
        lines[tag] = tags.map(lambda t, tag=tag: t.get(tag))
    keep = walkable_mask(lines["highway"], lines["foot"], lines["access"])
    lines = lines[keep].copy()
    lines["osm_id"] = lines["osm_id"].astype("int64")
    lines = lines.sort_values("osm_id").reset_index(drop=True)
    lines["id"] = [f"wjc-st-{i:04d}" for i in range(1, len(lines) + 1)]
    columns = ["id", "osm_id", "name", "highway", *STREET_TAGS, "geometry"]
    return gpd.GeoDataFrame(lines[columns], geometry="geometry", crs="EPSG:4326")


def write_streets(osm: Path, out: Path) -> None:
    """The export as the store's streets: read with its node ids, a crossing without a
    shared node stays a crossing (a line layer would be noded wherever lines cross)."""
    atomic_write_bytes(out / "streets.osm", osm.read_bytes())
    (out / "streets.geojson").unlink(missing_ok=True)  # an older build's line layer


# --- subdistricts from the export's boundary ways ------------------------------------------


def subdistrict_faces(osm: Path, extent: shapely.Polygon) -> list[tuple[shapely.Polygon, Any]]:
    """The export's area cut by its admin_level=8 boundary ways, each piece with its name.

    A piece gets the one subdistrict all its boundary ways belong to (OSM relations). Where
    the boundary leaves the export a piece can border two subdistricts: then its name is a
    dict way → the subdistrict across that way from the named neighbour, and a point takes
    the one of its nearest way.
    """
    root = ET.parse(osm).getroot()
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    names: dict[str, set[str]] = {}
    for rel in root.iter("relation"):
        tags = {t.get("k"): t.get("v") for t in rel.iter("tag")}
        if tags.get("boundary") == "administrative" and tags.get("admin_level") == "8":
            for member in rel.iter("member"):
                if member.get("type") == "way":
                    names.setdefault(member.get("ref"), set()).add(tags.get("name", ""))
    lines = {}
    for way in root.iter("way"):
        if way.get("id") in names:
            coords = [nodes[nd.get("ref")] for nd in way.iter("nd") if nd.get("ref") in nodes]
            if len(coords) >= 2:
                lines[way.get("id")] = shapely.LineString(coords)
    net = shapely.union_all([extent.exterior, *lines.values()])
    faces = list(shapely.get_parts(shapely.polygonize([net])))
    touching = [
        [w for w, line in lines.items() if face.boundary.intersection(line).length > 1e-9]
        for face in faces
    ]
    # faces bounded by more ways first: a closed subdistrict claims its name before a
    # leftover corner that borders it
    order = sorted(range(len(faces)), key=lambda i: -len(touching[i]))
    named: dict[int, Any] = {}
    claimed: set[str] = set()
    for i in order:
        common = set.intersection(*(names[w] for w in touching[i])) if touching[i] else set()
        if len(common) == 1 and not (common & claimed):
            named[i] = common.pop()
            claimed.add(named[i])
    for i in order:
        if i in named:
            continue
        across = {}
        for w in touching[i]:
            others = names[w] - {
                n for j, n in named.items() if isinstance(n, str) and w in touching[j]
            }
            if len(others) == 1:
                across[w] = (lines[w], next(iter(others)))
        named[i] = across
    return [(faces[i], named[i]) for i in range(len(faces))]


def subdistrict_of(points: gpd.GeoSeries, faces: list[tuple[shapely.Polygon, Any]]) -> list[str]:
    found = []
    for point in points:
        # outside the export (a compound reaching past its edge): the nearest piece
        _face, name = min(faces, key=lambda pair: pair[0].distance(point))
        if isinstance(name, dict):
            name = min(name.values(), key=lambda pair: pair[0].distance(point))[1] if name else None
        found.append(name or SUBDISTRICT)
    return found


# --- compounds ----------------------------------------------------------------------------


def compounds(osm: Path, census: Path, faces: list) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    polygons = read_osm(osm, "multipolygons")
    polygons = polygons[(polygons["landuse"] == "residential") & polygons["name"].notna()].copy()
    polygons["osm"] = np.where(
        polygons["osm_way_id"].notna(),
        "way " + polygons["osm_way_id"].astype("string").str.replace(r"\.0$", "", regex=True),
        "relation " + polygons["osm_id"].astype("string").str.replace(r"\.0$", "", regex=True),
    )
    polygons["key"] = polygons["osm_way_id"].fillna(polygons["osm_id"]).astype("int64")
    polygons = polygons.sort_values(["name", "key"]).reset_index(drop=True)
    polygons["geometry"] = shapely.make_valid(polygons.geometry.to_numpy())
    metric = polygons.geometry.to_crs(polygons.estimate_utm_crs())
    area = metric.area.to_numpy()
    points = polygons.geometry.representative_point()
    polygons["subdistrict"] = subdistrict_of(points, faces)
    polygons["district"] = polygons["subdistrict"].map(DISTRICT_OF).fillna(DISTRICT)

    table = pd.read_csv(census, dtype={"subdistrict_code": str})
    total = int(
        table.loc[table["subdistrict_name"] == SUBDISTRICT, "resident_population_2020"].iloc[0]
    )
    # The export covers most of 五角场街道 and edges of four neighbours: its census total is
    # taken as the study's, shared by footprint (largest remainder, so the sum is exact).
    density = total / area.sum()
    share = area * density
    population = np.floor(share).astype(int)
    order = np.argsort(-(share - population), kind="stable")
    population[order[: total - population.sum()]] += 1
    elderly = np.round(population * ELDERLY_SHARE).astype(int)
    households = np.round(population / PERSONS_PER_HOUSEHOLD).astype(int)
    note = (
        f"轮廓：OpenStreetMap {{osm}}（© OpenStreetMap contributors, ODbL）。人口为估算："
        f"五角场街道七普常住人口 {total:,} 人按占地面积分摊到研究区全部 {len(area)} 个有名称的小区"
        f"（{density * 1e4:,.0f} 人/公顷）；户数 = 人口 ÷ {PERSONS_PER_HOUSEHOLD}；60岁以上 = 人口 × "
        f"{ELDERLY_SHARE:.0%}（借用长白新村街道的比例）；建成年代未知（{BUILT_PLACEHOLDER} 为占位值），"
        f"房屋性质未知（其他）。 / Outline: OpenStreetMap {{osm}}. Numbers are ESTIMATES: the 2020 "
        f"census total of 五角场街道 ({total:,}) shared by footprint area over all {len(area)} named "
        f"compounds of the study ({density * 1e4:,.0f} residents/ha); households = population / "
        f"{PERSONS_PER_HOUSEHOLD}; aged 60+ = {ELDERLY_SHARE:.0%} (长白新村's share); year built "
        f"unknown ({BUILT_PLACEHOLDER} is a placeholder); tenure unknown (其他)."
    )
    notes = [note.format(osm=osm_ref) for osm_ref in polygons["osm"]]
    frame = gpd.GeoDataFrame(
        {
            "id": [f"wjc-ra-{i:03d}" for i in range(1, len(polygons) + 1)],
            "name": polygons["name"].str.strip().to_numpy(),
            "subdistrict": polygons["subdistrict"].to_numpy(),
            "district": polygons["district"].to_numpy(),
            "households": households,
            "population": population,
            "elderly": elderly,
            "built": BUILT_PLACEHOLDER,
            "tenure": "其他",
            "note": notes,
        },
        geometry=polygons.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    facts = {
        "census_total": total,
        "density_per_ha": density * 1e4,
        "footprint_ha": float(area.sum() / 1e4),
        "by_subdistrict": frame.groupby("subdistrict").size().to_dict(),
    }
    return frame, facts


# --- facilities ---------------------------------------------------------------------------


def osm_points(gpkg: Path, bounds: shapely.Polygon) -> gpd.GeoDataFrame:
    points = gpd.read_file(gpkg, layer="pois")
    areas = gpd.read_file(gpkg, layer="pois_a")
    areas["geometry"] = areas.geometry.representative_point()
    points["source"] = "pois"
    areas["source"] = "pois_a"
    both = pd.concat([points, areas], ignore_index=True)
    both = gpd.GeoDataFrame(both, geometry="geometry", crs=points.crs).to_crs("EPSG:4326")
    return both[both.geometry.within(bounds)].copy()


def clinic_level(name: str, fclass: str) -> tuple[str, str]:
    """The schema's level for an OSM facility, and a note when it is only the nearest value."""
    if "社区卫生服务中心" in name:
        return "community_health_centre", ""
    if "卫生服务站" in name or name.endswith("站"):
        return "station", ""
    if fclass == "hospital":
        return "hospital", ""
    return (
        "station",
        "门诊部/诊所，schema 无此级别，按 station 记 / an outpatient clinic, recorded as station",
    )


def clinics(
    pois: gpd.GeoDataFrame, facts: Path | None, bounds: shapely.Polygon, faces: list
) -> gpd.GeoDataFrame:
    rows = []
    found = pois[pois["fclass"].isin(["clinic", "doctors", "hospital"]) & pois["name"].notna()]
    for row in found.sort_values("osm_id").itertuples():
        level, why = clinic_level(row.name, row.fclass)
        kind = "way/relation" if row.source == "pois_a" else "node"
        rows.append(
            {
                "name": row.name,
                "level": level,
                "subdistrict": subdistrict_of([row.geometry], faces)[0],
                "note": f"OpenStreetMap（Geofabrik {row.source}, fclass {row.fclass}, osm_id "
                f"{row.osm_id}, {kind}）© OpenStreetMap contributors, ODbL"
                + (f"；{why}" if why else ""),
                "geometry": row.geometry,
            }
        )
    if facts is not None and facts.exists():
        table = pd.read_csv(facts)
        table = table[table["kind"] == "community_health_centre"]
        for row in table.itertuples():
            point = shapely.Point(row.lon_wgs84, row.lat_wgs84)
            if not bounds.contains(point) or any(r["name"] == row.name for r in rows):
                continue
            rows.append(
                {
                    "name": row.name,
                    "level": "community_health_centre",
                    "beds": None if pd.isna(row.licensed_beds) else int(row.licensed_beds),
                    "subdistrict": row.subdistrict,
                    "address": row.address,
                    "district": DISTRICT,
                    "note": "杨浦区官方名单，门牌地址地理编码（WGS-84）/ Yangpu's official list, "
                    "geocoded from its address",
                    "geometry": point,
                }
            )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    frame["district"] = frame["subdistrict"].map(DISTRICT_OF)
    frame.insert(0, "id", [f"wjc-cl-{i:02d}" for i in range(1, len(frame) + 1)])
    return frame


def neighbor_centers(pois: gpd.GeoDataFrame, faces: list) -> gpd.GeoDataFrame:
    found = pois[(pois["fclass"] == "community_centre") & pois["name"].notna()]
    # a district youth centre (青少年活动中心) is not a neighbourhood hub
    found = found[~found["name"].str.contains("青少年")]
    rows = [
        {
            "name": row.name,
            "subdistrict": subdistrict_of([row.geometry], faces)[0],
            "kind": "centre",
            "health_station": False,
            "note": f"OpenStreetMap（Geofabrik {row.source}, osm_id {row.osm_id}）© OpenStreetMap "
            "contributors, ODbL；是否内设卫生站点未知，记为否 / health station unknown: false",
            "geometry": row.geometry,
        }
        for row in found.sort_values("osm_id").itertuples()
    ]
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    frame["district"] = frame["subdistrict"].map(DISTRICT_OF)
    frame.insert(0, "id", [f"wjc-nc-{i:02d}" for i in range(1, len(frame) + 1)])
    return frame


DRAWN = "示意，非真实数据 / DRAWN for illustration, not real data"


def charging_points(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """E-bike charging points drawn inside every n-th 五角场 compound (by id)."""
    own = areas[areas["subdistrict"] == SUBDISTRICT]
    step_ = max(1, len(own) // DRAWN_CHARGERS)
    chosen = own.iloc[::step_].head(DRAWN_CHARGERS)
    frame = gpd.GeoDataFrame(
        {
            "id": [f"wjc-cp-{i:02d}" for i in range(1, len(chosen) + 1)],
            "name": [f"{name}电动自行车充电点（示意）" for name in chosen["name"]],
            "vehicle": "ebike",
            "ports": 10,
            "status": "operating",
            "residential_area_id": chosen["id"].to_numpy(),
            "subdistrict": SUBDISTRICT,
            "district": DISTRICT,
            "note": DRAWN,
        },
        geometry=chosen.geometry.representative_point().to_numpy(),
        crs="EPSG:4326",
    )
    return frame


def renovation_projects(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Three drawn examples at three stages, in compounds picked by name."""
    wanted = [
        ("第一宿舍", "elevator_retrofit", "加装电梯（示意）", "under_construction", "2023-09-01"),
        ("第四宿舍", "elevator_retrofit", "加装电梯（示意）", "consultation", None),
        ("国顺小区", "bike_shed", "智能车棚（示意）", "completed", "2023-03-01"),
    ]
    rows = []
    for part, kind, what, status, start in wanted:
        hits = areas[areas["name"].str.contains(part) & (areas["subdistrict"] == SUBDISTRICT)]
        if not len(hits):
            continue
        area = hits.iloc[0]
        rows.append(
            {
                "name": f"{area['name']}{what}",
                "kind": kind,
                "status": status,
                "start": start,
                "residential_area_id": area["id"],
                "subdistrict": SUBDISTRICT,
                "district": DISTRICT,
                "note": DRAWN,
                "geometry": area.geometry.representative_point(),
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    frame.insert(0, "id", [f"wjc-rp-{i:02d}" for i in range(1, len(frame) + 1)])
    return frame


# --- measuring ----------------------------------------------------------------------------


def measure(out: Path) -> dict[str, Any]:
    """The numbers the README states, measured on the written store as a user would load it."""
    from geo.analysis.coverage import analyze_areas, area_origins, summarize
    from geo.analysis.params import WalkParams
    from geo.analysis.study import Study
    from geo.network.graph import components_report

    with tempfile.TemporaryDirectory() as cache:
        study = Study.load(out, cache_dir=Path(cache))
    assert study.network is not None
    report = components_report(study.network)
    areas = study.layers["residential_areas"]
    found: dict[str, Any] = {
        "nodes": report["nodes"],
        "edges": report["edges"],
        "km": round(report["km"], 1),
        "pieces": report["n_components"],
        "largest_share": round(report["largest_share"], 3),
        "areas_unreached": int((~area_origins(study, areas).reached(len(areas))).sum()),
    }
    for profile in ("standard", "elderly"):
        result = analyze_areas(study, WalkParams.parse(profile))
        summary = summarize(areas, result)
        overall = summary[summary["subdistrict"] == "全部 / all"].set_index("type")
        found[profile] = {
            kind: {
                "areas": int(overall.at[kind, "areas_covered"]),
                "share_areas": float(overall.at[kind, "share_areas"]),
                "share_population": float(overall.at[kind, "share_population"]),
            }
            for kind in overall.index
        }
    return found


README = """\
# 五角场 study · 五角场研究区

A real study area, **五角场** (杨浦区) around 国定路/政通路/邯郸路 and Fudan's 邯郸 campus,
bounds {bounds}. Serve it with `make run` (or `lifecircle serve --data
data/studies/wujiaochang`); analyse it with `lifecircle analyze --data data/studies/wujiaochang`.
Rebuild it with `python tools/build_wujiaochang.py` (inputs: `/work/shared/data`, `--input` to
change; `--help` says what it reads). The numbers below are measured by that script.

## 许可 / Licence

Streets, compound outlines, clinics, neighbour centres and the other facilities come from **OpenStreetMap: © OpenStreetMap
contributors, ODbL 1.0** (<https://www.openstreetmap.org/copyright>): the osm.org export
`wujiaochang.osm` (newest element 2023-11-05) and Geofabrik's free Shanghai layers
(2026-03-29). This folder is a database derived from them and is offered under the **Open
Database License 1.0**; credit "© OpenStreetMap contributors" wherever you show it (the
dashboard does). Population: **杨浦区第七次全国人口普查公报** (2020). The 五角场社区卫生服务中心
position: Yangpu's official list of community health service centres, geocoded from its address.

## 真实 / 估算 / 示意 · Real, estimated, drawn

| file | features | what it is |
|---|---|---|
| `streets.osm` | {ways} walkable ways | **real** (OSM): the export itself, read as a walking network with OSM's own topology (`geo.network.osmxml`: ways join where they share a node, so a footway crossing a road or a tunnel without a shared node is no junction; pedestrian-area outlines `area=yes` are left out) and its walkable ways only (`geo.network.osm.walkable_mask`: no trunk/motorway, no `foot=no`, no `access=private/no` unless `foot` allows). Walking network: **{nodes:,} nodes, {edges:,} edges, {km} km, {pieces} pieces** (the largest holds {largest:.1%} of the length). |
| `residential_areas.geojson` | {areas} | **real outlines**: the named `landuse=residential` polygons of the export ({unnamed} unnamed ones are left out). Subdistrict from the export's own boundary ways (admin_level 8): {by_sub}. **Estimated**: population — the export covers most of 五角场街道 and edges of its neighbours, so 五角场街道's 2020 census total ({census:,}) is taken as the study's and shared by footprint area over all {areas} compounds ({footprint:.0f} ha of footprint, i.e. {density:,.0f} residents/ha); total {population:,}. Households = population ÷ {pph}; aged 60+ = {elderly:.0%} of population, the documented share of 长白新村街道 (Yangpu) — likely high for 五角场 with its students and young households. Year built unknown: `built` is a placeholder `{built}`; tenure unknown: `其他`. Each feature's `note` says so. No gates (`entrances`): walks start at the streets touching each compound. Caveats: OSM maps only part of the compounds (and students on campus are in the census total), so per-compound numbers are likely over-estimates; read them as relative weights, not counts. |
| `clinics.geojson` | {clinics} | **real**: OSM clinics/doctors/hospitals within {margin:.0f} m of the bounds ({osm_clinics}), and 五角场社区卫生服务中心 (武东路9号, 110 beds) from Yangpu's official list ({facts_clinics}). Level from the name: 社区卫生服务中心 → community_health_centre, …站 → station, hospitals → hospital, a 门诊部 → station (noted). |
| `neighbor_centers.geojson` | {centres} | **real**: named OSM community centres ({centre_names}); a district youth centre and unnamed ones are left out. OSM lists none of 五角场's 睦邻中心, so this layer is thin: add them with `lifecircle import`. |
| `charging_points.geojson` | {chargers} | **drawn**: OSM has no e-bike chargers here; {chargers} e-bike points inside every n-th 五角场 compound, each `note`d as drawn. |
| `renovation_projects.geojson` | {projects} | **drawn** examples (elevator retrofits, a smart bike shed), `note`d as drawn. |
| `facilities.geojson` | 66 | **real**: Geofabrik/OSM POIs as the catalogue's other kinds (kindergartens 5, primary schools 9, middle schools 9, markets 4, culture centre 1, sports grounds 3, parks 34, library 1), made by `tools/build_facilities.py` from a copy of the POIs kept in `tools/data/` by the `fclass` → category table of [docs/catalogue.md](../../../docs/catalogue.md); each `note` credits OSM (ODbL). OSM has no 长者食堂, day care, 党群服务站 or pharmacy here. Not rebuilt by this script. |

## 覆盖 / Coverage (measured)

Share of compounds (and of estimated residents) within the thresholds — clinics and neighbour
centres 15 min, charging points 5 min:

| type | standard walker 4.0 km/h | elderly walker 3.0 km/h |
|---|---|---|
{coverage}

Compounds no street reaches: {unreached}.
"""


def write_readme(out: Path, values: dict[str, Any]) -> None:
    atomic_write_bytes(out / "README.md", README.format(**values).encode("utf-8"))


# --- main -----------------------------------------------------------------------------------


def build(input_dir: Path, out: Path, facts: Path | None, readme: bool) -> int:
    osm, gpkg, census = input_dir / OSM_FILE, input_dir / GPKG_FILE, input_dir / CENSUS_FILE
    missing = [p for p in (osm, gpkg, census) if not p.exists()]
    if missing:
        print("缺少输入文件 / missing inputs: " + ", ".join(map(str, missing)), file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"五角场 study: {input_dir} → {out}", file=sys.stderr)

    step("1/7 streets: walkable OSM ways")
    lines = streets(osm)  # the walkable ways, counted for the README
    write_streets(osm, out)

    step("2/7 subdistrict boundaries of the export")
    root_bounds = ET.parse(osm).getroot().find("bounds")
    assert root_bounds is not None
    bbox = tuple(float(root_bounds.get(k)) for k in ("minlon", "minlat", "maxlon", "maxlat"))
    bounds = shapely.box(*bbox)
    metric = gpd.GeoSeries([bounds], crs="EPSG:4326").to_crs(32651)
    wide = gpd.GeoSeries(metric.buffer(FACILITY_MARGIN_M, join_style="mitre"), crs=32651)
    facility_bounds = wide.to_crs("EPSG:4326").iloc[0].envelope
    # the boundary ways run past the export's edge, so its bounds close every piece
    faces = subdistrict_faces(osm, bounds)
    outlines = read_osm(osm, "multipolygons")
    residential = outlines[outlines["landuse"] == "residential"]

    step("3/7 residential areas: named outlines, census estimates")
    areas, area_facts = compounds(osm, census, faces)
    write_layer(areas, "residential_areas", out)

    step("4/7 clinics and neighbour centres: OSM points and the official list")
    pois = osm_points(gpkg, facility_bounds)
    facts_path = facts if facts is not None else (input_dir / FACTS_FILE)
    clinic_frame = clinics(pois, facts_path, facility_bounds, faces)
    centres = neighbor_centers(pois, faces)
    write_layer(clinic_frame, "clinics", out)
    write_layer(centres, "neighbor_centers", out)

    step("5/7 drawn charging points and renovation projects")
    chargers = charging_points(areas)
    projects = renovation_projects(areas)
    write_layer(chargers, "charging_points", out)
    write_layer(projects, "renovation_projects", out)

    step("6/7 validating the store")
    problems = validate_store(out)
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        print(f"    {problem}", file=sys.stderr)
    if errors:
        print(f"校验失败 / {len(errors)} error(s): the study is not valid", file=sys.stderr)
        return 1

    step("7/7 building the walking network and measuring coverage")
    found = measure(out)
    rows = []
    for kind, (zh, en) in (
        ("clinics", ("社区卫生服务中心/站", "clinics")),
        ("neighbor_centers", ("睦邻中心", "neighbour centres")),
        ("charging_points", ("充电桩", "charging points")),
        ("all_types", ("全部类型", "all types")),
    ):
        cells = [
            f"{found[p][kind]['areas']} compounds ({found[p][kind]['share_areas']:.0%}), "
            f"{found[p][kind]['share_population']:.0%} of residents"
            for p in ("standard", "elderly")
        ]
        rows.append(f"| {zh} {en} | {cells[0]} | {cells[1]} |")
    osm_clinics = int(clinic_frame["note"].str.startswith("OpenStreetMap").sum())
    values = {
        "bounds": f"{bbox[0]}–{bbox[2]} E, {bbox[1]}–{bbox[3]} N",
        "ways": len(lines),
        **{k: found[k] for k in ("nodes", "edges", "km", "pieces")},
        "largest": found["largest_share"],
        "areas": len(areas),
        "unnamed": int(residential["name"].isna().sum()),
        "by_sub": ", ".join(
            f"{k} {v}"
            for k, v in sorted(area_facts["by_subdistrict"].items(), key=lambda kv: -kv[1])
        ),
        "census": area_facts["census_total"],
        "footprint": area_facts["footprint_ha"],
        "density": area_facts["density_per_ha"],
        "population": int(areas["population"].sum()),
        "pph": PERSONS_PER_HOUSEHOLD,
        "elderly": ELDERLY_SHARE,
        "built": BUILT_PLACEHOLDER,
        "clinics": len(clinic_frame),
        "osm_clinics": osm_clinics,
        "facts_clinics": len(clinic_frame) - osm_clinics,
        "margin": FACILITY_MARGIN_M,
        "centres": len(centres),
        "centre_names": "、".join(centres["name"]),
        "chargers": len(chargers),
        "projects": len(projects),
        "coverage": "\n".join(rows),
        "unreached": found["areas_unreached"],
    }
    if readme:
        write_readme(out, values)
    summary = {k: v for k, v in values.items() if k not in ("coverage", "by_sub")}
    print(json.dumps({**summary, "measured": found}, ensure_ascii=False, indent=1, default=str))
    print(f"完成 / done in {time.perf_counter() - started:.1f} s: {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/build_wujiaochang.py",
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--input",
        type=Path,
        default=DEFAULT_INPUT,
        help="folder with wujiaochang/ and yangpu/ (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="the store folder to write (default: data/studies/wujiaochang in the project)",
    )
    parser.add_argument(
        "--facts",
        type=Path,
        default=None,
        help="Yangpu's official list of health centres (default: INPUT/../facts/"
        "yangpu_health_and_culture_centres.csv; skipped when absent)",
    )
    parser.add_argument("--no-readme", action="store_true", help="do not (re)write OUT/README.md")
    args = parser.parse_args(argv)
    return build(args.input.expanduser(), args.out.expanduser(), args.facts, not args.no_readme)


if __name__ == "__main__":
    sys.exit(main())
