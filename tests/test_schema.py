from pathlib import Path

import pytest

from geo.errors import UnknownLayerError
from geo.schema import FACILITY_LAYERS, LAYER_NAMES, get_layer, schema_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_six_layers_with_their_geometry():
    assert LAYER_NAMES == (
        "residential_areas",
        "neighbor_centers",
        "clinics",
        "charging_points",
        "renovation_projects",
        "facilities",
    )
    assert FACILITY_LAYERS == ("neighbor_centers", "clinics", "charging_points")
    assert get_layer("renovation_projects").geometry_types == ("Polygon", "MultiPolygon", "Point")


def test_required_fields_of_residential_areas():
    required = set(get_layer("residential_areas").required)
    assert {"households", "population", "elderly", "built", "tenure"} <= required
    assert "entrances" not in required


def test_unknown_layer_names_the_choices():
    with pytest.raises(UnknownLayerError, match="clinics") as info:
        get_layer("../etc/passwd")
    assert isinstance(info.value, ValueError)


def test_documented_schema_matches_the_code():
    documented = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert schema_markdown() in documented, "run: lifecircle schema, and update docs/schema.md"
