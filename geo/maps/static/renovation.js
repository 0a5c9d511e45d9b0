/*
 * 15分钟社区生活圈 / lifecircle: the renovation (加装电梯) map's stage checkboxes and time slider.
 *
 * A project shows when its stage is ticked and it started in or before the slider's month (one
 * without a start date always shows). The projects and the page's words are JSON data in the
 * page's element #lc-renovation-config, written by geo/maps/dashboard.py, with the name of the
 * projects' layer group (a global folium declares). Text from the data is set with
 * textContent, never parsed as HTML.
 */
(function () {
  "use strict";

  function start(config) {
    var group = window[config.layer];
    var data = config.data, months = config.months, colours = config.colours;
    var labels = config.labels, stages = config.stages;
    var slider = document.getElementById("lc-slider");
    var boxes = document.querySelectorAll(".lc-stage");

    function popup(p) {
      var box = document.createElement("div"), title = document.createElement("b");
      title.textContent = p.name || "";
      box.appendChild(title);
      Object.keys(labels).forEach(function (k) {
        if (p[k] === undefined || p[k] === null) return;
        var line = document.createElement("div");
        line.textContent = labels[k] + ": " + (k === "status" ? (stages[p[k]] || p[k]) : p[k]);
        box.appendChild(line);
      });
      return box;
    }

    function draw() {
      var month = months[slider.value];
      document.getElementById("lc-month").textContent = month;
      var on = {};
      boxes.forEach(function (b) { on[b.value] = b.checked; });
      group.clearLayers();
      L.geoJSON(data, {
        filter: function (f) {
          var p = f.properties;
          // "YYYY-MM" strings compare as months do
          return on[p.status] && (!p.start || month === "-" || p.start.slice(0, 7) <= month);
        },
        style: function (f) {
          return {color: "#333", weight: 1, fillOpacity: 0.6,
            fillColor: colours[f.properties.status] || "#999"};
        },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {radius: 7, color: "#333", weight: 1, fillOpacity: 0.9,
            fillColor: colours[f.properties.status] || "#999"});
        },
        onEachFeature: function (f, layer) { layer.bindPopup(popup(f.properties)); }
      }).addTo(group);
    }

    slider.addEventListener("input", draw);
    boxes.forEach(function (b) { b.addEventListener("change", draw); });
    draw();
  }

  // on "load": folium declares the map and its layer group in a script after this one
  window.addEventListener("load", function () {
    var element = document.getElementById("lc-renovation-config");
    if (element) start(JSON.parse(element.textContent));
  });
})();
