"""Source columns and schema fields: Chinese headers, columns that mean something else.

Planners' tables have Chinese headers (``名称``, ``户数``, ``核定床位``). :func:`auto_mapping`
renames the common ones to schema fields, layer by layer, so a Gaode export's ``名称`` is
the ``name`` it means without ``--map``; an explicit ``--map`` always wins and import
reports what it renamed. :func:`column_clashes` finds a source column that has a schema
field's name but another meaning (Baidu's ``level``, the geocoding precision, in a clinics
table) and says so once, naming the column, instead of once per row; :func:`absent_fields`
does the same for a required field no column holds. Pure: names and frames in.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

import pandas as pd

from geo.errors import Problem
from geo.layers.validate import is_missing
from geo.schema import get_layer

__all__ = [
    "HEADER_ALIASES",
    "LAYER_HEADER_ALIASES",
    "MIN_CLASH_ROWS",
    "absent_fields",
    "auto_mapping",
    "column_clashes",
]

#: Chinese headers of every layer, by field; first match wins. Compared without spaces,
#: brackets (``户数（户）``) and case. The schema's own Chinese label (``docs/schema.md``) of
#: each field is added per layer. A field the layer does not have is never mapped to.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("编号", "编码"),
    "name": ("名称", "名字", "标准名称", "单位名称"),
    "address": ("地址", "详细地址", "具体地址", "门牌地址", "所在地址"),
    "subdistrict": ("街道", "街道名称", "所属街道", "街镇", "所属街镇", "街道/镇", "镇", "乡镇"),
    "district": ("区", "所属区", "区县", "所属区县", "行政区", "区名"),
    "households": ("户数", "总户数", "住户数"),
    "population": ("人口", "常住人口", "人口数", "居住人口", "总人口"),
    "elderly": ("老年人口", "60岁以上", "60岁及以上", "60岁以上人口", "60岁及以上人口", "老人数"),
    "beds": ("床位", "核定床位", "床位数", "核定床位数", "编制床位"),
    "status": ("状态", "阶段", "项目阶段", "进度", "运营状态"),
    "kind": ("类型", "类别", "项目类型"),
    "built": ("建成年代", "建成年份", "建成时间", "建成年", "竣工年代", "建造年代"),
    "tenure": ("房屋性质", "产权性质"),
    "buildings": ("楼栋数", "栋数", "楼栋"),
    "storeys": ("层数", "楼层数", "楼层"),
    "has_lift": ("有无电梯", "是否有电梯", "有电梯", "电梯"),
    "floor_area_m2": ("建筑面积", "总建筑面积"),
    "note": ("备注", "说明"),
    "level": ("级别", "机构级别", "机构类别"),
    "vehicle": ("车辆类型", "车型"),
    "ports": ("充电口数", "充电口", "端口数", "插座数", "充电端口数"),
    "operator": ("运营方", "运营商", "运营单位"),
    "hours": ("开放时间", "营业时间"),
    "start": ("开工日期", "开工时间"),
    "end": ("完工日期", "竣工日期", "完工时间"),
    "residential_area_id": ("所在小区编号", "小区编号"),
}
#: Per layer, where a header means another field there (a project's ``户数`` is the
#: households it benefits, the field ``households`` all the same).
LAYER_HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "renovation_projects": {"households": ("受益户数", "户数")},
    "neighbor_centers": {"health_station": ("内设卫生站点", "卫生站点", "卫生站")},
    "facilities": {"category": ("设施类别", "类别", "类型", "设施类型")},
}
#: A column whose values are all outside a field's allowed values is called a clash (one
#: message for the column) from this many filled rows on; fewer are row errors as before.
MIN_CLASH_ROWS = 3

_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")


def _key(name: str) -> str:
    return re.sub(r"\s+", "", _BRACKETS.sub("", str(name))).lower()


def _aliases(layer: str) -> dict[str, tuple[str, ...]]:
    spec = get_layer(layer)
    out: dict[str, tuple[str, ...]] = {}
    extra = LAYER_HEADER_ALIASES.get(layer, {})
    for field in spec.fields:
        names = extra.get(field.name, ()) + HEADER_ALIASES.get(field.name, ()) + (field.zh,)
        out[field.name] = tuple(dict.fromkeys(_key(n) for n in names if n))
    return out


def auto_mapping(
    columns: Iterable[str], layer: str, explicit: Mapping[str, str], skip: Iterable[str] = ()
) -> dict[str, str]:
    """Chinese source columns to ``layer``'s fields, where ``--map`` does not say otherwise.

    A column is renamed when its header (without spaces and brackets) is one of the field's
    names in :data:`HEADER_ALIASES` (or the schema's Chinese label), the field is not
    already a column, and ``--map`` neither renames that column nor maps another to the
    field. Of two columns for one field, the first alias listed wins.

    Parameters
    ----------
    columns : iterable of str
        The source's property columns.
    layer : str
        The target layer.
    explicit : mapping of str to str
        ``--map``: ``{source column: field}``.
    skip : iterable of str
        Columns never renamed (coordinates, ``--drop``).

    Returns
    -------
    dict of str to str
        ``{source column: field}``, in field order.

    Examples
    --------
    >>> auto_mapping(["名称", "地址", "经度", "核定床位"], "clinics", {}, skip=["经度"])
    {'名称': 'name', '核定床位': 'beds', '地址': 'address'}
    >>> auto_mapping(["名称", "名字"], "clinics", {"名字": "name"})
    {}
    """
    columns = [str(c) for c in columns]
    taken = set(columns) - set(explicit) | set(explicit.values())
    free = [c for c in columns if c not in explicit and c not in set(skip)]
    by_key: dict[str, str] = {}
    for column in free:
        by_key.setdefault(_key(column), column)
    mapping: dict[str, str] = {}
    for field, names in _aliases(layer).items():
        if field in taken:
            continue
        found = next((by_key[n] for n in names if n in by_key), None)
        if found is not None and found not in mapping and found != field:
            mapping[found] = field
    return mapping


def column_clashes(
    frame: pd.DataFrame, layer: str, origin: Mapping[str, str], source: str
) -> list[Problem]:
    """One error per field whose source column holds none of the field's allowed values.

    Such a column has the field's name but another meaning: Baidu's geocoding results
    carry ``level`` (门址, 道路: how precise the position is) which is not a clinic's
    level. Only columns from the source count (not ``--set``), with at least
    :data:`MIN_CLASH_ROWS` filled rows, none of them an allowed value or a near miss of
    one (``statoin`` is a typo, said row by row).

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows after renaming, values typed (:func:`geo.layers.validate.coerce_layer`).
    layer : str
        The target layer.
    origin : mapping of str to str
        ``{field: source column}`` for every field that came from a source column.
    source : str
        The file, for messages.

    Returns
    -------
    list of Problem
        Errors without a feature (the whole column), naming the source column, the
        field and some of its values, with ``--drop``/``--map`` to use.
    """
    problems = []
    for field in get_layer(layer).fields:
        if not field.enum or field.name not in origin or field.name not in frame.columns:
            continue
        values = [v for v in frame[field.name].tolist() if not is_missing(v)]
        if len(values) < MIN_CLASH_ROWS or any(_allowed(v, field.enum) for v in values):
            continue
        column = origin[field.name]
        shown = ", ".join(list(dict.fromkeys(str(v) for v in values))[:4])
        renamed = f"（改名为 {field.name}）" if column != field.name else ""
        renamed_en = f" (renamed to {field.name})" if column != field.name else ""
        problems.append(
            Problem(
                source,
                None,
                field.name,
                f"源列 '{column}'{renamed} 的 {len(values)} 个值（{shown} …）都不是 {layer}.{field.name} "
                f"的可选值，这一列似乎另有含义（如百度地理编码结果的 level 是定位精度）/ source column "
                f"'{column}'{renamed_en} holds {len(values)} values ({shown} …), none allowed for "
                f"{layer}.{field.name}: it seems to mean something else (e.g. Baidu geocoding's "
                "level is the precision of the position)",
                f"不要这一列就用 --drop {column}（再用 --set {field.name}=… 赋值），要保留就用 "
                f"--map {column}=<新列名> / leave it out with --drop {column} (then --set "
                f"{field.name}=…), or keep it under another name with --map {column}=<new name>; "
                f"可选值 / allowed: {', '.join(field.enum)}",
            )
        )
    return problems


def _allowed(value: object, enum: tuple[str, ...]) -> bool:
    """An allowed value, or a typo of one (``statoin``): the column does mean the field."""
    text = str(value).strip()
    return text in enum or bool(difflib.get_close_matches(text, enum, n=1))


def absent_fields(columns: Iterable[str], layer: str, source: str) -> list[Problem]:
    """One error per required field that no source column holds (rather than one per row).

    Parameters
    ----------
    columns : iterable of str
        The columns after renaming and ``--set``.
    layer : str
        The target layer.
    source : str
        The file, for messages.

    Returns
    -------
    list of Problem
        Errors without a feature, each listing the columns the source has and the
        ``--map``/``--set`` to use.
    """
    columns = [str(c) for c in columns]
    have = ", ".join(columns) or "-"
    problems = []
    for field in get_layer(layer).fields:
        if not field.required or field.name in columns or field.name == "id":
            continue
        label = f"{field.zh} / {field.en}"
        problems.append(
            Problem(
                source,
                None,
                field.name,
                f"源文件没有必填字段 {field.name}（{label}）对应的列，每行都缺 / no column holds "
                f"the required field '{field.name}' ({field.en}): every row lacks it",
                f"用 --map 列名={field.name} 指定对应的列，或用 --set {field.name}=值 统一赋值 / "
                f"name its column with --map COLUMN={field.name}, or give every row a value with "
                f"--set {field.name}=VALUE; 现有列 / columns: {have}",
            )
        )
    return problems
