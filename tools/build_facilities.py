"""Build the 五角场 study's `facilities` layer from Geofabrik POIs, by the catalogue's kinds.

    python tools/build_facilities.py                 # data/studies/wujiaochang/facilities.geojson
    python tools/build_facilities.py --refresh /work/shared/data   # re-copy the POIs first

Input: `tools/data/wujiaochang_pois.geojson`, a copy kept in the project of the Geofabrik POIs
(© OpenStreetMap contributors, ODbL 1.0) within 200 m of the 五角场 export's bounds, with
their `fclass` and name; polygons (Geofabrik `pois_a`) as their representative point with
their area. `--refresh FOLDER` remakes that copy from FOLDER/yangpu/yangpu_huangpu_osm_layers.gpkg.

Each POI becomes a catalogue category by the table FCLASS_RULES below (docs/catalogue.md
shows it): an `fclass`, a name rule, a category — or none (left out, with the reason).
The layer is validated and written with geo.layers.store.write_layer; running it twice gives
the same file.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.catalogue import CATALOGUE, CATEGORIES  # noqa: E402
from geo.layers.store import write_layer  # noqa: E402

POIS = ROOT / "tools" / "data" / "wujiaochang_pois.geojson"
OUT = ROOT / "data" / "studies" / "wujiaochang"
GPKG = Path("yangpu") / "yangpu_huangpu_osm_layers.gpkg"
#: The 五角场 export's bounds (data/studies/wujiaochang/README.md) and the margin kept around
#: them, as tools/build_wujiaochang.py keeps facilities.
BOUNDS = (121.4852, 31.2904, 121.5196, 31.3102)
MARGIN_M = 200.0
CREDIT = "© OpenStreetMap contributors, ODbL"


@dataclass(frozen=True)
class Rule:
    """A Geofabrik ``fclass`` whose names match ``keep`` (and not ``drop``) → ``category``."""

    fclass: str
    category: str | None
    keep: str = ""
    drop: str = ""
    why: str = ""


#: The fclass → category table, first matching rule wins (docs/catalogue.md lists it).
FCLASS_RULES = (
    Rule("kindergarten", "kindergarten"),
    Rule("school", "primary_school", keep="小学", why="小学 in the name (小学部 too)"),
    Rule(
        "school",
        "middle_school",
        keep="中学|初级中学",
        drop="国际部|进修",
        why="中学 in the name: OSM cannot tell 初中 from 高中, so senior schools count too",
    ),
    Rule("school", None, why="no 小学/中学 in the name: colleges, dormitory gates, 进修学校"),
    Rule("market_place", "market"),
    Rule("supermarket", None, keep="", drop="", why="placeholder, replaced below"),
    Rule("community_centre", "culture_centre", keep="文化", why="文化 in the name"),
    Rule("community_centre", None, why="youth or elderly clubs, unnamed: not culture centres"),
    Rule("sports_centre", "sports_ground"),
    Rule("stadium", "sports_ground"),
    Rule("swimming_pool", "sports_ground"),
    Rule("park", "park"),
    Rule(
        "library",
        "library",
        drop="大学|学院|文科|理科|英贤",
        why="university libraries (大学, 文科/理科图书馆, 英贤图书馆) are not open to residents",
    ),
    Rule("pharmacy", "pharmacy"),
)
#: Supermarkets count as 菜市场或生鲜超市 (GB 50180's words) unless a convenience chain.
_CONVENIENCE = "全家|罗森|7-?11|7-Eleven|好德|可的|快客|喜士多|便利"
FCLASS_RULES = tuple(
    Rule("supermarket", "market", drop=_CONVENIENCE,
         why="a supermarket sells fresh food (生鲜超市); convenience chains do not")
    if r.fclass == "supermarket" else r for r in FCLASS_RULES
)  # fmt: skip
#: Names for OSM features without one (the layer needs a name).
UNNAMED = {
    "park": "未命名公园绿地 / unnamed green space",
    "sports_ground": "未命名运动场地 / unnamed sports ground",
}


def category_of(fclass: str, name: str | None) -> str | None:
    """The catalogue category of a POI, or None when the table leaves it out."""
    text = name or ""
    for rule in FCLASS_RULES:
        if rule.fclass != fclass:
            continue
        if rule.keep and not re.search(rule.keep, text):
            continue
        if rule.drop and re.search(rule.drop, text):
            continue
        if rule.category is not None and not name and rule.category not in UNNAMED:
            return None  # a kindergarten or school without a name cannot be told apart
        return rule.category
    return None


def refresh(folder: Path) -> None:
    """Copy the POIs near 五角场 from the Geofabrik layers into ``POIS``."""
    gpkg = folder / GPKG
    box = gpd.GeoSeries([shapely.box(*BOUNDS)], crs="EPSG:4326").to_crs(32651)
    wide = box.buffer(MARGIN_M, join_style="mitre").to_crs("EPSG:4326").iloc[0].envelope
    frames = []
    for layer in ("pois", "pois_a"):
        frame = gpd.read_file(gpkg, layer=layer).to_crs("EPSG:4326")
        metric = frame.geometry.to_crs(32651)
        frame["area_m2"] = metric.area.round(0) if layer == "pois_a" else None
        frame["geometry"] = frame.geometry.representative_point()
        frame["source"] = layer
        frames.append(frame[frame.geometry.within(wide)])
    both = pd.concat(frames, ignore_index=True)
    keep = both["fclass"].isin({r.fclass for r in FCLASS_RULES})
    both = both[keep].sort_values(["source", "osm_id"])
    out = gpd.GeoDataFrame(
        both[["osm_id", "fclass", "name", "source", "area_m2"]],
        geometry=both.geometry,
        crs="EPSG:4326",
    )
    POIS.parent.mkdir(parents=True, exist_ok=True)
    out.to_file(POIS, driver="GeoJSON", COORDINATE_PRECISION=7)
    print(f"copied {len(out)} POIs to {POIS.relative_to(ROOT)}")


def build(pois: Path = POIS) -> gpd.GeoDataFrame:
    """The ``facilities`` layer from the POI copy."""
    raw = gpd.read_file(pois)
    rows = []
    for row in raw.sort_values(["source", "osm_id"]).itertuples():
        name = row.name if isinstance(row.name, str) and row.name.strip() else None
        category = category_of(row.fclass, name)
        if category is None:
            continue
        area = float(row.area_m2) if pd.notna(row.area_m2) else None
        rows.append(
            {
                "id": f"wjc-fa-{row.osm_id}",
                "name": name or UNNAMED[category],
                "category": category,
                "floor_area_m2": area if category in ("park", "sports_ground") else None,
                "note": f"OpenStreetMap（Geofabrik {row.source}, fclass {row.fclass}, osm_id "
                f"{row.osm_id}）{CREDIT}",
                "geometry": row.geometry,
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    # a school mapped both as a point and as its grounds is one school: keep the grounds
    # (pois_a sorts after pois, so keep the last of each category and name)
    named = ~frame["name"].isin(UNNAMED.values())
    repeated = frame.duplicated(["category", "name"], keep="last") & named
    return frame[~repeated].set_index("id", drop=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refresh", type=Path, help="re-copy the POIs from this data folder")
    parser.add_argument("--out", type=Path, default=OUT, help="the study folder")
    args = parser.parse_args(argv)
    if args.refresh:
        refresh(args.refresh)
    frame = build()
    write_layer(frame, "facilities", args.out)
    counts = frame["category"].value_counts()
    for key in CATEGORIES:
        print(f"{CATALOGUE[key].zh:12s} {key:16s} {int(counts.get(key, 0)):3d}")
    print(f"{len(frame)} facilities → {args.out / 'facilities.geojson'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
