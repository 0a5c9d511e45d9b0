"""Which walking network a study uses: the one rule for the CLI, the API and notebooks."""

from __future__ import annotations

import os
from pathlib import Path

from geo.layers.store import LayerStore
from geo.network.cache import load_network
from geo.network.graph import WalkNetwork

__all__ = ["NetworkChoice", "resolve_network"]

#: A walking network as a caller names it: ``"auto"`` (the store's streets), ``"none"`` or
#: None (straight lines), a file, or a network already built.
NetworkChoice = WalkNetwork | str | os.PathLike[str] | None


def resolve_network(
    choice: NetworkChoice, store: LayerStore, cache_dir: Path | None = None
) -> WalkNetwork | None:
    """The walking network a study uses — the one rule for the CLI, the API and notebooks.

    Parameters
    ----------
    choice : WalkNetwork, str, path or None
        ``"auto"``: the store's streets if it has them (built once, cached on disk), else
        none; ``"none"`` or None: straight-line mode; a path: that file; a network: itself.
    store : LayerStore
        Whose streets ``"auto"`` means.
    cache_dir : pathlib.Path, optional
        Where built networks are cached (the settings' ``cache``; default
        :func:`geo.network.cache.default_cache_dir`).

    Returns
    -------
    WalkNetwork or None
    """
    if choice is None or isinstance(choice, WalkNetwork):
        return choice
    if isinstance(choice, str) and choice.lower() == "none":
        return None
    if isinstance(choice, str) and choice == "auto":
        streets = store.streets()
        return load_network(streets, cache_dir) if streets is not None else None
    return load_network(Path(choice), cache_dir)
