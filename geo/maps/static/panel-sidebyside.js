/*
 * 15分钟社区生活圈 / lifecircle: two scenarios side by side (a panel plugin, after panel-plan).
 *
 * "方案比较 / compare scenarios" (panel-plan.js) fills its per-街道 table; this file adds the
 * two maps: over the main map (never over the panel, so the table stays in view), map A and
 * map B, each with its scenario's facilities of the chosen type and the compounds whose
 * coverage it changes (green: gained, red dashed: lost). Panning or zooming one moves the
 * other to the same view.
 *
 * The two maps are kept in step by hand (a "move" on one sets the other's view) rather than
 * with Leaflet.Sync: that plugin also mirrors the cursor and patches Leaflet's internals,
 * and for two maps of the same size a dozen lines do all we need.
 *
 * The basemap is the main map's (its tile layers are copied, so tiles=none stays offline).
 * Positions from the service are WGS-84; panel-plan's toMap shifts them for a GCJ-02 basemap.
 * Plain ES5, Leaflet only.
 */
(function () {
  "use strict";

  var WORDS = {
    zh: {open: "并排地图", close: "关闭并排地图", gained: "新增覆盖", lost: "失去覆盖"},
    en: {open: "Maps side by side", close: "Close the side-by-side maps", gained: "gained",
      lost: "lost"}
  };

  function plugin(api) {
    var plan = window.lcPlan;
    if (!plan) return;
    var main = api.map, el = api.el, view = null, maps = [];
    function w() { return WORDS[api.state.lang === "en" ? "en" : "zh"]; }

    function tiles() {
      var copies = [];
      main.eachLayer(function (layer) {
        if (layer instanceof L.TileLayer) copies.push(L.tileLayer(layer._url, layer.options));
      });
      return copies;
    }

    // each map follows the other; `following` stops the echo of a view set from its twin
    function keepInStep(a, b) {
      var following = false;
      function follow(from, to) {
        from.on("move zoomend", function () {
          if (following) return;
          following = true;
          to.setView(from.getCenter(), from.getZoom(), {animate: false});
          following = false;
        });
      }
      follow(a, b);
      follow(b, a);
    }

    // the compounds, faint, for orientation (in the main map's coordinates already)
    function compounds(map) {
      var areas = window[api.config.areas];
      if (!areas || !areas.toGeoJSON) return;
      L.geoJSON(areas.toGeoJSON(), {interactive: false, renderer: L.canvas(),
        style: {color: "#777", weight: 1, fillColor: "#bbb", fillOpacity: 0.25}}).addTo(map);
    }

    function draw(map, side) {
      var kind = api.state.type, g = plan.glyph(kind);
      compounds(map);
      side.facilities.forEach(function (f) {
        var c = f.geometry.coordinates, name = (f.properties && f.properties.name) || f.id;
        var fresh = side.fresh && side.fresh(f);
        var marker = L.marker(plan.toMap(c[0], c[1]), {title: name, keyboard: false,
          icon: L.divIcon({className: "lc-plan-marker lc-side-facility" + (fresh ? " lc-plan-new" : ""),
            html: "<span style=\"background:" + g[2] + "\">" + g[1] + "</span>",
            iconSize: [24, 24], iconAnchor: [12, 12]})});
        marker.addTo(map);
        var icon = marker.getElement();
        if (icon) icon.setAttribute("data-id", String(f.id));
      });
      if (side.changed) {
        L.geoJSON(side.changed, {
          interactive: false,
          coordsToLatLng: function (c) { return plan.toMap(c[0], c[1]); },
          filter: function (f) { return f.properties[kind + "_gained"] || f.properties[kind + "_lost"]; },
          style: function (f) {
            var gained = f.properties[kind + "_gained"];
            return {color: gained ? "#009E73" : "#CC0000", weight: 4, fill: false,
              dashArray: gained ? null : "4 4"};
          }
        }).addTo(map);
      }
    }

    function close() {
      maps.forEach(function (m) { m.remove(); });
      maps = [];
      if (view) view.parentNode.removeChild(view);
      view = null;
      plan.sideBySide.maps = null;
    }

    // sides: [{label, facilities: [GeoJSON points], changed: FeatureCollection|null}, x2]
    function show(sides) {
      close();
      view = el("div", {id: "lc-side-view", role: "region", "aria-label": w().open});
      var shut = el("button", {type: "button", id: "lc-side-close", title: w().close,
        "aria-label": w().close}, "×");
      shut.addEventListener("click", close);
      view.appendChild(shut);
      document.body.appendChild(view);
      // both panes first: a map made before its twin's pane exists would size itself to
      // the whole view and keep a centre that is not the one shown
      var boxes = sides.map(function (side, i) {
        var pane = el("div", {className: "lc-side-pane"});
        pane.appendChild(el("div", {className: "lc-side-label"}, side.label));
        var box = el("div", {id: "lc-side-map-" + "ab"[i], className: "lc-side-map"});
        pane.appendChild(box);
        view.appendChild(pane);
        return box;
      });
      sides.forEach(function (side, i) {
        var map = L.map(boxes[i], {center: main.getCenter(), zoom: main.getZoom(),
          zoomSnap: main.options.zoomSnap, zoomDelta: main.options.zoomDelta});
        tiles().forEach(function (t) { t.addTo(map); });
        L.control.scale({imperial: false}).addTo(map);
        draw(map, side);
        maps.push(map);
      });
      keepInStep(maps[0], maps[1]);
      plan.sideBySide.maps = maps;
    }

    plan.sideBySide = {show: show, close: close, words: w, maps: null};
    api.onChange(function (state, before) { if (state.type !== before.type) close(); });
  }

  window.lcPanels = window.lcPanels || [];
  window.lcPanels.push(plugin);
})();
