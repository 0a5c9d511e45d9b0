"""The facility catalogue: every kind the life-circle completeness counts, declared in a file.

Kinds are data, not code: ``geo/catalogue.toml`` lists each kind with its Chinese and
English names, its tier (基础保障 / 品质提升, after TD/T 1062-2021), its default threshold in
minutes per walker with the source of that number, its capacity field and the residents it
serves. Two kinds live in layers of their own (``clinics``, ``neighbor_centers``); every other
kind is a ``category`` of the one ``facilities`` layer, so the store, import/export, the OGC
API and validation treat it like any layer. ``docs/catalogue.md`` explains every number.

:func:`load_catalogue` reads and checks a catalogue file; an entry with an unknown tier, a
missing source or a threshold that is not a number of minutes is refused with a bilingual
message naming the entry and the field.

Examples
--------
>>> CATALOGUE["kindergarten"].zh, CATALOGUE["kindergarten"].tier
('幼儿园', '基础保障')
>>> CATALOGUE["kindergarten"].minutes_for("elderly")
5.0
>>> "kindergarten" in CATEGORIES, "clinics" in CATEGORIES
(True, False)
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geo.errors import LifecircleError

__all__ = [
    "CATALOGUE",
    "CATALOGUE_FILE",
    "CATEGORIES",
    "DEMAND_GROUPS",
    "TIERS",
    "CatalogueError",
    "Kind",
    "catalogue_markdown",
    "load_catalogue",
]

CATALOGUE_FILE = Path(__file__).with_name("catalogue.toml")
#: The tiers of TD/T 1062-2021, with their English names.
TIERS: dict[str, str] = {"基础保障": "basic", "品质提升": "quality"}
#: Who a kind serves: a count of the ``residential_areas`` layer.
DEMAND_GROUPS = ("population", "elderly", "households")
#: The walkers a threshold is given for (a custom walker takes ``standard``'s).
_WALKERS = ("standard", "elderly")
#: The layers that hold a kind of their own; the rest are categories of ``facilities``.
_OWN_LAYERS = ("clinics", "neighbor_centers", "charging_points")
_MOST_MINUTES = 120.0


class CatalogueError(LifecircleError, ValueError):
    """A catalogue file that cannot be used: its entry and field are named."""


@dataclass(frozen=True)
class Kind:
    """One kind of facility as the catalogue declares it."""

    key: str
    zh: str
    en: str
    tier: str
    minutes: Mapping[str, float]
    source: str
    verified: bool
    capacity_field: str
    capacity_unit: tuple[str, str]
    demand_group: str
    osm_fclass: tuple[str, ...]
    #: The layer holding it: its own (``clinics``) or ``facilities`` (a category there).
    layer: str = "facilities"

    @property
    def tier_en(self) -> str:
        return TIERS[self.tier]

    def minutes_for(self, walker: str) -> float:
        """The default threshold for ``walker``, minutes.

        Parameters
        ----------
        walker : str
            ``standard``, ``elderly``, or any other name (a custom walker: ``standard``'s).

        Returns
        -------
        float
        """
        return float(self.minutes.get(walker, self.minutes["standard"]))


def _fail(file: str, key: str, field: str, zh: str, en: str) -> CatalogueError:
    return CatalogueError(f"{file}: 条目 '{key}' 字段 '{field}' {zh} / entry '{key}', field "
                          f"'{field}': {en}")  # fmt: skip


def _text(entry: Mapping[str, Any], file: str, key: str, field: str, empty: bool = False) -> str:
    value = entry.get(field)
    if value is None and not empty:
        raise _fail(file, key, field, "缺失", "is missing")
    value = "" if value is None else value
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise _fail(file, key, field, "须为非空文字", "must be non-empty text")
    return value.strip()


def _kind(key: str, entry: Any, file: str) -> Kind:
    if not isinstance(entry, Mapping):
        raise _fail(file, key, "-", "须为表", "must be a table of fields")
    tier = _text(entry, file, key, "tier")
    if tier not in TIERS:
        raise _fail(file, key, "tier", f"未知层级 '{tier}'，可选 {' / '.join(TIERS)}",
                    f"unknown tier '{tier}'; use {' / '.join(TIERS)}")  # fmt: skip
    minutes = entry.get("minutes")
    if (
        not isinstance(minutes, Mapping)
        or set(minutes) - set(_WALKERS)
        or "standard" not in minutes
    ):
        raise _fail(file, key, "minutes", "须为 {standard = 分钟, elderly = 分钟}",
                    "must be {standard = minutes, elderly = minutes}")  # fmt: skip
    for walker, value in minutes.items():
        good = isinstance(value, int | float) and not isinstance(value, bool)
        if not good or not 0 < value <= _MOST_MINUTES:
            raise _fail(file, key, f"minutes.{walker}", f"须为 0–{_MOST_MINUTES:g} 分钟",
                        f"must be more than 0 and at most {_MOST_MINUTES:g} minutes")  # fmt: skip
    verified = entry.get("verified", False)
    if not isinstance(verified, bool):
        raise _fail(file, key, "verified", "须为 true 或 false", "must be true or false")
    demand = _text(entry, file, key, "demand_group")
    if demand not in DEMAND_GROUPS:
        raise _fail(file, key, "demand_group", f"须为 {', '.join(DEMAND_GROUPS)} 之一",
                    f"must be one of {', '.join(DEMAND_GROUPS)}")  # fmt: skip
    unit = entry.get("capacity_unit", ["", ""])
    if not (isinstance(unit, list) and len(unit) == 2 and all(isinstance(u, str) for u in unit)):
        raise _fail(file, key, "capacity_unit", "须为 [中文, English]", "must be [中文, English]")
    fclass = entry.get("osm_fclass", [])
    if not (isinstance(fclass, list) and all(isinstance(f, str) for f in fclass)):
        raise _fail(file, key, "osm_fclass", "须为文字列表", "must be a list of text")
    layer = _text(entry, file, key, "layer", empty=True) or "facilities"
    if layer != "facilities" and layer not in _OWN_LAYERS:
        raise _fail(file, key, "layer", f"未知图层 '{layer}'", f"unknown layer '{layer}'")
    unknown = set(entry) - {"layer", "zh", "en", "tier", "minutes", "source", "verified",
                            "capacity_field", "capacity_unit", "demand_group", "osm_fclass"}  # fmt: skip
    if unknown:
        field = sorted(unknown)[0]
        raise _fail(file, key, field, "不是目录字段", "is not a catalogue field")
    return Kind(
        key=key,
        zh=_text(entry, file, key, "zh"),
        en=_text(entry, file, key, "en"),
        tier=tier,
        minutes=MappingProxyType({w: float(v) for w, v in minutes.items()}),
        source=_text(entry, file, key, "source"),
        verified=verified,
        capacity_field=_text(entry, file, key, "capacity_field", empty=True),
        capacity_unit=(unit[0], unit[1]),
        demand_group=demand,
        osm_fclass=tuple(fclass),
        layer=layer,
    )


def load_catalogue(path: Path | str = CATALOGUE_FILE) -> dict[str, Kind]:
    """Read and check a catalogue file.

    Parameters
    ----------
    path : pathlib.Path or str
        A TOML file with one ``[kinds.KEY]`` table per kind; default the bundled one.

    Returns
    -------
    dict of str to Kind
        By key, in the file's order.

    Raises
    ------
    CatalogueError
        The file is missing or not TOML, has no kinds, or an entry breaks a rule (unknown
        tier, missing source, a threshold that is not minutes…): the message names the file,
        the entry and the field, in Chinese and English.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"无法读取目录 / cannot read the catalogue {file}: {exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(
            f"目录不是有效的 TOML / the catalogue {file} is not TOML: {exc}"
        ) from None
    kinds = data.get("kinds")
    if not isinstance(kinds, Mapping) or not kinds:
        raise CatalogueError(f"{file.name}: 没有 [kinds.…] 条目 / no [kinds.…] entries")
    found = {key: _kind(key, entry, file.name) for key, entry in kinds.items()}
    for key, kind in found.items():
        if kind.layer != "facilities" and kind.layer != key:
            raise _fail(file.name, key, "layer", "须与条目同名", "must be the entry's own key")
        if kind.layer == "facilities" and key in _OWN_LAYERS:
            raise _fail(file.name, key, "layer", "须为该图层", f"must be '{key}'")
    return found


CATALOGUE: dict[str, Kind] = load_catalogue()
#: The kinds that are categories of the ``facilities`` layer (its ``category`` values).
CATEGORIES: tuple[str, ...] = tuple(k for k, v in CATALOGUE.items() if v.layer == "facilities")


def catalogue_markdown(catalogue: Mapping[str, Kind] = CATALOGUE) -> str:
    """The catalogue as a Markdown table (``docs/catalogue.md``; a test keeps them equal).

    Parameters
    ----------
    catalogue : mapping of str to Kind
        Default the bundled one.

    Returns
    -------
    str
        One row per kind: key, names, tier, minutes per walker with the metres they make at
        4.0 and 3.0 km/h, the layer, whether the source was verified, and the source.
    """
    rows = [
        "| key | 中文 | English | tier 层级 | standard 一般 | elderly 老人 | layer | verified | source |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, kind in catalogue.items():
        standard, elderly = kind.minutes_for("standard"), kind.minutes_for("elderly")
        rows.append(
            f"| `{key}` | {kind.zh} | {kind.en} | {kind.tier} ({kind.tier_en}) "
            f"| {standard:g} min ≈ {standard * 4000 / 60:.0f} m | {elderly:g} min ≈ "
            f"{elderly * 3000 / 60:.0f} m | `{kind.layer}` | {'yes' if kind.verified else '**no**'} "
            f"| {kind.source} |"
        )
    return "\n".join(rows) + "\n"
