"""Renovation progress counted the Shanghai way: exclusive and cumulative, replayed on a date."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import httpx
import pandas as pd
import pytest
from served import serving

from api.main import create_app
from geo.analysis.progress import progress, progress_series, stages_as_of
from geo.cli import main
from geo.errors import NotFoundError, QueryError
from geo.layers.stages import check_stages
from geo.layers.store import read_layer
from geo.settings import DEFAULT_DATA_DIR, Settings

TODAY = date(2024, 6, 30)


def _dapuqiao() -> pd.DataFrame:
    """打浦桥 in Feb 2023, one row per elevator: 49 completed, 11 under construction, 5
    awaiting start — 65 signed — and one signed only in May 2023."""
    rows = []
    for n, (status, dates) in enumerate(
        [("completed", {"signed_on": "2021-01-15", "start": "2021-06-01", "end": "2022-08-30"})]
        * 49
        + [("under_construction", {"signed_on": "2022-03-01", "start": "2022-11-01"})] * 11
        + [("awaiting_start", {"signed_on": "2022-08-01", "awaiting_start_on": "2022-12-20"})] * 5
        + [("signed", {"consultation_on": "2022-11-01", "signed_on": "2023-05-18"})]
    ):
        rows.append({"id": f"e{n}", "kind": "elevator_retrofit", "status": status, "units": 1,
                     "subdistrict": "打浦桥街道", **dates})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_dapuqiao_figures_of_february_2023_are_counted_both_ways() -> None:
    counts = progress(_dapuqiao(), as_of="2023-02-28", today=TODAY)["by_kind"]["elevator_retrofit"]
    assert counts["cumulative"]["signed"] == 65  # 累计签约65台
    assert counts["exclusive"]["completed"] == 49  # 其中完工49台
    assert counts["exclusive"]["under_construction"] == 11  # 在建11台
    assert counts["exclusive"]["awaiting_start"] == 5  # 待开工5台
    assert counts["exclusive"]["consultation"] == 1  # the one signed in May was consulting
    assert counts["cumulative"]["under_construction"] == 60  # 49 + 11 had started
    assert counts["units_cumulative"]["signed"] == 65
    # today every one has been signed
    now = progress(_dapuqiao(), today=TODAY)["by_kind"]["elevator_retrofit"]
    assert now["cumulative"]["signed"] == 66 and now["exclusive"]["signed"] == 1


def test_the_bundled_sample_reproduces_the_documented_figures() -> None:
    projects = read_layer("renovation_projects")
    counts = progress(projects, "打浦桥街道", "elevator_retrofit", "2023-02-28")
    units = counts["by_kind"]["elevator_retrofit"]
    assert (units["units_cumulative"]["signed"], units["units_exclusive"]["completed"],
            units["units_exclusive"]["under_construction"],
            units["units_exclusive"]["awaiting_start"]) == (65, 49, 11, 5)  # fmt: skip


def test_as_of_replays_the_history_instead_of_painting_today_on_the_past() -> None:
    rows = pd.DataFrame(
        [
            {"status": "completed", "consultation_on": "2020-01-10", "signed_on": "2020-05-01",
             "start": "2020-09-01", "end": "2021-03-01"},
            {"status": "under_construction", "start": "2021-01-01"},  # only a start date
            {"status": "signed"},  # no dates at all
        ]
    )  # fmt: skip

    def on(day: str) -> list[str]:
        return stages_as_of(rows, date.fromisoformat(day), TODAY).tolist()

    assert on("2019-12-31") == ["not_begun", "not_begun", "undated"]
    assert on("2020-01-10") == ["consultation", "not_begun", "undated"]  # the day itself counts
    assert on("2020-06-15") == ["signed", "not_begun", "undated"]
    assert on("2021-02-01") == ["under_construction", "under_construction", "undated"]
    assert on("2021-03-01") == ["completed", "under_construction", "undated"]
    assert stages_as_of(rows, None, TODAY).tolist() == ["completed", "under_construction", "signed"]
    counts = progress(rows.assign(kind="other"), as_of="2020-06-15", today=TODAY)["by_kind"]
    assert counts["other"]["projects"] == 1  # neither the not-begun nor the undated one
    assert (counts["other"]["not_begun"], counts["other"]["undated"]) == (1, 1)


def test_a_quarterly_series_ends_each_quarter_and_stops_at_as_of() -> None:
    series = progress_series(_dapuqiao(), "quarter", as_of="2023-02-28", today=TODAY)
    periods = series["periods"]
    assert periods[0]["period"] == "2021Q1" and periods[-1]["period"] == "2023Q1"
    assert [p["as_of"] for p in periods[-2:]] == ["2022-12-31", "2023-02-28"]
    signed = [p["by_kind"]["elevator_retrofit"]["cumulative"]["signed"] for p in periods]
    assert signed == sorted(signed) and signed[0] == 49 and signed[-1] == 65
    completed = [p["by_kind"]["elevator_retrofit"]["cumulative"]["completed"] for p in periods]
    assert completed.index(49) == periods.index(next(p for p in periods if p["period"] == "2022Q3"))


def test_unknown_kind_subdistrict_and_dates_are_refused_in_both_languages() -> None:
    with pytest.raises(QueryError, match=r"no project kind 'lift'.*elevator_retrofit"):
        progress(_dapuqiao(), kind="lift")
    with pytest.raises(NotFoundError, match=r"没有街道 '长白'.*打浦桥街道"):  # a 404
        progress(_dapuqiao(), subdistrict="长白")
    with pytest.raises(QueryError, match="not a date"):
        progress(_dapuqiao(), as_of="28/02/2023")
    for not_a_day in ("2023-02-29", "2023-04-31", "20230228", "2023-W09-2", "1899-12-31"):
        with pytest.raises(QueryError, match="not a date"):  # the document's pattern too
            progress(_dapuqiao(), as_of=not_a_day)
    assert progress(_dapuqiao(), as_of="2024-02-29")["as_of"] == "2024-02-29"


def test_stage_dates_must_follow_the_stages_and_the_status_and_not_lie_ahead() -> None:
    rows = pd.DataFrame(
        [
            {"status": "completed", "signed_on": "2022-05-01", "start": "2022-03-01",
             "end": "2022-09-01"},
            {"status": "signed", "signed_on": "2022-05-01", "end": "2022-09-01"},
            {"status": "under_construction", "start": "2031-01-01"},
            {"status": "completed", "signed_on": "2022-05-01", "end": "2022-09-01"},
        ]
    )  # fmt: skip
    problems = check_stages(rows, ["a", "b", "c", "d"], "p.geojson", TODAY)
    found = {(p.feature, p.field) for p in problems}
    assert found == {("a", "start"), ("b", "end"), ("c", "start")}
    assert "开工 2022-03-01 早于签约日期 2022-05-01" in str(problems[0])
    assert all(p.severity == "error" for p in problems)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = create_app(Settings(data=DEFAULT_DATA_DIR, warm=False))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def test_the_api_and_the_cli_give_the_library_s_answer(
    client: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    query = {"subdistrict": "打浦桥街道", "kind": "elevator_retrofit", "as_of": "2023-02-28"}
    answer = client.get("/renovation/progress", params=query)
    assert answer.status_code == 200
    library = progress(read_layer("renovation_projects"), "打浦桥街道", "elevator_retrofit",
                       "2023-02-28")  # fmt: skip
    assert answer.json() == library
    args = ["progress", "--subdistrict", "打浦桥街道", "--kind", "elevator_retrofit"]
    assert main([*args, "--as-of", "2023-02-28", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == library
    assert main([*args, "--as-of", "2023-02-28"]) == 0
    table = capsys.readouterr().out
    assert "签约" in table and " 65" in table and " 49" in table
    bad = client.get("/renovation/progress", params={"kind": "lift"})
    assert bad.status_code == 400 and "no project kind" in bad.json()["detail"]
    series = client.get("/renovation/progress", params={"series": "quarter", "kind": "bike_shed"})
    assert series.status_code == 200 and series.json()["periods"][-1]["as_of"] == str(date.today())
