"""The six layers: what each one holds, field by field.

This module is declarations only. :mod:`geo.layers.validate` checks data against them,
:mod:`geo.layers.store` reads and writes them, and ``docs/schema.md`` is generated from
them (``lifecircle schema``), so the documentation cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geo.catalogue import CATALOGUE, CATEGORIES
from geo.errors import UnknownLayerError

__all__ = [
    "CATALOGUE_LAYER",
    "ENUM_LABELS",
    "FACILITY_LAYERS",
    "LAYERS",
    "LAYER_NAMES",
    "PROJECT_KINDS",
    "PROJECT_STATUSES",
    "PROJECT_UNITS",
    "STAGE_DATE_FIELDS",
    "STAGE_LABELS",
    "Field",
    "LayerSpec",
    "get_layer",
    "schema_markdown",
]


@dataclass(frozen=True)
class Field:
    """One property of a layer.

    ``kind`` is one of ``str``, ``int``, ``float``, ``bool``, ``date`` (ISO ``YYYY-MM-DD``),
    ``year`` (a year such as ``1986``, or a decade such as ``1980s``) and ``lonlat_list``
    (a list of ``[lon, lat]`` pairs in WGS-84).
    """

    name: str
    kind: str
    required: bool = False
    enum: tuple[str, ...] = ()
    unit: str = ""
    minimum: float | None = None
    zh: str = ""
    en: str = ""
    #: The largest plausible value; a larger one is refused (a typo, a unit mix-up, 1e308).
    maximum: float | None = None
    #: Other spellings of allowed values, read as those values (``幼儿园`` → ``kindergarten``).
    synonyms: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    """A layer: its file name, allowed geometry types and fields."""

    name: str
    geometry_types: tuple[str, ...]
    fields: tuple[Field, ...]
    zh: str
    en: str
    facility: bool = False
    extra_fields_allowed: bool = True
    _by_name: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field | None:
        """The declared field called ``name``.

        Parameters
        ----------
        name : str
            A property name, e.g. ``population``.

        Returns
        -------
        Field or None
            None when the layer declares no such field (extra fields may still be allowed).
        """
        return self._by_name.get(name)


_ID = Field("id", "str", True, zh="编号（稳定字符串）", en="stable string id")
_NAME = Field("name", "str", True, zh="名称", en="name")
_ADDRESS = Field("address", "str", zh="地址", en="street address")
_DISTRICT = Field("district", "str", zh="区", en="district, e.g. 杨浦区")
_NOTE = Field("note", "str", zh="备注", en="free note; say where a value came from")


def _subdistrict(required: bool) -> Field:
    return Field("subdistrict", "str", required, zh="街道/镇", en="subdistrict, e.g. 长白新村街道")


TENURES = ("售后公房", "商品房", "公房", "动迁安置房", "混合", "其他")
CENTRE_KINDS = ("centre", "point")
CLINIC_LEVELS = (
    "community_health_centre",
    "station",
    "health_hut",
    "family_doctor_station",
    "hospital_branch",
    "hospital",
)
VEHICLES = ("ebike", "car")
CHARGER_STATUSES = ("operating", "planned", "under_construction", "out_of_service")
PROJECT_KINDS = (
    "elevator_retrofit",
    "comprehensive_renovation",
    "beautiful_homes",
    "redevelopment",
    "bike_shed",
    "elevator_safety",
    "other",
)
#: The stages of a renovation project in the order a project passes them (the documents'
#: words: 调查, 征询, 签约, 招投标, 待开工, 在建/开工, 完工/验收). Shanghai's progress reports count
#: them cumulatively: "累计签约65台，其中完工49台" — a completed project has also been signed.
PROJECT_STATUSES = (
    "planned",
    "survey",
    "consultation",
    "signed",
    "tendering",
    "awaiting_start",
    "under_construction",
    "completed",
)
#: The field holding the date a project reached each stage. ``start`` and ``end`` keep their
#: old names: construction started (开工) and was completed (完工).
STAGE_DATE_FIELDS = {
    "planned": "planned_on",
    "survey": "survey_on",
    "consultation": "consultation_on",
    "signed": "signed_on",
    "tendering": "tendering_on",
    "awaiting_start": "awaiting_start_on",
    "under_construction": "start",
    "completed": "end",
}
STAGE_LABELS = {
    "planned": ("计划", "planned"),
    "survey": ("调查", "survey"),
    "consultation": ("征询", "consultation"),
    "signed": ("签约", "signed"),
    "tendering": ("招投标", "tendering"),
    "awaiting_start": ("待开工", "awaiting start"),
    "under_construction": ("在建", "under construction"),
    "completed": ("完工", "completed"),
}
#: What ``units`` counts for each kind of project: (Chinese unit, English unit, what it is).
#: Elevators for retrofits (the documents count 台), sheds for bike sheds (个), households for
#: renovations and redevelopment (户; floor areas such as 美丽家园 4.6万㎡ go in ``note``).
PROJECT_UNITS = {
    "elevator_retrofit": ("台", "elevators", "加装电梯台数 / elevators retrofitted"),
    "elevator_safety": ("台", "elevators", "评估电梯台数 / elevators assessed"),
    "bike_shed": ("个", "sheds", "车棚个数 / bike sheds"),
    "comprehensive_renovation": ("户", "households", "受益户数 / households"),
    "beautiful_homes": ("户", "households", "受益户数 / households"),
    "redevelopment": ("户", "households", "征收户数 / households"),
    "other": ("个", "items", "项目数量 / items"),
}
#: Chinese and English names of every allowed value in the schema (forms, popups, reports).
ENUM_LABELS: dict[str, tuple[str, str]] = {
    **STAGE_LABELS,
    "community_health_centre": ("社区卫生服务中心", "community health centre"),
    "station": ("卫生服务站", "health station"),
    "health_hut": ("村卫生室/健康小屋", "health hut"),
    "family_doctor_station": ("家庭医生工作室", "family doctor station"),
    "hospital_branch": ("医院分院", "hospital branch"),
    "hospital": ("医院", "hospital"),
    "centre": ("睦邻中心", "centre"),
    "point": ("睦邻点", "point"),
    "ebike": ("电动自行车", "e-bike"),
    "car": ("汽车", "car"),
    "operating": ("运营中", "operating"),
    "out_of_service": ("停用", "out of service"),
    "elevator_retrofit": ("加装电梯", "elevator retrofit"),
    "comprehensive_renovation": ("综合改造", "comprehensive renovation"),
    "beautiful_homes": ("美丽家园", "beautiful homes"),
    "redevelopment": ("旧区改造", "redevelopment"),
    "bike_shed": ("非机动车棚", "bike shed"),
    "elevator_safety": ("电梯安全", "elevator safety"),
    "other": ("其他", "other"),
    **{key: (kind.zh, kind.en) for key, kind in CATALOGUE.items() if key in CATEGORIES},
    "售后公房": ("售后公房", "ex-public, sold to tenants"),
    "商品房": ("商品房", "commercial housing"),
    "公房": ("公房", "public housing"),
    "动迁安置房": ("动迁安置房", "resettlement housing"),
    "混合": ("混合", "mixed"),
    "其他": ("其他", "other"),
}


def _stage_date(stage: str, zh: str) -> Field:
    return Field(
        STAGE_DATE_FIELDS[stage], "date", zh=f"{zh}日期", en=f"date the project reached '{stage}'"
    )


LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec(
            "residential_areas",
            ("Polygon", "MultiPolygon"),
            (
                _ID,
                _NAME,
                _subdistrict(True),
                Field("district", "str", True, zh="区", en="district, e.g. 杨浦区"),
                Field(
                    "households",
                    "int",
                    True,
                    unit="户",
                    minimum=0,
                    zh="户数",
                    en="households",
                    maximum=100_000,
                ),
                Field(
                    "population",
                    "int",
                    True,
                    unit="人",
                    minimum=0,
                    zh="常住人口",
                    en="residents",
                    maximum=300_000,
                ),
                Field(
                    "elderly",
                    "int",
                    True,
                    unit="人",
                    minimum=0,
                    zh="60岁及以上老人",
                    en="residents aged 60 or more",
                    maximum=300_000,
                ),
                Field("built", "year", True, zh="建成年代", en="year built, or decade as 1980s"),
                Field("tenure", "str", True, TENURES, zh="房屋性质", en="tenure"),
                Field(
                    "entrances",
                    "lonlat_list",
                    zh="小区出入口 [经度, 纬度]",
                    en="gate positions [lon, lat], WGS-84; walks start here",
                ),
                _ADDRESS,
                Field(
                    "buildings",
                    "int",
                    minimum=0,
                    zh="楼栋数",
                    en="number of buildings",
                    maximum=5000,
                ),
                Field("storeys", "int", minimum=1, zh="层数", en="typical storeys", maximum=200),
                Field(
                    "has_lift",
                    "bool",
                    zh="有无电梯（建成时；缺省时按层数推断：7层及以上有）",
                    en="built with lifts; when missing, inferred from storeys: 7 or more",
                ),
                Field(
                    "floor_area_m2",
                    "float",
                    unit="m²",
                    minimum=0,
                    zh="建筑面积",
                    en="floor area",
                    maximum=10_000_000,
                ),
                _NOTE,
            ),
            zh="小区",
            en="residential areas",
        ),
        LayerSpec(
            "neighbor_centers",
            ("Point",),
            (
                _ID,
                _NAME,
                _subdistrict(True),
                Field("kind", "str", True, CENTRE_KINDS, zh="中心/睦邻点", en="centre or point"),
                Field(
                    "health_station", "bool", True, zh="内设卫生站点", en="hosts a health station"
                ),
                Field(
                    "floor_area_m2",
                    "float",
                    unit="m²",
                    minimum=0,
                    zh="建筑面积",
                    en="floor area",
                    maximum=10_000_000,
                ),
                Field("hours", "str", zh="开放时间", en="opening hours"),
                _ADDRESS,
                _DISTRICT,
                _NOTE,
            ),
            zh="睦邻中心",
            en="neighbour centres",
            facility=True,
        ),
        LayerSpec(
            "clinics",
            ("Point",),
            (
                _ID,
                _NAME,
                Field("level", "str", True, CLINIC_LEVELS, zh="机构级别", en="kind of clinic"),
                Field(
                    "beds",
                    "int",
                    unit="张",
                    minimum=0,
                    zh="核定床位",
                    en="licensed beds",
                    maximum=10_000,
                ),
                _subdistrict(False),
                _ADDRESS,
                _DISTRICT,
                _NOTE,
            ),
            zh="社区卫生服务中心/站",
            en="clinics",
            facility=True,
        ),
        LayerSpec(
            "charging_points",
            ("Point",),
            (
                _ID,
                _NAME,
                Field("vehicle", "str", True, VEHICLES, zh="车辆类型", en="ebike or car"),
                Field(
                    "ports",
                    "int",
                    True,
                    unit="个",
                    minimum=1,
                    zh="充电口数",
                    en="charging ports",
                    maximum=10_000,
                ),
                Field("operator", "str", zh="运营方", en="operator"),
                Field("status", "str", enum=CHARGER_STATUSES, zh="状态", en="status"),
                Field("residential_area_id", "str", zh="所在小区编号", en="compound it serves"),
                _subdistrict(False),
                _DISTRICT,
                _NOTE,
            ),
            zh="充电桩",
            en="charging points",
            facility=True,
        ),
        LayerSpec(
            "renovation_projects",
            ("Polygon", "MultiPolygon", "Point"),
            (
                _ID,
                _NAME,
                Field("kind", "str", True, PROJECT_KINDS, zh="项目类型", en="kind of project"),
                Field("status", "str", True, PROJECT_STATUSES, zh="阶段", en="stage"),
                Field(
                    "households",
                    "int",
                    unit="户",
                    minimum=0,
                    zh="受益户数",
                    en="households",
                    maximum=100_000,
                ),
                Field(
                    "units",
                    "int",
                    minimum=0,
                    zh="数量（电梯台数/车棚个数/户数，按类型）",
                    en="what is counted: elevators, sheds or households by kind (PROJECT_UNITS)",
                    maximum=100_000,
                ),
                *(_stage_date(s, STAGE_LABELS[s][0]) for s in PROJECT_STATUSES[:6]),
                Field("start", "date", zh="开工日期", en="date construction started (ISO)"),
                Field("end", "date", zh="完工日期", en="date completed (ISO)"),
                Field("residential_area_id", "str", zh="所在小区编号", en="compound id"),
                _subdistrict(False),
                _DISTRICT,
                _NOTE,
            ),
            zh="改造项目",
            en="renovation projects",
        ),
        LayerSpec(
            "facilities",
            ("Point",),
            (
                _ID,
                _NAME,
                Field(
                    "category",
                    "str",
                    True,
                    CATEGORIES,
                    zh="设施类别（见设施目录）",
                    en="kind of facility, from geo/catalogue.toml (its Chinese name is read too)",
                    synonyms=tuple((CATALOGUE[c].zh, c) for c in CATEGORIES),
                ),
                Field(
                    "capacity",
                    "int",
                    minimum=0,
                    zh="容量（学位/座位/床位，按类别）",
                    en="capacity in the category's unit (places, seats…)",
                    maximum=100_000,
                ),
                Field(
                    "floor_area_m2",
                    "float",
                    unit="m²",
                    minimum=0,
                    zh="建筑/用地面积",
                    en="floor or ground area",
                    maximum=10_000_000,
                ),
                _subdistrict(False),
                _ADDRESS,
                _DISTRICT,
                _NOTE,
            ),
            zh="其他设施（设施目录）",
            en="other facilities (the catalogue)",
        ),
    )
}
#: The layer holding every catalogue kind without a layer of its own, by ``category``.
CATALOGUE_LAYER = "facilities"

LAYER_NAMES: tuple[str, ...] = tuple(LAYERS)
FACILITY_LAYERS: tuple[str, ...] = tuple(n for n, s in LAYERS.items() if s.facility)


def get_layer(name: str) -> LayerSpec:
    """Return the spec of layer ``name``; raise :class:`UnknownLayerError` otherwise.

    Parameters
    ----------
    name : str
        One of :data:`LAYER_NAMES`.

    Returns
    -------
    LayerSpec

    Raises
    ------
    UnknownLayerError
        ``name`` is not one of the layers; the message lists them.

    Examples
    --------
    >>> get_layer("clinics").geometry_types
    ('Point',)
    """
    try:
        return LAYERS[name]
    except KeyError:
        raise UnknownLayerError(
            f"没有图层 '{name}' / no layer '{name}'. 可用图层 / layers: {', '.join(LAYER_NAMES)}"
        ) from None


def schema_markdown() -> str:
    """The schema of every layer as Markdown tables (used for ``docs/schema.md``).

    Returns
    -------
    str
        Per layer a ``###`` heading, its geometry types and a table of its fields (type,
        required, allowed values or unit and minimum, Chinese and English meaning).
    """
    out: list[str] = []
    for spec in LAYERS.values():
        out.append(f"### `{spec.name}` — {spec.zh} / {spec.en}\n")
        out.append(f"Geometry: {' / '.join(spec.geometry_types)}\n")
        out.append("| field | type | required | values / unit | 说明 | meaning |")
        out.append("|---|---|---|---|---|---|")
        for f in spec.fields:
            values = ", ".join(f.enum) if f.enum else f.unit
            if f.minimum is not None:
                values = (values + " " if values else "") + f"≥ {f.minimum:g}"
            if f.maximum is not None:
                values = (values + " " if values else "") + f"≤ {f.maximum:g}"
            req = "yes" if f.required else ""
            out.append(f"| `{f.name}` | {f.kind} | {req} | {values} | {f.zh} | {f.en} |")
        out.append("")
    return "\n".join(out)
