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
 *
 * On the planner's workbench (static/workbench.js, #lc-workbench-config on the page) the
 * query, colours, popups and overlays follow its controls: it is asked through
 * window.lcWorkbench, and an "lc-state" event on the document loads the view again.
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
    var workbench = !!document.getElementById("lc-workbench-config");

    function wb() { return workbench ? window.lcWorkbench : null; }

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
    // what is drawn, and the workbench's query it answered: a change of type alone is
    // repainted from it, with no request
    var drawnQuery = null, drawnLayer = null, drawnBbox = null;

    // the dashed outline of a gap: one per drawn area, made the first time it is a gap and
    // then shown or hidden, never made again (a type change outlines thousands of areas,
    // and making their layers anew was most of its repaint)
    var OUTLINE = {interactive: false, pmIgnore: true, fill: false, color: "#000", weight: 3,
      dashArray: "6 4"};

    function outlines(drawn, isGap) {
      drawn.eachLayer(function (layer) {
        var gap = isGap(layer.feature.properties), line = layer.lcOutline;
        if (gap === !!(line && line.options.stroke)) return;
        if (line) line.setStyle({stroke: gap});
        else {
          layer.lcOutline = L.polygon(layer.getLatLngs(), OUTLINE);
          gaps.addLayer(layer.lcOutline);
        }
      });
    }

    function restyle() {
      var w = wb();
      drawnLayer.eachLayer(function (layer) {
        var p = layer.feature.properties, fill = w.colour(p, layer.feature.id), opacity = w.opacity(p);
        if (layer.options.fillColor !== fill || layer.options.fillOpacity !== opacity) {
          layer.setStyle({fillColor: fill, fillOpacity: opacity});
        }
      });
      outlines(drawnLayer, w.isGap);
      w.drawn(drawnLayer);
    }

    function viewBbox() {
      var b = map.getBounds();
      return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(",");
    }

    // the same view in a new state (threshold, walker): only the numbers are asked for
    // (skipGeometry), and the areas already drawn take them, a fraction of the bytes
    function walkerOf(q) { return q.split("&minutes=")[0]; }

    var asking = null;  // the question in flight: asked twice (two listeners), sent once

    function renumber() {
      var w = wb(), asked = w.query(), url = "/coverage?" + asked + "&" + w.view()
        + "&skipGeometry=true&limit=" + MAX_VIEW + "&bbox=" + drawnBbox;
      if (url === asking) return;
      var mine = ++serial;
      asking = url;
      say(words.loading);
      fetch(url)
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.json();
        })
        .then(function (data) {
          if (asking === url) asking = null;
          if (mine !== serial) return;
          var now = {};
          data.features.forEach(function (f) { now[String(f.id)] = f.properties; });
          drawnLayer.eachLayer(function (layer) {
            var p = now[String(layer.feature.id)];
            if (p) layer.feature.properties = p;
          });
          drawnQuery = asked;
          restyle();
          say(data.numberMatched > data.numberReturned ? words.zoom
            .replace("{n}", data.numberReturned).replace("{m}", data.numberMatched) : "");
        })
        .catch(function (e) {
          if (asking === url) asking = null;
          say(words.failed + " (" + e.message + ")");
        });
    }

    function load() {
      var bbox = viewBbox();
      var w = wb(), asked = w ? w.query() : null;
      var url = (w ? "/coverage?" + asked + "&" + w.view() : "/coverage?" + query + "&" + config.view)
        + "&limit=" + MAX_VIEW + "&bbox=" + bbox;
      if (url === asking) return;
      var mine = ++serial;
      asking = url;
      say(words.loading);
      fetch(url)
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.json();
        })
        .then(function (data) {
          if (asking === url) asking = null;
          if (mine !== serial) return;
          group.clearLayers();
          gaps.clearLayers();
          var drawn = L.geoJSON(data, {
            style: function (f) {
              if (w) {
                return {color: "#333", weight: 1, fillOpacity: w.opacity(f.properties),
                  fillColor: w.colour(f.properties, f.id)};
              }
              return {color: "#333", weight: 1, fillOpacity: 0.6,
                fillColor: colour(f.properties[column])};
            },
            onEachFeature: function (f, layer) {
              // a function, so a popup's elements are built only when it is opened
              if (w) {
                layer.bindPopup(function () { return w.popup(layer.feature.properties, layer.feature.id); },
                  w.popupOptions);
              }
              else layer.bindPopup(function () { return popup(f.properties); });
              var tip = document.createElement("span");
              tip.textContent = f.properties.name;
              layer.bindTooltip(tip);
            }
          }).addTo(group);
          outlines(drawn, w ? w.isGap : function (p) { return p.all_covered === false; });
          drawnQuery = asked;
          drawnLayer = drawn;
          drawnBbox = bbox;
          say(data.numberMatched > data.numberReturned ? words.zoom
            .replace("{n}", data.numberReturned).replace("{m}", data.numberMatched) : "");
          if (w) w.drawn(drawn);
        })
        .catch(function (e) {
          if (asking === url) asking = null;
          say(words.failed + " (" + e.message + ")");
        });
    }

    // an overlay computed by the service only when someone first switches it on
    function lazy(key, layer, url, stroke) {
      var asked = false, serial = 0;

      function ask() {
        var w = wb(), kind = w ? w.kind() : config.kind, asking = ++serial;
        asked = true;
        say(words.loading);
        fetch(w ? w.overlayUrl(key) : url)
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (asking !== serial) return;
            var mine = data.features.filter(function (f) {
              return !f.properties.type || f.properties.type === kind;
            });
            L.geoJSON({type: "FeatureCollection", features: mine}, {interactive: false,
              style: {color: stroke, weight: 1, fillOpacity: 0.15}}).addTo(layer);
            say("");
          })
          .catch(function (e) {
            asked = false;  // switching it off and on again retries
            say(words.failed + " (" + e.message + ")");
          });
      }

      map.on("overlayadd", function (e) {
        if (e.layer === layer && !asked) ask();
      });
      // the workbench changed type, walker or threshold: what was drawn is stale
      document.addEventListener("lc-state", function () {
        asked = false;
        serial += 1;
        layer.clearLayers();
        if (map.hasLayer(layer)) ask();
      });
    }

    Object.keys(config.overlays).forEach(function (key) {
      var overlay = config.overlays[key];
      lazy(key, window[overlay.layer], overlay.url, overlay.colour);
    });
    map.on("moveend", load);
    // the workbench asks for the first view, in the state of the URL
    if (workbench) {
      document.addEventListener("lc-state", function () {
        var w = wb();
        if (drawnLayer && w.query() === drawnQuery) restyle();
        else if (drawnLayer && viewBbox() === drawnBbox) {
          if (w.byWalk() && walkerOf(w.query()) === walkerOf(drawnQuery)) {
            // only thresholds changed: the walks are the same, so the page decides at once
            // what geo decides (covered = reached and walk <= threshold), and shows it while
            // the service's numbers are on their way
            drawnLayer.eachLayer(function (layer) {
              var p = layer.feature.properties;
              w.types.forEach(function (t) {
                var m = p[t + "_walk_m"];
                if (m !== undefined) p[t + "_covered"] = m !== null && m <= w.limitM(t);
              });
            });
            restyle();
          }
          renumber();
        }
        else load();
      });
    }
    else map.whenReady(load);
  }

  // on "load": folium declares the map and its layers in a script after this one
  window.addEventListener("load", function () {
    var element = document.getElementById("lc-dashboard-config");
    if (element) start(JSON.parse(element.textContent));
  });
})();
