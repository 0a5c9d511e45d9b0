"""Street tags as OpenStreetMap, Geofabrik shapefiles and Chinese sources write them.

One table, `TAG_VALUES`, says which written values of a yes/no tag (``bridge``, ``tunnel``)
mean yes and which mean no; `tag_is_yes` applies it and `elevated_mask` uses it to find the
lines that pass over or under the others.

Examples
--------
>>> tag_is_yes(["yes", "F", "T", "否", "是", "0.0", None, "viaduct"]).tolist()
[True, False, True, False, True, False, False, True]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["ELEVATION_TAGS", "TAG_VALUES", "elevated_mask", "tag_is_yes"]

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
#: empty, ``none``, ``null``, ``nan``, ``-``  n      a missing value
#: ========================================  =====  ==============================================
#:
#: Any other value means yes: OpenStreetMap names the kind instead of saying yes
#: (``bridge=viaduct``, ``boardwalk``, ``aqueduct``; ``tunnel=culvert``, ``building_passage``).
TAG_VALUES: dict[str, bool] = {
    **dict.fromkeys(["yes", "t", "true", "1", "1.0", "y", "是"], True),
    **dict.fromkeys(["no", "f", "false", "0", "0.0", "n", "否"], False),
    **dict.fromkeys(["", "none", "null", "nan", "-"], False),
}

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
