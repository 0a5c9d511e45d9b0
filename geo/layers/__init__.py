"""The layers wing: the store seam and everything that reads or writes layer data.

- :mod:`~geo.layers.store` — the :class:`~geo.layers.store.LayerStore` protocol,
  :func:`~geo.layers.store.open_store` and the short forms ``read_layer``/``write_layer``;
- :mod:`~geo.layers.folder` — the GeoJSON-folder store;
- :mod:`~geo.layers.postgis` — the PostGIS store (rows: :mod:`~geo.layers.pgrows`, connections:
  :mod:`~geo.layers.pgpool`); :mod:`~geo.layers.transfer` sets a database up and copies
  between stores;
- :mod:`~geo.layers.geojson` — the store's GeoJSON text ↔ frames (pure);
- :mod:`~geo.layers.validate` — frames in, problems out (pure);
- :mod:`~geo.layers.sources` — reading planners' files (GeoJSON, GPKG, SHP, CSV, XLSX);
- :mod:`~geo.layers.imports`, :mod:`~geo.layers.exports`, :mod:`~geo.layers.edit` — whole
  files in, layers out, single features changed;
- :mod:`~geo.layers.query` — bbox, filters and paging for serving features.
"""
