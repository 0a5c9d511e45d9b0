"""A report laid out three ways: HTML (one self-contained file), PDF (A4) and an Excel workbook.

The HTML carries its pictures inline (``data:`` URLs) and loads nothing, so it opens offline
and prints on A4. The PDF is that same HTML typeset by WeasyPrint with the CJK font embedded
(subset). The workbook has one sheet per table, headers in the report's language with units,
numbers as numbers, the header row frozen, and no cell a spreadsheet could execute: text that
starts with ``= + - @``, a tab or a carriage return is prefixed with ``'`` (OWASP's advice for
CSV and spreadsheet injection).

Long tables are cut in the HTML and PDF at :data:`PRINT_ROWS` rows, with a line saying how many
more the workbook holds; the workbook has every row.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import pandas as pd

from geo.layers.cells import safe_cell
from geo.reports.content import Report, header, word
from geo.reports.figures import cjk_font, report_figures

__all__ = [
    "PRINT_ROWS",
    "REPORT_FORMATS",
    "SHEETS",
    "render_report",
    "to_html",
    "to_pdf",
    "to_xlsx",
]

#: The formats of ``lifecircle report`` and ``GET /reports``.
REPORT_FORMATS = ("pdf", "html", "xlsx")

#: Rows of a table shown in HTML and PDF; the workbook has them all.
PRINT_ROWS = 60
#: Sheet names of the workbook, Chinese and English (Excel allows 31 characters).
SHEETS = {
    "cover": ("封面", "cover"),
    "key_figures": ("主要指标", "key figures"),
    "gaps": ("覆盖缺口小区", "gaps"),
    "opportunities": ("改造项目机会", "opportunities"),
    "sites": ("推荐位置", "recommended sites"),
    "scenario": ("方案比较", "scenario"),
    "progress": ("改造进度", "renovation progress"),
    "quarterly": ("季度进度", "quarterly progress"),
    "retrofits": ("加装电梯重点小区", "retrofit candidates"),
    "capacity": ("容量", "capacity"),
    "under_served": ("覆盖但供不足", "covered but under-served"),
    "lacking": ("各街道最缺什么", "what each 街道 lacks"),
}


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) or hasattr(value, "item"):
        return f"{value:,}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame, lang: str) -> str:
    if not len(frame):
        return f"<p class='none'>{word(('无', 'none'), lang)}</p>"
    shown = frame.head(PRINT_ROWS)
    head = "".join(f"<th>{html.escape(header(c, lang))}</th>" for c in shown.columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = "".join(
            f"<td class='n'>{_number(v)}</td>" if isinstance(v, int | float) or hasattr(v, "item")
            else f"<td>{html.escape(str(v))}</td>" for v in record
        )  # fmt: skip
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if len(frame) > PRINT_ROWS:
        left = len(frame) - PRINT_ROWS
        more = "<p class='more'>" + word((f"另有 {left} 行，见 Excel 工作簿", f"{left} more rows "
                                             "in the Excel workbook"), lang) + "</p>"  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def _cover(report: Report) -> list[tuple[str, str]]:
    lang, p = report.lang, report.params
    limits = "; ".join(
        f"{t['type']} {t['limit']:g} m" if t["limit"] else f"{t['type']} {t['minutes']:g} "
        + word(("分钟", "min"), lang) for t in report.thresholds
    )  # fmt: skip
    rows = [
        (word(("街道", "subdistrict"), lang), report.subdistrict or word(("全部", "all"), lang)),
        (word(("区", "district"), lang), report.district or "—"),
        (word(("日期", "date"), lang), report.made_on),
        (word(("数据版本", "data version"), lang), report.version),
        (word(("步行者", "walker"), lang),
         f"{word((p.profile.zh, p.profile.en), lang)} {p.profile.speed_kmh:g} km/h"),
        (word(("阈值", "thresholds"), lang), limits),
    ]  # fmt: skip
    rows += [(word(("说明", "note"), lang), n) for n in report.notes]
    figures = report.tables["key_figures"]
    for walker, group in figures.groupby("walker", sort=False):
        shares = "; ".join(
            f"{row['type']} {row['share_population']:g}%" for row in group.to_dict("records")
            if row["share_population"] is not None
        )  # fmt: skip
        rows.append((f"{word(('人口覆盖率', 'people covered'), lang)} · {walker}", shares))
    return rows


_CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; } }
body { font-family: "%(font)s", "Noto Sans CJK SC", sans-serif; font-size: 9.5pt; color: #111;
  max-width: 190mm; margin: 0 auto; }
h1 { font-size: 18pt; margin: 0 0 4mm; } h2 { font-size: 13pt; margin: 6mm 0 2mm;
  border-bottom: 1px solid #999; } h3 { font-size: 10.5pt; margin: 3mm 0 1mm; }
table { border-collapse: collapse; width: 100%%; margin: 1mm 0 3mm; font-size: 8pt; }
th, td { border: 0.5pt solid #aaa; padding: 1pt 3pt; vertical-align: top; }
th { background: #eee; text-align: left; } td.n { text-align: right; white-space: nowrap; }
thead { display: table-header-group; } tr { page-break-inside: avoid; }
figure { margin: 2mm 0; page-break-inside: avoid; } figure img { width: 100%%; }
figcaption { font-size: 8.5pt; color: #333; } .more, .none, .source { color: #555; font-size: 8pt; }
section.break { page-break-before: always; }
"""


def to_html(report: Report, figures: dict[str, bytes] | None = None) -> str:
    """The report as one self-contained HTML page (pictures inline; nothing is loaded).

    Parameters
    ----------
    report : Report
        From :func:`geo.reports.content.build_report`.
    figures : dict of str to bytes, optional
        From :func:`geo.reports.figures.report_figures` (drawn when not given).

    Returns
    -------
    str
    """
    lang = report.lang
    figures = report_figures(report) if figures is None else figures
    caption = report.captions
    cover = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _cover(report)
    )
    sources = "".join(
        f"<tr><td>{html.escape(r['label'])}</td><td class='n'>{r['features']:,}</td>"
        f"<td>{html.escape(r['version'])}</td><td class='source'>{html.escape(r['source'])}</td></tr>"
        for r in report.layers
    )  # fmt: skip
    source_head = "".join(f"<th>{word(w, lang)}</th>" for w in (("图层", "layer"),
                          ("要素（个）", "features"), ("版本", "version"), ("来源", "source")))  # fmt: skip

    def picture(name: str, text: str) -> str:
        if name not in figures:
            return ""
        data = base64.b64encode(figures[name]).decode("ascii")
        return (f"<figure><img alt='{html.escape(text)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(text)}</figcaption></figure>")  # fmt: skip

    maps = "".join(
        picture(name, text)
        for name, text in [(k, word((f"覆盖：{t}", f"Coverage: {t}"), lang))
                           for k, t in ((f"coverage_{r}", _type(r, lang)) for r in
                                        ("neighbor_centers", "clinics", "charging_points"))]
        + [("gap_zones", word(("覆盖缺口区（步行阈值以外的街道两侧）", "Gap zones: streets "
                                "beyond the threshold"), lang)),
           ("renovation", word(("改造项目阶段", "Renovation projects by stage"), lang))]
    )  # fmt: skip
    ending = word(("数据来源：© OpenStreetMap 贡献者（ODbL）及各图层说明；由 lifecircle 生成。",
                    "Sources: © OpenStreetMap contributors (ODbL) and each layer's note; made "
                    "with lifecircle."), lang)  # fmt: skip
    scenario = ""
    if "scenario" in report.tables:
        scenario = f"<h2>{caption['scenario']}</h2>{_table(report.tables['scenario'], lang)}"
    body = f"""
<h1>{html.escape(report.title)}</h1>
<table class="cover">{cover}</table>
<h3>{word(("图层与来源", "Layers and sources"), lang)}</h3>
<table><thead><tr>{source_head}</tr></thead><tbody>{sources}</tbody></table>
<section class="break"><h2>{caption["key_figures"]}</h2>{_table(report.tables["key_figures"], lang)}
{scenario}</section>
<section class="break"><h2>{caption["maps"]}</h2>{maps}</section>
<section class="break"><h2>{caption["gaps"]}</h2>{_table(report.tables["gaps"], lang)}
<h2>{caption["opportunities"]}</h2>{_table(report.tables["opportunities"], lang)}
<h2>{caption["sites"]}</h2>{_table(report.tables["sites"], lang)}</section>
<section class="break"><h2>{caption["capacity"]}</h2>{_table(report.tables["capacity"], lang)}
<h2>{caption["under_served"]}</h2>{_table(report.tables["under_served"], lang)}</section>
<section class="break"><h2>{caption["lacking"]}</h2>{_table(report.tables["lacking"], lang)}</section>
<section class="break"><h2>{caption["progress"]}</h2>{_table(report.tables["progress"], lang)}
{picture("quarterly", caption["quarterly"])}
<h3>{caption["quarterly"]}</h3>{_table(_recent(report.tables["quarterly"]), lang)}
<h2>{caption["retrofits"]}</h2>{_table(report.tables["retrofits"], lang)}</section>
<p class="source">{html.escape(ending)}</p>"""
    return (
        f'<!DOCTYPE html>\n<html lang="{"en" if lang == "en" else "zh-CN"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, '
        f'initial-scale=1"><title>{html.escape(report.title)}</title>'
        f"<style>{_CSS % {'font': cjk_font()}}</style></head><body>{body}</body></html>"
    )


def _recent(quarterly: pd.DataFrame, periods: int = 8) -> pd.DataFrame:
    """The last ``periods`` quarters of the quarterly table (the workbook has them all)."""
    last = sorted(quarterly["period"].unique())[-periods:] if len(quarterly) else []
    return quarterly[quarterly["period"].isin(last)]


def _type(kind: str, lang: str) -> str:
    from geo.reports.content import TYPE_LABELS

    return word(TYPE_LABELS[kind], lang)


def to_pdf(report: Report, figures: dict[str, bytes] | None = None) -> bytes:
    """The report as an A4 PDF: :func:`to_html` typeset by WeasyPrint, the CJK font embedded.

    Parameters
    ----------
    report : Report
        From :func:`geo.reports.content.build_report`.
    figures : dict of str to bytes, optional
        As :func:`to_html`.

    Returns
    -------
    bytes
    """
    import logging

    import weasyprint

    for name in ("fontTools", "weasyprint", "weasyprint.progress"):  # subsetting, progress chatter
        logging.getLogger(name).setLevel(logging.WARNING)
    pdf = weasyprint.HTML(string=to_html(report, figures)).write_pdf()
    return bytes(pdf) if pdf is not None else b""


def to_xlsx(report: Report) -> bytes:
    """The report's tables as an Excel workbook, one sheet each, and a cover sheet.

    Parameters
    ----------
    report : Report
        From :func:`geo.reports.content.build_report`.

    Returns
    -------
    bytes
        An ``.xlsx`` file: headers with units in the report's language, numbers as numbers,
        the header row frozen, text that could run as a formula neutralised (:func:`safe_cell`).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    lang = report.lang
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = word(SHEETS["cover"], lang)
    cover.append([safe_cell(report.title)])
    cover["A1"].font = Font(bold=True, size=14)
    for key, value in _cover(report):
        cover.append([safe_cell(key), safe_cell(value)])
    cover.append([])
    cover.append([word(w, lang) for w in (("图层", "layer"), ("要素（个）", "features"),
                                           ("版本", "version"), ("来源", "source"))])  # fmt: skip
    for row in report.layers:
        cover.append([safe_cell(row["label"]), row["features"], safe_cell(row["version"]),
                      safe_cell(row["source"])])  # fmt: skip
    cover.column_dimensions["A"].width = 18
    cover.column_dimensions["B"].width = 60
    for name, frame in report.tables.items():
        sheet = book.create_sheet(word(SHEETS[name], lang))
        sheet.append([header(c, lang) for c in frame.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for record in frame.itertuples(index=False):
            sheet.append([safe_cell(v) for v in record])
        sheet.freeze_panes = "A2"
        for column, key in zip(sheet.iter_cols(min_row=1, max_row=1), frame.columns, strict=True):
            sheet.column_dimensions[column[0].column_letter].width = max(
                10, len(header(key, lang)) * 2
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render_report(report: Report, fmt: str) -> bytes:
    """``report`` as the bytes of a ``fmt`` file.

    Parameters
    ----------
    report : Report
        From :func:`geo.reports.content.build_report`.
    fmt : {"pdf", "html", "xlsx"}
        One of :data:`REPORT_FORMATS`.

    Returns
    -------
    bytes
    """
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "html":
        return to_html(report).encode("utf-8")
    return to_pdf(report)
