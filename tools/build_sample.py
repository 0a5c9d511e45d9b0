"""Build the bundled sample in ``data/layers/`` (deterministic; run from the repository root).

    python tools/build_sample.py          # write the six files
    python tools/build_sample.py --check  # only check the files on disk

The sample centres on 长白新村街道 (Yangpu). The 12 community health service centres and the
culture centres stand at their real, geocoded positions; compounds, streets and everything
else are drawn schematically around them from the subdistrict's documents. Where each value
comes from is written in ``data/layers/README.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "layers"
SEED = 15

# --- real anchors: Yangpu's official lists, geocoded (WGS-84) --------------------------------
HEALTH_CENTRES = [
    ("上海市杨浦区定海社区卫生服务中心", "爱国路77号", "定海路街道", 65, 121.548348, 31.280311),
    ("上海市杨浦区大桥社区卫生服务中心", "黄兴路300号", "大桥街道", 99, 121.525128, 31.276665),
    ("上海市杨浦区平凉社区卫生服务中心", "霍山路890号", "平凉路街道", 68, 121.518419, 31.263568),
    ("杨浦区江浦社区卫生服务中心", "许昌路1482号", "江浦路街道", 66, 121.509228, 31.272974),
    ("杨浦区控江社区卫生服务中心", "延吉西路100号", "控江路街道", 65, 121.516633, 31.282509),
    ("上海市杨浦区延吉社区卫生服务中心", "水丰路383号", "延吉新村街道", 65, 121.533038, 31.290852),
    ("杨浦区长白社区卫生服务中心", "松花江路15号", "长白新村街道", None, 121.540039, 31.299711),
    ("杨浦区四平社区卫生服务中心", "铁岭路39号", "四平路街道", 60, 121.509850, 31.279537),
    ("杨浦区殷行社区卫生服务中心", "殷行路429号", "殷行街道", 50, 121.532515, 31.330259),
    ("杨浦区五角场社区卫生服务中心", "武东路9号", "五角场街道", 110, 121.496335, 31.302919),
    ("杨浦区长海社区卫生服务中心", "营口路760号", "长海路街道", 60, 121.529176, 31.298650),
    ("杨浦区新江湾城社区卫生服务中心", "政和路107号", "新江湾城街道", 47, 121.508544, 31.327986),
]
CULTURE_CENTRES = {
    "定海路街道": (121.545265, 31.280728),
    "江浦路街道": (121.513231, 31.267589),
    "控江路街道": (121.522290, 31.279168),
    "长白新村街道": (121.539311, 31.297075),
    "殷行街道": (121.535926, 31.321838),
    "五角场街道": (121.505957, 31.295393),
    "长海路街道": (121.531409, 31.307962),
}

# --- 长白新村: documented totals ------------------------------------------------------------
CHANGBAI = "长白新村街道"
POPULATION = 71_317  # 常住人口
ELDERLY = round(0.39 * POPULATION)  # 39% aged 60+ → 27,814
HOUSEHOLDS = round(POPULATION / 2.45)  # estimate: 2.45 persons per household → 29,109
OLD_COMPOUNDS = 22  # built in the 1980s or earlier
TENURE = ["售后公房"] * 29 + ["商品房"] * 16

# Named in the documents (real compounds of 长白新村); positions are schematic.
REAL_NAMES = [
    "安图新村",
    "松延小区",
    "韵都城",
    "靖宇家园",
    "广远新村",
    "内江大楼",
    "松花大楼",
    "控江路121弄",
    "延吉东路149弄",
    "松花江路123弄",
    "军工路600弄",
    "控江路18弄",
    "延吉东路115弄",
    "松花江路95弄",
    "松花新村",
    "靖宇东路85弄",
    "长白新城",
]
# Invented to complete the 45 (road-and-lane style names of the area).
INVENTED_NAMES = [
    f"{road}{lane}弄"
    for road, lane in [
        ("图们路", 11),
        ("图们路", 55),
        ("包头南路", 20),
        ("包头南路", 66),
        ("民治路", 8),
        ("民治路", 40),
        ("敦化路", 32),
        ("敦化路", 88),
        ("延吉东路", 36),
        ("延吉东路", 210),
        ("控江路", 1500),
        ("控江路", 1650),
        ("松花江路", 2),
        ("松花江路", 250),
        ("靖宇东路", 30),
        ("靖宇东路", 160),
        ("内江路", 101),
        ("内江路", 150),
        ("安图路", 60),
        ("安图路", 99),
        ("军工路", 500),
        ("军工路", 660),
        ("长白路", 10),
        ("长白路", 90),
        ("周家嘴路", 3800),
        ("周家嘴路", 3900),
        ("图们路", 120),
        ("包头南路", 110),
    ]
]

# Schematic street grid over 长白新村 (lon 121.534–121.556, lat 31.2925–31.3055).
GRID_LON = [round(121.534 + 0.002 * i, 4) for i in range(12)]  # ~190 m apart
GRID_LAT = [round(31.2925 + 0.0013 * j, 4) for j in range(11)]  # ~145 m apart
NAMED_LON = {
    121.534: "安图路",
    121.540: "松花江路",
    121.546: "图们路",
    121.550: "包头南路",
    121.556: "军工路",
}
NAMED_LAT = {
    31.2925: "周家嘴路",
    31.2964: "控江路",
    31.2977: "延吉东路",
    31.3016: "靖宇东路",
    31.3055: "民治路",
}
# Connecting roads to the neighbouring subdistricts' centres (approximate, hand drawn).
CONNECTORS = [
    (
        "延吉东路",
        "secondary",
        [(121.4963, 31.2977), (121.5166, 31.2977), (121.5292, 31.2977), (121.534, 31.2977)],
    ),
    ("内江路", "secondary", [(121.534, 31.2925), (121.534, 31.2905), (121.534, 31.2805)]),
    (
        "长阳路",
        "primary",
        [
            (121.5092, 31.2805),
            (121.5166, 31.2805),
            (121.5252, 31.2805),
            (121.534, 31.2805),
            (121.5483, 31.2805),
        ],
    ),
    ("爱国路", "tertiary", [(121.5483, 31.2805), (121.5483, 31.2925)]),
    ("延吉西路", "tertiary", [(121.5166, 31.2805), (121.5166, 31.2977)]),
    (
        "营口路",
        "tertiary",
        [(121.5292, 31.2977), (121.5292, 31.2987), (121.5292, 31.3055), (121.534, 31.3055)],
    ),
    ("黄兴路", "secondary", [(121.5252, 31.2767), (121.5252, 31.2805)]),
    (
        "许昌路",
        "secondary",
        [(121.5092, 31.2660), (121.5092, 31.2730), (121.5092, 31.2795), (121.5092, 31.2805)],
    ),
    ("霍山路", "tertiary", [(121.5092, 31.2636), (121.5184, 31.2636), (121.5184, 31.2676)]),
    (
        "江浦路",
        "tertiary",
        [(121.5030, 31.2676), (121.5092, 31.2676), (121.5132, 31.2676), (121.5184, 31.2676)],
    ),
    ("昆明路", "tertiary", [(121.5030, 31.2730), (121.5092, 31.2730), (121.5150, 31.2730)]),
    ("铁岭路", "tertiary", [(121.5099, 31.2795), (121.5092, 31.2795)]),
    (
        "邯郸路",
        "primary",
        [(121.4963, 31.2977), (121.4963, 31.3029), (121.4963, 31.3045), (121.5060, 31.3045)],
    ),
    ("政化路", "tertiary", [(121.5060, 31.2954), (121.5060, 31.2977)]),
    ("国宾路", "secondary", [(121.5060, 31.3045), (121.5060, 31.3000), (121.5060, 31.2977)]),
    ("黄兴路", "secondary", [(121.5223, 31.2792), (121.5223, 31.2805)]),
    (
        "殷行路",
        "secondary",
        [
            (121.5292, 31.3055),
            (121.5292, 31.3080),
            (121.5314, 31.3080),
            (121.5314, 31.3210),
            (121.5325, 31.3210),
            (121.5325, 31.3303),
        ],
    ),
    ("市光路", "tertiary", [(121.5314, 31.3210), (121.5359, 31.3210), (121.5359, 31.3218)]),
    ("政和路", "secondary", [(121.5060, 31.3045), (121.5060, 31.3280), (121.5085, 31.3280)]),
]
# 打浦桥 (Huangpu): its own small network; far from Yangpu, analysed on its own.
DAPUQIAO_ROADS = [
    ("鲁班路", "primary", [(121.4640, 31.1990), (121.4640, 31.2070)]),
    ("局门路", "secondary", [(121.4720, 31.1990), (121.4720, 31.2070)]),
    ("徐家汇路", "primary", [(121.4640, 31.2070), (121.4680, 31.2070), (121.4720, 31.2070)]),
    ("丽园路", "secondary", [(121.4640, 31.1990), (121.4680, 31.1990), (121.4720, 31.1990)]),
    ("蒙自路", "tertiary", [(121.4680, 31.1990), (121.4680, 31.2030), (121.4680, 31.2070)]),
    ("", "service", [(121.4640, 31.2030), (121.4680, 31.2030), (121.4720, 31.2030)]),
]

TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
TO_LONLAT = Transformer.from_crs("EPSG:32651", "EPSG:4326", always_xy=True)


def metric(geom):
    return shapely.transform(geom, lambda c: np.column_stack(TO_METRIC.transform(*c.T)))


def lonlat(geom):
    return shapely.transform(geom, lambda c: np.column_stack(TO_LONLAT.transform(*c.T)))


def feature(props: dict, geom) -> dict:
    geom = shapely.orient_polygons(shapely.transform(geom, lambda c: np.round(c, 7)))
    props = {k: v for k, v in props.items() if v is not None}
    return {
        "type": "Feature",
        "id": props["id"],
        "geometry": json.loads(shapely.to_geojson(geom)),
        "properties": props,
    }


def write(name: str, features: list[dict]) -> None:
    features = sorted(features, key=lambda f: f["id"])
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    (OUT / f"{name}.geojson").write_text(text, encoding="utf-8")


def split_total(total: int, weights: np.ndarray) -> list[int]:
    """Integers proportional to weights that add up exactly to total (largest remainder)."""
    raw = weights / weights.sum() * total
    parts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - parts))[: total - parts.sum()]:
        parts[i] += 1
    return parts.tolist()


def streets() -> list[dict]:
    lines: list[tuple[str, str, list[tuple[float, float]]]] = []
    lat0, lat1, lon0, lon1 = GRID_LAT[0], GRID_LAT[-1], GRID_LON[0], GRID_LON[-1]
    for lon in GRID_LON:
        name = NAMED_LON.get(lon, "")
        kind = "secondary" if name else "service"
        lines.append((name, kind, [(lon, lat) for lat in GRID_LAT]))
    for lat in GRID_LAT:
        name = NAMED_LAT.get(lat, "")
        kind = "secondary" if name else "service"
        lines.append((name, kind, [(lon, lat) for lon in GRID_LON]))
    lines += CONNECTORS + DAPUQIAO_ROADS
    # Node every line at every crossing: the network builder also does this, but shipping a
    # noded file lets any GIS read it as a graph directly.
    geoms = [shapely.LineString(coords) for _, _, coords in lines]
    noded = shapely.node(shapely.MultiLineString(geoms))
    out = []
    for counter, part in enumerate(noded.geoms, start=1):
        mid = part.interpolate(0.5, normalized=True)
        source = min(range(len(geoms)), key=lambda i: geoms[i].distance(mid))
        name, kind, _ = lines[source]
        out.append(feature({"id": f"st-{counter:04d}", "name": name, "highway": kind}, part))
    assert lat0 < lat1 and lon0 < lon1
    return out


def residential_areas(rng: random.Random) -> tuple[list[dict], dict[str, tuple]]:
    cells = [(i, j) for i in range(len(GRID_LON) - 1) for j in range(len(GRID_LAT) - 1)]
    # Leave the north-east and some central cells for schools, parks, markets, the university.
    cells = [c for c in cells if not (c[0] >= 9 and c[1] >= 7)]
    chosen = sorted(rng.sample(cells, 45))
    names = REAL_NAMES + INVENTED_NAMES[: 45 - len(REAL_NAMES)]
    rng.shuffle(names)
    order = list(range(45))
    rng.shuffle(order)
    old = set(order[:OLD_COMPOUNDS])
    tenures = TENURE[:]
    rng.shuffle(tenures)
    # Old compounds are almost all 售后公房 (former public housing): swap to keep it so.
    for idx in sorted(old):
        if tenures[idx] == "商品房":
            swap = next(k for k in range(45) if k not in old and tenures[k] == "售后公房")
            tenures[idx], tenures[swap] = tenures[swap], tenures[idx]
    polys, sizes = [], []
    for i, j in chosen:
        x0, x1 = GRID_LON[i], GRID_LON[i + 1]
        y0, y1 = GRID_LAT[j], GRID_LAT[j + 1]
        box = metric(shapely.box(x0, y0, x1, y1)).buffer(-14, join_style="mitre")
        polys.append(lonlat(box))
        sizes.append(box.area * (1.4 if (chosen.index((i, j)) in old) else 1.0))
    weights = np.array(sizes)
    households = split_total(HOUSEHOLDS, weights)
    population = split_total(POPULATION, weights)
    elderly_w = weights * np.array([1.35 if k in old else 0.75 for k in range(45)])
    elderly = split_total(ELDERLY, elderly_w)
    feats, info = [], {}
    for k, poly in enumerate(polys):
        built = (
            rng.choice([1958, 1965, 1978, 1981, 1983, 1986, 1988])
            if k in old
            else (rng.choice([1994, 1997, 2001, 2005, 2010, 1992]))
        )
        ring = metric(poly).exterior
        gates = []
        n_gates = 0 if k % 7 == 3 else (1 if k % 3 else 2)
        for g in range(n_gates):
            pos = ring.interpolate((0.12 + 0.5 * g) * ring.length)
            gates.append(list(np.round(TO_LONLAT.transform(pos.x, pos.y), 7)))
        rid = f"ra-cb-{k + 1:03d}"
        info[rid] = (names[k], poly)
        feats.append(
            feature(
                {
                    "id": rid,
                    "name": names[k],
                    "subdistrict": CHANGBAI,
                    "district": "杨浦区",
                    "households": households[k],
                    "population": population[k],
                    "elderly": elderly[k],
                    "built": built,
                    "tenure": tenures[k],
                    "entrances": gates or None,
                    "storeys": 6 if k in old else rng.choice([6, 11, 18, 24]),
                    "note": None if names[k] in REAL_NAMES else "名称为示意 / invented name",
                },
                poly,
            )
        )
    feats += other_areas(info)
    return feats, info


OTHER_AREAS = [
    # id, name, subdistrict, district, households, population, elderly, built, tenure, lon, lat
    (
        "ra-wjc-001",
        "邯郸路500弄",
        "五角场街道",
        "杨浦区",
        670,
        1540,
        820,
        1962,
        "售后公房",
        121.5020,
        31.3050,
        {"buildings": 8, "storeys": 5, "floor_area_m2": 17000.0},
    ),
    (
        "ra-wjc-002",
        "邯郸路524弄",
        "五角场街道",
        "杨浦区",
        420,
        980,
        450,
        1962,
        "售后公房",
        121.5005,
        31.3052,
        {},
    ),
    (
        "ra-jp-001",
        "昆明路1268弄",
        "江浦路街道",
        "杨浦区",
        520,
        1230,
        540,
        1985,
        "售后公房",
        121.5062,
        31.2745,
        {},
    ),
    (
        "ra-jp-002",
        "飞虹路723弄",
        "江浦路街道",
        "杨浦区",
        610,
        1420,
        600,
        1988,
        "售后公房",
        121.5115,
        31.2745,
        {},
    ),
    (
        "ra-jp-003",
        "汽车公寓",
        "江浦路街道",
        "杨浦区",
        380,
        900,
        310,
        1996,
        "商品房",
        121.5130,
        31.2710,
        {},
    ),
    (
        "ra-jp-004",
        "大连路1188弄",
        "江浦路街道",
        "杨浦区",
        450,
        1050,
        380,
        1992,
        "售后公房",
        121.5062,
        31.2700,
        {},
    ),
    (
        "ra-jp-005",
        "辽源西路300弄",
        "江浦路街道",
        "杨浦区",
        330,
        760,
        330,
        1984,
        "售后公房",
        121.5115,
        31.2655,
        {},
    ),
    (
        "ra-jp-006",
        "辽源一村",
        "江浦路街道",
        "杨浦区",
        560,
        1280,
        610,
        1978,
        "售后公房",
        121.5160,
        31.2655,
        {},
    ),
    (
        "ra-dpq-001",
        "蒙西小区",
        "打浦桥街道",
        "黄浦区",
        890,
        2050,
        980,
        1984,
        "售后公房",
        121.4660,
        31.2050,
        {"storeys": 6},
    ),
    (
        "ra-dpq-002",
        "丽苑小区",
        "打浦桥街道",
        "黄浦区",
        640,
        1500,
        640,
        1995,
        "商品房",
        121.4700,
        31.2010,
        # seven storeys built before the 1999 design code required a lift from seven
        {"storeys": 7, "has_lift": False},
    ),
]


def other_areas(info: dict) -> list[dict]:
    feats = []
    for rid, name, sub, dist, hh, pop, old, built, tenure, lon, lat, extra in OTHER_AREAS:
        x, y = TO_METRIC.transform(lon, lat)
        poly = lonlat(shapely.box(x - 60, y - 45, x + 60, y + 45))
        info[rid] = (name, poly)
        feats.append(
            feature(
                {
                    "id": rid,
                    "name": name,
                    "subdistrict": sub,
                    "district": dist,
                    "households": hh,
                    "population": pop,
                    "elderly": old,
                    "built": built,
                    "tenure": tenure,
                    **extra,
                },
                poly,
            )
        )
    return feats


def point_in(poly, frac: float = 0.3) -> shapely.Point:
    x0, y0, x1, y1 = poly.bounds
    return shapely.Point(x0 + (x1 - x0) * frac, y0 + (y1 - y0) * (1 - frac))


def clinics(centres: list[dict]) -> list[dict]:
    feats = []
    for k, (name, address, sub, beds, lon, lat) in enumerate(HEALTH_CENTRES):
        feats.append(
            feature(
                {
                    "id": f"clinic-{k + 1:03d}",
                    "name": name,
                    "level": "community_health_centre",
                    "beds": beds,
                    "subdistrict": sub,
                    "address": address,
                    "district": "杨浦区",
                },
                shapely.Point(lon, lat),
            )
        )
    extra = [
        ("长白社区卫生服务站（安图）", "station", CHANGBAI, 121.5365, 31.3032),
        ("长白社区卫生服务站（军工路）", "station", CHANGBAI, 121.5538, 31.2948),
        ("江浦社区卫生服务站（辽源）", "station", "江浦路街道", 121.5138, 31.2668),
        ("五角场社区卫生服务站（国定）", "station", "五角场街道", 121.5040, 31.3040),
        ("延吉家庭医生服务站点", "family_doctor_station", "延吉新村街道", 121.5350, 31.2880),
        ("上海市第一康复医院分院", "hospital_branch", "长白新村街道", 121.5472, 31.3036),
        ("杨浦区中心医院分院", "hospital_branch", "控江路街道", 121.5210, 31.2815),
        ("打浦桥街道社区卫生服务中心", "community_health_centre", "打浦桥街道", 121.4690, 31.2040),
    ]
    for k, (name, level, sub, lon, lat) in enumerate(extra):
        district = "黄浦区" if sub == "打浦桥街道" else "杨浦区"
        feats.append(
            feature(
                {
                    "id": f"clinic-{len(HEALTH_CENTRES) + k + 1:03d}",
                    "name": name,
                    "level": level,
                    "subdistrict": sub,
                    "district": district,
                    "note": "位置为示意 / approximate position",
                },
                shapely.Point(lon, lat),
            )
        )
    for k, centre in enumerate(c for c in centres if c["properties"]["health_station"]):
        feats.append(
            feature(
                {
                    "id": f"clinic-hs-{k + 1:02d}",
                    "name": centre["properties"]["name"] + "卫生站点（健康屋）",
                    "level": "health_hut",
                    "subdistrict": CHANGBAI,
                    "district": "杨浦区",
                    "note": "设于睦邻中心内 / inside the neighbour centre",
                },
                shapely.Point(centre["geometry"]["coordinates"]),
            )
        )
    return feats


def neighbor_centers() -> list[dict]:
    rows = [
        # name, subdistrict, kind, health_station, lon, lat, floor_area
        ("长白新村街道睦邻中心（延吉东路）", CHANGBAI, "centre", True, 121.539311, 31.297075, 2600),
        ("长白新村街道睦邻中心（安图）", CHANGBAI, "centre", True, 121.5380, 31.3030, 1500),
        ("长白新村街道睦邻中心（上理）", CHANGBAI, "centre", False, 121.5500, 31.3000, 1200),
        ("长白新村街道睦邻中心（图们路）", CHANGBAI, "centre", True, 121.5460, 31.2940, 1300),
        ("长白新村街道睦邻中心（121弄）", CHANGBAI, "centre", False, 121.5420, 31.2935, 900),
        ("长白新村街道睦邻中心（民治路）", CHANGBAI, "centre", False, 121.5440, 31.3050, 800),
        ("长白新村睦邻点（松花江路）", CHANGBAI, "point", False, 121.5400, 31.3045, 150),
        ("控江路睦邻中心", "控江路街道", "centre", False, 121.522290, 31.279168, 2000),
        ("定海路街道睦邻中心", "定海路街道", "centre", False, 121.545265, 31.280728, 1800),
        ("五角场街道睦邻中心", "五角场街道", "centre", False, 121.505957, 31.295393, 1600),
        ("殷行街道睦邻中心", "殷行街道", "centre", False, 121.535926, 31.321838, 1700),
        ("江浦路街道睦邻中心", "江浦路街道", "centre", False, 121.513231, 31.267589, 1500),
    ]
    feats = []
    for k, (name, sub, kind, hs, lon, lat, area) in enumerate(rows):
        real = (lon, lat) in CULTURE_CENTRES.values()
        feats.append(
            feature(
                {
                    "id": f"nc-{k + 1:03d}",
                    "name": name,
                    "subdistrict": sub,
                    "kind": kind,
                    "health_station": hs,
                    "floor_area_m2": float(area),
                    "hours": "08:30-20:00",
                    "district": "杨浦区",
                    "note": "位于街道社区文化活动中心 / at the culture centre"
                    if real
                    else "位置为示意 / approximate position",
                },
                shapely.Point(lon, lat),
            )
        )
    return feats


def charging_points(rng: random.Random, areas: dict) -> list[dict]:
    feats, k = [], 0
    changbai = [rid for rid in areas if rid.startswith("ra-cb-")]
    for rid in changbai:
        name, poly = areas[rid]
        x0, y0, _, _ = poly.bounds
        north_east = x0 > 121.547 and y0 > 31.2990  # left without chargers: a visible gap
        if north_east or rng.random() > 0.62:
            continue
        k += 1
        status = rng.choice(["operating"] * 8 + ["planned", "under_construction"])
        feats.append(
            feature(
                {
                    "id": f"cp-{k:03d}",
                    "name": f"{name}电动自行车智能车棚",
                    "vehicle": "ebike",
                    "ports": rng.choice([10, 20, 24, 30, 40, 60]),
                    "operator": rng.choice(["街道", "物业", "星络充电"]),
                    "status": status,
                    "residential_area_id": rid,
                    "subdistrict": CHANGBAI,
                    "district": "杨浦区",
                },
                point_in(poly, 0.25),
            )
        )
    for rid in ("ra-jp-001", "ra-jp-002", "ra-jp-003"):
        name, poly = areas[rid]
        k += 1
        feats.append(
            feature(
                {
                    "id": f"cp-{k:03d}",
                    "name": f"{name}智能车棚（2023 改造）",
                    "vehicle": "ebike",
                    "ports": 30,
                    "status": "operating",
                    "residential_area_id": rid,
                    "subdistrict": "江浦路街道",
                    "district": "杨浦区",
                },
                point_in(poly, 0.25),
            )
        )
    for lon, lat, name in [
        (121.5405, 31.2964, "控江路公共充电站"),
        (121.5556, 31.2990, "军工路充电站"),
        (121.5340, 31.3000, "安图路停车场充电桩"),
    ]:
        k += 1
        feats.append(
            feature(
                {
                    "id": f"cp-{k:03d}",
                    "name": name,
                    "vehicle": "car",
                    "ports": 8,
                    "operator": "国网",
                    "status": "operating",
                    "subdistrict": CHANGBAI,
                    "district": "杨浦区",
                },
                shapely.Point(lon, lat),
            )
        )
    return feats


def renovation_projects(areas: dict) -> list[dict]:
    by_name = {name: (rid, poly) for rid, (name, poly) in areas.items()}
    feats = []

    def add(
        kind,
        status,
        compound,
        start=None,
        end=None,
        households=None,
        point=False,
        name=None,
        sub=CHANGBAI,
        district="杨浦区",
        note=None,
    ):
        rid, poly = by_name[compound]
        geom = point_in(poly, 0.6) if point else poly
        feats.append(
            feature(
                {
                    "id": f"rp-{len(feats) + 1:03d}",
                    "name": name or f"{compound}{LABEL[kind]}",
                    "kind": kind,
                    "status": status,
                    "households": households,
                    "start": start,
                    "end": end,
                    "residential_area_id": rid,
                    "subdistrict": sub,
                    "district": district,
                    "note": note,
                },
                geom,
            )
        )

    add("beautiful_homes", "completed", "军工路600弄", "2019-03-01", "2019-12-20")
    add("beautiful_homes", "under_construction", "松延小区", "2021-09-01")
    for compound, status, start, end in [
        ("控江路121弄", "completed", "2020-04-01", "2020-11-30"),
        ("安图新村", "under_construction", "2022-05-10", None),
        ("延吉东路149弄", "signed", None, None),
        ("松花江路123弄", "tendering", None, None),
        ("广远新村", "awaiting_start", None, None),
        ("松花新村", "consultation", None, None),
    ]:
        add("elevator_retrofit", status, compound, start, end, households=24, point=True)
    changbai = [name for rid, (name, _) in areas.items() if rid.startswith("ra-cb-")]
    for k, compound in enumerate(sorted(changbai)[:8]):
        add(
            "bike_shed",
            "completed" if k < 5 else "under_construction",
            compound,
            "2023-01-09",
            "2023-03-31" if k < 5 else None,
            point=True,
            note="2023年第一季度新增8个智能车棚 / 8 new smart sheds, Q1 2023",
        )
    add(
        "comprehensive_renovation",
        "signed",
        "邯郸路500弄",
        "2019-10-01",
        households=670,
        sub="五角场街道",
        note="征询同意率100% / 100% approval in consultation",
    )
    add(
        "beautiful_homes",
        "under_construction",
        "辽源一村",
        "2023-03-01",
        sub="江浦路街道",
        note="江浦路美丽家园 4.6万㎡ / 46,000 m² in 江浦路",
    )
    add(
        "bike_shed",
        "completed",
        "昆明路1268弄",
        "2023-02-01",
        "2023-04-30",
        point=True,
        sub="江浦路街道",
    )
    add(
        "redevelopment",
        "completed",
        "大连路1188弄",
        "2016-01-01",
        "2018-12-31",
        name="228街坊旧区改造",
        sub="江浦路街道",
        note="位置为示意 / approximate",
    )
    add(
        "elevator_retrofit",
        "completed",
        "蒙西小区",
        "2021-06-01",
        "2022-08-30",
        18,
        True,
        sub="打浦桥街道",
        district="黄浦区",
    )
    add(
        "elevator_retrofit",
        "under_construction",
        "蒙西小区",
        "2022-11-01",
        None,
        18,
        True,
        name="蒙西小区加装电梯（二期）",
        sub="打浦桥街道",
        district="黄浦区",
    )
    add(
        "elevator_retrofit",
        "awaiting_start",
        "丽苑小区",
        None,
        None,
        12,
        True,
        sub="打浦桥街道",
        district="黄浦区",
    )
    add(
        "elevator_retrofit",
        "signed",
        "丽苑小区",
        None,
        None,
        12,
        True,
        name="丽苑小区加装电梯（二号楼）",
        sub="打浦桥街道",
        district="黄浦区",
    )
    return feats


LABEL = {
    "beautiful_homes": "美丽家园",
    "elevator_retrofit": "加装电梯",
    "bike_shed": "智能车棚",
    "comprehensive_renovation": "成套改造",
    "redevelopment": "旧区改造",
}


def build() -> None:
    rng = random.Random(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    areas, info = residential_areas(rng)
    centres = neighbor_centers()
    write("residential_areas", areas)
    write("neighbor_centers", centres)
    write("clinics", clinics(centres))
    write("charging_points", charging_points(rng, info))
    write("renovation_projects", renovation_projects(info))
    write("streets", streets())


def check() -> int:
    sys.path.insert(0, str(ROOT))
    from geo.layers.store import read_layer, validate_store
    from geo.network.graph import components_report
    from geo.network.lines import from_lines

    problems = [p for p in validate_store(OUT) if p.severity == "error"]
    areas = read_layer("residential_areas", OUT)
    cb = areas[areas["subdistrict"] == CHANGBAI]
    totals = (int(cb["population"].sum()), int(cb["elderly"].sum()), int(cb["households"].sum()))
    import geopandas as gpd

    net = from_lines(gpd.read_file(OUT / "streets.geojson"))
    report = components_report(net)
    print(f"长白: {len(cb)} compounds, population/elderly/households = {totals}")
    print(f"streets: {net.n_nodes} nodes, {net.n_edges} edges, {report}")
    ok = len(cb) == 45 and totals == (POPULATION, ELDERLY, HOUSEHOLDS) and not problems
    for p in problems:
        print(p)
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the files")
    args = parser.parse_args()
    if not args.check:
        build()
    sys.exit(check())
