"""Walk parameters: who walks, how far is near enough, in which coordinates — parsed once.

A :class:`WalkParams` is built at the edge — from CLI arguments (:mod:`geo.cli`), an API
dependency (``api.deps``), or a notebook call — and passed down whole; nothing below the
edge parses a string again. :meth:`WalkParams.parse` checks every value and says what is
wrong in Chinese and English; :meth:`WalkParams.of` is what a public function calls with
the ``params`` it was given and any keyword shorthands (``profile="elderly"``).

Defaults and where they come from
---------------------------------
- ``standard`` walking speed 4.0 km/h (≈ 67 m/min): GB 50180-2018 《城市居住区规划设计标准》
  sets the 15-minute life circle at a walking distance of about 800–1,000 m, i.e. 15 minutes
  at 3.2–4 km/h; 4.0 km/h is the commonly used planning speed and the upper end of it.
- ``elderly`` 3.0 km/h (50 m/min): older residents walk slower; 3.0 km/h matches the lower
  end of the standard's range and typical measured speeds of people over 65.
- Thresholds: clinics 15 min and neighbour centres 15 min (the 15-minute life circle);
  charging points 5 min (an e-bike is charged where it is parked: the charger must be by
  the home, GB 50180's 5-minute level is 300 m).
- Straight-line mode (no network): distance × 1.25, the detour ratio (circuity) typically
  measured for dense urban street grids; every such result is labelled ``straight_line``.

Examples
--------
>>> params = WalkParams.parse(profile="elderly", minutes="clinics=10")
>>> params.profile.speed_kmh, params.minutes["clinics"], params.limit_m("clinics")
(3.0, 10.0, 500.0)
>>> WalkParams.of(params) is params  # passed down, never parsed again
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from geo.crs import parse_crs
from geo.errors import QueryError
from geo.schema import FACILITY_LAYERS

__all__ = [
    "CIRCUITY",
    "DEFAULT_MINUTES",
    "GB50180_METRES",
    "MAX_LEVELS",
    "MAX_METRES",
    "MAX_MINUTES",
    "MINUTES_LIST_PATTERN",
    "PROFILES",
    "THRESHOLDS_PATTERN",
    "Profile",
    "Thresholds",
    "WalkParams",
    "custom_profile",
    "parse_metres",
    "parse_minutes_list",
    "parse_thresholds",
    "profile_of",
]

#: Per-type numbers as a user gives them: ``"clinics=15,charging_points=5"`` or a dict.
Thresholds = str | Mapping[str, float] | None


@dataclass(frozen=True)
class Profile:
    """A walking speed with its name and where the number comes from."""

    name: str
    speed_kmh: float
    zh: str
    en: str

    @property
    def metres_per_minute(self) -> float:
        return self.speed_kmh * 1000.0 / 60.0


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", 4.0, "一般步行", "standard walker"),
    "elderly": Profile("elderly", 3.0, "老年人步行", "elderly walker"),
}
DEFAULT_MINUTES: dict[str, float] = {
    "clinics": 15.0,
    "neighbor_centers": 15.0,
    "charging_points": 5.0,
}
#: GB 50180-2018 life-circle walking distances (5, 10, 15 minutes).
GB50180_METRES = (300, 500, 1000)
CIRCUITY = 1.25


def custom_profile(speed_kmh: float) -> Profile:
    """A walker at ``speed_kmh`` (e.g. measured locally), named ``custom``.

    Parameters
    ----------
    speed_kmh : float
        Walking speed, km/h, from 1 to 8.

    Returns
    -------
    Profile

    Raises
    ------
    QueryError
        The speed is outside 1–8 km/h.

    Examples
    --------
    >>> custom_profile(4.5).metres_per_minute
    75.0
    """
    if not 1.0 <= speed_kmh <= 8.0:
        raise QueryError(
            f"步行速度须在 1–8 km/h 之间 / walking speed must be 1–8 km/h, got {speed_kmh:g}"
        )
    return Profile("custom", float(speed_kmh), f"自定义 {speed_kmh:g} km/h",
                   f"custom {speed_kmh:g} km/h")  # fmt: skip


def profile_of(profile: str | Profile) -> Profile:
    """The named profile (``standard``, ``elderly``), or ``profile`` itself.

    Parameters
    ----------
    profile : str or Profile
        A name in :data:`PROFILES`, or a profile (returned as it is).

    Returns
    -------
    Profile

    Raises
    ------
    QueryError
        The name is not one of :data:`PROFILES`.
    """
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise QueryError(
            f"未知步行速度档 '{profile}' / unknown walking profile '{profile}'; "
            f"use {', '.join(PROFILES)}"
        ) from None


#: The longest threshold accepted: two hours' walk is far past any life circle, and a bound
#: keeps an infinite or absurd number out of the results.
MAX_MINUTES = 120.0
#: The most isochrone levels one request draws.
MAX_LEVELS = 12
# One number of minutes as a query string writes it: more than 0, at most 120 (15, 7.5, 0.5,
# 120.0); no sign, exponent or leading zero. The service's OpenAPI document gives the same
# patterns, so what it calls valid is what is accepted here.
_MINUTE = r"(?:0\.[0-9]*[1-9][0-9]*|(?:[1-9]|[1-9][0-9]|1[01][0-9])(?:\.[0-9]+)?|120(?:\.0+)?)"
_TYPE = "(?:" + "|".join(FACILITY_LAYERS) + ")"
_ITEM = f"{_TYPE} *= *{_MINUTE}"
#: ``clinics=15,charging_points=5``: facility types with their minutes, or nothing.
THRESHOLDS_PATTERN = f"^(?:{_ITEM}(?: *, *{_ITEM})*)?$"
#: ``5,10,15``: 1 to :data:`MAX_LEVELS` isochrone minutes.
MINUTES_LIST_PATTERN = f"^{_MINUTE}(?: *, *{_MINUTE}){{0,{MAX_LEVELS - 1}}}$"


def _per_type(text: Thresholds, unit: tuple[str, str], most: float,
              example: str, pattern: str | None = None) -> dict[str, float]:  # fmt: skip
    """``"clinics=15,…"`` → ``{type: number}``, each in (0, ``most``]; ``unit`` is
    (中文, English) for the messages; text must match ``pattern`` as well, when given."""
    if not text:
        return {}
    items = text.items() if isinstance(text, Mapping) else (
        part.split("=", 1) for part in str(text).split(",") if part.strip())  # fmt: skip
    values = {}
    for item in items:
        if len(item) != 2:
            raise QueryError(f"格式为 类型=数值 / they look like {example}; got '{text}'")
        name, raw = (str(v).strip() for v in item)
        if name not in FACILITY_LAYERS:
            raise QueryError(
                f"没有设施类型 '{name}' / no facility type '{name}'; use {', '.join(FACILITY_LAYERS)}"
            )
        try:
            number = float(raw)
        except ValueError:
            raise QueryError(
                f"'{name}' 的值不是数字 / {name} is not a number: '{raw}'; give one more than 0 "
                f"and at most {most:g} {unit[1]}"
            ) from None
        if not 0 < number <= most:  # also refuses NaN and infinity
            raise QueryError(
                f"'{name}' 须在 0–{most:g} {unit[0]}之间 / {name} must be more than 0 and at "
                f"most {most:g} {unit[1]}; got '{raw}'"
            )
        values[name] = number
    if pattern is not None and isinstance(text, str) and not re.fullmatch(pattern, text):
        raise QueryError(
            f"写法应为 {example},charging_points=5（数字如 15 或 7.5，无空项）/ write them as "
            f"{example},charging_points=5 (numbers like 15 or 7.5, no empty items); got '{text}'"
        )
    return values


def parse_thresholds(text: Thresholds) -> dict[str, float]:
    """``"clinics=15,charging_points=5"`` → a dict over the defaults; names are checked.

    Parameters
    ----------
    text : str or mapping, optional
        Minutes per facility type, each more than 0 and at most :data:`MAX_MINUTES`.

    Returns
    -------
    dict of str to float
        :data:`DEFAULT_MINUTES` with the given types replaced.

    Raises
    ------
    QueryError
        A malformed item, an unknown facility type, or a value that is not a number in
        (0, 120] minutes.

    Examples
    --------
    >>> parse_thresholds("clinics=10")
    {'clinics': 10.0, 'neighbor_centers': 15.0, 'charging_points': 5.0}
    """
    given = _per_type(text, ("分钟", "minutes"), MAX_MINUTES, "clinics=15", THRESHOLDS_PATTERN)
    return {**DEFAULT_MINUTES, **given}


def parse_minutes_list(values: str | Iterable[float]) -> tuple[float, ...]:
    """Isochrone minutes, ``"5,10,15"`` or numbers: sorted, distinct, each in (0, 120].

    Parameters
    ----------
    values : str or iterable of float
        Comma-separated text (a query string) or numbers.

    Returns
    -------
    tuple of float
        Ascending, without repeats.

    Raises
    ------
    QueryError
        Empty, not numbers, or outside (0, :data:`MAX_MINUTES`].

    Examples
    --------
    >>> parse_minutes_list("15,5,10,5")
    (5.0, 10.0, 15.0)
    """
    try:
        items = values.split(",") if isinstance(values, str) else list(values)
        numbers = sorted({float(v) for v in items if str(v).strip()})
    except (TypeError, ValueError):
        numbers = []
    written = not isinstance(values, str) or re.fullmatch(MINUTES_LIST_PATTERN, values)
    if (not numbers or len(numbers) > MAX_LEVELS or not written
            or not all(0 < v <= MAX_MINUTES for v in numbers)):  # NaN fails too  # fmt: skip
        raise QueryError(
            f"minutes 应为 1–{MAX_LEVELS} 个大于 0、不超过 {MAX_MINUTES:g} 的数字，以逗号分隔 / "
            f"minutes must be 1–{MAX_LEVELS} numbers more than 0 and at most {MAX_MINUTES:g}, "
            f"separated by commas, e.g. 5,10,15: '{values}'"
        )
    return tuple(numbers)


#: The longest distance threshold accepted, metres (two hours at 4 km/h).
MAX_METRES = 8000.0


def parse_metres(text: Thresholds) -> dict[str, float]:
    """``"clinics=1000,charging_points=300"`` → distance thresholds for those types only
    (GB 50180-2018's levels are 300, 500 and 1000 m).

    Parameters
    ----------
    text : str or mapping, optional
        Walking metres per facility type, each more than 0 and at most :data:`MAX_METRES`.

    Returns
    -------
    dict of str to float
        Only the types given (empty when ``text`` is empty or None).

    Raises
    ------
    QueryError
        A malformed item, an unknown facility type, or a value that is not a number in
        (0, 8000] metres.
    """
    return _per_type(text, ("米", "m"), MAX_METRES, "clinics=1000")


def _frozen(values: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True, eq=False)
class WalkParams:
    """How walks are judged, checked once: the walker, the thresholds, the points' CRS.

    Build one with :meth:`parse` (or :meth:`of`); every field is already checked.

    Attributes
    ----------
    profile : Profile
        The walker (``standard`` 4.0 km/h, ``elderly`` 3.0 km/h, or ``custom``).
    minutes : Mapping[str, float]
        Threshold per facility type in minutes, defaults filled in.
    metres : Mapping[str, float]
        Types judged by walking distance instead (GB 50180's 300 / 500 / 1,000 m); these
        override ``minutes``.
    crs : str
        The CRS of points given and returned: ``wgs84``, ``gcj02`` or ``bd09``.
    """

    profile: Profile = PROFILES["standard"]
    minutes: Mapping[str, float] = field(default_factory=lambda: _frozen(DEFAULT_MINUTES))
    metres: Mapping[str, float] = field(default_factory=lambda: _frozen({}))
    crs: str = "wgs84"

    @classmethod
    def parse(
        cls,
        profile: str | Profile = "standard",
        minutes: Thresholds = None,
        metres: Thresholds = None,
        speed: float | None = None,
        crs: str = "wgs84",
    ) -> WalkParams:
        """Check and build: ``speed`` (km/h) replaces ``profile`` by a custom walker.

        Parameters
        ----------
        profile : str or Profile
            ``standard`` or ``elderly``.
        minutes, metres : str or mapping, optional
            ``"clinics=15,charging_points=5"``; minutes fill in the defaults.
        speed : float, optional
            Own walking speed, 1–8 km/h.
        crs : str
            ``wgs84``, ``gcj02`` (Gaode/Tencent), ``bd09`` (Baidu) or an alias of them.

        Returns
        -------
        WalkParams

        Raises
        ------
        QueryError
            A value out of range or an unknown name, said in Chinese and English.
        """
        walker = custom_profile(speed) if speed is not None else profile_of(profile)
        parsed_crs = parse_crs(crs)
        if not isinstance(parsed_crs, str):
            raise QueryError(
                f"点的坐标系须为 wgs84、gcj02 或 bd09 / points must be in wgs84, gcj02 or "
                f"bd09, not {crs}"
            )
        return cls(
            walker,
            _frozen(parse_thresholds(minutes)),
            _frozen(parse_metres(metres)),
            parsed_crs,
        )

    @classmethod
    def of(cls, params: WalkParams | None = None, **given: Any) -> WalkParams:
        """``params`` with the shorthands in ``given`` (those not None) applied.

        What a public function does with its arguments: ``params`` passed down from the
        edge comes back as it is; a notebook's ``profile="elderly"`` is parsed here, once.

        Parameters
        ----------
        params : WalkParams, optional
            The base; the defaults when None.
        **given
            ``speed``, ``profile``, ``minutes``, ``metres`` or ``crs``, as in
            :meth:`parse`; None values are ignored. ``speed`` wins over ``profile``.

        Returns
        -------
        WalkParams
            ``params`` itself when nothing is given, else a copy with those fields replaced.

        Raises
        ------
        QueryError
            A given value is out of range or unknown, as in :meth:`parse`.
        TypeError
            A keyword other than those above.
        """
        given = {key: value for key, value in given.items() if value is not None}
        if not given:
            return params if params is not None else cls()
        base = params if params is not None else cls()
        fields: dict[str, Any] = {}
        if "speed" in given:
            fields["profile"] = custom_profile(float(given["speed"]))
        elif "profile" in given:
            fields["profile"] = profile_of(given["profile"])
        if "minutes" in given:
            fields["minutes"] = _frozen(parse_thresholds(given["minutes"]))
        if "metres" in given:
            fields["metres"] = _frozen(parse_metres(given["metres"]))
        if "crs" in given:
            fields["crs"] = cls.parse(crs=given["crs"]).crs
        unknown = set(given) - {"speed", "profile", "minutes", "metres", "crs"}
        if unknown:
            raise TypeError(f"unknown walk parameters: {', '.join(sorted(unknown))}")
        return replace(base, **fields)

    def limit_m(self, kind: str) -> float:
        """The walking metres within which a facility of ``kind`` covers a compound.

        Parameters
        ----------
        kind : str
            A facility type (``clinics``, ``neighbor_centers``, ``charging_points``).

        Returns
        -------
        float
            ``metres[kind]`` when set, else ``minutes[kind]`` × the walker's metres per
            minute.

        Examples
        --------
        >>> WalkParams.parse(metres="clinics=500").limit_m("clinics")
        500.0
        >>> round(WalkParams().limit_m("clinics"), 6)  # 15 min at 4 km/h
        1000.0
        """
        if kind in self.metres:
            return float(self.metres[kind])
        return float(self.minutes[kind]) * self.profile.metres_per_minute

    def key(self) -> tuple[Any, ...]:
        """A hashable summary, for caches keyed by parameters.

        Returns
        -------
        tuple
            Profile name and speed (km/h), sorted ``minutes`` and ``metres`` items, and
            the CRS; equal parameters give equal keys.
        """
        return (
            self.profile.name,
            self.profile.speed_kmh,
            tuple(sorted(self.minutes.items())),
            tuple(sorted(self.metres.items())),
            self.crs,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WalkParams) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        return (
            f"WalkParams(profile={self.profile.name!r} {self.profile.speed_kmh:g} km/h, "
            f"minutes={dict(self.minutes)}, metres={dict(self.metres)}, crs={self.crs!r})"
        )
