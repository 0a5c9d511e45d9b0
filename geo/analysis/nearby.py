"""Facilities closer than the street: walked to directly, not via the street.

Walks start where a point meets the street network (its snap). For a facility standing closer
to the point than that street is — a clinic in the same courtyard, at the very point — the
route out to the street and back in is longer than the few steps across: a clinic exactly at
the point would rank behind one 22 m away along the street (44 m against 22 m). A facility
whose straight-line distance is at most the point's distance to its street is therefore
walked to directly (that distance), and the k nearest are ranked again. Farther facilities
keep their network walks: beyond the street, walls and rivers matter.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["with_direct_walks"]


def with_direct_walks(
    metres: np.ndarray,
    label: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    fx: np.ndarray,
    fy: np.ndarray,
    reach: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest with direct walks to facilities nearer than each point's street.

    Parameters
    ----------
    metres, label : numpy.ndarray
        ``(p, k)`` network walks and facility positions (``inf`` / ``-1`` where none).
    x, y : numpy.ndarray
        The ``p`` points, metres.
    fx, fy : numpy.ndarray
        The facilities, metres.
    reach : numpy.ndarray
        Per point, its distance to the street it starts from (NaN or inf when off the
        network: then nothing is walked to directly either).

    Returns
    -------
    tuple of numpy.ndarray
        ``(metres, label)`` ranked again, same shapes.

    Examples
    --------
    A clinic at the point (0) and one 22 m along the street, the point 22 m off it:

    >>> metres, label = np.array([[22.0, 44.0]]), np.array([[1, 0]])
    >>> with_direct_walks(metres, label, np.array([0.0]), np.array([0.0]),
    ...                   np.array([0.0, 22.0]), np.array([0.0, -22.0]), np.array([22.0]))
    (array([[ 0., 22.]]), array([[0, 1]]))
    """
    reach = np.where(np.isfinite(reach), reach, -1.0)
    if not len(fx) or not (reach >= 0).any():
        return metres, label
    tree = cKDTree(np.column_stack([fx, fy]))
    metres, label = metres.copy(), label.copy()
    k = metres.shape[1]
    for i in np.flatnonzero(reach >= 0):
        near = tree.query_ball_point((x[i], y[i]), r=float(reach[i]))
        if not near:
            continue
        walks = dict(zip(label[i][label[i] >= 0].tolist(), metres[i][label[i] >= 0], strict=True))
        for j in near:
            direct = float(np.hypot(fx[j] - x[i], fy[j] - y[i]))
            walks[j] = min(walks.get(j, np.inf), direct)
        ranked = sorted(walks.items(), key=lambda item: (item[1], item[0]))[:k]
        metres[i] = np.inf
        label[i] = -1
        for rank, (j, walk) in enumerate(ranked):
            metres[i, rank], label[i, rank] = walk, j
    return metres, label
