"""The analysis wing: walking questions over layers and a network.

- :mod:`~geo.analysis.params` — :class:`~geo.analysis.params.WalkParams`, built once at the
  edge (speeds, thresholds, CRS, and where their defaults come from);
- :mod:`~geo.analysis.study` — :class:`~geo.analysis.study.Study`, the hub: layers, network,
  facilities snapped once, nearest facilities of any points;
- :mod:`~geo.analysis.coverage` — compounds' origins (gates), coverage, summaries, gaps;
- :mod:`~geo.analysis.isochrones` — isochrones, gap zones, renovation opportunities;
- :mod:`~geo.analysis.routes` — the walk to a facility as a line;
- :mod:`~geo.analysis.planning` — scenarios and recommended sites;
- :mod:`~geo.analysis.run` — the whole ``lifecircle analyze`` run and its output files.
- :mod:`~geo.analysis.batch` — ``lifecircle batch``: many studies on dask.distributed;
- :mod:`~geo.analysis.partition` — one big study's coverage in parts with halos.
"""
