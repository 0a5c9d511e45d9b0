"""lifecircle's library: the layers, Chinese coordinate systems, walking coverage.

The CLI (``lifecircle``), the HTTP API (``api``), the maps and the notebooks all call
this package, so they give the same answers. ``docs/architecture.md`` maps the house:
``geo.layers`` (the store seam), ``geo.network``, ``geo.analysis`` and ``geo.maps`` over a
ground floor of ``errors``, ``crs``, ``schema``, ``settings``.
"""

from geo.analysis.params import PROFILES, WalkParams
from geo.analysis.study import Study, nearest
from geo.errors import LifecircleError, Problem, ValidationError
from geo.layers.store import (
    LayerStore,
    open_store,
    read_layer,
    read_layers,
    validate_store,
    write_layer,
)
from geo.layers.validate import validate_layer
from geo.schema import FACILITY_LAYERS, LAYER_NAMES, LAYERS, get_layer
from geo.version import __version__

__all__ = [
    "FACILITY_LAYERS",
    "LAYERS",
    "LAYER_NAMES",
    "PROFILES",
    "LayerStore",
    "LifecircleError",
    "Problem",
    "Study",
    "ValidationError",
    "WalkParams",
    "__version__",
    "get_layer",
    "nearest",
    "open_store",
    "read_layer",
    "read_layers",
    "validate_layer",
    "validate_store",
    "write_layer",
]
