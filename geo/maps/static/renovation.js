/*
 * 15分钟社区生活圈 / lifecircle: the renovation map (加装电梯地图) — the time slider, the
 * filters by kind and 街道, the counts per stage and the compound view.
 *
 * Everything comes from the JSON in #lc-renovation-config, written by geo/maps/renovation.py.
 * A project's stage at each slider step was computed there (geo.analysis.progress.stages_as_of)
 * and arrives run-length coded in `path`: [stage at step 0, step, new stage, step, new stage …],
 * -1 not begun, -2 undated. The counts here are the sums geo.analysis.progress.progress makes:
 * "exclusive" at the stage on the date, "cumulative" at the stage or a later one; units summed
 * by their unit (台, 个, 户). The state (kinds, 街道, month, compound view) is kept in the URL.
 * Text from the data is set with textContent, never parsed as HTML.
 */
(function () {
  "use strict";

  var NOT_BEGUN = -1, UNDATED = -2;

  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function start(config) {
    var map = window[config.map];
    var groups = {};
    Object.keys(config.layers).forEach(function (k) { groups[k] = window[config.layers[k]]; });
    var words = config.words, P = config.projects, A = config.areas;
    var count = P.name.length, last = config.steps.length - 1;
    var stages = config.stages.map(function (s) { return s[0]; });
    var colour = {}, stageName = {}, kindName = {}, kindUnit = {};
    config.stages.forEach(function (s) { colour[s[0]] = s[1]; stageName[s[0]] = s[2]; });
    config.kinds.forEach(function (k) { kindName[k[0]] = k[1]; kindUnit[k[0]] = k[2]; });
    var english = config.lang === "en";
    // kinds, 街道 and stages arrive as positions in these lists
    var KINDS = config.all_kinds, SUBS = config.subdistricts;
    function kindOf(i) { return KINDS[P.kind[i]]; }
    function subOf(i) { return P.subdistrict[i] >= 0 ? SUBS[P.subdistrict[i]] : null; }
    var narrow = window.matchMedia("(max-width: 700px)").matches;

    var state = {
      kinds: {}, subdistrict: "", step: last, compounds: false,
      ticked: {}
    };
    config.kinds.forEach(function (k) { state.kinds[k[0]] = true; });
    config.ticked.forEach(function (s) { state.ticked[s] = true; });
    readUrl();

    function stageAt(i, step) {
      var path = P.path[i], code = path[0];
      for (var j = 1; j < path.length; j += 2) {
        if (path[j] <= step) code = path[j + 1];
        else break;
      }
      return code;
    }

    function chosen(i) {
      return state.kinds[kindOf(i)] && (state.subdistrict === "" || subOf(i) === state.subdistrict);
    }

    function units(n, unit) {
      return english ? n + " " + unit : n + unit;
    }

    // --- the URL keeps the state ---------------------------------------------------------
    function readUrl() {
      var query = new URLSearchParams(window.location.search);
      if (query.get("kind")) {
        var wanted = query.get("kind").split(",");
        var known = config.kinds.some(function (k) { return wanted.indexOf(k[0]) >= 0; });
        if (known) {
          Object.keys(state.kinds).forEach(function (k) {
            state.kinds[k] = wanted.indexOf(k) >= 0;
          });
        }
      }
      var sub = query.get("subdistrict");
      if (sub && config.subdistricts.indexOf(sub) >= 0) state.subdistrict = sub;
      var month = query.get("month");
      if (month && config.steps.indexOf(month) >= 0) state.step = config.steps.indexOf(month);
      state.compounds = query.get("view") === "compounds" && A !== null;
    }

    function writeUrl() {
      var query = new URLSearchParams(window.location.search);
      var kinds = Object.keys(state.kinds).filter(function (k) { return state.kinds[k]; });
      if (kinds.length === config.kinds.length) query.delete("kind");
      else query.set("kind", kinds.join(","));
      if (state.subdistrict) query.set("subdistrict", state.subdistrict);
      else query.delete("subdistrict");
      if (state.step === last) query.delete("month");
      else query.set("month", config.steps[state.step]);
      if (state.compounds) query.set("view", "compounds");
      else query.delete("view");
      var text = query.toString();
      try {
        history.replaceState(null, "", window.location.pathname + (text ? "?" + text : ""));
      } catch (e) { /* a file:// page may refuse; the state still works */ }
    }

    // --- the panel -----------------------------------------------------------------------
    var body = document.getElementById("lc-renovation-body");
    var details = document.getElementById("lc-renovation-details");
    if (narrow) details.open = false;

    var filters = make("div", {"class": "lc-r-filters"});
    filters.appendChild(make("span", {"class": "lc-r-label"}, words.kinds + ": "));
    config.kinds.forEach(function (k) {
      var box = make("input", {type: "checkbox", "class": "lc-kind", value: k[0]});
      box.checked = state.kinds[k[0]];
      box.addEventListener("change", function () { state.kinds[k[0]] = box.checked; draw(); });
      var item = make("label", {"class": "lc-r-kind"});
      item.appendChild(box);
      item.appendChild(document.createTextNode(" " + k[1]));
      filters.appendChild(item);
    });
    var pick = make("select", {id: "lc-subdistrict", "aria-label": words.subdistrict});
    pick.appendChild(make("option", {value: ""}, words.all));
    config.subdistricts.forEach(function (s) { pick.appendChild(make("option", {value: s}, s)); });
    pick.value = state.subdistrict;
    pick.addEventListener("change", function () {
      state.subdistrict = pick.value;
      draw();
      fit();
    });
    var row = make("div", {"class": "lc-r-row"});
    row.appendChild(make("span", {"class": "lc-r-label"}, words.subdistrict + ": "));
    row.appendChild(pick);
    filters.appendChild(row);
    body.appendChild(filters);

    var when = make("div", {"class": "lc-r-when"});
    when.appendChild(document.createTextNode(words.as_of + " "));
    var month = make("b", {id: "lc-month"});
    when.appendChild(month);
    body.appendChild(when);
    var slider = make("input", {id: "lc-slider", type: "range", min: "0", max: String(last),
      "aria-label": words.as_of});
    slider.value = String(state.step);
    slider.addEventListener("input", function () { state.step = Number(slider.value); draw(); });
    body.appendChild(slider);

    var table = make("table", {id: "lc-counts"});
    var head = make("thead");
    var top = make("tr");
    top.appendChild(make("th", {rowspan: "2"}, words.stage));
    top.appendChild(make("th", {colspan: "2"}, words.exclusive));
    top.appendChild(make("th", {colspan: "2"}, words.cumulative));
    head.appendChild(top);
    var sub = make("tr");
    [words.projects, words.units, words.projects, words.units].forEach(function (w) {
      sub.appendChild(make("th", {}, w));
    });
    head.appendChild(sub);
    table.appendChild(head);
    var rows = make("tbody");
    var cells = {};
    config.stages.forEach(function (s) {
      var line = make("tr", {"data-stage": s[0]});
      var name = make("td");
      var box = make("input", {type: "checkbox", "class": "lc-stage", value: s[0]});
      box.checked = !!state.ticked[s[0]];
      box.addEventListener("change", function () { state.ticked[s[0]] = box.checked; draw(); });
      var item = make("label");
      item.appendChild(box);
      item.appendChild(make("span", {"class": "lc-swatch", style: "background:" + s[1]}));
      item.appendChild(document.createTextNode(" " + s[2]));
      name.appendChild(item);
      line.appendChild(name);
      cells[s[0]] = {};
      [["exclusive", "projects"], ["exclusive", "units"], ["cumulative", "projects"],
        ["cumulative", "units"]].forEach(function (c) {
        var cell = make("td", {"class": "lc-n", "data-way": c[0], "data-of": c[1]});
        cells[s[0]][c[0] + "-" + c[1]] = cell;
        line.appendChild(cell);
      });
      rows.appendChild(line);
    });
    table.appendChild(rows);
    var foot = make("tfoot");
    var sum = make("tr", {"data-stage": "total"});
    sum.appendChild(make("th", {}, words.total));
    var totalProjects = make("td", {"class": "lc-n", id: "lc-total-projects"});
    var totalUnits = make("td", {"class": "lc-n", id: "lc-total-units"});
    sum.appendChild(totalProjects);
    sum.appendChild(totalUnits);
    sum.appendChild(make("td", {colspan: "2"}));
    foot.appendChild(sum);
    table.appendChild(foot);
    body.appendChild(table);
    var notes = make("div", {id: "lc-notes", "class": "lc-r-notes"});
    body.appendChild(notes);

    var view = make("div", {"class": "lc-r-view"});
    var viewBox = make("input", {type: "checkbox", id: "lc-compound-view"});
    var viewLabel = make("label");
    viewLabel.appendChild(viewBox);
    viewLabel.appendChild(document.createTextNode(" " + words.compound_view));
    view.appendChild(viewLabel);
    var viewLegend = make("div", {id: "lc-elderly-legend"});
    viewLegend.appendChild(make("div", {}, words.candidates_note));
    var bins = config.elderly.bins, shades = config.elderly.colours;
    shades.forEach(function (c, k) {
      var low = k === 0 ? "< " + Math.round(bins[0] * 100) + "%" : (k === bins.length
        ? "≥ " + Math.round(bins[k - 1] * 100) + "%"
        : Math.round(bins[k - 1] * 100) + "–" + Math.round(bins[k] * 100) + "%");
      var item = make("span", {"class": "lc-r-bin"});
      item.appendChild(make("span", {"class": "lc-swatch", style: "background:" + c}));
      item.appendChild(document.createTextNode(" " + low));
      viewLegend.appendChild(item);
    });
    if (A && A.unjudged) {
      viewLegend.appendChild(make("div", {}, A.unjudged + " " + words.unjudged));
    }
    view.appendChild(viewLegend);
    if (A) body.appendChild(view);

    var symbols = make("div", {"class": "lc-r-symbols"});
    symbols.appendChild(make("span", {"class": "lc-r-label"}, words.symbols + ": "));
    [["lc-sym-dot", words.dot], ["lc-sym-shape", words.shape], ["lc-sym-area", words.area],
      ["lc-sym-street", words.streets]].forEach(function (s) {
      var item = make("span", {"class": "lc-r-symbol"});
      item.appendChild(make("span", {"class": "lc-sym " + s[0]}));
      item.appendChild(document.createTextNode(" " + s[1]));
      symbols.appendChild(item);
    });
    body.appendChild(symbols);

    // --- popups --------------------------------------------------------------------------
    var areaName = {};
    var lifts = {};  // compound id -> its elevator retrofit projects
    if (A) A.id.forEach(function (id, k) { areaName[id] = A.name[k]; });
    for (var i = 0; i < count; i++) {
      if (kindOf(i) === "elevator_retrofit" && P.area[i]) {
        (lifts[P.area[i]] = lifts[P.area[i]] || []).push(i);
      }
    }

    // clear of the zoom buttons and the layer switcher above, the folded panel below
    var popupOptions = {maxWidth: Math.min(300, window.innerWidth - 110), autoPanPaddingTopLeft: L.point(50, 80),
      autoPanPaddingBottomRight: L.point(10, 90)};

    function line(box, name, value) {
      if (value === null || value === undefined || value === "") return;
      box.appendChild(make("div", {}, name + ": " + value));
    }

    function dateText() {
      return (state.step === last ? words.today + " " : "") + config.as_of[state.step];
    }

    function projectPopup(i) {
      var box = make("div", {"class": "lc-r-popup"});
      box.appendChild(make("b", {}, P.name[i] || ""));
      var code = stageAt(i, state.step);
      line(box, words.kind, kindName[kindOf(i)] || kindOf(i));
      line(box, words.stage_on + " (" + words.as_of + " " + dateText() + ")",
        code >= 0 ? stageName[stages[code]] : (code === UNDATED ? words.undated : words.not_begun));
      if (state.step !== last) line(box, words.stage_now, stageName[stages[P.status[i]]]);
      if (P.units[i] !== null) line(box, words.units_of, units(P.units[i], kindUnit[kindOf(i)]));
      line(box, words.households, P.households[i]);
      line(box, words.subdistrict, subOf(i));
      if (P.area[i]) line(box, words.compound, areaName[P.area[i]] || P.area[i]);
      var dated = [], pairs = P.dates[i];
      for (var d = 0; d < pairs.length; d += 2) {
        var day = new Date(pairs[d + 1] * 86400000).toISOString().slice(0, 10);
        dated.push(stageName[stages[pairs[d]]] + " " + day);
      }
      if (dated.length) line(box, words.dates, dated.join(" · "));
      return box;
    }

    function areaPopup(k) {
      var box = make("div", {"class": "lc-r-popup"});
      box.appendChild(make("b", {}, A.name[k] || A.id[k]));
      line(box, words.subdistrict, A.subdistrict[k]);
      line(box, words.population, A.population[k]);
      line(box, words.elderly, A.elderly[k]);
      if (A.share[k] !== null) line(box, words.elderly_share, Math.round(A.share[k] * 1000) / 10 + "%");
      line(box, words.tenure, A.tenure[k]);
      line(box, words.storeys, A.storeys[k]);
      if (A.lift[k] !== null) {
        line(box, words.lift, (A.lift[k] ? words.lift_yes : words.lift_no) +
          (A.inferred[k] ? " · " + words.inferred : ""));
      }
      if (A.candidate[k]) {
        var progress = retrofits(A.id[k]);
        var parts = stages.filter(function (s) { return progress[s]; }).map(function (s) {
          return stageName[s] + " " + units(progress[s], kindUnit.elevator_retrofit || "台");
        });
        line(box, words.retrofits + " (" + words.as_of + " " + dateText() + ")",
          parts.length ? parts.join(" · ") : words.no_retrofits);
      }
      return box;
    }

    // elevators per stage of a compound's retrofit projects at the slider's step
    function retrofits(id) {
      var out = {};
      (lifts[id] || []).forEach(function (i) {
        var code = stageAt(i, state.step);
        if (code >= 0) out[stages[code]] = (out[stages[code]] || 0) + (P.units[i] || 0);
      });
      return out;
    }

    // --- the layers, made once, shown and recoloured by draw() ---------------------------
    // projects above the candidates above the compounds' outlines, whatever was drawn last
    [["lc-areas", 410], ["lc-candidates", 420], ["lc-projects", 450]].forEach(function (p) {
      map.createPane(p[0]).style.zIndex = String(p[1]);
    });

    function shape(geometry, options) {
      if (geometry.length === 2 && typeof geometry[0] === "number") {
        return L.circleMarker([geometry[1], geometry[0]], options);
      }
      return L.geoJSON(geometry, options);
    }

    var projectLayers = [], painted = [];
    for (var p = 0; p < count; p++) {
      var geometry = P.geometry[p];
      if (!geometry) { projectLayers.push(null); continue; }
      var point = geometry.length === 2 && typeof geometry[0] === "number";
      var layer = shape(geometry, {radius: 7, color: "#222222", weight: 1, fillOpacity: point ? 0.95 : 0.55,
        pane: "lc-projects", className: "lc-project " + (point ? "lc-project-dot" : "lc-project-area")});
      layer.bindPopup((function (k) { return function () { return projectPopup(k); }; })(p),
        popupOptions);
      projectLayers.push(layer);
    }

    var areaLayers = [], candidateLayers = [];
    if (A) {
      A.id.forEach(function (id, k) {
        if (!A.geometry[k]) { areaLayers.push(null); candidateLayers.push(null); return; }
        var outline = shape(A.geometry[k], {color: "#555555", weight: 1, fillColor: "#555555",
          fillOpacity: 0.04, pane: "lc-areas", className: "lc-area"});
        outline.bindPopup(function () { return areaPopup(k); }, popupOptions);
        areaLayers.push(outline);
        if (A.candidate[k]) {
          var fill = shade(A["class"][k]);
          var candidate = shape(A.geometry[k], {color: "#5a3a12", weight: 1.5, fillColor: fill,
            fillOpacity: 0.8, pane: "lc-candidates", className: "lc-candidate"});
          candidate.bindPopup(function () { return areaPopup(k); }, popupOptions);
          candidateLayers.push(candidate);
        } else {
          candidateLayers.push(null);
        }
      });
    }

    function shade(klass) {
      return klass === null || klass < 0 ? "#ffffff" : shades[klass];
    }

    function show(group, layer, visible) {
      if (!layer) return;
      var has = group.hasLayer(layer);
      if (visible && !has) group.addLayer(layer);
      else if (!visible && has) group.removeLayer(layer);
    }

    function inSubdistrict(value) {
      return state.subdistrict === "" || value === state.subdistrict;
    }

    // --- draw: the projects at the step, the counts, the compounds -----------------------
    function draw() {
      month.textContent = dateText();
      slider.value = String(state.step);
      var exclusive = stages.map(function () { return 0; });
      var unitsAt = stages.map(function () { return {}; });
      var notBegun = 0, undated = 0, missing = 0;
      var order = [];  // units in the order of the kinds
      config.kinds.forEach(function (k) {
        if (state.kinds[k[0]] && order.indexOf(k[2]) < 0) order.push(k[2]);
      });
      for (var i = 0; i < count; i++) {
        var code = chosen(i) ? stageAt(i, state.step) : null;
        if (code === NOT_BEGUN) notBegun++;
        else if (code === UNDATED) undated++;
        else if (code !== null) {
          exclusive[code]++;
          if (P.units[i] === null) missing++;
          else {
            var unit = kindUnit[kindOf(i)];
            unitsAt[code][unit] = (unitsAt[code][unit] || 0) + P.units[i];
          }
        }
        var visible = code !== null && code >= 0 && !!state.ticked[stages[code]];
        var layer = projectLayers[i];
        show(groups.projects, layer, visible);
        if (layer && visible && painted[i] !== code) {  // restyle only what changed stage
          layer.setStyle({fillColor: colour[stages[code]]});
          painted[i] = code;
        }
      }
      var cumulative = 0, cumulativeUnits = {};
      for (var s = stages.length - 1; s >= 0; s--) {
        cumulative += exclusive[s];
        Object.keys(unitsAt[s]).forEach(function (u) {
          cumulativeUnits[u] = (cumulativeUnits[u] || 0) + unitsAt[s][u];
        });
        var cell = cells[stages[s]];
        cell["exclusive-projects"].textContent = exclusive[s];
        putUnits(cell["exclusive-units"], unitsAt[s], order);
        cell["cumulative-projects"].textContent = cumulative;
        putUnits(cell["cumulative-units"], cumulativeUnits, order);
      }
      totalProjects.textContent = cumulative;
      putUnits(totalUnits, cumulativeUnits, order);
      notes.textContent = "";
      if (notBegun) notes.appendChild(make("div", {"data-note": "not_begun"}, notBegun + " " + words.not_begun));
      if (undated) notes.appendChild(make("div", {"data-note": "undated"}, undated + " " + words.undated));
      if (missing) notes.appendChild(make("div", {"data-note": "units_missing"}, missing + " " + words.units_missing));
      drawAreas();
      writeUrl();
    }

    // one unit: "49台"; several kinds: the units that are there, a line each ("6台", "670户")
    function putUnits(cell, byUnit, order) {
      var parts = order.length === 1 ? [units(byUnit[order[0]] || 0, order[0])]
        : order.filter(function (u) { return byUnit[u]; }).map(function (u) {
          return units(byUnit[u], u);
        });
      cell.textContent = "";
      (parts.length ? parts : ["0"]).forEach(function (text) {
        cell.appendChild(make("span", {"class": "lc-u"}, text));
      });
    }

    function drawAreas() {
      if (!A) return;
      var viewOn = map.hasLayer(groups.candidates);
      A.id.forEach(function (id, k) {
        var here = inSubdistrict(A.subdistrict[k]);
        show(groups.areas, areaLayers[k], here);
        show(groups.candidates, candidateLayers[k], here && viewOn);
      });
      viewLegend.style.display = viewOn ? "" : "none";
    }

    function fit(animate) {
      var bounds = L.latLngBounds([]);
      [groups.projects, groups.areas].forEach(function (g) {
        if (map.hasLayer(g) && g.getLayers().length) bounds.extend(g.getBounds());
      });
      if (bounds.isValid()) {
        map.fitBounds(bounds, {maxZoom: 17, padding: [20, 20], animate: animate !== false});
      }
    }

    // the compound view is a layer of the switcher too: both stay in step
    function setView(on) {
      state.compounds = on;
      viewBox.checked = on;
      if (on && !map.hasLayer(groups.candidates)) map.addLayer(groups.candidates);
      if (!on && map.hasLayer(groups.candidates)) map.removeLayer(groups.candidates);
      drawAreas();
      writeUrl();
    }
    viewBox.addEventListener("change", function () { setView(viewBox.checked); });
    map.on("overlayadd overlayremove", function (e) {
      if (e.layer === groups.candidates) setView(e.type === "overlayadd");
    });

    // on a phone the switcher folds to its button, and a popup folds the panel away
    var control = document.querySelector(".leaflet-control-layers");
    if (narrow && control) {
      control.classList.remove("leaflet-control-layers-expanded");
      map.on("click", function () { control.classList.remove("leaflet-control-layers-expanded"); });
    }
    map.on("popupopen", function () {
      if (window.matchMedia("(max-width: 700px)").matches) details.open = false;
    });

    draw();
    if (state.compounds) setView(true);
    if (state.subdistrict) fit(false);
    window.lcRenovation = {state: state, draw: draw};
  }

  // on "load": folium declares the map and its layer groups in a script after this one
  window.addEventListener("load", function () {
    var element = document.getElementById("lc-renovation-config");
    if (element) start(JSON.parse(element.textContent));
  });
})();
