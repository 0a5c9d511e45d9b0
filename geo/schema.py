"""The five layers: what each one holds, field by field.

This module is declarations only. :mod:`geo.layers.validate` checks data against them,
:mod:`geo.layers.store` reads and writes them, and ``docs/schema.md`` is generated from
them (``lifecircle schema``), so the documentation cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geo.errors import UnknownLayerError

__all__ = [
    "FACILITY_LAYERS",
    "LAYERS",
    "LAYER_NAMES",
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
                Field("households", "int", True, unit="户", minimum=0, zh="户数", en="households"),
                Field(
                    "population", "int", True, unit="人", minimum=0, zh="常住人口", en="residents"
                ),
                Field(
                    "elderly",
                    "int",
                    True,
                    unit="人",
                    minimum=0,
                    zh="60岁及以上老人",
                    en="residents aged 60 or more",
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
                Field("buildings", "int", minimum=0, zh="楼栋数", en="number of buildings"),
                Field("storeys", "int", minimum=1, zh="层数", en="typical storeys"),
                Field(
                    "floor_area_m2", "float", unit="m²", minimum=0, zh="建筑面积", en="floor area"
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
                    "floor_area_m2", "float", unit="m²", minimum=0, zh="建筑面积", en="floor area"
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
                Field("beds", "int", unit="张", minimum=0, zh="核定床位", en="licensed beds"),
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
                    "ports", "int", True, unit="个", minimum=1, zh="充电口数", en="charging ports"
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
                Field("households", "int", unit="户", minimum=0, zh="受益户数", en="households"),
                Field("start", "date", zh="开工日期", en="start date (ISO)"),
                Field("end", "date", zh="完工日期", en="end date (ISO)"),
                Field("residential_area_id", "str", zh="所在小区编号", en="compound id"),
                _subdistrict(False),
                _DISTRICT,
                _NOTE,
            ),
            zh="改造项目",
            en="renovation projects",
        ),
    )
}

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
        ``name`` is not one of the five layers; the message lists them.

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
            req = "yes" if f.required else ""
            out.append(f"| `{f.name}` | {f.kind} | {req} | {values} | {f.zh} | {f.en} |")
        out.append("")
    return "\n".join(out)
