"""Feature-level writes (OGC API – Features Part 4 style): create, replace, patch, delete.

Every change holds the store lock from reading the layer to writing it, checks the new
feature with the rules of ``lifecircle import`` (:func:`geo.layers.validate.coerce_layer` and
:func:`geo.layers.validate.validate_layer`), then the layer as it will be, and replaces the file
atomically; nothing is written when any check fails.

Optimistic concurrency: every stored feature has a version, :func:`feature_etag`, a hash
of the feature exactly as the store serialises it. Replacing, patching or deleting needs
the version the client last read (``If-Match``), so that two planners editing the same
feature cannot silently overwrite each other: the second one is told to fetch it again.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import convert_geometries, convert_pairs, parse_crs
from geo.errors import ConflictError, NotFoundError, Problem, SourceReadError, ValidationError
from geo.layers.geojson import load_json, parse_feature_collection
from geo.layers.imports import assign_ids
from geo.layers.limits import check_feature_depth
from geo.layers.query import to_geojson_dict
from geo.layers.store import LayerTransaction, Location, open_store
from geo.layers.validate import coerce_layer, validate_layer
from geo.layers.versions import (
    PreconditionRequiredError,
    StaleVersionError,
    check_version,
    feature_etag,
    require_version,
)
from geo.schema import get_layer
from geo.settings import Settings

#: A patch without a "geometry" member (unlike one with "geometry": null).
_ABSENT = object()

__all__ = [
    "PreconditionRequiredError",
    "StaleVersionError",
    "check_feature",
    "create_feature",
    "delete_feature",
    "feature_etag",
    "get_feature",
    "patch_feature",
    "replace_feature",
]

#: Where problems with a feature sent by a client are said to be (the ``file`` of a Problem).
REQUEST = "<request>"


#: The members of a stored feature that its version covers (not ``links``, which a server adds).
def get_feature(layer: str, feature_id: str, folder: Location = None) -> dict[str, Any]:
    """One stored feature as a GeoJSON dict; :class:`NotFoundError` when there is none.

    Parameters
    ----------
    layer : str
        One of the layers.
    feature_id : str
        The feature's id.
    folder : LayerStore, path or URL, optional
        The store (default: the settings' store).

    Returns
    -------
    dict
        The Feature exactly as the store serialises it (and the API serves it): ``type``,
        ``id``, ``geometry`` and ``properties``, missing values left out.

    Raises
    ------
    NotFoundError
        No feature ``feature_id`` in the layer.
    UnknownLayerError, StoreError
        ``layer`` is not one of the layers; the store cannot be opened.

    Examples
    --------
    >>> get_feature("clinics", "clinic-007")["properties"]["level"]
    'community_health_centre'
    """
    return _stored(open_store(folder).read(layer), layer, feature_id)


def check_feature(
    layer: str,
    feature: Any,
    feature_id: str | None = None,
    crs: str = "wgs84",
    *,
    settings: Settings | None = None,
) -> None:
    """Check ``feature`` alone as :func:`create_feature` (with ``feature_id``,
    :func:`replace_feature`) would, without the store: SourceReadError, ValidationError.

    Parameters
    ----------
    layer, feature, crs, settings
        As for :func:`create_feature`.
    feature_id : str, optional
        The id the feature must keep (a replacement); None for a new feature.

    Returns
    -------
    None
    """
    get_layer(layer)
    _checked(_feature_in_wgs84(feature, crs, settings), layer, feature_id, settings)


def create_feature(
    layer: str,
    feature: dict[str, Any],
    folder: Location = None,
    crs: str = "wgs84",
    *,
    wait_s: float | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Add one GeoJSON Feature to ``layer``; return it as stored.

    Parameters
    ----------
    layer : str
        One of the layers.
    feature : dict
        A GeoJSON Feature. Its id is ``properties.id`` or the Feature's ``id``; without one,
        the id is made as ``lifecircle import`` makes it (from layer, name and position), so
        sending the same new feature twice is caught as a duplicate.
    folder : LayerStore, path or URL, optional
        The store (default: the settings' store).
    crs : str
        CRS of the geometry and of ``entrances``: ``wgs84``, ``gcj02`` (Gaode/Tencent),
        ``bd09`` (Baidu) or anything :func:`geo.crs.parse_crs` accepts.
    wait_s : float, optional
        How long to wait for another writer's lock (default the store's).
    settings : Settings, optional
        The limits a feature is checked against (JSON depth, text length, the study
        region); default :func:`geo.settings.current`. The service passes its own.

    Returns
    -------
    dict
        The feature as stored, read back: its :func:`feature_etag` is the new version.

    Raises
    ------
    SourceReadError
        ``feature`` is not a GeoJSON Feature.
    ValidationError
        The feature, or the layer with it, breaks the layer rules; nothing is written.
    ConflictError
        The id is in the layer already.
    CRSError, UnknownLayerError, StoreError
        ``crs`` or ``layer`` is unknown; the store cannot be opened or locked in time.
    """
    get_layer(layer)
    feature = _feature_in_wgs84(feature, crs, settings)
    store = open_store(folder)
    with store.transaction(wait_s) as transaction:
        existing = transaction.read(layer)
        new, generated = _checked(feature, layer, None, settings)
        feature_id = new.index[0]
        if feature_id in existing.index:
            if generated:
                message = (
                    f"{layer} 中已有同名同位置的要素 {feature_id} / a feature with the same name "
                    f"at the same place is already in {layer} (id {feature_id}); 要改它请用 "
                    "PUT/PATCH，确需再加一个请给出新 id / to change it use PUT or PATCH, to add "
                    "another give it an id of its own"
                )
            else:
                message = (
                    f"编号 {feature_id} 已在 {layer} 中 / id {feature_id} is already in {layer}; "
                    "要改它请用 PUT/PATCH 并带 If-Match，新要素请换一个 id / to change it use "
                    "PUT or PATCH with If-Match; give a new feature another id"
                )
            raise ConflictError(message)
        merged = pd.concat([existing, new]) if len(existing) else new
        return _commit(transaction, existing, merged, layer, feature_id, settings)


def replace_feature(
    layer: str,
    feature_id: str,
    feature: dict[str, Any],
    if_match: str | None,
    folder: Location = None,
    crs: str = "wgs84",
    *,
    require_if_match: bool = True,
    wait_s: float | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Replace feature ``feature_id`` by ``feature`` (a whole GeoJSON Feature).

    ``if_match`` is the version the change is based on (an ETag from :func:`feature_etag`,
    quoted or not, weak or strong, several separated by commas, or ``*`` for any).
    The id cannot change: an id in ``feature`` must be ``feature_id``.

    Parameters
    ----------
    layer : str
        One of the layers.
    feature_id : str
        The id of the stored feature.
    feature : dict
        The whole new GeoJSON Feature; properties it leaves out are gone afterwards.
    if_match : str or None
        The version the change is based on, as above.
    folder : LayerStore, path or URL, optional
        The store (default: the settings' store).
    crs : str
        CRS of the geometry and of ``entrances``, as in :func:`create_feature`.
    require_if_match : bool
        Refuse a change without ``if_match`` (:class:`PreconditionRequiredError`); when
        False such a change is made over whatever is stored (the last writer wins).
    wait_s : float, optional
        How long to wait for another writer's lock (default the store's).
    settings : Settings, optional
        The limits a feature is checked against (JSON depth, text length, the study
        region); default :func:`geo.settings.current`. The service passes its own.

    Returns
    -------
    dict
        The feature as stored, read back: its :func:`feature_etag` is the new version.

    Raises
    ------
    PreconditionRequiredError
        ``if_match`` is missing.
    NotFoundError
        No feature ``feature_id`` in the layer.
    StaleVersionError
        The feature changed since that version was read.
    ValidationError
        As :func:`create_feature`, or the body's id is not ``feature_id``; nothing is
        written.
    SourceReadError
        ``feature`` is not a GeoJSON Feature.
    CRSError, UnknownLayerError, StoreError
        As :func:`create_feature`.
    """
    get_layer(layer)
    require_version(if_match, layer, feature_id, require_if_match)
    feature = _feature_in_wgs84(feature, crs, settings)
    store = open_store(folder)
    with store.transaction(wait_s) as transaction:
        existing = transaction.read(layer)
        check_version(_stored(existing, layer, feature_id), if_match, layer, feature_id)
        new, _ = _checked(feature, layer, feature_id, settings)
        return _commit(
            transaction, existing, _replace_row(existing, new), layer, feature_id, settings
        )


def patch_feature(
    layer: str,
    feature_id: str,
    patch: dict[str, Any],
    if_match: str | None,
    folder: Location = None,
    crs: str = "wgs84",
    *,
    require_if_match: bool = True,
    wait_s: float | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Change some properties (and maybe the geometry) of feature ``feature_id``.

    ``patch`` is a JSON Merge Patch (RFC 7396) of the feature: ``{"properties": {...},
    "geometry": {...}}``, or just the properties ``{"status": "completed"}``. A property set
    to ``null`` is removed (a required one cannot be). A ``geometry`` (and ``entrances``) is
    in ``crs``.

    Parameters
    ----------
    layer : str
        One of the layers.
    feature_id : str
        The id of the stored feature.
    patch : dict
        The merge patch, in either form above.
    if_match : str or None
        The version the change is based on, as in :func:`replace_feature`.
    folder : LayerStore, path or URL, optional
        The store (default: the settings' store).
    crs : str
        CRS of a patched ``geometry`` and ``entrances``, as in :func:`create_feature`.
    require_if_match : bool
        Refuse a change without ``if_match`` (:class:`PreconditionRequiredError`); when
        False such a change is made over whatever is stored (the last writer wins).
    wait_s : float, optional
        How long to wait for another writer's lock (default the store's).
    settings : Settings, optional
        The limits a feature is checked against (JSON depth, text length, the study
        region); default :func:`geo.settings.current`. The service passes its own.

    Returns
    -------
    dict
        The feature as stored, read back: its :func:`feature_etag` is the new version.

    Raises
    ------
    PreconditionRequiredError, NotFoundError, StaleVersionError, ValidationError
        As :func:`replace_feature`; nothing is written.
    SourceReadError
        ``patch`` is not a JSON object, or mixes the two forms.
    CRSError, UnknownLayerError, StoreError
        As :func:`create_feature`.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from geo.settings import DEFAULT_DATA_DIR
    >>> root = tempfile.mkdtemp()
    >>> folder = shutil.copytree(DEFAULT_DATA_DIR, root + "/layers",
    ...                          ignore=shutil.ignore_patterns("streets*", ".*"))
    >>> old = get_feature("clinics", "clinic-007", folder)
    >>> new = patch_feature("clinics", "clinic-007", {"beds": 40}, feature_etag(old), folder)
    >>> new["properties"]["beds"], feature_etag(new) != feature_etag(old)
    (40, True)
    >>> shutil.rmtree(root)
    """
    get_layer(layer)
    require_version(if_match, layer, feature_id, require_if_match)
    properties, geometry = _split_patch(patch, feature_id)
    sent = None if geometry is _ABSENT else geometry
    changes = _feature_in_wgs84(
        {"type": "Feature", "geometry": sent, "properties": properties}, crs, settings
    )
    store = open_store(folder)
    with store.transaction(wait_s) as transaction:
        existing = transaction.read(layer)
        current = _stored(existing, layer, feature_id)
        check_version(current, if_match, layer, feature_id)
        merged_feature = {
            "type": "Feature",
            "geometry": current["geometry"] if geometry is _ABSENT else changes["geometry"],
            "properties": _merge_patch(current["properties"], changes["properties"]),
        }
        new, _ = _checked(merged_feature, layer, feature_id, settings)
        return _commit(
            transaction, existing, _replace_row(existing, new), layer, feature_id, settings
        )


def delete_feature(
    layer: str,
    feature_id: str,
    if_match: str | None,
    folder: Location = None,
    *,
    require_if_match: bool = True,
    wait_s: float | None = None,
    settings: Settings | None = None,
) -> None:
    """Remove feature ``feature_id``; ``if_match`` as in :func:`replace_feature`.

    The rest of the layer is not checked: a layer with errors still lets a planner delete
    the broken feature.

    Parameters
    ----------
    layer : str
        One of the layers.
    feature_id : str
        The id of the stored feature.
    if_match : str or None
        The version the deletion is based on, as in :func:`replace_feature`.
    folder : LayerStore, path or URL, optional
        The store (default: the settings' store).
    require_if_match : bool
        Refuse a change without ``if_match`` (:class:`PreconditionRequiredError`); when
        False such a change is made over whatever is stored (the last writer wins).
    wait_s : float, optional
        How long to wait for another writer's lock (default the store's).
    settings : Settings, optional
        The limits a feature is checked against (JSON depth, text length, the study
        region); default :func:`geo.settings.current`. The service passes its own.

    Returns
    -------
    None

    Raises
    ------
    PreconditionRequiredError, NotFoundError, StaleVersionError
        As :func:`replace_feature`.
    UnknownLayerError, StoreError
        As :func:`create_feature`.
    """
    get_layer(layer)
    require_version(if_match, layer, feature_id, require_if_match)
    store = open_store(folder)
    with store.transaction(wait_s) as transaction:
        existing = transaction.read(layer)
        check_version(_stored(existing, layer, feature_id), if_match, layer, feature_id)
        # Removing a feature cannot break the rules of the others, and a layer that already
        # has errors must still let a planner delete the broken feature.
        transaction.write(layer, existing.drop(index=[feature_id]))


# -------------------------------------------------------------------------- the feature


def _stored(frame: gpd.GeoDataFrame, layer: str, feature_id: str) -> dict[str, Any]:
    """The feature as the store serialises it (and as the API's GET serves it)."""
    if feature_id not in frame.index:
        raise NotFoundError(
            f"图层 {layer} 中没有要素 {feature_id} / no feature '{feature_id}' in {layer}"
        )
    return to_geojson_dict(frame.loc[[feature_id]], layer)["features"][0]


def _feature_in_wgs84(feature: Any, crs: str, settings: Settings | None) -> dict[str, Any]:
    """Check ``feature`` is a GeoJSON Feature; its geometry and ``entrances`` in WGS-84."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise SourceReadError(
            "请求体应为一个 GeoJSON Feature / the body must be one GeoJSON Feature: "
            '{"type": "Feature", "geometry": {...}, "properties": {...}}; '
            "批量导入请用 / to add many use `lifecircle import`"
        )
    check_feature_depth(feature, settings.max_json_depth if settings else None)
    properties = feature.get("properties")
    parsed = parse_crs(crs)
    if parsed == "wgs84":
        return feature
    out = dict(feature)
    geometry = feature.get("geometry")
    if geometry is not None:
        try:
            geom = shapely.from_geojson(json.dumps(geometry))
        except (shapely.errors.GEOSException, ValueError, TypeError):
            geom = None  # reported when the feature is checked
        if geom is not None and not geom.is_empty:
            (converted,) = convert_geometries(np.array([geom], dtype=object), parsed, True)
            out["geometry"] = json.loads(shapely.to_geojson(converted))
    if isinstance(properties, dict) and properties.get("entrances") is not None:
        gates = properties["entrances"]
        if isinstance(gates, str):  # coerce_layer accepts JSON text too
            with contextlib.suppress(SourceReadError):  # else coerce_layer reports it
                gates = load_json(gates, REQUEST, max_depth=4)  # [[lon, lat], …]
        out["properties"] = {**properties, "entrances": convert_pairs(gates, parsed, True)}
    return out


def _checked(
    feature: dict[str, Any], layer: str, feature_id: str | None, settings: Settings | None
) -> tuple[gpd.GeoDataFrame, bool]:
    """One feature as a frame indexed by its id, checked as ``lifecircle import`` checks a row.

    ``feature_id`` is the id the feature must have (replace, patch), or None (create: the
    feature's own id, else one made like import makes them). Returns the frame and whether
    its id was made here.
    """
    frame, problems = parse_feature_collection(json.dumps(feature, ensure_ascii=False), REQUEST)
    given = feature.get("properties")
    properties: dict[str, Any] = given if isinstance(given, dict) else {}
    own, inner = feature.get("id"), properties.get("id")
    if own is not None and inner is not None and str(own) != str(inner):
        problems.append(
            Problem(
                REQUEST,
                str(inner),
                "id",
                f"Feature.id '{own}' 与 properties.id '{inner}' 不一致 / the two ids differ",
                "只给一个 id / give one id",
            )
        )
    given = frame["id"].iloc[0] if "id" in frame.columns else None
    given = None if pd.isna(given) or str(given).strip() == "" else str(given).strip()
    if feature_id is not None and given is not None and given != feature_id:
        problems.append(
            Problem(
                REQUEST,
                given,
                "id",
                f"编号不能修改 / the id cannot change: body has '{given}', the URL '{feature_id}'",
                "改编号请新建要素再删除旧的 / to renumber, create a new feature and delete this one",
            )
        )
    generated = feature_id is None and given is None
    if feature_id is not None:
        chosen = feature_id
    elif given is not None:
        chosen = given
    else:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        (chosen,) = assign_ids(layer, frame, geoms)
    frame["id"] = pd.Series([chosen], index=frame.index, dtype=object)
    frame, coerce_problems = coerce_layer(frame, layer, source=REQUEST)
    problems += coerce_problems
    seen = {p.field for p in problems}  # said once, by the reader or the converter
    # No --allow-outside for a single feature: a point outside the region is an error.
    checked = validate_layer(frame, layer, REQUEST, outside="error", settings=settings)
    problems += [p for p in checked if p.field not in seen]
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        summary = f"要素不符合 {layer} 的规则，未写入 / the feature breaks the {layer} rules"
        raise ValidationError(errors, summary + "; nothing written")
    return frame.set_axis(pd.Index([chosen], dtype=object), axis=0), generated


def _split_patch(patch: Any, feature_id: str) -> tuple[dict[str, Any], Any]:
    """A merge patch as (properties patch, geometry or _ABSENT)."""
    if not isinstance(patch, dict):
        raise SourceReadError(
            "PATCH 请求体应为 JSON 对象 / the PATCH body must be a JSON object: "
            '{"properties": {...}, "geometry": {...}} or just {"field": value, ...}'
        )
    rest = dict(patch)
    geometry = rest.pop("geometry", _ABSENT)
    if "properties" not in rest and rest.get("type") != "Feature":
        return rest, geometry  # the properties alone
    properties = rest.pop("properties", {})
    rest.pop("type", None)
    rest.pop("links", None)
    if rest.get("id") not in (None, feature_id):
        properties = {"id": rest["id"], **(properties or {})}  # reported as a changed id
    rest.pop("id", None)
    if not isinstance(properties, dict) or rest:
        raise SourceReadError(
            "PATCH 请求体格式不对 / the PATCH body mixes forms: send either "
            '{"properties": {...}, "geometry": {...}} or the properties alone'
        )
    return properties, geometry


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


# ------------------------------------------------------------------------------ writing


def _replace_row(existing: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``existing`` with the row of ``new``'s id replaced, in place in the order (small diffs)."""
    order = existing.index
    return pd.concat([existing.drop(index=new.index), new]).loc[order]


def _commit(
    transaction: LayerTransaction,
    existing: gpd.GeoDataFrame,
    merged: gpd.GeoDataFrame,
    layer: str,
    feature_id: str,
    settings: Settings | None,
) -> dict[str, Any]:
    """Check the layer as it will be, write it, and return the feature as stored.

    A change may not add an error to the layer; errors it had before (a file edited by
    hand) do not block changes, so that they can be fixed one feature at a time.
    """
    source = str(transaction.location(layer))
    checked = validate_layer(merged, layer, source, settings=settings)
    errors = [p for p in checked if p.severity == "error"]
    if errors:
        before = set(validate_layer(existing, layer, source, settings=settings))
        errors = [p for p in errors if p not in before]
    if errors:
        raise ValidationError(
            errors,
            f"{source}: 修改后的图层有错误，未写入 / the layer would have errors after this "
            "change; nothing written",
        )
    transaction.write(layer, merged)
    # Read back what is stored, so the feature and its ETag are exactly what a GET serves.
    return _stored(transaction.read(layer), layer, feature_id)
