/*
 * 15分钟社区生活圈 / lifecircle: the accessibility surface as a heatmap — a plugin of the
 * workbench's panel (static/workbench.js loads every static/panel-*.js after itself).
 *
 * A section "可达性热力图 / accessibility heatmap" with one switch per facility type (and
 * "off"): the 100 m cells of GET /surface (geo/analysis/surface.py), each coloured by the walk
 * from its centre to the nearest facility of that type, in the same bands as the compounds —
 * relative to the type's threshold (<= 1/2, <= 1, <= 1 1/2 of it, beyond; grey where the
 * centre has no street within 250 m or reaches no facility) — so a cell and the compound on
 * it read alike, and a 5-minute charger and a 15-minute clinic are judged by their own
 * thresholds. The legend gives the bands in minutes for the walker shown.
 *
 * Nothing is fetched until a type is switched on (the page's first paint does not wait for
 * it). The walk is in metres, so a change of walker, own speed or threshold repaints the cells
 * already fetched without a request. A small study's surface is fetched whole, once per type;
 * a large study's (config.state.large) for the view, again when the map moves. Cells are
 * drawn on a canvas in a pane below the compounds, and let clicks through.
 * Text from the data is set with textContent only. Plain ES5, Leaflet only.
 */
(function () {
  "use strict";

  var WORDS = {
    zh: {
      title: "可达性热力图",
      off: "关闭",
      hint: "100 米格网：从格网中心经最近道路步行到最近设施的时间，颜色相对所选阈值。",
      minutes: "分钟",
      unreachable: "不可达（250 米内无道路或无可达设施）",
      within_half: "≤ ½ 阈值",
      within: "≤ 阈值",
      within_one_half: "≤ 1½ 阈值",
      beyond: "> 1½ 阈值",
      cells: "个格网",
      more: "格网过多，只显示一部分，请放大地图",
      loading: "加载中…",
      failed: "加载失败"
    },
    en: {
      title: "Accessibility heatmap",
      off: "off",
      hint: "100 m cells: the walk from each cell's centre, via its nearest street, to the "
        + "nearest facility; colours relative to the threshold.",
      minutes: "min",
      unreachable: "unreachable (no street within 250 m, or no facility reached)",
      within_half: "≤ ½ threshold",
      within: "≤ threshold",
      within_one_half: "≤ 1½ threshold",
      beyond: "> 1½ threshold",
      cells: "cells",
      more: "too many cells: some are shown, zoom in for all",
      loading: "loading…",
      failed: "could not load"
    }
  };
  var MAX_CELLS = 40000, KEEP = 6;

  window.lcPanels = window.lcPanels || [];
  window.lcPanels.push(function (api) {
    var map = api.map, config = api.config, el = api.el;
    var crs = config.state.crs, large = !!config.state.large;
    var shown = null, layer = null, drawnUrl = null, serial = 0;
    var answers = {}, order = [];  // url -> promise of the FeatureCollection, oldest first
    var out = {};
    window.lcSurface = out;

    map.createPane("lc-surface");
    var pane = map.getPane("lc-surface");
    pane.style.zIndex = 350;  // over the tiles, under the compounds (overlayPane is 400)
    pane.style.pointerEvents = "none";
    var renderer = L.canvas({pane: "lc-surface"});

    function w() { return WORDS[api.state.lang === "en" ? "en" : "zh"]; }
    function typeName(kind) {
      var t = config.types.filter(function (x) { return x[0] === kind; })[0];
      return t ? (api.state.lang === "en" ? t[2] : t[1]) : kind;
    }
    function threshold() { return api.state.minutes[shown]; }
    function perMinute() {
      var s = api.state;
      return (s.speed || config.speeds[s.profile]) * 1000 / 60;
    }

    // the compounds' bands, on the walk in metres: <= 1/2, <= 1, <= 1 1/2 of the threshold
    function colour(metres) {
      if (metres === null || metres === undefined) return config.legend.unreachable;
      var limit = threshold() * perMinute(), b = config.bands;
      if (metres <= limit * b[0]) return config.legend.bands[0];
      if (metres <= limit * b[1]) return config.legend.bands[1];
      if (metres <= limit * b[2]) return config.legend.bands[2];
      return config.legend.bands[3];
    }

    var box = api.section("lc-surface");
    var head = el("b", {className: "lc-surface-title"});
    var switches = el("div", {className: "lc-surface-types", role: "radiogroup"});
    var note = el("div", {className: "lc-surface-note", "aria-live": "polite"});
    var key = el("div", {className: "lc-surface-key", id: "lc-surface-key"});
    var hint = el("div", {className: "lc-surface-hint"});
    [head, switches, note, key, hint].forEach(function (n) { box.appendChild(n); });

    function renderSwitches() {
      switches.textContent = "";
      switches.setAttribute("aria-label", w().title);
      [null].concat(config.types.map(function (t) { return t[0]; })).forEach(function (kind) {
        var label = el("label", {className: "lc-surface-switch"});
        var input = el("input", {type: "radio", name: "lc-surface", value: kind || "off",
          "data-type": kind || "off"});
        input.checked = shown === kind;
        input.addEventListener("change", function () { if (input.checked) show(kind); });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + (kind ? typeName(kind) : w().off)));
        switches.appendChild(label);
      });
    }

    function renderKey() {
      key.textContent = "";
      head.textContent = w().title + (shown ? " · " + typeName(shown) : "");
      hint.textContent = w().hint;
      if (!shown) { key.hidden = true; return; }
      key.hidden = false;
      var words = w(), t = threshold(), b = config.bands;
      var names = [words.within_half, words.within, words.within_one_half, words.beyond];
      var speed = api.state.speed || config.speeds[api.state.profile];
      key.appendChild(el("div", {className: "lc-key-sub"}, typeName(shown) + " · " + speed + " km/h · "
        + t + " " + words.minutes));
      config.legend.bands.forEach(function (c, i) {
        var upto = i < 3 ? "≤ " + (Math.round(t * b[i] * 10) / 10) : "> " + (Math.round(t * b[2] * 10) / 10);
        var line = el("div", {className: "lc-key-line", "data-band": String(i)});
        line.appendChild(el("span", {className: "lc-swatch", style: "background:" + c}));
        line.appendChild(document.createTextNode(" " + upto + " " + words.minutes + " (" + names[i] + ")"));
        key.appendChild(line);
      });
      var grey = el("div", {className: "lc-key-line", "data-band": "4"});
      grey.appendChild(el("span", {className: "lc-swatch", style: "background:" + config.legend.unreachable}));
      grey.appendChild(document.createTextNode(" " + words.unreachable));
      key.appendChild(grey);
    }

    function say(text) { note.textContent = text || ""; }

    function url() {
      var u = "/surface?type=" + shown + "&crs=" + crs + "&limit=" + MAX_CELLS;
      if (large) {
        var b = map.getBounds();
        u += "&bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(",");
      }
      return u;
    }

    function restyle() {
      if (!layer) return;
      var column = shown + "_walk_m";
      layer.setStyle(function (f) {
        return {stroke: false, fillOpacity: 0.55, fillColor: colour(f.properties[column])};
      });
      serial += 1;
      document.documentElement.setAttribute("data-lc-surface", String(serial));
    }

    function clear() {
      if (layer) map.removeLayer(layer);
      layer = null;
      drawnUrl = null;
      out.shown = null;
    }

    function load() {
      if (!shown) return;
      var asked = url(), kind = shown;
      if (asked === drawnUrl) { restyle(); return; }
      if (!answers[asked]) {
        // a few answers are kept (types switched back and forth, views returned to)
        order.push(asked);
        if (order.length > KEEP) delete answers[order.shift()];
        answers[asked] = api.getJSON(asked).catch(function (e) {
          delete answers[asked];
          throw e;
        });
      }
      say(w().loading);
      answers[asked].then(function (fc) {
        if (shown !== kind || url() !== asked) return;  // the question changed meanwhile
        clear();
        layer = L.geoJSON(fc, {renderer: renderer, pane: "lc-surface", interactive: false});
        layer.addTo(map);
        drawnUrl = asked;
        out.shown = kind;
        restyle();
        say(fc.numberMatched > fc.numberReturned ? w().more
          : fc.numberReturned + " " + w().cells);
      }).catch(function (e) { say(w().failed + " (" + e.message + ")"); });
    }

    function show(kind) {
      shown = kind;
      if (!kind) { clear(); say(""); serial += 1;
        document.documentElement.setAttribute("data-lc-surface", String(serial)); }
      renderSwitches();
      renderKey();
      load();
    }

    // for tests and scripts: the fill of every cell drawn, by cell number
    out.fills = function () {
      var fills = {};
      if (layer) layer.eachLayer(function (l) { fills[String(l.feature.id)] = l.options.fillColor; });
      return fills;
    };
    out.show = show;

    api.onChange(function (state, before) {
      if (state.lang !== before.lang) renderSwitches();
      renderKey();
      restyle();  // walker, speed, threshold: the same cells, new colours
    });
    if (large) map.on("moveend", function () { if (shown) load(); });
    show(null);
  });
})();
