"""Versions of features: the ETag a client sends back in ``If-Match``, and the checks of it.

:func:`feature_etag` is the version of a stored feature; :func:`require_version` and
:func:`check_version` are what :mod:`geo.layers.edit` applies before a change: a stale
``If-Match`` is refused (:class:`StaleVersionError`, HTTP 412), a missing one only when the
caller requires it (:class:`PreconditionRequiredError`, HTTP 428).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from geo.errors import ConflictError

__all__ = [
    "PreconditionRequiredError",
    "StaleVersionError",
    "check_version",
    "feature_etag",
    "require_version",
]

_CORE = ("type", "id", "geometry", "properties")


class PreconditionRequiredError(ConflictError):
    """A change without the version it is based on (HTTP 428: send ``If-Match``).

    Parameters
    ----------
    message : str
        Bilingual: which feature, and how to send its version.

    Attributes
    ----------
    status : int
        428, the HTTP status this error stands for.
    """

    status = 428


class StaleVersionError(ConflictError):
    """A change based on a version that is no longer stored (HTTP 412: fetch it again).

    Parameters
    ----------
    message : str
        Bilingual: which feature changed, and to fetch it again.

    Attributes
    ----------
    status : int
        412, the HTTP status this error stands for.
    """

    status = 412


def feature_etag(feature: dict[str, Any]) -> str:
    """The version of a stored feature: 32 hex of sha256 over its canonical JSON.

    Canonical: the members ``type``, ``id``, ``geometry`` and ``properties`` only (links and
    other members a server adds do not count), properties whose value is ``null`` left out
    (the service lists every property of the layer, ``null`` when absent: the same feature),
    keys sorted, no spaces, UTF-8.

    Parameters
    ----------
    feature : dict
        A GeoJSON Feature as stored (:func:`get_feature`); a missing core member counts
        as ``null``.

    Returns
    -------
    str
        32 lowercase hex digits: the ETag that ``If-Match`` must send back.

    Examples
    --------
    >>> from geo.layers.edit import get_feature
    >>> feature = get_feature("clinics", "clinic-007")
    >>> feature_etag(feature) == feature_etag({**feature, "links": []})
    True
    >>> served = {**feature, "properties": {**feature["properties"], "no_such_value": None}}
    >>> feature_etag(served) == feature_etag(feature)
    True
    >>> len(feature_etag(feature))
    32
    """
    core = {key: feature.get(key) for key in _CORE}
    props = core.get("properties")
    if isinstance(props, dict):
        core["properties"] = {k: v for k, v in props.items() if v is not None}
    text = json.dumps(core, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def require_version(if_match: str | None, layer: str, feature_id: str, required: bool) -> None:
    """Refuse a change without ``if_match`` when ``required``.

    Parameters
    ----------
    if_match : str or None
        The ``If-Match`` sent.
    layer, feature_id : str
        The feature, for the message.
    required : bool
        Whether a change must say which version it is based on.

    Returns
    -------
    None

    Raises
    ------
    PreconditionRequiredError
        ``required`` and no ``if_match``.
    """
    if required and (if_match is None or not if_match.strip()):
        raise PreconditionRequiredError(
            f"修改 {layer}/{feature_id} 需要 If-Match / If-Match required: GET the feature, "
            'then send its ETag as `If-Match: "<etag>"` (or `If-Match: *` to change whatever '
            "version is stored)"
        )


def check_version(
    current: dict[str, Any], if_match: str | None, layer: str, feature_id: str
) -> None:
    """Refuse a change based on another version than ``current``'s.

    Parameters
    ----------
    current : dict
        The stored feature.
    if_match : str or None
        ETags (quoted or not, ``W/`` allowed, comma-separated) or ``*``; None or blank: no
        check (the last writer wins).
    layer, feature_id : str
        The feature, for the message.

    Returns
    -------
    None

    Raises
    ------
    StaleVersionError
        None of the ETags is ``current``'s.
    """
    if if_match is None or not if_match.strip():
        return  # not asked for: the last writer wins (OGC API – Features Part 4 allows it)
    etag = feature_etag(current)
    for tag in (if_match or "").split(","):
        tag = tag.strip()
        if tag == "*":
            return
        tag = tag.removeprefix("W/").strip().strip('"')
        if tag == etag:
            return
    raise StaleVersionError(
        f"要素 {layer}/{feature_id} 在你读取后已被修改 / the feature changed since you read it; "
        "重新 GET 获取最新版本和 ETag，再提交修改 / fetch it again, reapply your change and "
        "send the new ETag in If-Match"
    )
