"""Domain errors of lifecircle: one base class, subclasses that are also ValueError.

Every message is bilingual (Chinese first, English second) and says what to do, because
these messages reach planners through the CLI and API clients through problem+json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "MAX_MESSAGE_CHARS",
    "CRSError",
    "ConflictError",
    "ImportFailedError",
    "LifecircleError",
    "NetworkError",
    "NotFoundError",
    "Problem",
    "QueryError",
    "SourceReadError",
    "StoreError",
    "UnknownLayerError",
    "UnreachableError",
    "ValidationError",
]


#: The longest message an error shows: hostile input must not flood a terminal or a log.
MAX_MESSAGE_CHARS = 2000


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"…（已截断，共 {len(text)} 字 / cut, {len(text)} chars)"


class LifecircleError(Exception):
    """Base class of every error lifecircle raises on purpose."""

    def __str__(self) -> str:
        return _clip(super().__str__(), MAX_MESSAGE_CHARS) or ""


class CRSError(LifecircleError, ValueError):
    """A coordinate reference system name or code that lifecircle cannot use."""


class UnknownLayerError(LifecircleError, ValueError):
    """A layer name that is not one of the layers."""


class SourceReadError(LifecircleError, ValueError):
    """A source file that cannot be read at all (missing, broken JSON, unknown format)."""


class StoreError(LifecircleError):
    """The layer store on disk is unusable (unreadable directory, lock timeout)."""


class NotFoundError(LifecircleError, KeyError):
    """A feature id that is not in the layer."""

    def __str__(self) -> str:  # KeyError would quote the message
        return _clip(str(self.args[0]), MAX_MESSAGE_CHARS) or "" if self.args else ""


class ConflictError(LifecircleError, ValueError):
    """A write that would clash with what is stored (duplicate id, stale version)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one feature: where it is, what is wrong, what to do.

    ``severity`` is ``"error"`` (the data cannot be used as it is) or ``"warning"``
    (usable, but a person should look).
    """

    file: str
    feature: str | None
    field: str | None
    message: str
    hint: str = ""
    severity: str = "error"

    def __post_init__(self) -> None:
        # a value or a label taken from a hostile file is cut, never echoed whole
        for name, limit in (("field", 80), ("message", 600), ("hint", 600)):
            object.__setattr__(self, name, _clip(getattr(self, name), limit))

    def __str__(self) -> str:
        where = self.file
        if self.feature is not None:
            where += f" · feature {self.feature}"
        if self.field is not None:
            where += f" · field '{self.field}'"
        text = f"{where}: {self.message}"
        if self.hint:
            text += f" → {self.hint}"
        return text

    def as_dict(self) -> dict[str, str | None]:
        """The problem as plain JSON-ready data (``lifecircle validate --json``, the API).

        Returns
        -------
        dict
            ``file``, ``feature``, ``field``, ``message``, ``hint`` and ``severity``.
        """
        return {
            "file": self.file,
            "feature": self.feature,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
        }


@dataclass
class ValidationError(LifecircleError, ValueError):
    """Data that breaks the layer rules; carries every problem found in one pass."""

    problems: list[Problem] = field(default_factory=list)
    summary: str = "数据校验失败 / validation failed"

    def __post_init__(self) -> None:
        super().__init__(self.summary)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def __str__(self) -> str:
        lines = [f"{self.summary} ({len(self.errors)} error(s)):"]
        lines += [f"  - {p}" for p in self.problems[:200]]
        if len(self.problems) > 200:  # a hostile file of a million bad rows: count the rest
            lines.append(
                f"  … 另有 {len(self.problems) - 200} 条 / {len(self.problems) - 200} more"
            )
        return "\n".join(lines)


class ImportFailedError(ValidationError):
    """An import in which some rows could not be used; nothing was written."""


class NetworkError(LifecircleError, ValueError):
    """A walking network that cannot be built or used (no lines, bad arrays, needs internet)."""


class QueryError(LifecircleError, ValueError):
    """A query parameter that cannot be used (a malformed bbox, an unknown filter field)."""


class UnreachableError(QueryError):
    """A point too far from every street to start a walk from (the reason says how far)."""
