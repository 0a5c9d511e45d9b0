"""geo.layers.edit: feature-level writes, checked like an import, versioned by ETag, under the lock."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import LAT, LON, clinic, residential_area

from geo.crs import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import (
    ConflictError,
    NotFoundError,
    SourceReadError,
    UnknownLayerError,
    ValidationError,
)
from geo.layers import edit
from geo.layers.imports import import_layer
from geo.layers.store import read_layer


def clinics_file(store: Path) -> bytes:
    return (store / "clinics.geojson").read_bytes()


def etag_of(store: Path, layer: str, feature_id: str) -> str:
    return edit.feature_etag(edit.get_feature(layer, feature_id, store))


def fields(error: ValidationError) -> set[str | None]:
    return {p.field for p in error.problems}


# ------------------------------------------------------------------------------ create


def test_create_stores_the_feature_and_returns_it_as_stored(clinics_store: Path) -> None:
    feature = clinic("C3", "殷行社区卫生服务中心", LON + 0.02, LAT, beds="12")
    stored = edit.create_feature("clinics", feature, clinics_store)
    assert stored == edit.get_feature("clinics", "C3", clinics_store)
    assert stored["id"] == "C3" and stored["properties"]["beds"] == 12  # coerced like import
    assert list(read_layer("clinics", clinics_store).index) == ["C1", "C2", "C3"]


def test_create_into_a_layer_without_a_file(store: Path) -> None:
    edit.create_feature("clinics", clinic("C1", "长白"), store)
    assert list(read_layer("clinics", store).index) == ["C1"]


def test_feature_id_member_is_used_when_properties_have_none(store: Path) -> None:
    feature = {**clinic(None, "长白"), "id": 42}
    assert edit.create_feature("clinics", feature, store)["id"] == "42"


def test_generated_id_is_the_one_import_makes(store: Path, tmp_path: Path, write_geojson) -> None:
    feature = clinic(None, "延吉卫生站", LON + 0.003, LAT)
    stored = edit.create_feature("clinics", feature, store)
    other = tmp_path / "other"
    other.mkdir()
    import_layer("clinics", write_geojson(tmp_path / "one.geojson", [feature]), folder=other)
    assert stored["id"] == read_layer("clinics", other).index[0]
    assert stored["id"].startswith("clinics-")


def test_the_same_new_feature_twice_is_a_conflict(store: Path) -> None:
    feature = clinic(None, "延吉卫生站")
    first = edit.create_feature("clinics", feature, store)
    before = clinics_file(store)
    with pytest.raises(ConflictError, match=first["id"]):
        edit.create_feature("clinics", feature, store)
    assert clinics_file(store) == before


def test_an_existing_id_is_a_conflict(clinics_store: Path) -> None:
    before = clinics_file(clinics_store)
    with pytest.raises(ConflictError, match="C1"):
        edit.create_feature("clinics", clinic("C1", "另一个", LON + 0.05, LAT), clinics_store)
    assert clinics_file(clinics_store) == before


def test_invalid_feature_names_every_field_and_writes_nothing(clinics_store: Path) -> None:
    before = clinics_file(clinics_store)
    bad = clinic("C9", "坏数据", level="hopsital", beds="many")
    with pytest.raises(ValidationError) as caught:
        edit.create_feature("clinics", bad, clinics_store)
    assert fields(caught.value) == {"level", "beds"}
    assert "hospital" in str(caught.value)  # did you mean …
    assert clinics_file(clinics_store) == before


def test_geometry_is_required_and_checked(store: Path) -> None:
    no_geometry = {
        "type": "Feature",
        "geometry": None,
        "properties": {"name": "x", "level": "station"},
    }
    with pytest.raises(ValidationError) as caught:
        edit.create_feature("clinics", no_geometry, store)
    assert fields(caught.value) == {"geometry"}
    polygon = residential_area("R1", "小区")["geometry"]
    with pytest.raises(ValidationError, match="Polygon"):
        edit.create_feature("clinics", {**clinic("C1", "x"), "geometry": polygon}, store)
    swapped = clinic("C1", "x", LAT, LON)
    with pytest.raises(ValidationError, match="geometry"):
        edit.create_feature("clinics", swapped, store)
    assert not (store / "clinics.geojson").exists()


@pytest.mark.parametrize(
    "body",
    [
        [],
        "Feature",
        None,
        {"type": "FeatureCollection", "features": []},
        {"geometry": {"type": "Point", "coordinates": [LON, LAT]}},
    ],
)
def test_anything_but_a_feature_is_refused(store: Path, body: object) -> None:
    with pytest.raises(SourceReadError, match="Feature"):
        edit.create_feature("clinics", body, store)  # type: ignore[arg-type]


def test_unknown_layer(store: Path) -> None:
    with pytest.raises(UnknownLayerError):
        edit.create_feature("hospitals", clinic("C1", "x"), store)


@pytest.mark.parametrize(
    ("crs", "forward", "inverse"),
    [("gcj02", wgs84_to_gcj02, gcj02_to_wgs84), ("bd09", wgs84_to_bd09, bd09_to_wgs84)],
)
def test_geometry_and_entrances_in_chinese_crs_are_stored_in_wgs84(
    store: Path, crs: str, forward: Callable, inverse: Callable
) -> None:
    area = residential_area("R1", "小区")
    ring = area["geometry"]["coordinates"][0]
    gate = area["properties"]["entrances"][0]
    area["geometry"]["coordinates"] = [[list(forward(x, y)) for x, y in ring]]
    area["properties"]["entrances"] = [list(forward(*gate))]
    stored = edit.create_feature("residential_areas", area, store, crs=crs)
    got = stored["geometry"]["coordinates"][0]
    assert {tuple(p) for p in got} == {(round(x, 7), round(y, 7)) for x, y in ring}
    assert stored["properties"]["entrances"][0] == pytest.approx(gate, abs=1e-9)
    sent = area["geometry"]["coordinates"][0][0]
    assert got[0] == pytest.approx([round(v, 7) for v in inverse(*sent)], abs=1e-7)


def test_entrances_given_as_json_text_are_converted_too(store: Path) -> None:
    area = residential_area("R1", "小区")
    gate = area["properties"]["entrances"][0]
    area["geometry"]["coordinates"] = [
        [list(wgs84_to_gcj02(x, y)) for x, y in area["geometry"]["coordinates"][0]]
    ]
    area["properties"]["entrances"] = json.dumps([list(wgs84_to_gcj02(*gate))])
    stored = edit.create_feature("residential_areas", area, store, crs="gcj02")
    assert stored["properties"]["entrances"][0] == pytest.approx(gate, abs=1e-9)


def test_concurrent_creates_lose_nothing(store: Path) -> None:
    errors: list[BaseException] = []

    def add(number: int) -> None:
        try:
            edit.create_feature("clinics", clinic(f"C{number}", f"站{number}"), store)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(read_layer("clinics", store).index) == [f"C{n}" for n in range(8)]


# ------------------------------------------------------------------------------ versions


def test_feature_etag_covers_the_feature_not_the_links() -> None:
    feature = {"type": "Feature", "id": "C1", "geometry": None, "properties": {"a": 1, "b": 2}}
    reordered = {"properties": {"b": 2, "a": 1}, "geometry": None, "id": "C1", "type": "Feature"}
    assert edit.feature_etag(feature) == edit.feature_etag(reordered)
    assert edit.feature_etag(feature) == edit.feature_etag({**feature, "links": [{"href": "x"}]})
    changed = {**feature, "properties": {"a": 1, "b": 3}}
    assert edit.feature_etag(changed) != edit.feature_etag(feature)
    assert len(edit.feature_etag(feature)) == 32
    int(edit.feature_etag(feature), 16)


def test_version_errors_are_conflicts() -> None:
    assert issubclass(edit.PreconditionRequiredError, ConflictError)
    assert issubclass(edit.StaleVersionError, ConflictError)
    assert (edit.PreconditionRequiredError.status, edit.StaleVersionError.status) == (428, 412)


@pytest.mark.parametrize("if_match", [None, "", "  "])
def test_changes_need_if_match(clinics_store: Path, if_match: str | None) -> None:
    before = clinics_file(clinics_store)
    with pytest.raises(edit.PreconditionRequiredError, match="If-Match"):
        edit.replace_feature("clinics", "C1", clinic("C1", "x"), if_match, clinics_store)
    with pytest.raises(edit.PreconditionRequiredError):
        edit.patch_feature("clinics", "C1", {"name": "x"}, if_match, clinics_store)
    with pytest.raises(edit.PreconditionRequiredError):
        edit.delete_feature("clinics", "C1", if_match, clinics_store)
    assert clinics_file(clinics_store) == before


@pytest.mark.parametrize(
    "form", ['"{}"', 'W/"{}"', "{}", '"stale", "{}"', "*", ' W/"{}" ', '"0000", *']
)
def test_if_match_forms_that_match(clinics_store: Path, form: str) -> None:
    if_match = form.format(etag_of(clinics_store, "clinics", "C1"))
    stored = edit.patch_feature("clinics", "C1", {"beds": 5}, if_match, clinics_store)
    assert stored["properties"]["beds"] == 5


def test_stale_version_is_refused_and_writes_nothing(clinics_store: Path) -> None:
    old = etag_of(clinics_store, "clinics", "C1")
    edit.patch_feature("clinics", "C1", {"beds": 5}, old, clinics_store)
    before = clinics_file(clinics_store)
    with pytest.raises(edit.StaleVersionError, match="fetch it again"):
        edit.patch_feature("clinics", "C1", {"beds": 6}, f'"{old}"', clinics_store)
    with pytest.raises(edit.StaleVersionError):
        edit.replace_feature("clinics", "C1", clinic("C1", "x"), old, clinics_store)
    with pytest.raises(edit.StaleVersionError):
        edit.delete_feature("clinics", "C1", old, clinics_store)
    assert clinics_file(clinics_store) == before


def test_a_version_of_another_feature_does_not_match(clinics_store: Path) -> None:
    with pytest.raises(edit.StaleVersionError):
        edit.delete_feature("clinics", "C1", etag_of(clinics_store, "clinics", "C2"), clinics_store)


def test_missing_feature(clinics_store: Path) -> None:
    with pytest.raises(NotFoundError, match="C9"):
        edit.get_feature("clinics", "C9", clinics_store)
    with pytest.raises(NotFoundError):
        edit.replace_feature("clinics", "C9", clinic("C9", "x"), "*", clinics_store)
    with pytest.raises(NotFoundError):
        edit.patch_feature("clinics", "C9", {"name": "x"}, "*", clinics_store)
    with pytest.raises(NotFoundError):
        edit.delete_feature("clinics", "C9", "*", clinics_store)


# ----------------------------------------------------------------------- replace, patch


def test_replace_keeps_the_place_in_the_file_and_changes_the_version(clinics_store: Path) -> None:
    old = etag_of(clinics_store, "clinics", "C1")
    new = clinic(None, "长白社区卫生服务中心（新址）", LON + 0.001, LAT, level="hospital_branch")
    stored = edit.replace_feature("clinics", "C1", new, old, clinics_store)
    assert stored["id"] == "C1" and stored["properties"]["level"] == "hospital_branch"
    assert stored["geometry"]["coordinates"] == [round(LON + 0.001, 7), LAT]
    assert edit.feature_etag(stored) != old
    assert list(read_layer("clinics", clinics_store).index) == ["C1", "C2"]
    lines = clinics_file(clinics_store).decode().splitlines()
    assert '"id":"C1"' in lines[1] and '"id":"C2"' in lines[2]


def test_the_id_cannot_change(clinics_store: Path) -> None:
    before = clinics_file(clinics_store)
    with pytest.raises(ValidationError, match="cannot change") as caught:
        edit.replace_feature("clinics", "C1", clinic("C7", "x"), "*", clinics_store)
    assert fields(caught.value) == {"id"}
    with pytest.raises(ValidationError, match="cannot change"):
        edit.patch_feature("clinics", "C1", {"id": "C7"}, "*", clinics_store)
    with pytest.raises(ValidationError, match="cannot change"):
        edit.patch_feature("clinics", "C1", {"properties": {}, "id": "C7"}, "*", clinics_store)
    assert clinics_file(clinics_store) == before


def test_patch_sets_and_removes_properties(clinics_store: Path) -> None:
    edit.patch_feature("clinics", "C1", {"beds": 30, "note": "核定"}, "*", clinics_store)
    stored = edit.patch_feature(
        "clinics", "C1", {"note": None, "address": "松花江路"}, "*", clinics_store
    )
    assert stored["properties"] == {
        "id": "C1",
        "name": "长白社区卫生服务中心",
        "level": "station",
        "beds": 30,
        "address": "松花江路",
    }
    assert stored["geometry"]["coordinates"] == [LON, LAT]


def test_patch_cannot_remove_a_required_property(clinics_store: Path) -> None:
    before = clinics_file(clinics_store)
    with pytest.raises(ValidationError) as caught:
        edit.patch_feature("clinics", "C1", {"level": None}, "*", clinics_store)
    assert fields(caught.value) == {"level"}
    assert clinics_file(clinics_store) == before


def test_patch_in_feature_form_moves_the_geometry_given_in_gcj02(clinics_store: Path) -> None:
    target = (LON + 0.002, LAT + 0.001)
    sent = wgs84_to_gcj02(*target)
    patch = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(sent)},
        "properties": {"name": "新址"},
    }
    stored = edit.patch_feature("clinics", "C1", patch, "*", clinics_store, crs="gcj02")
    assert stored["properties"]["name"] == "新址"
    assert stored["geometry"]["coordinates"] == pytest.approx(
        [round(v, 7) for v in gcj02_to_wgs84(*sent)], abs=1e-7
    )
    assert stored["geometry"]["coordinates"] == pytest.approx(list(target), abs=2e-7)


def test_patch_with_a_geometry_only(clinics_store: Path) -> None:
    point = {"type": "Point", "coordinates": [round(LON + 0.004, 7), LAT]}
    stored = edit.patch_feature("clinics", "C1", {"geometry": point}, "*", clinics_store)
    assert stored["geometry"] == point and stored["properties"]["name"] == "长白社区卫生服务中心"
    with pytest.raises(ValidationError, match="geometry"):
        edit.patch_feature("clinics", "C1", {"geometry": None}, "*", clinics_store)


@pytest.mark.parametrize(
    "patch", [[], "x", {"properties": None}, {"properties": {"name": "x"}, "name": "y"}]
)
def test_patch_bodies_that_are_not_merge_patches(clinics_store: Path, patch: object) -> None:
    with pytest.raises(SourceReadError, match="PATCH"):
        edit.patch_feature("clinics", "C1", patch, "*", clinics_store)  # type: ignore[arg-type]


def test_existing_errors_do_not_block_fixing_them(
    store: Path, write_geojson: Callable[..., Path]
) -> None:
    # A layer edited by hand with one broken feature: other changes still go through, and
    # the broken one can be repaired or deleted.
    write_geojson(
        store / "clinics.geojson",
        [clinic("C1", "长白", level="hopsital"), clinic("C2", "延吉", LON + 0.01, LAT)],
    )
    edit.create_feature("clinics", clinic("C3", "控江", LON + 0.02, LAT), store)
    edit.patch_feature("clinics", "C2", {"beds": 3}, "*", store)
    with pytest.raises(ValidationError):
        edit.patch_feature("clinics", "C2", {"level": "nope"}, "*", store)  # no new errors
    fixed = edit.patch_feature("clinics", "C1", {"level": "hospital"}, "*", store)
    assert fixed["properties"]["level"] == "hospital"
    edit.delete_feature("clinics", "C3", "*", store)
    assert list(read_layer("clinics", store).index) == ["C1", "C2"]


# ------------------------------------------------------------------------------ delete


def test_delete_removes_only_that_feature(clinics_store: Path) -> None:
    edit.delete_feature("clinics", "C1", etag_of(clinics_store, "clinics", "C1"), clinics_store)
    assert list(read_layer("clinics", clinics_store).index) == ["C2"]
    with pytest.raises(NotFoundError):
        edit.get_feature("clinics", "C1", clinics_store)
    edit.delete_feature("clinics", "C2", "*", clinics_store)
    assert len(read_layer("clinics", clinics_store)) == 0
