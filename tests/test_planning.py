"""Scenarios and recommended sites on the drawn neighbourhood and on hand-made instances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.analysis.planning import (
    Scenario,
    compare,
    greedy_sites,
    greedy_vs_optimal,
    optimal_sites,
    recommend_sites,
)
from geo.errors import QueryError
from geo.testing import drawn_study, lonlat


def test_adding_a_clinic_covers_the_touching_compound():
    study = drawn_study()
    # the compound by street B is 1170 m from the clinic; a station 500 m up B is 50 m away
    plan = Scenario(
        add=[
            {
                "type": "clinics",
                "lon": lonlat(1000, 500)[0],
                "lat": lonlat(1000, 500)[1],
                "name": "新站",
            }
        ]
    )
    result = compare(study, plan)
    assert result.changes.loc["touching", "clinics_gained"]
    assert result.changes.loc["touching", "clinics_walk_m_after"] == pytest.approx(50.0, abs=0.5)
    assert result.changes["clinics_lost"].sum() == 0
    row = result.by_subdistrict.query("subdistrict == '甲街道' and type == 'clinics'").iloc[0]
    assert (row["population_gained"], row["elderly_gained"]) == (500, 150)
    assert "新站" in set(result.study.layers["clinics"]["name"])
    assert "新站" not in set(study.layers["clinics"]["name"])  # the stored layers are untouched


def test_removing_and_moving_lose_coverage():
    study = drawn_study()
    removed = compare(study, Scenario(remove=[{"type": "clinics", "id": "c1"}]))
    assert removed.changes.loc["gated", "clinics_lost"]
    row = removed.by_subdistrict.query("subdistrict == '全部 / all' and type == 'clinics'").iloc[0]
    assert row["population_lost"] == 250
    far = lonlat(1000, 800)
    moved = compare(
        study, Scenario(move=[{"type": "clinics", "id": "c1", "lon": far[0], "lat": far[1]}])
    )
    assert (
        moved.changes.loc["gated", "clinics_lost"]
        and moved.changes.loc["touching", "clinics_gained"]
    )


def test_bad_scenarios_name_every_bad_entry():
    study = drawn_study()
    plan = Scenario(
        add=[{"type": "hospital", "lon": 500, "lat": 31}],
        remove=[{"type": "clinics", "id": "nope"}],
    )
    with pytest.raises(QueryError) as info:
        compare(study, plan)
    text = str(info.value)
    assert "add #1" in text and "remove #1" in text and "nope" in text
    with pytest.raises(QueryError, match="unknown scenario keys"):
        Scenario.from_dict({"open": []})


def test_greedy_is_optimal_where_it_should_be():
    # three disjoint candidates: greedy takes the two heaviest, which is optimal
    weights = np.array([5.0, 3.0, 1.0])
    area, candidate = np.array([0, 1, 2]), np.array([0, 1, 2])
    assert greedy_sites(weights, area, candidate, 3, 2) == [0, 1]
    assert sorted(optimal_sites(weights, area, candidate, 3, 2)) == [0, 1]


def test_exact_beats_greedy_on_the_classic_trap():
    # areas: a=4, b=4, c=3.5, d=3.5; cand 0 covers {a,b} = 8; cand 1 covers {a,c} = 7.5;
    # cand 2 covers {b,d} = 7.5. With k=2 greedy: 0 (8), then 1 or 2 adds 3.5 → 11.5.
    # optimal: 1 and 2 → 15.
    weights = np.array([4.0, 4.0, 3.5, 3.5])
    area = np.array([0, 1, 0, 2, 1, 3])
    candidate = np.array([0, 0, 1, 1, 2, 2])
    assert greedy_sites(weights, area, candidate, 3, 2)[0] == 0
    result = greedy_vs_optimal(weights, area, candidate, 3, 2)
    assert (result["greedy"], result["optimal"]) == (11.5, 15.0)
    assert sorted(optimal_sites(weights, area, candidate, 3, 2)) == [1, 2]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_greedy_is_within_1_minus_1_over_e_of_optimal(seed, k):
    rng = np.random.default_rng(seed)
    n_areas, n_candidates = 25, 10
    weights = rng.integers(1, 100, n_areas).astype(float)
    mask = rng.random((n_areas, n_candidates)) < 0.2
    area, candidate = np.nonzero(mask)
    result = greedy_vs_optimal(weights, area, candidate, n_candidates, k)
    assert result["greedy"] <= result["optimal"] + 1e-9
    assert result["greedy"] >= (1 - 1 / math.e) * result["optimal"] - 1e-9


def test_recommendations_on_the_drawn_neighbourhood():
    study = drawn_study()
    points = [lonlat(1000, 500), lonlat(600, 0), lonlat(3100, 0)]
    rec = recommend_sites(study, "clinics", k=1, candidates="points", points=points)
    # only the point on B covers the touching compound (500 people); the others cover nothing new
    assert rec.sites["candidate_id"].tolist() == ["point-1"]
    assert rec.covered_population == 500 and rec.sites["area_ids"].iloc[0] == ["touching"]
    both = recommend_sites(
        study, "clinics", k=2, candidates="points", points=points, method="exact"
    )
    assert both.sites["candidate_id"].tolist()[0] == "point-1"
    assert both.covered_population == 700  # + the island compound from the island street
