/*
 * 15分钟社区生活圈 / lifecircle: the dashboard of a large study.
 *
 * A served dashboard of more residential areas than a page can carry loads the areas of the
 * view from /coverage as the map moves (at most MAX_VIEW at a time, with a note to zoom in when
 * there are more), and gap zones and isochrones the first time they are switched on.
 *
 * Its settings are JSON data in the page's element #lc-dashboard-config, written by
 * geo/maps/dashboard.py: the names of the map and its layer groups (globals folium declares),
 * the query strings, colours, minute classes and the words of the page's language.
 * Text from the data is set with textContent, never parsed as HTML.
 */
(function () {
  "use strict";

  var MAX_VIEW = 5000;

  function start(config) {
    var map = window[config.map];
    var group = window[config.layers.areas], gaps = window[config.layers.gaps];
    var words = config.words, colours = config.colours, bins = config.bins;
    var query = config.query;
    var minutes = "_minutes_" + config.profile, column = config.kind + minutes;

    var note = L.control({position: "bottomleft"});
    note.onAdd = function () {
      this.div = L.DomUtil.create("div", "lc-note");
      return this.div;
    };
    note.addTo(map);

    function say(message) {
      note.div.textContent = message || "";
      note.div.style.display = message ? "" : "none";
    }

    function colour(m) {
      if (m === null || m === undefined) return config.unreachable;
      for (var i = 0; i < bins.length; i++) if (m <= bins[i]) return colours[i];
      return colours[colours.length - 1];
    }

    function line(parent, text, bold) {
      var div = document.createElement("div");
      if (bold) div.style.fontWeight = "bold";
      div.textContent = text;
      parent.appendChild(div);
    }

    function popup(p) {
      var box = document.createElement("div");
      line(box, p.name, true);
      words.fields.forEach(function (f) {
        line(box, f[1] + ": " + p[f[0]]);
      });
      words.types.forEach(function (t) {
        var m = p[t[0] + minutes], name = p[t[0] + "_name"];
        line(box, t[1] + ": " + (m === null || m === undefined ? "—" : m + " " + words.minutes)
          + (name ? "（" + name + "）" : ""));
      });
      return box;
    }

    // each move asks anew; only the answer to the latest question is drawn
    var serial = 0;

    function load() {
      var b = map.getBounds(), mine = ++serial;
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(",");
      say(words.loading);
      fetch("/coverage?" + query + "&" + config.view + "&limit=" + MAX_VIEW + "&bbox=" + bbox)
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.json();
        })
        .then(function (data) {
          if (mine !== serial) return;
          group.clearLayers();
          gaps.clearLayers();
          L.geoJSON(data, {
            style: function (f) {
              return {color: "#333", weight: 1, fillOpacity: 0.6,
                fillColor: colour(f.properties[column])};
            },
            onEachFeature: function (f, layer) {
              // a function, so a popup's elements are built only when it is opened
              layer.bindPopup(function () { return popup(f.properties); });
              var tip = document.createElement("span");
              tip.textContent = f.properties.name;
              layer.bindTooltip(tip);
            }
          }).addTo(group);
          L.geoJSON({type: "FeatureCollection", features: data.features.filter(function (f) {
            return f.properties.all_covered === false;
          })}, {interactive: false,
            style: {color: "#000", weight: 3, dashArray: "6 4", fill: false}}).addTo(gaps);
          say(data.numberMatched > data.numberReturned ? words.zoom
            .replace("{n}", data.numberReturned).replace("{m}", data.numberMatched) : "");
        })
        .catch(function (e) { say(words.failed + " (" + e.message + ")"); });
    }

    // an overlay computed by the service only when someone first switches it on
    function lazy(layer, url, stroke) {
      var asked = false;
      map.on("overlayadd", function (e) {
        if (e.layer !== layer || asked) return;
        asked = true;
        say(words.loading);
        fetch(url)
          .then(function (r) { return r.json(); })
          .then(function (data) {
            var mine = data.features.filter(function (f) {
              return !f.properties.type || f.properties.type === config.kind;
            });
            L.geoJSON({type: "FeatureCollection", features: mine}, {interactive: false,
              style: {color: stroke, weight: 1, fillOpacity: 0.15}}).addTo(layer);
            say("");
          })
          .catch(function (e) {
            asked = false;  // switching it off and on again retries
            say(words.failed + " (" + e.message + ")");
          });
      });
    }

    Object.keys(config.overlays).forEach(function (key) {
      var overlay = config.overlays[key];
      lazy(window[overlay.layer], overlay.url, overlay.colour);
    });
    map.on("moveend", load);
    map.whenReady(load);
  }

  // on "load": folium declares the map and its layers in a script after this one
  window.addEventListener("load", function () {
    var element = document.getElementById("lc-dashboard-config");
    if (element) start(JSON.parse(element.textContent));
  });
})();
