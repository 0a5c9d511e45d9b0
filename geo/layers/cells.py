"""Spreadsheet cells that cannot run: the one rule for every CSV and workbook lifecircle writes.

Excel, WPS and LibreOffice treat a cell that begins with ``=``, ``+``, ``-`` or ``@`` as
a formula, and drop a leading tab or carriage return before deciding so. A layer may hold
such text (a name pasted from a web page, a hostile file imported as it was), so every
export prefixes it with ``'``, which spreadsheets show as text (OWASP, "CSV Injection").
Numbers stay numbers: ``-12`` is a number, not text, and is written as it is. Import keeps
the original text; only what leaves lifecircle for a spreadsheet is neutralised.

Used by ``lifecircle export --format csv`` (:mod:`geo.layers.exports`), the outputs of
``lifecircle analyze``, the gap tables of the API and the report workbook.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FORMULA_TRIGGERS", "safe_cell", "safe_table"]

#: What a spreadsheet cell must not begin with (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Control characters XML 1.0 (and so an ``.xlsx``) cannot hold; a workbook writer refuses
#: the whole file for one of them, so each is shown as U+FFFD instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet should store it: text that could run as a formula is
    prefixed with ``'``; numbers stay numbers; missing values become empty cells; control
    characters a workbook cannot hold become U+FFFD.

    Parameters
    ----------
    value : object
        A table cell.

    Returns
    -------
    object
        A number, a string, or None.

    Examples
    --------
    >>> safe_cell("=HYPERLINK(\\"http://x\\")"), safe_cell("-12"), safe_cell(-12), safe_cell(float("nan"))
    ('\\'=HYPERLINK("http://x")', "'-12", -12, None)
    >>> safe_cell("\\t=1+1"), safe_cell("长白新村")
    ("'\\t=1+1", '长白新村')
    """
    if type(value) is str:  # most cells: text, checked first
        text = _NOT_XML.sub("\ufffd", value)
        return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, bool | int | float):
        return value
    text = _NOT_XML.sub("\ufffd", str(value))
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def safe_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose headers, index labels and text cells cannot run as formulas.

    Numeric columns are kept as they are (a number is never a formula); every other
    column goes through :func:`safe_cell`.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table about to be written as CSV or into a workbook.

    Returns
    -------
    pandas.DataFrame
        The same shape; text cells, column names and a text index neutralised.

    Examples
    --------
    >>> table = safe_table(pd.DataFrame({"name": ["=1+1", "站"], "beds": [-2, 3]}))
    >>> table["name"].tolist(), table["beds"].tolist()
    (["'=1+1", '站'], [-2, 3])
    """
    out = frame.copy()
    for position, _column in enumerate(out.columns):
        dtype = out.iloc[:, position].dtype
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            continue
        column = out.iloc[:, position]
        if isinstance(dtype, np.dtype) and dtype.kind == "b":
            # yes/no columns: Python's True and False, as safe_cell gives them
            out.isetitem(
                position, pd.Series(column.to_numpy().tolist(), index=out.index, dtype=object)
            )
            continue
        if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
            # text and missing cells only (most columns): each distinct text made safe once,
            # in C (pd.factorize); missing cells (None, NaN) are code -1, an empty cell
            codes, uniques = pd.factorize(column)
            safe_texts = np.array([safe_cell(u) for u in uniques] + [None], dtype=object)
            out.isetitem(position, pd.Series(safe_texts[codes], index=out.index, dtype=object))
            continue
        values = column.tolist()
        try:  # a column repeats its texts (街道, types, yes/no): each distinct one once
            # keyed with the type too: True, 1 and 1.0 are equal keys but different cells
            keys = [(type(v), v) for v in values]
            safe = {key: safe_cell(key[1]) for key in set(keys)}
            cells = [safe[key] for key in keys]
        except TypeError:  # unhashable cells (lists): one at a time
            cells = [safe_cell(v) for v in values]
        out.isetitem(position, pd.Series(cells, index=out.index, dtype=object))
    out.columns = pd.Index([safe_cell(c) if isinstance(c, str) else c for c in out.columns])
    if not pd.api.types.is_numeric_dtype(out.index.dtype):
        out.index = pd.Index([safe_cell(v) for v in out.index], name=safe_cell(out.index.name))
    return out
