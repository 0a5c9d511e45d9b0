/*
 * 15分钟社区生活圈 / lifecircle: the planner's workbench on the served dashboard.
 *
 * A side panel (a bottom sheet on a phone) beside the map, never over it: the controls
 * (facility type, walker or own speed, threshold, 街道, language), the summary, the layer
 * switcher (moved here from the map), the gap list with its downloads and a legend of every
 * symbol. A control applies without reloading: the coverage of a walker and thresholds is
 * fetched once from /coverage (all types in one answer, so switching the type needs no
 * request) and the compounds are repainted in place; the summary comes from
 * /coverage/summary, the gap list from /gaps.json. The URL keeps the state (pushState; the
 * back button restores the previous state; a shared URL opens in it).
 *
 * Colours are relative to the threshold of the type shown: <= 1/2, <= 1, <= 1 1/2 of it,
 * beyond, unreachable. Or, with "colour by capacity" (colour=capacity in the URL), relative
 * to the type's supply within reach (E2SFCA, /coverage's T_access_share: 1 is the study's
 * average), with a ring round every overloaded facility (/capacity). Own speed goes to the service as it is (speed=, km/h): it computes
 * the walker; minutes shown are walk_m / (speed x 1000 / 60).
 *
 * Settings are JSON in #lc-workbench-config, written by geo/maps/workbench.py. A page with
 * more compounds than it carries draws them with static/dashboard.js, which asks this script
 * (window.lcWorkbench) for the query, the colours and the popups. Text from the data is
 * always set with textContent, never parsed as HTML.
 */
(function () {
  "use strict";

  // before folium makes the map: its container takes the room beside the panel
  document.documentElement.classList.add("lc-wb");

  var ROWS_SHOWN = 400;
  var api = {};
  window.lcWorkbench = api;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function getJSON(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) {
        return r.json().then(function (body) {
          throw new Error(body.detail || body.title || r.status);
        }, function () { throw new Error(r.status); });
      }
      return r.json();
    });
  }

  function start(config) {
    var map = window[config.map];
    var areas = window[config.areas], gapGroup = window[config.gaps];
    var overlays = {zones: window[config.zones], isochrones: window[config.isochrones]};
    var large = config.state.large, crs = config.state.crs;
    var types = config.types.map(function (t) { return t[0]; });
    var cache = {};   // walker query -> {id: properties}, once fetched
    var asked = {};   // walker query -> promise
    var serial = 0;
    var gapRows = [], sortKey = null, sortUp = false;
    var pendingPopup = null;

    // ---- state and URL --------------------------------------------------------------------

    function defaults() {
      var s = {type: config.state.type, profile: config.state.profile, speed: null,
        minutes: {}, subdistrict: config.state.subdistrict || "", lang: config.state.lang,
        tiles: config.state.tiles, colour: "walk"};
      types.forEach(function (t) { s.minutes[t] = config.defaults[t]; });
      return s;
    }

    function fromURL() {
      var s = defaults(), q = new URLSearchParams(location.search);
      if (types.indexOf(q.get("type")) >= 0) s.type = q.get("type");
      if (q.get("profile") in config.speeds) s.profile = q.get("profile");
      var speed = parseFloat(q.get("speed"));
      if (speed >= 1 && speed <= 8) s.speed = speed;
      (q.get("minutes") || "").split(",").forEach(function (part) {
        var kv = part.split("="), v = parseFloat(kv[1]);
        if (types.indexOf(kv[0]) >= 0 && v > 0 && v <= 60) s.minutes[kv[0]] = v;
      });
      if (q.has("subdistrict")) s.subdistrict = q.get("subdistrict");
      if (q.get("lang") === "en" || q.get("lang") === "zh") s.lang = q.get("lang");
      if (q.get("tiles")) s.tiles = q.get("tiles");
      if (q.get("colour") === "capacity" || q.get("colour") === "completeness") s.colour = q.get("colour");
      return s;
    }

    function search(s) {
      var q = new URLSearchParams();
      q.set("type", s.type);
      if (s.speed) q.set("speed", s.speed); else q.set("profile", s.profile);
      var changed = types.filter(function (t) { return s.minutes[t] !== config.defaults[t]; });
      if (changed.length) {
        q.set("minutes", changed.map(function (t) { return t + "=" + s.minutes[t]; }).join(","));
      }
      if (s.subdistrict) q.set("subdistrict", s.subdistrict);
      q.set("lang", s.lang);
      if (s.tiles) q.set("tiles", s.tiles);
      if (s.colour !== "walk") q.set("colour", s.colour);
      return "?" + q.toString();
    }

    var state = defaults();

    function speedOf(s) { return s.speed || config.speeds[s.profile]; }
    function perMinute(s) { return speedOf(s) * 1000 / 60; }
    function threshold(s) { return s.minutes[s.type]; }

    // what /coverage, /coverage/summary (and /scenarios, /recommendations) are asked for
    // this walker and thresholds
    function walkerParam(s) { return s.speed ? "speed=" + s.speed : "profile=" + s.profile; }
    function walkerQuery(s) {
      var minutes = types.map(function (t) { return t + "=" + s.minutes[t]; }).join(",");
      return walkerParam(s) + "&minutes=" + minutes;
    }

    // the report: every type's threshold, the walker, the 街道 and the language
    function reportQuery(s) {
      var q = walkerQuery(s);
      if (s.subdistrict) q += "&subdistrict=" + encodeURIComponent(s.subdistrict);
      return q + "&lang=" + s.lang;
    }

    // what /gaps.json and the downloads are asked: they take own speed themselves
    function gapQuery(s) {
      var q = new URLSearchParams();
      q.set("type", s.type);
      if (s.speed) q.set("speed", s.speed); else q.set("profile", s.profile);
      q.set("minutes", s.type + "=" + threshold(s));
      if (s.subdistrict) q.set("subdistrict", s.subdistrict);
      q.set("lang", s.lang);
      return q.toString();
    }

    var words = function () { return config.words[state.lang]; };

    // ---- colours and popups -------------------------------------------------------------

    function covered(p) {
      var c = p[state.type + "_covered"];
      return c === true || c === false ? c : null;
    }

    function band(p) {
      var m = p[state.type + "_walk_m"];
      if (m === null || m === undefined) return 4;
      var limit = threshold(state) * perMinute(state), b = config.bands;
      if (covered(p) !== false) return m <= limit * b[0] ? 0 : 1;
      return m <= limit * b[2] ? 2 : 3;
    }

    // capacity: the share of the study's average supply within reach, in four bands
    function capacityBand(p) {
      var share = p[state.type + "_access_share"];
      if (share === null || share === undefined) return 4;
      var b = config.capacityBands;
      for (var i = 0; i < b.length; i++) if (share < b[i]) return i;
      return b.length;
    }

    // completeness: the share of the catalogue's basic kinds a compound reaches (/completeness)
    var complete = null, completeAsked = null;

    function loadCompleteness() {
      if (!completeAsked) {
        completeAsked = getJSON("/completeness").then(function (body) {
          var byId = {};
          body.areas.forEach(function (a) { byId[String(a.id)] = a; });
          var names = {};
          body.kinds.forEach(function (k) { names[k.key] = [k.zh, k.en]; });
          var basic = body.kinds.filter(function (k) { return k.tier_en === "basic"; }).length;
          complete = {byId: byId, names: names, basic: basic, quality: body.kinds.length - basic};
          api.completeness = complete;
          return complete;
        }, function (e) { completeAsked = null; throw e; });
      }
      return completeAsked;
    }

    function completeWalker() { return state.speed ? "standard" : state.profile; }

    function completenessBand(row) {
      if (!row || !complete || !complete.basic) return -1;
      var share = row["basic_" + completeWalker()] / complete.basic, b = config.completenessBands;
      for (var i = 0; i < b.length; i++) if (share < b[i] - 1e-9) return i;
      return b.length;
    }

    function colour(p, id) {
      if (state.colour === "completeness") {
        var row = complete && complete.byId[String(id)], c = completenessBand(row);
        return c < 0 ? config.legend.unreachable : config.legend.completeness[c];
      }
      if (state.colour === "capacity") {
        var c = capacityBand(p);
        return c === 4 ? config.legend.unreachable : config.legend.capacity[c];
      }
      var i = band(p);
      return i === 4 ? config.legend.unreachable : config.legend.bands[i];
    }

    function capacityText(p, t) {
      var v = p[t + "_access"], share = p[t + "_access_share"], u = config.capacityUnits[t];
      if (v === null || v === undefined || share === null || share === undefined) return null;
      var w = words();
      return (Math.round(v * 100) / 100) + " " + (state.lang === "en" ? u[1] : u[0]) + "（"
        + (Math.round(share * 100) / 100) + " × " + w.average + "）";
    }

    function inScope(p) { return !state.subdistrict || p.subdistrict === state.subdistrict; }

    function minutesOf(p, t) {
      var m = p[t + "_walk_m"];
      // rounded up to 0.1, as /gaps.json does: 5.02 minutes is past a 5-minute threshold
      return m === null || m === undefined ? null : Math.ceil(m / perMinute(state) * 10 - 1e-6) / 10;
    }

    function popup(p, id) {
      var w = words(), box = el("div", {className: "lc-popup"});
      box.appendChild(el("b", {className: "lc-popup-title"}, p.name || ""));
      var table = el("table");
      function row(k, v) {
        var tr = el("tr");
        tr.appendChild(el("th", {}, k));
        tr.appendChild(el("td", {}, v));
        table.appendChild(tr);
      }
      config.columns.forEach(function (c) {
        if (["subdistrict", "households", "population", "elderly"].indexOf(c[0]) >= 0
            && p[c[0]] !== undefined && p[c[0]] !== null) row(c[state.lang === "en" ? 2 : 1], p[c[0]]);
      });
      config.types.forEach(function (t) {
        var m = minutesOf(p, t[0]), name = p[t[0] + "_name"];
        var text = m === null ? w.unreachable : m.toFixed(1) + " " + w.minutes + " / min";
        if (name) text += "（" + name + "）";
        if (t[0] === state.type) text += p[t[0] + "_covered"] === false ? " ✗" : " ✓";
        row(state.lang === "en" ? t[2] : t[1], text);
      });
      var supply = capacityText(p, state.type);
      if (supply) row(w.access, supply);
      var mine = complete && id !== undefined && complete.byId[String(id)];
      if (mine) {
        var who = completeWalker(), en = state.lang === "en";
        row(w.comp_basic, mine["basic_" + who] + " / " + complete.basic + " " + w.comp_kinds);
        row(w.comp_quality, mine["quality_" + who] + " / " + complete.quality + " " + w.comp_kinds);
        var missing = (mine["missing_" + who] || "").split(",").filter(Boolean).map(function (k) {
          return complete.names[k] ? complete.names[k][en ? 1 : 0] : k;
        });
        if (missing.length) row(w.comp_missing, missing.join(en ? ", " : "、"));
      }
      box.appendChild(table);
      return box;
    }

    var popupOptions = {maxWidth: Math.max(180, Math.min(320, window.innerWidth - 110)), autoPanPaddingTopLeft: L.point(60, 90),
      autoPanPaddingBottomRight: L.point(20, 30)};

    // ---- painting the compounds ----------------------------------------------------------

    function eachArea(fn) {
      areas.eachLayer(function (layer) {
        if (layer.eachLayer) layer.eachLayer(fn); else fn(layer);
      });
    }

    var byId = {};

    function painted() {
      serial += 1;
      api.serial = serial;
      if (window.performance && performance.mark) performance.mark("lc-painted");
      document.documentElement.setAttribute("data-lc-painted", String(serial));
      if (pendingPopup && byId[pendingPopup]) {
        byId[pendingPopup].openPopup();
        pendingPopup = null;
      }
    }

    // a compound's dashed gap outline: made the first time it is a gap, then shown or hidden
    // (as static/dashboard.js does for a large page)
    function outline(layer, gap) {
      var line = layer.lcOutline;
      if (gap === !!(line && line.options.stroke)) return;
      if (line) line.setStyle({stroke: gap});
      else {
        layer.lcOutline = L.polygon(layer.getLatLngs(), {interactive: false, pmIgnore: true,
          fill: false, color: "#000", weight: 3, dashArray: "6 4"});
        gapGroup.addLayer(layer.lcOutline);
      }
    }

    var current = {};

    if (!large) gapGroup.clearLayers();  // folium's outlines of all types: ours follow the type

    function paint(data) {
      current = data;
      byId = {};
      eachArea(function (layer) {
        var id = String(layer.feature && layer.feature.id), p = data[id];
        if (!p) {
          outline(layer, false);
          return;
        }
        byId[id] = layer;
        var mine = inScope(p);
        layer.setStyle({fillColor: colour(p, id), fillOpacity: mine ? 0.6 : 0.12,
          opacity: mine ? 1 : 0.35});
        if (!layer.lcPopup) {
          // built when opened, from the data of the state shown then
          layer.bindPopup(function () { return popup(current[id], id); }, popupOptions);
          layer.lcPopup = true;
        }
        outline(layer, mine && covered(p) === false);
      });
      painted();
    }

    if (!large) {
      // folium bound one popup to the whole layer, in the page's first state: ours follow
      // the controls
      areas.eachLayer(function (layer) { if (layer.unbindPopup) layer.unbindPopup(); });
    }

    function coverage(q) {
      if (!asked[q]) {
        // the page has the shapes: only the numbers (skipGeometry), a fraction of the bytes
        var url = "/coverage?" + q + "&crs=" + crs + "&skipGeometry=true&properties="
          + config.fields.join(",");
        asked[q] = getJSON(url).then(function (fc) {
          var data = {};
          fc.features.forEach(function (f) { data[String(f.id)] = f.properties; });
          cache[q] = data;
          return data;
        }, function (e) { delete asked[q]; throw e; });
      }
      return asked[q];
    }

    function repaint() {
      if (state.colour === "completeness" && !complete) {
        status(words().loading);
        loadCompleteness().then(function () { status(""); renderLegend(); repaint(); })
          .catch(function (e) { status(words().failed + " (" + e.message + ")"); });
        return;
      }
      if (large) {
        document.dispatchEvent(new CustomEvent("lc-state"));
        return;
      }
      var q = walkerQuery(state);
      if (cache[q]) { paint(cache[q]); return; }
      status(words().loading);
      coverage(q).then(function (data) {
        if (walkerQuery(state) === q) paint(data);
        status("");
      }).catch(function (e) { status(words().failed + " (" + e.message + ")"); });
    }

    // ---- overlays that follow the controls: gap zones, isochrones ------------------------

    var overlayKey = {zones: null, isochrones: null};

    function overlayUrl(key) {
      var s = state;
      if (key === "zones") return "/gaps?zones=true&" + walkerQuery(s) + "&crs=" + crs;
      var list = config.bands.map(function (b) {
        return Math.min(config.maxMinutes, +(threshold(s) * b).toFixed(4));
      });
      return "/isochrones?type=" + s.type + "&minutes=" + list.join(",") + "&" + walkerParam(s)
        + "&crs=" + crs;
    }

    function refreshOverlay(key) {
      var layer = overlays[key];
      if (!layer || !map.hasLayer(layer)) return;
      var url = overlayUrl(key), kind = state.type;
      if (overlayKey[key] === url) return;
      overlayKey[key] = url;
      layer.clearLayers();
      status(words().loading);
      getJSON(url).then(function (data) {
        if (overlayKey[key] !== url) return;
        var mine = data.features.filter(function (f) {
          return !f.properties.type || f.properties.type === kind;
        });
        var colourOf = key === "zones" ? config.legend.zones : config.legend.isochrones;
        L.geoJSON({type: "FeatureCollection", features: mine}, {interactive: false,
          style: {color: colourOf, weight: 1, fillOpacity: 0.15}}).addTo(layer);
        status("");
      }).catch(function (e) {
        overlayKey[key] = null;
        status(words().failed + " (" + e.message + ")");
      });
    }

    if (!large) {
      map.on("overlayadd", function (e) {
        Object.keys(overlays).forEach(function (k) { if (e.layer === overlays[k]) refreshOverlay(k); });
      });
    }

    // ---- overloaded facilities (capacity colouring) ------------------------------------

    var overloadGroup = L.layerGroup().addTo(map), overloadKey = null;

    function refreshOverloaded() {
      if (state.colour !== "capacity") {
        overloadGroup.clearLayers();
        overloadKey = null;
        return;
      }
      var url = "/capacity?type=" + state.type + "&" + walkerQuery(state) + "&crs=" + crs;
      if (overloadKey === url) return;
      overloadKey = url;
      overloadGroup.clearLayers();
      getJSON(url).then(function (fc) {
        if (overloadKey !== url) return;
        var unit = config.capacityUnits[state.type], en = state.lang === "en";
        var walker = fc.profile, shown = 0;
        fc.features.forEach(function (f) {
          var p = f.properties;
          if (!p.overloaded || !f.geometry) return;
          var c = f.geometry.coordinates, load = p["load_" + walker];
          var marker = L.circleMarker([c[1], c[0]], {radius: 13, color: config.legend.overloaded,
            weight: 3, fill: false, className: "lc-overloaded"});
          marker.bindTooltip((p.name || "") + " · " + words().load + " "
            + (Math.round(load * 10) / 10) + " " + (en ? unit[3] : unit[2]));
          marker.addTo(overloadGroup);
          shown += 1;
        });
        api.overloaded = shown;
        document.documentElement.setAttribute("data-lc-overloaded", String(shown));
      }).catch(function (e) {
        overloadKey = null;
        status(words().failed + " (" + e.message + ")");
      });
    }

    // ---- the panel ------------------------------------------------------------------------

    var panel = document.getElementById("lc-panel");
    var controls = document.getElementById("lc-controls");
    var statusLine = el("div", {className: "lc-status", "aria-live": "polite"});

    function status(text) { statusLine.textContent = text || ""; }

    function field(labelText, input) {
      var wrap = el("label", {className: "lc-field"});
      wrap.appendChild(el("span", {}, labelText));
      wrap.appendChild(input);
      return wrap;
    }

    // the controls are built once per language and then only set to the state: rebuilding
    // them removed the link just clicked, and Chrome then worked out the style of the whole
    // page (every compound's shape) before the repaint could start
    var built = {lang: null};

    function renderControls() {
      if (built.lang !== state.lang) buildControls();
      built.types.forEach(function (a) {
        var type = a.getAttribute("data-type");
        a.className = "lc-type" + (type === state.type ? " lc-current" : "");
        a.setAttribute("href", search(Object.assign({}, state, {type: type})));
      });
      built.walker.value = state.speed ? "custom" : state.profile;
      built.speed.value = String(state.speed || config.speeds[state.profile]);
      built.speed.hidden = !state.speed;
      built.minutes.value = String(threshold(state));
      built.by.value = state.colour;
      built.sub.value = state.subdistrict;
      built.langs.forEach(function (b) {
        var mine = b.getAttribute("data-lang") === state.lang;
        b.className = "lc-lang" + (mine ? " lc-current" : "");
        b.setAttribute("aria-pressed", String(mine));
      });
    }

    function buildControls() {
      var w = words();
      built = {lang: state.lang, types: [], langs: []};
      controls.textContent = "";
      // facility type: links (they work without this script too), applied in place
      var typeRow = el("div", {className: "lc-types", role: "group", "aria-label": w.type});
      config.types.forEach(function (t) {
        var a = el("a", {className: "lc-type", "data-type": t[0]});
        var glyph = config.legend.glyphs.filter(function (g) { return g[0] === t[0]; })[0];
        a.appendChild(el("span", {className: "lc-glyph", style: "background:" + glyph[2]}, glyph[1]));
        a.appendChild(document.createTextNode(" " + (state.lang === "en" ? t[2] : t[1])));
        a.addEventListener("click", function (e) {
          if (e.ctrlKey || e.metaKey || e.shiftKey) return;
          e.preventDefault();
          change({type: t[0]});
        });
        typeRow.appendChild(a);
        built.types.push(a);
      });
      controls.appendChild(typeRow);

      var walker = el("select", {id: "lc-walker"});
      [["standard", w.standard], ["elderly", w.elderly], ["custom", w.custom]].forEach(function (o) {
        walker.appendChild(el("option", {value: o[0]}, o[1]));
      });
      var speed = el("input", {id: "lc-speed", type: "number", min: "1", max: "8", step: "0.1"});
      walker.addEventListener("change", function () {
        if (walker.value === "custom") change({speed: parseFloat(speed.value) || 3.5});
        else change({speed: null, profile: walker.value});
      });
      speed.addEventListener("change", function () {
        var v = parseFloat(speed.value);
        if (v >= 1 && v <= 8) change({speed: v});
      });
      var walkerBox = el("div", {className: "lc-inline"});
      walkerBox.appendChild(walker);
      walkerBox.appendChild(speed);
      controls.appendChild(field(w.walker, walkerBox));

      var minutes = el("input", {id: "lc-minutes", type: "number", min: "1", max: "60", step: "1"});
      minutes.addEventListener("change", function () {
        var v = parseFloat(minutes.value);
        if (v > 0 && v <= 60) {
          var m = Object.assign({}, state.minutes);
          m[state.type] = v;
          change({minutes: m});
        }
      });
      controls.appendChild(field(w.threshold, minutes));

      var by = el("select", {id: "lc-colour"});
      [["walk", w.by_walk], ["capacity", w.by_capacity], ["completeness", w.by_completeness]].forEach(function (o) {
        by.appendChild(el("option", {value: o[0]}, o[1]));
      });
      by.addEventListener("change", function () { change({colour: by.value}); });
      controls.appendChild(field(w.colour_by, by));

      var sub = el("select", {id: "lc-subdistrict"});
      sub.appendChild(el("option", {value: ""}, w.all));
      config.subdistricts.forEach(function (s) {
        sub.appendChild(el("option", {value: s[0]}, s[0] + " (" + s[1] + ")"));
      });
      sub.addEventListener("change", function () { change({subdistrict: sub.value}, true); });
      controls.appendChild(field(w.subdistrict, sub));

      var langs = el("div", {className: "lc-inline", role: "group", "aria-label": w.language});
      [["zh", "中文"], ["en", "English"]].forEach(function (l) {
        var b = el("button", {type: "button", className: "lc-lang", "data-lang": l[0]}, l[1]);
        b.addEventListener("click", function () { change({lang: l[0]}); });
        langs.appendChild(b);
        built.langs.push(b);
      });
      controls.appendChild(field(w.language, langs));
      controls.appendChild(statusLine);
      built.walker = walker;
      built.speed = speed;
      built.minutes = minutes;
      built.by = by;
      built.sub = sub;
    }

    var summaries = {};

    function renderSummary() {
      var box = document.getElementById("lc-summary"), q = walkerQuery(state);
      var scope = state.subdistrict || "全部 / all", lang = state.lang;
      if (!summaries[q]) {
        summaries[q] = getJSON("/coverage/summary?" + q).catch(function (e) {
          delete summaries[q];
          throw e;
        });
      }
      summaries[q].then(function (body) {
        if (walkerQuery(state) !== q || state.lang !== lang) return;
        var w = words();
        box.textContent = "";
        box.appendChild(el("div", {className: "lc-heading"}, w.summary + " · " + (state.subdistrict || w.all)
          + " · " + speedOf(state) + " km/h"));
        var table = el("table"), head = el("tr");
        head.appendChild(el("th"));
        head.appendChild(el("th", {}, w.residents));
        head.appendChild(el("th", {}, w.aged));
        table.appendChild(head);
        body.summary.filter(function (r) { return r.subdistrict === scope; }).forEach(function (r) {
          var t = config.types.filter(function (x) { return x[0] === r.type; })[0];
          var tr = el("tr", {className: r.type === state.type ? "lc-current" : ""});
          tr.appendChild(el("td", {}, t ? (lang === "en" ? t[2] : t[1]) + " ≤" + state.minutes[r.type]
            + " " + w.minutes : w.all_types));
          tr.appendChild(el("td", {}, Math.round((r.share_population || 0) * 100) + "%"));
          tr.appendChild(el("td", {}, Math.round((r.share_elderly || 0) * 100) + "%"));
          table.appendChild(tr);
        });
        box.appendChild(table);
      }).catch(function (e) { status(words().failed + " (" + e.message + ")"); });
    }

    // ---- the gap list --------------------------------------------------------------------

    var gapBox = document.getElementById("lc-gaps"), gapAsked = null;

    function renderGaps() {
      var q = gapQuery(state);
      if (gapAsked === q) { drawGaps(); return; }
      gapAsked = q;
      getJSON("/gaps.json?" + q + "&crs=" + crs).then(function (body) {
        if (gapAsked !== q) return;
        gapRows = body.rows;
        api.gaps = body;
        drawGaps();
      }).catch(function (e) {
        gapAsked = null;
        status(words().failed + " (" + e.message + ")");
      });
    }

    function drawGaps() {
      var w = words(), body = api.gaps, q = gapQuery(state);
      if (!body) return;
      gapBox.textContent = "";
      var head = el("div", {className: "lc-heading"});
      head.appendChild(el("b", {}, w.gaps + " · " + (state.lang === "en"
        ? config.types.filter(function (t) { return t[0] === state.type; })[0][2]
        : config.types.filter(function (t) { return t[0] === state.type; })[0][1])
        + " > " + threshold(state) + " " + w.minutes));
      gapBox.appendChild(head);
      var t = body.totals;
      var totals = el("div", {id: "lc-gap-totals", className: "lc-totals",
        "data-compounds": t.compounds, "data-households": t.households,
        "data-population": t.population, "data-elderly": t.elderly});
      var cols = {};
      body.columns.forEach(function (c) { cols[c[0]] = c[1]; });
      totals.textContent = w.total + ": " + t.compounds + " " + w.compounds + " · " + cols.households
        + " " + t.households + " · " + cols.population + " " + t.population + " · " + cols.elderly
        + " " + t.elderly;
      gapBox.appendChild(totals);
      var links = el("div", {className: "lc-downloads"});
      links.appendChild(el("a", {id: "lc-csv", href: "/gaps.csv?" + q, download: ""}, w.csv));
      links.appendChild(el("a", {id: "lc-xlsx", href: "/gaps.xlsx?" + q, download: ""}, w.xlsx));
      // the 街道 report of the same walker, thresholds and 街道 (geo/reports), to hand upward
      var r = reportQuery(state);
      links.appendChild(el("a", {id: "lc-report-pdf", href: "/reports?f=pdf&" + r, download: ""},
        w.report_pdf));
      links.appendChild(el("a", {id: "lc-report-xlsx", href: "/reports?f=xlsx&" + r, download: ""},
        w.report_xlsx));
      gapBox.appendChild(links);
      if (!gapRows.length) {
        gapBox.appendChild(el("div", {}, w.none));
        return;
      }
      var shown = ["name", "subdistrict", "households", "population", "elderly", "minutes"];
      var rows = gapRows.slice();
      if (sortKey) {
        rows.sort(function (a, b) {
          var x = a[sortKey], y = b[sortKey];
          if (x === y) return 0;
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          var r = typeof x === "number" && typeof y === "number" ? x - y
            : String(x).localeCompare(String(y), "zh");
          return sortUp ? r : -r;
        });
      }
      var wrap = el("div", {className: "lc-table-wrap"});
      var table = el("table", {id: "lc-gap-table", className: "lc-gap-table"});
      var tr = el("tr");
      shown.forEach(function (k) {
        var th = el("th", {"data-key": k, tabindex: "0", role: "button",
          "aria-sort": sortKey === k ? (sortUp ? "ascending" : "descending") : "none"},
          cols[k] + (sortKey === k ? (sortUp ? " ▲" : " ▼") : ""));
        function sort() {
          if (sortKey === k) sortUp = !sortUp; else { sortKey = k; sortUp = k === "name" || k === "subdistrict"; }
          drawGaps();
        }
        th.addEventListener("click", sort);
        th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
        tr.appendChild(th);
      });
      var thead = el("thead");
      thead.appendChild(tr);
      table.appendChild(thead);
      var tbody = el("tbody");
      rows.slice(0, ROWS_SHOWN).forEach(function (r) {
        var row = el("tr", {"data-id": r.id, tabindex: "0"});
        shown.forEach(function (k) {
          row.appendChild(el("td", {}, r[k] === null || r[k] === undefined ? "—" : r[k]));
        });
        row.addEventListener("click", function () { zoomTo(r); });
        row.addEventListener("keydown", function (e) { if (e.key === "Enter") zoomTo(r); });
        tbody.appendChild(row);
      });
      table.appendChild(tbody);
      wrap.appendChild(table);
      gapBox.appendChild(wrap);
      if (rows.length > ROWS_SHOWN) {
        gapBox.appendChild(el("div", {className: "lc-more"}, ROWS_SHOWN + " / " + rows.length));
      }
    }

    function zoomTo(r) {
      var layer = byId[r.id];
      if (layer) {
        // not animated: the popup pans itself into the view once the map stands still
        map.fitBounds(layer.getBounds(), {maxZoom: 17, padding: [40, 40], animate: false});
        layer.openPopup();
        return;
      }
      pendingPopup = r.id;  // a large page draws it when the view arrives
      map.fitBounds(r.bounds, {maxZoom: 17, padding: [40, 40], animate: false});
    }

    // ---- the legend ------------------------------------------------------------------------

    function swatch(style) { return el("span", {className: "lc-swatch", style: style}); }

    function renderLegend() {
      var w = words(), lg = config.legend, box = document.getElementById("lc-key");
      var zh = state.lang !== "en", t = threshold(state), b = config.bands;
      box.textContent = "";
      box.appendChild(el("b", {}, w.legend + " · " + w.now + " " + t + " " + w.minutes));
      function line(sym, text) {
        var d = el("div", {className: "lc-key-line"});
        d.appendChild(sym);
        d.appendChild(document.createTextNode(" " + text));
        box.appendChild(d);
      }
      if (state.colour === "completeness") {
        var n = complete ? complete.basic : 0, cb = config.completenessBands;
        box.appendChild(el("div", {className: "lc-key-sub"}, w.comp_legend + (n ? " (" + n + " "
          + w.comp_kinds + ")" : "")));
        var comp = [" < " + cb[0] * 100 + "%", " " + cb[0] * 100 + "–" + cb[1] * 100 + "%",
          " " + cb[1] * 100 + "–" + cb[2] * 100 + "%", " ≥ " + cb[2] * 100 + "%", " " + w.comp_all];
        comp.forEach(function (name, i) { line(swatch("background:" + lg.completeness[i]), name); });
      } else if (state.colour === "capacity") {
        var unit = config.capacityUnits[state.type];
        box.appendChild(el("div", {className: "lc-key-sub"}, w.cap_legend + " · "
          + (zh ? unit[0] : unit[1])));
        [w.cap_under, w.cap_below, w.cap_above, w.cap_high].forEach(function (name, i) {
          line(swatch("background:" + lg.capacity[i]), name);
        });
        line(swatch("background:" + lg.unreachable), w.cap_none);
        line(swatch("background:none;border:3px solid " + lg.overloaded + ";border-radius:50%"),
          w.overloaded + " · " + (zh ? unit[2] : unit[3]));
      } else {
        var names = [w.within_half, w.within, w.within_one_half, w.beyond];
        lg.bands.forEach(function (c, i) {
          var upto = i < 3 ? " (≤ " + (Math.round(t * b[i] * 10) / 10) + " " + w.minutes + ")"
            : " (> " + (Math.round(t * b[2] * 10) / 10) + " " + w.minutes + ")";
          line(swatch("background:" + c), names[i] + upto);
        });
        line(swatch("background:" + lg.unreachable), w.unreachable);
      }
      line(swatch("background:none;border:2px dashed #000"), w.gap_outline);
      lg.glyphs.forEach(function (g) {
        line(el("span", {className: "lc-glyph", style: "background:" + g[2]}, g[1]), zh ? g[3] : g[4]);
      });
      box.appendChild(el("div", {className: "lc-key-sub"}, w.stages));
      var stages = el("div", {className: "lc-stages"});
      lg.stages.forEach(function (s) {
        var d = el("span", {className: "lc-key-line"});
        d.appendChild(el("span", {className: "lc-diamond", style: "background:" + s[1]}));
        d.appendChild(document.createTextNode(" " + (zh ? s[2] : s[3])));
        stages.appendChild(d);
      });
      box.appendChild(stages);
      line(swatch("background:" + lg.zones + ";opacity:0.4;border:1px solid " + lg.zones), w.zones);
      line(swatch("background:" + lg.isochrones + ";opacity:0.4;border:1px solid " + lg.isochrones), w.isochrones);
      line(swatch("background:none;border-top:2px solid " + lg.streets + ";height:0"), w.streets);
    }

    // ---- the layer switcher, moved into the panel --------------------------------------

    var switcher = document.querySelector(".leaflet-control-layers");
    var layersBox = document.getElementById("lc-layers");
    if (switcher && layersBox) {
      layersBox.appendChild(el("b", {className: "lc-layers-title"}));
      layersBox.appendChild(switcher);
    }

    function relabel() {
      var w = words(), title = layersBox && layersBox.querySelector(".lc-layers-title");
      if (title) title.textContent = w.layers;
      if (!switcher) return;
      switcher.querySelectorAll("label span span, label > span").forEach(function (span) {
        if (span.children.length) return;
        var text = span.textContent.trim();
        config.labels.forEach(function (pair) {
          if (text === pair[0] || text === pair[1]) span.textContent = " " + (state.lang === "en" ? pair[1] : pair[0]);
        });
      });
    }

    // ---- collapsing the panel ---------------------------------------------------------------

    var toggle = document.getElementById("lc-toggle");

    function collapse(closed) {
      panel.classList.toggle("lc-closed", closed);
      document.documentElement.classList.toggle("lc-wb-closed", closed);
      toggle.setAttribute("aria-expanded", String(!closed));
      toggle.textContent = closed ? "▴" : "▾";
      setTimeout(function () { map.invalidateSize(); }, 0);
    }
    toggle.addEventListener("click", function () { collapse(!panel.classList.contains("lc-closed")); });

    // ---- applying a change ---------------------------------------------------------------

    // a popup open when the language changes is written again: a compound's is built from
    // the state (its function runs again on update); a facility's holds both languages and
    // follows <html lang> (lifecircle.css)
    var openPopup = null;
    map.on("popupopen", function (e) { openPopup = e.popup; });
    map.on("popupclose", function (e) { if (openPopup === e.popup) openPopup = null; });

    function apply(next, how, zoom) {
      var before = state;
      state = next;
      api.state = state;
      if (how === "push") history.pushState({lc: true}, "", search(state));
      else if (how === "replace") history.replaceState({lc: true}, "", search(state));
      document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
      panel.querySelector(".lc-head b").textContent = words().title;
      toggle.title = words().collapse;
      renderControls();
      if (before.lang !== state.lang) {
        relabel();
        if (openPopup) openPopup.update();
      }
      repaint();
      refreshOverloaded();
      renderLegend();
      renderSummary();
      renderGaps();
      if (!large) Object.keys(overlays).forEach(refreshOverlay);
      if (zoom) {
        var s = config.subdistricts.filter(function (x) { return x[0] === state.subdistrict; })[0];
        if (s) map.fitBounds(s[2], {padding: [20, 20]});
      }
      listeners.forEach(function (fn) { fn(state, before); });
    }

    function change(delta, zoom) {
      if (window.performance && performance.mark) {
        performance.clearMarks("lc-change");
        performance.clearMarks("lc-painted");
        performance.mark("lc-change");
      }
      apply(Object.assign({}, state, delta), "push", zoom);
    }

    window.addEventListener("popstate", function () { apply(fromURL(), "none", true); });

    // the API of this page for static/dashboard.js and for tests
    api.query = function () { return walkerQuery(state) + "&crs=" + crs; };
    api.view = function () { return "properties=" + config.fields.join(","); };
    api.colour = colour;
    api.popup = popup;
    api.popupOptions = popupOptions;
    api.isGap = function (p) { return inScope(p) && covered(p) === false; };
    api.opacity = function (p) { return inScope(p) ? 0.6 : 0.12; };
    api.kind = function () { return state.type; };
    // whether the colours follow the walks alone (not capacity or completeness, which the
    // service computes), and each type's threshold in metres for the walker shown: a large
    // page repaints from the walks it has at once, as geo decides (walk <= threshold), then
    // takes the service's numbers
    api.byWalk = function () { return state.colour === "walk"; };
    api.types = types;
    api.limitM = function (t) { return state.minutes[t] * perMinute(state); };
    api.overlayUrl = overlayUrl;
    api.drawn = function (geojson) {
      byId = {};
      geojson.eachLayer(function (layer) { byId[String(layer.feature.id)] = layer; });
      painted();
    };
    api.change = change;
    api.zoomTo = zoomTo;
    api.fills = function () {
      var out = {};
      Object.keys(byId).forEach(function (id) { out[id] = byId[id].options.fillColor; });
      return out;
    };

    // for the panel's further sections (static/panel-*.js, see geo/maps/workbench.py): each
    // registers itself with window.lcPanels.push(function (api) {...}) and gets this api
    var listeners = [];
    api.map = map;
    api.config = config;
    api.el = el;
    api.getJSON = getJSON;
    api.words = words;
    api.onChange = function (fn) { listeners.push(fn); };
    api.section = function (id, title) {
      var box = el("div", {id: id, className: "lc-section"});
      if (title) box.appendChild(el("b", {}, title));
      panel.querySelector(".lc-body").insertBefore(box, document.getElementById("lc-key"));
      return box;
    };

    // the page was built for config.state; the URL may ask for more (own speed, thresholds)
    if (config.initial) {
      var first = defaults();
      first.speed = null;
      cache[walkerQuery(first)] = config.initial.data;
    }
    if (switcher) relabel();
    apply(fromURL(), "replace", false);
    (window.lcPanels || []).forEach(function (plugin) { plugin(api); });
  }

  // on "load": folium declares the map and its layers in a script after this one
  window.addEventListener("load", function () {
    var element = document.getElementById("lc-workbench-config");
    if (element) start(JSON.parse(element.textContent));
  });
})();
