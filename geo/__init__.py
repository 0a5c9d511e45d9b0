"""lifecircle's library: the five layers, Chinese coordinate systems, walking coverage.

The CLI (``lifecircle``), the HTTP API (``api``), the maps and the notebooks all call
this package, so they give the same answers.
"""

from geo.errors import LifecircleError, Problem, ValidationError
from geo.schema import FACILITY_LAYERS, LAYER_NAMES, LAYERS, get_layer
from geo.store import read_layer, read_layers, write_layer
from geo.validate import validate_layer, validate_store
from geo.walks import PROFILES, Study, nearest

__all__ = [
    "FACILITY_LAYERS",
    "LAYERS",
    "LAYER_NAMES",
    "PROFILES",
    "LifecircleError",
    "Problem",
    "Study",
    "ValidationError",
    "get_layer",
    "nearest",
    "read_layer",
    "read_layers",
    "validate_layer",
    "validate_store",
    "write_layer",
]

__version__ = "0.1.0"
