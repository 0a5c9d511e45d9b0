"""Street tags as OpenStreetMap, Geofabrik shapefiles and Chinese sources write them.

One table, `TAG_VALUES`, says which written values of a yes/no tag (``bridge``, ``tunnel``)
mean yes and which mean no; `tag_is_yes` applies it and `elevated_mask` uses it to find the
lines that pass over or under the others.

Examples
--------
>>> tag_is_yes(["yes", "F", "T", "否", "是", "0.0", None, "viaduct", "无", "N/A"]).tolist()
[True, False, True, False, True, False, False, True, False, False]
>>> streets = pd.DataFrame({"bridge": ["yes", None, "高架", None], "layer": [None, "-2", None, "x"]})
>>> edge_level(streets).tolist()
[1, -2, 1, 0]
>>> unknown_tag_values(streets)
(('bridge', '高架', 1), ('layer', 'x', 1))
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = [
    "ELEVATION_TAGS",
    "OSM_KINDS",
    "TAG_VALUES",
    "edge_level",
    "elevated_mask",
    "tag_is_yes",
    "unknown_tag_values",
]

#: How a yes/no tag is written, compared after trimming and lower-casing:
#:
#: ========================================  =====  ==============================================
#: written                                   means  who writes it
#: ========================================  =====  ==============================================
#: ``yes`` ``no``                            y / n  OpenStreetMap (``bridge=yes``)
#: ``t`` ``f``                               y / n  Geofabrik shapefiles (``bridge``: T/F)
#: ``true`` ``false``                        y / n  GeoPackage and GeoJSON booleans, pandas
#: ``1`` ``0`` ``1.0`` ``0.0``               y / n  integer and real columns (shapefile DBF N, F)
#: ``y`` ``n``                               y / n  spreadsheets and CAD attribute tables
#: ``是`` ``否``                             y / n  Chinese survey and planning tables
#: ``无`` ``没有`` ``未知`` ``不详``                n      Chinese tables: "none", "unknown"
#: empty, ``none``, ``null``, ``nan``, ``-``  n      a missing value
#: ``na`` ``n/a`` ``#n/a`` ``unknown``        n      spreadsheets' "not available"
#: ========================================  =====  ==============================================
#:
#: Any other value means yes: OpenStreetMap names the kind instead of saying yes
#: (``bridge=viaduct``, ``boardwalk``, ``aqueduct``; ``tunnel=culvert``, ``building_passage``:
#: `OSM_KINDS`). A value in neither table is read as yes too (a street on a bridge is safer
#: to keep apart than to join across), and `unknown_tag_values` lists it, so that ``lifecircle
#: network info`` can say which values it guessed at.
TAG_VALUES: dict[str, bool] = {
    **dict.fromkeys(["yes", "t", "true", "1", "1.0", "y", "是"], True),
    **dict.fromkeys(["no", "f", "false", "0", "0.0", "n", "否"], False),
    **dict.fromkeys(["无", "没有", "未知", "不详"], False),
    **dict.fromkeys(["", "none", "null", "nan", "-"], False),
    **dict.fromkeys(["na", "n/a", "#n/a", "unknown"], False),
}

#: The kinds OpenStreetMap writes instead of ``yes`` (OSM wiki, Key:bridge and Key:tunnel):
#: they mean yes and are not reported by `unknown_tag_values`.
OSM_KINDS: dict[str, frozenset[str]] = {
    "bridge": frozenset(
        {
            "viaduct", "boardwalk", "aqueduct", "cantilever", "covered", "movable",
            "trestle", "low_water_crossing", "simple_brunnel", "suspension", "abandoned",
        }
    ),
    "tunnel": frozenset(
        {"culvert", "building_passage", "avalanche_protector", "flooded", "canal"}
    ),
}  # fmt: skip

#: The tags that put a street on another level than the ground: yes/no ``bridge`` and
#: ``tunnel`` (read with `TAG_VALUES`) and a numeric ``layer`` other than 0.
ELEVATION_TAGS = ("bridge", "tunnel", "layer")


def tag_is_yes(values: ArrayLike) -> np.ndarray:
    """True where a yes/no tag says yes, reading the values as `TAG_VALUES` says.

    Parameters
    ----------
    values : array-like
        The tag of each street: strings, booleans or numbers; None or NaN where missing.

    Returns
    -------
    numpy.ndarray
        bool, one per value: False for a missing value or one of the "no" spellings.
    """
    text = pd.Series(np.asarray(values, dtype=object)).astype("string").str.strip().str.lower()
    said_no = text.map(TAG_VALUES, na_action="ignore").eq(False)
    return (text.notna() & ~said_no).to_numpy(dtype=bool)


def elevated_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for each street on a bridge, in a tunnel, or on a ``layer`` other than 0.

    Parameters
    ----------
    frame : pandas.DataFrame
        Streets with any of the columns ``bridge``, ``tunnel`` (yes/no, see `TAG_VALUES`)
        and ``layer`` (a number; text that is not a number counts as 0).

    Returns
    -------
    numpy.ndarray
        bool, one per row; all False when none of the columns is present.
    """
    elevated = np.zeros(len(frame), dtype=bool)
    for tag in ("bridge", "tunnel"):
        if tag in frame:
            elevated |= tag_is_yes(frame[tag].to_numpy(dtype=object))
    if "layer" in frame:
        layer = pd.to_numeric(pd.Series(frame["layer"].to_numpy(dtype=object)), errors="coerce")
        elevated |= (layer.fillna(0) != 0).to_numpy(dtype=bool)
    return elevated


def _layer_numbers(frame: pd.DataFrame) -> pd.Series:
    """The ``layer`` column as numbers (NaN where missing or not a number), one per row."""
    if "layer" not in frame:
        return pd.Series(np.nan, index=range(len(frame)), dtype=float)
    values = pd.Series(frame["layer"].to_numpy(dtype=object))
    return pd.to_numeric(values, errors="coerce").astype(float)


def edge_level(frame: pd.DataFrame) -> np.ndarray:
    """The level each street is on: its ``layer``, else 1 on a bridge, −1 in a tunnel, else 0.

    Two streets on different levels never meet by a near miss
    (`geo.network.quality.near_misses`): a pedestrian underpass (``layer=-1``) ending beside
    a road tunnel (``layer=-2``) is not a gap to close. ``tunnel=building_passage`` runs
    through a building at ground level: 0 unless ``layer`` says otherwise.

    Parameters
    ----------
    frame : pandas.DataFrame
        Streets with any of the columns ``bridge``, ``tunnel`` (yes/no, see `TAG_VALUES`)
        and ``layer`` (a number; text that is not a number counts as missing).

    Returns
    -------
    numpy.ndarray
        int64, one per row; all 0 when none of the columns is present.
    """
    level = np.zeros(len(frame), dtype=np.int64)
    if "tunnel" in frame:
        tunnel = frame["tunnel"].to_numpy(dtype=object)
        passage = pd.Series(tunnel).astype("string").str.strip().str.lower().eq("building_passage")
        level[tag_is_yes(tunnel) & ~passage.fillna(False).to_numpy(dtype=bool)] = -1
    if "bridge" in frame:
        level[tag_is_yes(frame["bridge"].to_numpy(dtype=object))] = 1
    layer = _layer_numbers(frame).to_numpy()
    given = np.isfinite(layer)
    level[given] = np.round(layer[given]).astype(np.int64)
    return level


def unknown_tag_values(frame: pd.DataFrame) -> tuple[tuple[str, str, int], ...]:
    """The ``bridge``/``tunnel`` values in neither `TAG_VALUES` nor `OSM_KINDS`, and the
    ``layer`` values that are not numbers, with how many streets carry each.

    They are read anyway (a yes/no value as yes, a ``layer`` as 0); this says which were
    guessed at, for ``lifecircle network info`` to list.

    Parameters
    ----------
    frame : pandas.DataFrame
        Streets with any of the columns in `ELEVATION_TAGS`.

    Returns
    -------
    tuple of (str, str, int)
        ``(tag, value as written, streets)``, by tag then value; empty when all are known.
    """
    found: list[tuple[str, str, int]] = []
    for tag in ELEVATION_TAGS:
        if tag not in frame:
            continue
        text = pd.Series(frame[tag].to_numpy(dtype=object)).astype("string").str.strip()
        if tag == "layer":
            odd = text.notna() & text.ne("") & _layer_numbers(frame).isna().to_numpy()
        else:
            lowered = text.str.lower()
            known = lowered.isin(TAG_VALUES.keys()) | lowered.isin(OSM_KINDS[tag])
            odd = text.notna() & ~known.fillna(True)
        counts = text[odd].value_counts(sort=False)
        found += [(tag, str(value), int(n)) for value, n in sorted(counts.items())]
    return tuple(found)
