"""Open every collection of a running lifecircle service in QGIS, headless, and report.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tools/qgis_check.py http://127.0.0.1:8000

Run with the Python that has QGIS's bindings (Debian: ``apt-get install python3-qgis
qgis-providers``; it is not the project's virtual environment). For each collection it prints,
as one JSON line: whether QGIS's OAPIF provider opened it, its geometry type, the number of
features QGIS reads and of those with a geometry, its field names, and whether the provider
offers editing. ``tests/test_qgis.py`` runs it and compares with the store.
"""

from __future__ import annotations

import json
import os
import sys

from qgis.core import QgsApplication, QgsVectorDataProvider, QgsVectorLayer, QgsWkbTypes


def main(url: str, collections: list[str]) -> int:
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    for name in collections:
        layer = QgsVectorLayer(f"url='{url}' typename='{name}'", name, "OAPIF")
        row: dict[str, object] = {"collection": name, "valid": layer.isValid()}
        if layer.isValid():
            features = list(layer.getFeatures())
            caps = layer.dataProvider().capabilities()
            row.update(
                geometry=QgsWkbTypes.displayString(layer.wkbType()),
                features=len(features),
                drawn=sum(1 for f in features if f.hasGeometry() and not f.geometry().isEmpty()),
                fields=[f.name() for f in layer.fields()],
                editable=bool(caps & QgsVectorDataProvider.AddFeatures),
            )
        print(json.dumps(row, ensure_ascii=False), flush=True)
    # QgsApplication.exitQgis() crashes headless 3.22 on the way out: everything is printed,
    # so leave at once
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(
        main(
            sys.argv[1],
            sys.argv[2:]
            or [
                "residential_areas",
                "neighbor_centers",
                "clinics",
                "charging_points",
                "renovation_projects",
                "renovation_projects_points",
                "renovation_projects_areas",
                "coverage",
            ],
        )
    )
