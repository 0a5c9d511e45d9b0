"""The facility catalogue: the file is checked, and completeness is counted by hand.

The drawn neighbourhood (geo/testing.py): street A runs (0,0)–(1000,0), street B
(1000,0)–(1000,800). The gated compound leaves by its gate 30 m off A at 150 m; the touching
compound starts on B at 550 m (the point of B nearest its centre). Facilities added here:

    kindergarten k1  20 m off A at 300 m   gated: 30 + 150 + 20 = 200 m
    market       m1  20 m off A at 700 m   gated: 30 + 550 + 20 = 600 m
    park         g1  20 m off B at 400 m   touching: 150 + 20 = 170 m
    clinic       c1  20 m off A at 400 m   gated: 300 m (the drawn study's own)

Thresholds (catalogue): kindergarten 5 min, market 10, park 10, clinic 15, for both walkers;
the standard walker goes 66.7 m a minute, the elderly 50.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.analysis.completeness import completeness, completeness_summary, lacking
from geo.analysis.params import DEFAULT_MINUTES
from geo.catalogue import (
    CATALOGUE,
    CATALOGUE_FILE,
    CATEGORIES,
    CatalogueError,
    catalogue_markdown,
    load_catalogue,
)
from geo.layers.validate import validate_layer
from geo.schema import get_layer
from geo.testing import drawn_study, facility_frame

GOOD = """
[kinds.market]
zh = "菜市场"
en = "food market"
tier = "基础保障"
minutes = { standard = 10, elderly = 12 }
source = "a test"
capacity_field = ""
capacity_unit = ["", ""]
demand_group = "households"
"""


def _study():
    study = drawn_study()
    extra = facility_frame(
        [("k1", "幼儿园", 300, 20), ("m1", "菜场", 700, 20), ("g1", "绿地", 1020, 400)]
    )
    extra["category"] = ["kindergarten", "market", "park"]
    return study.with_layers({**study.layers, "facilities": extra})


def test_the_bundled_catalogue_has_every_kind_the_issue_names_with_a_source():
    wanted = {"kindergarten", "primary_school", "middle_school", "market", "elderly_canteen",
              "elderly_daycare", "culture_centre", "sports_ground", "park", "party_service",
              "pharmacy"}  # fmt: skip
    assert wanted <= set(CATEGORIES)
    assert all(kind.source and kind.tier in ("基础保障", "品质提升") for kind in CATALOGUE.values())
    # an unverified number says so in its source
    assert all(kind.verified or "unverified" in kind.source for kind in CATALOGUE.values())
    # the kinds with layers of their own keep the project's thresholds
    for layer in ("clinics", "neighbor_centers"):
        assert CATALOGUE[layer].minutes_for("standard") == DEFAULT_MINUTES[layer]
    assert load_catalogue(CATALOGUE_FILE).keys() == CATALOGUE.keys()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: t.replace('tier = "基础保障"', 'tier = "高级"'), "tier"),
        (lambda t: t.replace('source = "a test"\n', ""), "source"),
        (lambda t: t.replace("standard = 10", 'standard = "ten"'), "minutes.standard"),
        (lambda t: t.replace('"households"', '"children"'), "demand_group"),
        (lambda t: t + 'colour = "red"\n', "colour"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_entry_and_field_in_both_languages(
    tmp_path: Path, change, field
):
    (tmp_path / "ok.toml").write_text(GOOD, encoding="utf-8")
    assert load_catalogue(tmp_path / "ok.toml")["market"].minutes_for("elderly") == 12.0
    bad = tmp_path / "bad.toml"
    bad.write_text(change(GOOD), encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(bad)
    message = str(info.value)
    assert "bad.toml" in message and "'market'" in message and f"'{field}'" in message
    assert "条目" in message and "entry" in message


def test_a_file_that_is_not_toml_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "broken.toml"
    bad.write_text("[kinds.market\n", encoding="utf-8")
    with pytest.raises(
        CatalogueError, match=r"不是有效的 TOML / the catalogue .*broken\.toml is not TOML"
    ):
        load_catalogue(bad)


def test_the_facilities_layer_checks_category_against_the_catalogue():
    assert get_layer("facilities").field("category").enum == CATEGORIES
    frame = facility_frame([("x1", "某设施", 0, 0)])
    frame["category"] = ["casino"]
    problems = validate_layer(frame, "facilities")
    assert any(p.field == "category" and p.severity == "error" for p in problems), problems
    frame["category"] = ["park"]
    assert not [p for p in validate_layer(frame, "facilities") if p.severity == "error"]


def test_completeness_by_hand_on_the_drawn_neighbourhood():
    table = completeness(_study())
    gated, touching = table.loc["gated"], table.loc["touching"]
    assert gated["kindergarten_walk_m"] == 200.0 and gated["market_walk_m"] == 600.0
    assert touching["park_walk_m"] == 170.0
    # market 10 min: 667 m for the standard walker, 500 m for the elderly
    assert bool(gated["market_standard"]) and not bool(gated["market_elderly"])
    assert bool(gated["kindergarten_elderly"]) and bool(gated["clinics_elderly"])
    assert not bool(gated["park_standard"])  # 30 + 850 + 400 + 20 = 1300 m
    assert (gated["basic_standard"], gated["basic_elderly"]) == (3, 2)
    assert (touching["basic_standard"], touching["basic_elderly"]) == (1, 1)
    assert table.loc["remote", "basic_standard"] == 1  # its centre is inside it
    assert table.loc["island", "kinds_standard"] == 0
    assert (table["quality_standard"] == 0).all()  # no pharmacy or library drawn
    assert gated["missing_elderly"].split(",")[:3] == [
        "neighbor_centers",
        "primary_school",
        "middle_school",
    ]
    assert gated["share_standard"] == round(3 / len(CATALOGUE), 4)

    areas = _study().layers["residential_areas"]
    summary = completeness_summary(areas, table).set_index(["subdistrict", "walker"])
    jia = summary.loc[("甲街道", "standard")]
    assert jia["mean_basic"] == 2.0 and summary.loc[("甲街道", "elderly"), "mean_basic"] == 1.5
    # residents weighted: (250 × 3 + 500 × 1) / 14 kinds / 750 residents
    assert jia["mean_share_residents"] == round((250 * 3 + 500 * 1) / 14 / 750, 4)

    lack = lacking(areas, table, "elderly").set_index(["subdistrict", "kind"])
    assert lack.loc[("甲街道", "market"), "residents_without"] == 750
    assert lack.loc[("甲街道", "kindergarten"), "residents_without"] == 500
    assert lack.loc[("甲街道", "park"), "residents_without"] == 250
    assert lack.loc[("甲街道", "park"), "rank"] > lack.loc[("甲街道", "kindergarten"), "rank"]
    # market and the neighbour centre are lacked by all 750 (a tie: by key); a kind the data
    # has none of (a canteen) ranks after every kind it has
    assert lack.loc[("甲街道", "market"), "rank"] == 1
    assert lack.loc[("甲街道", "elderly_canteen"), "facilities"] == 0
    assert lack.loc[("甲街道", "elderly_canteen"), "rank"] > lack.loc[("甲街道", "park"), "rank"]


def test_per_kind_thresholds_come_from_the_catalogue_for_each_walker(tmp_path: Path):
    # the same market, 600 m away: 12 elderly minutes (600 m) reach it, 10 do not
    path = tmp_path / "c.toml"
    path.write_text(GOOD, encoding="utf-8")
    table = completeness(_study(), load_catalogue(path))
    assert bool(table.loc["gated", "market_elderly"]) and bool(
        table.loc["gated", "market_standard"]
    )
    path.write_text(
        GOOD.replace("standard = 10, elderly = 12", "standard = 8, elderly = 12"), encoding="utf-8"
    )
    table = completeness(_study(), load_catalogue(path))  # 8 min: 533 m < 600 m
    assert not bool(table.loc["gated", "market_standard"]) and bool(
        table.loc["gated", "market_elderly"]
    )
    assert list(table.filter(like="_walk_m").columns) == ["market_walk_m"]


def test_a_study_without_a_facilities_layer_reaches_no_category():
    table = completeness(drawn_study())
    assert not table["kindergarten_standard"].any()
    assert table.loc["gated", "basic_standard"] == 1  # the clinic only


def test_documented_catalogue_matches_the_file():
    documented = (Path(__file__).resolve().parent.parent / "docs" / "catalogue.md").read_text(
        encoding="utf-8"
    )
    assert catalogue_markdown() in documented, (
        "paste geo.catalogue.catalogue_markdown() into docs/catalogue.md"
    )
