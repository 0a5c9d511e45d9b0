"""The network wing: streets as a walking graph, points attached to it, shortest walks.

- :mod:`~geo.network.graph` — :class:`~geo.network.graph.WalkNetwork` (CSR arrays, metres);
- :mod:`~geo.network.lines`, :mod:`~geo.network.osm`, :mod:`~geo.network.readers` — building
  one from line layers, OpenStreetMap extracts, GraphML; :mod:`~geo.network.cache` keeps
  what was built;
- :mod:`~geo.network.snapping` — points onto the nearest street;
- :mod:`~geo.network.routing` — nearest and k-nearest facilities, over
  :mod:`~geo.network._kernels` (numba, a leaf that imports nothing from ``geo``);
- :mod:`~geo.network.paths` — the route of one walk as a line;
- :mod:`~geo.network.reach` — the street spans a walk reaches, and the area within a
  distance of them (isochrones, gap zones), traced on a lattice of exact distances.

The network wing knows nothing of layers or studies: arrays and frames in, arrays out.
"""

from geo.settings import use_numba_cache

# Before any kernel is compiled: numba's cache goes to the user's cache folder, not into
# the (possibly read-only) installed package.
use_numba_cache()
