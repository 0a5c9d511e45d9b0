"""Open lifecircle's PostGIS tables in QGIS (headless), as a planner's direct connection does.

Run with the Python that has QGIS's bindings (Debian: /usr/bin/python3, python3-qgis):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tools/qgis_table_check.py \\
        HOST PORT DATABASE USER PASSWORD SCHEMA clinics residential_areas …

Prints one JSON line per table: whether QGIS's PostgreSQL provider opened it, its features,
fields and CRS, and the feature ids (tests/test_store_postgis.py reads them).
"""

from __future__ import annotations

import json
import sys

from qgis.core import QgsApplication, QgsDataSourceUri, QgsVectorLayer, QgsWkbTypes


def _open(
    host: str,
    port: str,
    database: str,
    user: str,
    password: str,
    schema: str,
    table: str,
    kind: object,
) -> QgsVectorLayer:
    uri = QgsDataSourceUri()
    uri.setConnection(host, port, database, user, password)
    uri.setDataSource(schema, table, "geom", "", "fid")  # the geometry column and the key
    if kind is not None:
        uri.setWkbType(kind)
    return QgsVectorLayer(uri.uri(False), table, "postgres")


def main() -> None:
    host, port, database, user, password, schema, *tables = sys.argv[1:]
    app = QgsApplication([], False)
    app.initQgis()
    for table in tables:
        # A table of one geometry type opens as it is; one of several (renovation projects:
        # outlines and points) opens once per type, as QGIS's browser lists it.
        layers = [_open(host, port, database, user, password, schema, table, None)]
        if not layers[0].isValid():
            layers = [_open(host, port, database, user, password, schema, table, kind)
                      for kind in (QgsWkbTypes.MultiPolygon, QgsWkbTypes.Point)]  # fmt: skip
        features = [f for layer in layers if layer.isValid() for f in layer.getFeatures()]
        row = {
            "table": table,
            "valid": all(layer.isValid() for layer in layers),
            "parts": len(layers),
            "count": len(features),
            "fields": [field.name() for field in layers[0].fields()],
            "crs": layers[0].crs().authid(),
            "ids": sorted(str(feature["id"]) for feature in features),
        }
        print(json.dumps(row, ensure_ascii=False), flush=True)
    app.exitQgis()


if __name__ == "__main__":
    main()
