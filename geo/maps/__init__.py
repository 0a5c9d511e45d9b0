"""The maps wing: folium pages built from frames and analysis results.

- :mod:`~geo.maps.base` — labels, escaped popups, bundled assets, the basemaps;
- :mod:`~geo.maps.overview` — the overview map of the layers;
- :mod:`~geo.maps.dashboard` — the planners' coverage dashboard;
- :mod:`~geo.maps.renovation` — the renovation (加装电梯) map;
- :mod:`~geo.maps.scenario` — the map of a what-if scenario;
- ``static/`` — Leaflet and its plugins, and the pages' own JavaScript and CSS, as files.

Python builds data here; the pages' behaviour is in ``static/*.js``.
"""
