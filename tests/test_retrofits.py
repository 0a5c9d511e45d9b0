"""The compound view of the 加装电梯地图: walk-up compounds without a lift, most elderly first,
with their retrofit progress replayed on a date — on frames small enough to check by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from geo.analysis.retrofits import elderly_share_class, lift_status, retrofit_candidates
from geo.layers.headers import auto_mapping
from geo.layers.store import read_layer
from geo.schema import PROJECT_STATUSES

TODAY = date(2024, 6, 30)


def _areas() -> pd.DataFrame:
    rows = [
        # id, storeys, has_lift, population, elderly
        ("three", 3, None, 1000, 600),  # too low to need a lift
        ("four", 4, None, 1000, 300),  # 30 %
        ("six", 6, None, 1000, 450),  # 45 %
        ("six-lift", 6, True, 1000, 500),  # has one, said so
        ("seven", 7, None, 1000, 500),  # lift inferred from seven storeys
        ("seven-none", 7, False, 1000, 200),  # 20 %: said to have none
        ("unknown", None, None, 1000, 900),  # cannot be judged
        ("empty", 6, "否", 0, 0),  # no residents: share unknown
    ]
    frame = pd.DataFrame(rows, columns=["id", "storeys", "has_lift", "population", "elderly"])
    return frame.assign(name=frame["id"]).set_index("id")


def _projects() -> pd.DataFrame:
    rows = [
        # a compound's two retrofits: done in 2022, and signed in 2023 with work since 2024-03
        (
            "p1",
            "elevator_retrofit",
            "completed",
            2,
            "six",
            {"signed_on": "2021-01-10", "start": "2021-06-01", "end": "2022-05-01"},
        ),
        (
            "p2",
            "elevator_retrofit",
            "under_construction",
            3,
            "six",
            {"signed_on": "2023-04-01", "start": "2024-03-01"},
        ),
        # not begun on 2023-06-30
        ("p3", "elevator_retrofit", "signed", 4, "four", {"signed_on": "2024-01-15"}),
        # not a retrofit: not counted
        ("p4", "bike_shed", "completed", 9, "four", {"start": "2022-01-01", "end": "2022-02-01"}),
        # another compound's, not a candidate
        ("p5", "elevator_retrofit", "completed", 1, "seven", {"end": "2020-01-01"}),
    ]
    return pd.DataFrame(
        [{"id": i, "kind": k, "status": s, "units": u, "residential_area_id": a, **d}
         for i, k, s, u, a, d in rows]
    ).set_index("id")  # fmt: skip


def test_a_lift_is_what_the_data_says_else_seven_storeys_or_more() -> None:
    status = lift_status(_areas())
    assert str(status["has_lift"].dtype) == "boolean"
    assert status["has_lift"].astype(object).fillna("?").to_dict() == {
        "three": False, "four": False, "six": False, "six-lift": True, "seven": True,
        "seven-none": False, "unknown": "?", "empty": False,
    }  # fmt: skip
    assert status["lift_inferred"].to_dict() == {
        "three": True, "four": True, "six": True, "six-lift": False, "seven": True,
        "seven-none": False, "unknown": False, "empty": False,
    }  # fmt: skip


def test_candidates_are_walk_ups_without_a_lift_most_elderly_first() -> None:
    found = retrofit_candidates(_areas(), _projects(), as_of="2023-06-30", today=TODAY)
    # six 45 %, four 30 %, seven-none 20 %, then empty (no residents, share unknown) last
    assert list(found.index) == ["six", "four", "seven-none", "empty"]
    assert found.loc["six", "elderly_share"] == pytest.approx(0.45)
    assert list(found["elderly_class"]) == [3, 1, 0, -1]
    assert np.isnan(found.loc["empty", "elderly_share"])
    assert found.loc["four", "name"] == "four"  # the compound's own columns kept


def test_their_retrofit_progress_is_replayed_on_the_date() -> None:
    found = retrofit_candidates(_areas(), _projects(), as_of="2023-06-30", today=TODAY)
    six = found.loc["six"]
    # 2 completed (p1); p2 signed in April 2023, work not started yet
    assert (six["units_completed"], six["units_signed"], six["units_under_construction"]) == (
        2, 3, 0)  # fmt: skip
    assert (six["retrofit_projects"], six["retrofit_units"]) == (2, 5)
    # p3 not begun by then, p4 a bike shed: nothing for "four"
    assert found.loc["four", "retrofit_units"] == 0
    assert sum(found.loc["four", f"units_{s}"] for s in PROJECT_STATUSES) == 0
    now = retrofit_candidates(_areas(), _projects(), today=TODAY)
    assert now.loc["six", "units_under_construction"] == 3
    assert now.loc["four", "units_signed"] == 4


def test_without_projects_every_candidate_has_no_progress() -> None:
    found = retrofit_candidates(_areas(), None, today=TODAY)
    assert len(found) == 4 and found["retrofit_units"].eq(0).all()


def test_shares_fall_in_their_classes_at_the_edges() -> None:
    shares = np.array([0.0, 0.2499, 0.25, 0.3499, 0.35, 0.45, 1.0, np.nan])
    assert elderly_share_class(shares).tolist() == [0, 0, 1, 1, 2, 3, 3, -1]


def test_the_sample_dapuqiao_compounds_carry_the_february_2023_figures() -> None:
    found = retrofit_candidates(
        read_layer("residential_areas"), read_layer("renovation_projects"), as_of="2023-02-28"
    )
    dapuqiao = found[found["subdistrict"] == "打浦桥街道"]
    assert set(dapuqiao.index) == {"ra-dpq-001", "ra-dpq-002"}
    assert not dapuqiao.loc["ra-dpq-002", "lift_inferred"]  # 7 storeys, has_lift: false
    totals = dapuqiao[[f"units_{s}" for s in PROJECT_STATUSES]].sum()
    # 49 completed, 11 under construction, 5 awaiting start: 65 signed; the 4 signed in May
    # 2023 were still in consultation
    assert (totals["units_completed"], totals["units_under_construction"],
            totals["units_awaiting_start"], totals["units_consultation"]) == (49, 11, 5, 4)  # fmt: skip


def test_a_planners_table_says_has_lift_in_chinese() -> None:
    mapping = auto_mapping(["名称", "层数", "有无电梯"], "residential_areas", {})
    assert mapping == {"名称": "name", "层数": "storeys", "有无电梯": "has_lift"}
