"""The report's pictures, drawn offline with matplotlib: no tile server, legible in print.

Every map is drawn in UTM zone 51N (EPSG:32651, metres: Shanghai lies in it) with its legend,
a scale bar (matplotlib-scalebar) and a north arrow, the streets of the walking network in grey
for orientation, and the same colours as the web pages (:mod:`geo.maps.base`,
:mod:`geo.maps.workbench`): compounds by walking time relative to the type's threshold, gap
zones in vermillion, renovation stages in their own colours. Chinese needs a CJK font:
:func:`cjk_font` finds one or says how to install it.
"""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import LifecircleError
from geo.maps.base import LAYER_COLOURS, STATUS_COLOURS
from geo.maps.workbench import BAND_COLOURS, BANDS, UNREACHABLE
from geo.reports.content import TYPE_LABELS, Report, word
from geo.schema import ENUM_LABELS, FACILITY_LAYERS, STAGE_LABELS

__all__ = ["CJK_FONTS", "METRIC_CRS", "cjk_font", "report_figures"]

#: Metres in Shanghai: UTM zone 51N.
METRIC_CRS = "EPSG:32651"
#: CJK fonts tried in order: Debian's fonts-wqy-zenhei and fonts-noto-cjk, then Windows' and
#: macOS's own.
CJK_FONTS = (
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)
_MARKERS = {"clinics": "P", "neighbor_centers": "s", "charging_points": "^"}


def cjk_font() -> str:
    """The name of an installed font that has Chinese characters.

    Returns
    -------
    str
        The first of :data:`CJK_FONTS` that matplotlib finds.

    Raises
    ------
    LifecircleError
        No CJK font is installed; the message says which package to install.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    for attempt in range(2):
        names = {f.name for f in manager.ttflist}
        for name in CJK_FONTS:
            if name in names:
                return name
        if attempt == 0:  # matplotlib's font cache may predate the font: look again
            known = {f.fname for f in manager.ttflist}
            for path in font_manager.findSystemFonts():
                if path not in known:
                    try:
                        manager.addfont(path)
                    except (OSError, RuntimeError, ValueError):
                        continue
    raise LifecircleError(
        "找不到中文字体，报告无法显示汉字 / no Chinese (CJK) font found, the report cannot show "
        "Chinese: 安装 / install fonts-wqy-zenhei (Debian/Ubuntu: apt-get install "
        "fonts-wqy-zenhei) 或 / or fonts-noto-cjk, then run again"
    )


def _png(figure: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=170, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _frame(ax: Any, lang: str) -> None:
    """Scale bar, north arrow, no axes."""
    from matplotlib_scalebar.scalebar import ScaleBar

    ax.add_artist(
        ScaleBar(1, "m", location="lower left", box_alpha=0.8, font_properties={"size": 8})
    )
    ax.annotate(
        word(("北", "N"), lang),
        xy=(0.96, 0.97),
        xytext=(0.96, 0.85),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=9,
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2},
    )
    ax.set_axis_off()


def _base(report: Report) -> tuple[Any, Any, gpd.GeoDataFrame, tuple[float, ...]]:
    import matplotlib.pyplot as plt

    areas = report.coverage.to_crs(METRIC_CRS)
    figure, ax = plt.subplots(figsize=(6.6, 5.2))
    x0, y0, x1, y1 = areas.total_bounds
    pad = max(x1 - x0, y1 - y0) * 0.06 + 50
    box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    net = report.study.network
    if net is not None:
        lines = gpd.GeoSeries(list(net.edge_geometry), crs=net.crs).to_crs(METRIC_CRS)
        lines = lines.cx[box[0] : box[2], box[1] : box[3]]
        lines.plot(ax=ax, color="#bbbbbb", linewidth=0.4, zorder=1)
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal")
    return figure, ax, areas, box


def _facilities(ax: Any, report: Report, kinds: tuple[str, ...], box: tuple[float, ...],
                lang: str) -> list[Any]:  # fmt: skip
    from matplotlib.lines import Line2D

    handles = []
    for kind in kinds:
        points = report.study.layers[kind].to_crs(METRIC_CRS).cx[box[0] : box[2], box[1] : box[3]]
        ax.scatter(points.geometry.x, points.geometry.y, marker=_MARKERS[kind], s=30,
                   c=LAYER_COLOURS[kind], edgecolors="black", linewidths=0.5, zorder=4)  # fmt: skip
        handles.append(Line2D([], [], marker=_MARKERS[kind], color="w", markeredgecolor="black",
                              markerfacecolor=LAYER_COLOURS[kind], markersize=7,
                              label=word(TYPE_LABELS[kind], lang)))  # fmt: skip
    return handles


def _coverage_map(report: Report, kind: str, lang: str) -> bytes:
    from matplotlib.patches import Patch

    figure, ax, areas, box = _base(report)
    limit = report.params.limit_m(kind)
    walk = pd.to_numeric(areas[f"{kind}_walk_m"], errors="coerce").to_numpy()
    band = np.digitize(walk / limit, BANDS, right=True)  # 0 … 3; NaN → 3
    colours = np.where(np.isfinite(walk), np.array(BAND_COLOURS)[np.minimum(band, 3)], UNREACHABLE)
    areas.plot(ax=ax, color=colours, edgecolor="#333333", linewidth=0.4, zorder=2)
    handles = _facilities(ax, report, (kind,), box, lang)
    minutes = report.params.minutes.get(kind)
    unit = f"{minutes:g} 分钟" if lang == "zh" and minutes else f"{limit:.0f} m"
    if lang == "en" and minutes:
        unit = f"{minutes:g} min"
    names = [("≤ ½", "≤ ½"), ("≤ 1", "≤ 1"), ("≤ 1½", "≤ 1½"), ("> 1½", "> 1½")]
    threshold = word(("× 阈值", "× threshold"), lang)
    handles += [Patch(color=c, label=f"{word(n, lang)} {threshold}") for c, n in
                zip(BAND_COLOURS, names, strict=True)]  # fmt: skip
    handles.append(Patch(color=UNREACHABLE, label=word(("不可达", "unreachable"), lang)))
    _frame(ax, lang)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, framealpha=0.9,
              title=f"{word(TYPE_LABELS[kind], lang)} ({unit})", title_fontsize=8)  # fmt: skip
    return _png(figure)


def _zones_map(report: Report, lang: str) -> bytes:
    from matplotlib.patches import Patch

    figure, ax, areas, box = _base(report)
    areas.plot(ax=ax, color="#f2f2f2", edgecolor="#555555", linewidth=0.4, zorder=2)
    handles = []
    hatches = {"neighbor_centers": "////", "clinics": "\\\\\\\\", "charging_points": "...."}
    if report.zones is not None and len(report.zones):
        zones = report.zones.to_crs(METRIC_CRS)
        for row in zones.itertuples():
            kind = str(row.type)
            if kind not in hatches or row.geometry is None or row.geometry.is_empty:
                continue
            gpd.GeoSeries([row.geometry], crs=METRIC_CRS).plot(
                ax=ax, facecolor="none", edgecolor=LAYER_COLOURS[kind], hatch=hatches[kind],
                linewidth=0.6, zorder=3)  # fmt: skip
            handles.append(Patch(facecolor="white", edgecolor=LAYER_COLOURS[kind],
                                 hatch=hatches[kind],
                                 label=f"{word(TYPE_LABELS[kind], lang)} "
                                       f"{word(('缺口区', 'gap zone'), lang)}"))  # fmt: skip
    handles += _facilities(ax, report, FACILITY_LAYERS, box, lang)
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, framealpha=0.9
    )
    _frame(ax, lang)
    return _png(figure)


def _renovation_map(report: Report, lang: str) -> bytes:
    from matplotlib.lines import Line2D

    figure, ax, areas, box = _base(report)
    areas.plot(ax=ax, color="#f2f2f2", edgecolor="#777777", linewidth=0.4, zorder=2)
    projects = report.study.layers["renovation_projects"].to_crs(METRIC_CRS)
    projects = projects.cx[box[0] : box[2], box[1] : box[3]]
    colours = [STATUS_COLOURS.get(str(s), "#999999") for s in projects["status"]]
    points = projects.geometry.representative_point()
    ax.scatter(points.x, points.y, s=36, c=colours, edgecolors="black", linewidths=0.5, zorder=4)
    shown = [s for s in STATUS_COLOURS if (projects["status"] == s).any()]
    handles = [Line2D([], [], marker="o", color="w", markeredgecolor="black",
                      markerfacecolor=STATUS_COLOURS[s], markersize=7,
                      label=word(STAGE_LABELS[s], lang)) for s in shown]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, framealpha=0.9,
              title=word(("改造项目阶段", "project stage"), lang), title_fontsize=8)  # fmt: skip
    _frame(ax, lang)
    return _png(figure)


def _quarterly_chart(report: Report, lang: str) -> bytes | None:
    import matplotlib.pyplot as plt

    periods = report.series.get("periods", [])
    kinds = sorted({k for p in periods for k in p["by_kind"]})
    if not periods or not kinds:
        return None
    figure, axes = plt.subplots(1, len(kinds), figsize=(6.6, 2.4), squeeze=False)
    labels = [p["period"] for p in periods]
    step = max(1, len(labels) // 6)
    for ax, kind in zip(axes[0], kinds, strict=True):
        for stage, style in (("signed", ":"), ("under_construction", "--"), ("completed", "-")):
            values = [p["by_kind"].get(kind, {}).get("units_cumulative", {}).get(stage, 0)
                      for p in periods]  # fmt: skip
            ax.plot(range(len(labels)), values, style, color=STATUS_COLOURS[stage],
                    label=word(STAGE_LABELS[stage], lang))  # fmt: skip
        unit = next(p["by_kind"][kind]["unit"][lang] for p in periods if kind in p["by_kind"])
        ax.set_title(f"{word(ENUM_LABELS.get(kind, (kind, kind)), lang)} ({unit})", fontsize=8)
        ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, fontsize=6)
        ax.tick_params(axis="y", labelsize=6)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=6, loc="upper left")
    figure.tight_layout()
    return _png(figure)


def report_figures(report: Report) -> dict[str, bytes]:
    """Every picture of ``report`` as PNG bytes, by name.

    Parameters
    ----------
    report : Report
        From :func:`geo.reports.content.build_report`.

    Returns
    -------
    dict of str to bytes
        ``coverage_<type>`` per facility type, ``gap_zones`` (with a network),
        ``renovation`` and ``quarterly`` (when there are dated projects).
    """
    import matplotlib

    matplotlib.use("Agg")
    import logging

    import matplotlib.pyplot as plt

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # weight fallbacks
    font = cjk_font()
    lang = report.lang
    with plt.rc_context({"font.family": [font, "DejaVu Sans"], "axes.unicode_minus": False}):
        figures = {}
        for kind in FACILITY_LAYERS:
            picture = _coverage_map(report, kind, lang)
            figures[f"coverage_{kind}"] = picture
        if report.zones is not None:
            figures["gap_zones"] = _zones_map(report, lang)
        figures["renovation"] = _renovation_map(report, lang)
        chart = _quarterly_chart(report, lang)
        if chart is not None:
            figures["quarterly"] = chart
    return figures
