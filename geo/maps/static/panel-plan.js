/*
 * 15分钟社区生活圈 / lifecircle: the workbench's planning sections (a panel plugin).
 *
 * "推荐选址 / recommended sites": k, the candidates' source and the elderly weight for the
 * chosen type; GET /recommendations; numbered markers (1, 2, 3 … in the order chosen) and a
 * list with the residents and elderly each site newly covers.
 *
 * "方案 / what if": click the map to add a facility of the chosen type, drag one (new or
 * existing) to move it, delete one from its popup. After each edit POST /scenarios answers
 * who gains and who loses coverage, per 街道, and the changed compounds are outlined on the
 * map. A scenario is kept by name in this browser (localStorage) and by the service
 * (PUT /scenarios/{name}: beside the layers, so it outlives a restart; GET /scenarios lists
 * them); /?scenario=NAME opens it; two kept scenarios compare per 街道.
 *
 * The editing is Leaflet-Geoman's (static/leaflet-geoman.js, bundled): its marker drawing
 * adds a facility (our button or its toolbar's marker button), its marker editing drags one,
 * and its removal mode (or a right-click) deletes one, as does the popup's delete button.
 * Geoman manages only the layers that ask for it (pmIgnore: false), so the compounds, gap
 * zones and isochrones are never editable. Without Geoman (a page built without it) the
 * same editor runs on plain Leaflet: a map click adds, a marker drags.
 *
 * Positions from the service are WGS-84; a basemap in GCJ-02 (gaode) gets them shifted here
 * (and clicks shifted back). Text from the data is set with textContent, never parsed as HTML.
 * Plain ES5 beside Leaflet and Leaflet-Geoman.
 */
(function () {
  "use strict";

  // set now, before folium's script makes the map and its (thousands of) compounds: opted
  // out, Geoman would give every one of them an editor
  if (window.L && L.PM) L.PM.setOptIn(true);

  // read now: the workbench rewrites the URL from its own state before plugins start
  var OPEN = new URLSearchParams(location.search).get("scenario");
  var STORE = "lc-scenarios";

  var WORDS = {
    zh: {
      rec: "推荐选址", k: "个数", source: "候选点", weight: "老人权重", go: "推荐", renovation_projects: "改造项目",
      neighbor_centers: "睦邻中心", street_nodes: "道路节点", people: "人口", elderly: "老人", none: "没有能新增覆盖的选址",
      total: "合计新增覆盖", plan: "方案（如果…会怎样）", adding: "点击地图添加", stop: "停止添加", hint: "点击地图（或地图上的标记按钮）添加所选类型设施；拖动设施可移动；点设施后删除，或右键、橡皮擦按钮删除。",
      clear: "清空", del: "删除此设施", name: "方案名", save: "保存", open: "打开", forget: "删除方案", saved: "已保存", sub: "街道", gained: "新增覆盖",
      lost: "失去覆盖", nochange: "覆盖无变化", edits: "改动", link: "链接", maplink: "方案地图", compare: "比较方案", today: "（现状）",
      current: "（当前方案）", net: "净增人口", diff: "差", loading: "计算中…", failed: "失败", notfound: "找不到方案",
      memory: "服务端仅保存在内存中（重启后丢失）", ondisk: "已保存在服务器数据目录", added: "新增", moved: "迁移", removed: "关闭", addsite: "加入方案"
    },
    en: {
      rec: "Recommended sites", k: "sites", source: "candidates", weight: "elderly weight", go: "Recommend",
      renovation_projects: "renovation projects", neighbor_centers: "neighbour centres",
      street_nodes: "street nodes", people: "residents", elderly: "aged 60+", none: "no site covers anyone new",
      total: "newly covered in all", plan: "What if (scenario)", adding: "Click the map to add",
      stop: "Stop adding",
      hint: "Click the map (or the map's marker button) to add a facility of the chosen type; drag one to move it; delete one from its popup, by right-clicking it or with the eraser button.",
      clear: "Clear", del: "Delete this facility", name: "name", save: "Save", open: "Open",
      forget: "Delete scenario", saved: "saved",
      sub: "Subdistrict", gained: "gained", lost: "lost", nochange: "coverage unchanged", edits: "edits",
      link: "link", maplink: "scenario map", compare: "Compare scenarios", today: "(today)",
      current: "(current scenario)", net: "net residents", diff: "difference", loading: "computing…",
      failed: "failed", notfound: "no scenario named",
      memory: "the service keeps it in memory only (lost on restart)",
      ondisk: "kept in the service's data folder", added: "added", moved: "moved",
      removed: "closed", addsite: "add to scenario"
    }
  };
  var ALL = "全部 / all";

  // ---- WGS-84 <-> GCJ-02 (the gaode basemap) ---------------------------------------------

  var PI = Math.PI;
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
    return r + (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
  }
  function tLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
    return r + (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
  }
  function toGcj(lon, lat) {
    var a = 6378245.0, ee = 0.00669342162296594323, rad = lat / 180 * PI;
    var magic = 1 - ee * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    var dLat = tLat(lon - 105, lat - 35) * 180 / ((a * (1 - ee)) / (magic * sq) * PI);
    var dLon = tLon(lon - 105, lat - 35) * 180 / (a / sq * Math.cos(rad) * PI);
    return [lon + dLon, lat + dLat];
  }
  function fromGcj(lon, lat) {
    var x = lon, y = lat;
    for (var i = 0; i < 3; i++) {
      var g = toGcj(x, y);
      x -= g[0] - lon;
      y -= g[1] - lat;
    }
    return [x, y];
  }

  function round6(v) { return Math.round(v * 1e6) / 1e6; }

  function plugin(api) {
    var map = api.map, el = api.el, config = api.config || {};
    var gcj = config.state && config.state.crs === "gcj02";
    function toMap(lon, lat) {
      var p = gcj ? toGcj(lon, lat) : [lon, lat];
      return L.latLng(p[1], p[0]);
    }
    function fromMap(latlng) {
      var p = gcj ? fromGcj(latlng.lng, latlng.lat) : [latlng.lng, latlng.lat];
      return [round6(p[0]), round6(p[1])];
    }
    function w() { return WORDS[api.state.lang === "en" ? "en" : "zh"]; }
    function typeName(t) {
      var row = (config.types || []).filter(function (x) { return x[0] === t; })[0];
      return row ? (api.state.lang === "en" ? row[2] : row[1]) : t;
    }
    function glyph(t) {
      var g = ((config.legend || {}).glyphs || []).filter(function (x) { return x[0] === t; })[0];
      return g || [t, "●", "#333"];
    }
    // what POST /scenarios and /recommendations are asked for this walker
    function walker() {
      var q = api.query().split("&").filter(function (p) { return p.indexOf("crs=") !== 0; });
      return q.join("&");
    }
    function field(text, input) {
      var wrap = el("label", {className: "lc-field"});
      wrap.appendChild(el("span", {}, text));
      wrap.appendChild(input);
      return wrap;
    }
    function number(id, min, max, step, value) {
      return el("input", {id: id, type: "number", min: String(min), max: String(max),
        step: String(step), value: String(value)});
    }
    function postJSON(url, body) {
      return fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify(body)}).then(answer);
    }
    function answer(r) {
      if (!r.ok) {
        return r.json().then(function (b) { throw new Error(b.detail || b.title || r.status); },
          function () { throw new Error(r.status); });
      }
      return r.json();
    }
    var planApi = {glyph: glyph, toMap: toMap};
    window.lcPlan = planApi;

    // ---- recommended sites -------------------------------------------------------------

    var recBox = api.section("lc-rec");
    var recLayer = L.layerGroup().addTo(map);
    var recSerial = 0, recShown = null;
    var recForm = {k: 3, candidates: "renovation_projects", weight: 1};

    function recURL() {
      return "/recommendations?type=" + api.state.type + "&k=" + recForm.k + "&candidates="
        + recForm.candidates + "&elderly_weight=" + recForm.weight + "&" + walker();
    }

    function renderRec() {
      var t = w();
      recBox.textContent = "";
      recBox.appendChild(el("b", {}, t.rec + " · " + typeName(api.state.type)));
      var k = number("lc-rec-k", 1, 10, 1, recForm.k);
      var source = el("select", {id: "lc-rec-source"});
      ["renovation_projects", "neighbor_centers", "street_nodes"].forEach(function (s) {
        source.appendChild(el("option", {value: s}, t[s]));
      });
      source.value = recForm.candidates;
      var weight = number("lc-rec-weight", 0, 10, 0.5, recForm.weight);
      recBox.appendChild(field(t.k, k));
      recBox.appendChild(field(t.source, source));
      recBox.appendChild(field(t.weight, weight));
      var go = el("button", {type: "button", id: "lc-rec-go", className: "lc-plan-button"}, t.go);
      go.addEventListener("click", function () {
        var kv = parseInt(k.value, 10), wv = parseFloat(weight.value);
        recForm.k = kv >= 1 && kv <= 10 ? kv : 3;
        recForm.candidates = source.value;
        recForm.weight = wv >= 0 && wv <= 10 ? wv : 1;
        recommend();
      });
      recBox.appendChild(go);
      recBox.appendChild(el("div", {id: "lc-rec-list", className: "lc-plan-out"}));
      if (recShown) drawRec(recShown);
    }

    function recommend() {
      var url = recURL(), mine = ++recSerial;
      var out = document.getElementById("lc-rec-list");
      out.textContent = w().loading;
      api.getJSON(url).then(function (body) {
        if (mine !== recSerial) return;
        recShown = body;
        planApi.recommended = body;
        planApi.recommendedURL = url;
        drawRec(body);
        document.documentElement.setAttribute("data-lc-rec", String(mine));
      }).catch(function (e) {
        if (mine === recSerial) out.textContent = w().failed + " (" + e.message + ")";
      });
    }

    function drawRec(body) {
      var t = w(), out = document.getElementById("lc-rec-list");
      recLayer.clearLayers();
      out.textContent = "";
      if (!body.features.length) { out.textContent = t.none; return; }
      out.appendChild(el("div", {className: "lc-totals", id: "lc-rec-totals"}, t.total + ": "
        + t.people + " " + body.covered_population + " · " + t.elderly + " " + body.covered_elderly));
      var list = el("ol", {id: "lc-rec-sites", className: "lc-rec-sites"});
      body.features.forEach(function (f) {
        var p = f.properties, c = f.geometry.coordinates, at = toMap(c[0], c[1]);
        var text = t.people + " +" + p.population_newly_covered + " · " + t.elderly + " +"
          + p.elderly_newly_covered;
        var marker = L.marker(at, {title: p.name, icon: L.divIcon({className: "lc-rec-marker",
          html: String(p.rank), iconSize: [26, 26], iconAnchor: [13, 13]})});
        var box = el("div", {className: "lc-popup"});
        box.appendChild(el("b", {className: "lc-popup-title"}, p.rank + ". " + p.name));
        box.appendChild(el("div", {}, text));
        marker.bindPopup(box, api.popupOptions);
        marker.addTo(recLayer);
        var li = el("li", {"data-candidate": p.candidate_id, "data-population": p.population_newly_covered,
          "data-elderly": p.elderly_newly_covered, tabindex: "0"});
        li.appendChild(el("span", {className: "lc-rec-name"}, p.name));
        li.appendChild(el("span", {className: "lc-rec-gain"}, " " + text + " "));
        var add = el("button", {type: "button", className: "lc-rec-add"}, t.addsite);
        add.addEventListener("click", function (e) {
          e.stopPropagation();
          addFacility(api.state.type, c[0], c[1], p.name);
        });
        li.appendChild(add);
        li.addEventListener("click", function () {
          map.setView(at, Math.max(map.getZoom(), 16), {animate: false});
          marker.openPopup();
        });
        list.appendChild(li);
      });
      out.appendChild(list);
    }

    // ---- the scenario editor ------------------------------------------------------------

    var planBox = api.section("lc-plan");
    var editLayer = L.layerGroup().addTo(map);
    var changedLayer = L.layerGroup().addTo(map);
    var scen = {name: "", add: [], move: [], remove: [], sites: []};
    var adding = false, planSerial = 0, lastPlan = null, existing = {};

    // Leaflet-Geoman on this map (opted in: see the top of this file)
    var geoman = null;
    if (L.PM) {
      map.options.pmIgnore = false;
      L.PM.reInitLayer(map);
      geoman = map.pm || null;
    }
    function geomanOptions() {
      geoman.setLang(api.state.lang === "en" ? "en" : "zh");
      geoman.setGlobalOptions({snappable: false, continueDrawing: true, markerEditable: false,
        markerStyle: {icon: icon(api.state.type, "", "lc-plan-placing")}});
    }
    // a marker of the editor: dragged and deleted through Geoman (or plain Leaflet's dragging)
    function editable(marker, onMoved, onDeleted) {
      marker.addTo(editLayer);
      if (geoman && marker.pm) {
        marker.pm.enable({draggable: true, snappable: false, preventMarkerRemoval: false});
        marker.on("pm:edit", onMoved);
        marker.on("pm:remove", onDeleted);
      } else {
        marker.dragging.enable();
        marker.on("dragend", onMoved);
      }
    }

    function idOf(e) { return e.type + ":" + e.id; }

    function scenarioJSON() {
      return {name: scen.name || "scenario", add: scen.add.map(function (a) {
        var o = {type: a.type, lon: a.lon, lat: a.lat};
        if (a.name) o.name = a.name;
        return o;
      }), move: scen.move.slice(), remove: scen.remove.slice(), sites: scen.sites.slice()};
    }
    planApi.scenario = scenarioJSON;

    function icon(t, extra, base) {
      var g = glyph(t);
      return L.divIcon({className: (base || "lc-plan-marker") + (extra ? " " + extra : ""), html:
        "<span style=\"background:" + g[2] + "\">" + g[1] + "</span>", iconSize: [24, 24],
        iconAnchor: [12, 12]});
    }

    function deleteButton(fn) {
      var box = el("div", {className: "lc-popup"});
      var b = el("button", {type: "button", className: "lc-plan-delete"}, w().del);
      b.addEventListener("click", function () { map.closePopup(); fn(); });
      return {box: box, button: b};
    }

    function drawEditable() {
      editLayer.clearLayers();
      var kind = api.state.type;
      // today's facilities become draggable while editing (or once the scenario has edits)
      (adding || !empty() ? existing[kind] || [] : []).forEach(function (f) {
        var key = kind + ":" + f.id;
        if (scen.remove.some(function (r) { return idOf(r) === key; })) return;
        var moved = scen.move.filter(function (m) { return idOf(m) === key; })[0];
        var c = moved ? [moved.lon, moved.lat] : f.geometry.coordinates;
        var marker = L.marker(toMap(c[0], c[1]), {pmIgnore: false, title: f.properties.name || f.id,
          icon: icon(kind, moved ? "lc-plan-moved" : "")});
        marker.lcKey = key;
        function deleted() {
          scen.move = scen.move.filter(function (m) { return idOf(m) !== key; });
          scen.remove.push({type: kind, id: String(f.id)});
          edited();
        }
        var d = deleteButton(deleted);
        d.box.appendChild(el("b", {className: "lc-popup-title"}, f.properties.name || f.id));
        d.box.appendChild(d.button);
        marker.bindPopup(d.box, api.popupOptions);
        editable(marker, function () {
          var p = fromMap(marker.getLatLng());
          scen.move = scen.move.filter(function (m) { return idOf(m) !== key; });
          scen.move.push({type: kind, id: String(f.id), lon: p[0], lat: p[1]});
          edited();
        }, deleted);
      });
      scen.add.forEach(function (a, i) {
        var marker = L.marker(toMap(a.lon, a.lat), {pmIgnore: false, title: a.name || "",
          icon: icon(a.type, "lc-plan-new")});
        marker.lcKey = "add:" + i;
        function deleted() {
          scen.add.splice(scen.add.indexOf(a), 1);
          edited();
        }
        var d = deleteButton(deleted);
        d.box.appendChild(el("b", {className: "lc-popup-title"}, "★ " + (a.name || typeName(a.type))));
        d.box.appendChild(d.button);
        marker.bindPopup(d.box, api.popupOptions);
        editable(marker, function () {
          var p = fromMap(marker.getLatLng());
          a.lon = p[0];
          a.lat = p[1];
          edited();
        }, deleted);
      });
    }

    function loadExisting(kind) {
      if (existing[kind]) return Promise.resolve();
      return api.getJSON("/collections/" + kind + "/items?limit=10000").then(function (fc) {
        existing[kind] = fc.features;
      });
    }

    function addFacility(kind, lon, lat, name) {
      var n = scen.add.length + 1;
      scen.add.push({type: kind, lon: round6(lon), lat: round6(lat),
        name: name || "新增 " + n + " / new " + n});
      edited();
    }

    function clickToAdd(e) {
      if (!adding) return;
      var p = fromMap(e.latlng);
      // a click on a compound opens its popup too: not while adding
      setTimeout(function () { map.closePopup(); }, 0);
      addFacility(api.state.type, p[0], p[1]);
    }
    // a compound's popup stops the click before it reaches the map (or Geoman's drawing,
    // on a touch screen, where it has no marker under the finger): a site inside a compound
    // (a charger in its bike shed) is added from the compounds' own click
    // (with Geoman the map may see the same click after the compound: then Geoman adds it)
    var compounds = window[api.config.areas], compoundClick = null;
    if (compounds && compounds.on) {
      compounds.on("click", function (e) {
        if (!adding) return;
        if (!geoman) { clickToAdd(e); return; }
        compoundClick = e;
        setTimeout(function () {
          if (compoundClick === e) clickToAdd(e);
          compoundClick = null;
        }, 0);
      });
    }

    function setAdding(on) {
      adding = on;
      planApi.adding = adding;  // for the other panels: a map click is an added facility now
      map.getContainer().classList.toggle("lc-plan-adding", adding);
      loadExisting(api.state.type).then(function () { drawEditable(); renderPlan(); });
    }
    if (geoman) {
      geomanOptions();
      geoman.addControls({position: "topleft", drawMarker: true, removalMode: true,
        drawCircleMarker: false, drawPolyline: false, drawRectangle: false, drawPolygon: false,
        drawCircle: false, drawText: false, editMode: false, dragMode: false, cutPolygon: false,
        rotateMode: false});
      map.on("pm:drawstart", function (e) { if (e.shape === "Marker") setAdding(true); });
      map.on("pm:drawend", function (e) { if (e.shape === "Marker") setAdding(false); });
      // the removal mode turns the markers' editing off: on again when it ends
      map.on("pm:globalremovalmodetoggled", function (e) { if (!e.enabled) drawEditable(); });
      map.on("pm:create", function (e) {
        if (e.shape !== "Marker") return;
        var p = fromMap(e.layer.getLatLng());
        e.layer.remove();
        compoundClick = null;
        setTimeout(function () { map.closePopup(); }, 0);  // a compound's, clicked through
        addFacility(api.state.type, p[0], p[1]);
      });
    } else {
      map.on("click", clickToAdd);
    }

    function edited() {
      drawEditable();
      renderEdits();
      evaluate();
    }

    function empty() { return !scen.add.length && !scen.move.length && !scen.remove.length && !scen.sites.length; }

    function evaluate() {
      var mine = ++planSerial, out = document.getElementById("lc-plan-result");
      changedLayer.clearLayers();
      if (empty()) {
        lastPlan = null;
        planApi.result = null;
        if (out) out.textContent = "";
        document.documentElement.setAttribute("data-lc-plan", String(mine));
        return Promise.resolve(null);
      }
      if (out) out.textContent = w().loading;
      var started = window.performance ? performance.now() : 0;
      return postJSON("/scenarios?" + walker(), scenarioJSON()).then(function (body) {
        if (mine !== planSerial) return null;
        planApi.ms = window.performance ? performance.now() - started : null;
        lastPlan = body;
        planApi.result = body;
        drawResult();
        document.documentElement.setAttribute("data-lc-plan", String(mine));
        return body;
      }).catch(function (e) {
        if (mine === planSerial && out) out.textContent = w().failed + " (" + e.message + ")";
      });
    }

    function rowsOf(body, kind) {
      return body.by_subdistrict.filter(function (r) { return r.type === kind; });
    }

    function drawResult() {
      var t = w(), kind = api.state.type, out = document.getElementById("lc-plan-result");
      changedLayer.clearLayers();
      if (!out || !lastPlan) return;
      out.textContent = "";
      var rows = rowsOf(lastPlan, kind);
      var all = rows.filter(function (r) { return r.subdistrict === ALL; })[0] || {};
      out.appendChild(el("div", {id: "lc-plan-totals", className: "lc-totals",
        "data-population-gained": all.population_gained || 0,
        "data-elderly-gained": all.elderly_gained || 0,
        "data-population-lost": all.population_lost || 0,
        "data-elderly-lost": all.elderly_lost || 0},
        typeName(kind) + " · " + t.gained + " " + t.people + " +" + (all.population_gained || 0) + " / "
        + t.elderly + " +" + (all.elderly_gained || 0) + " · " + t.lost + " " + t.people + " −"
        + (all.population_lost || 0) + " / " + t.elderly + " −" + (all.elderly_lost || 0)));
      var shown = rows.filter(function (r) {
        return r.subdistrict !== ALL && (r.areas_gained || r.areas_lost);
      });
      if (!shown.length) {
        out.appendChild(el("div", {}, t.nochange));
      } else {
        var table = el("table", {id: "lc-plan-table", className: "lc-plan-table"});
        var head = el("tr");
        [t.sub, "+" + t.people, "+" + t.elderly, "−" + t.people, "−" + t.elderly].forEach(function (h) {
          head.appendChild(el("th", {}, h));
        });
        table.appendChild(head);
        shown.forEach(function (r) {
          var tr = el("tr", {"data-subdistrict": r.subdistrict});
          [r.subdistrict, r.population_gained, r.elderly_gained, r.population_lost, r.elderly_lost]
            .forEach(function (v) { tr.appendChild(el("td", {}, v)); });
          table.appendChild(tr);
        });
        out.appendChild(table);
      }
      L.geoJSON(lastPlan.changed_areas, {
        interactive: false,
        coordsToLatLng: function (c) { return toMap(c[0], c[1]); },
        filter: function (f) { return f.properties[kind + "_gained"] || f.properties[kind + "_lost"]; },
        style: function (f) {
          var gained = f.properties[kind + "_gained"];
          return {color: gained ? "#009E73" : "#CC0000", weight: 4, fill: false,
            dashArray: gained ? null : "4 4"};
        }
      }).addTo(changedLayer);
    }

    function renderEdits() {
      var t = w(), box = document.getElementById("lc-plan-edits");
      if (!box) return;
      box.textContent = t.edits + ": " + t.added + " " + scen.add.length + " · " + t.moved + " "
        + scen.move.length + " · " + t.removed + " " + scen.remove.length;
      box.setAttribute("data-add", scen.add.length);
      box.setAttribute("data-move", scen.move.length);
      box.setAttribute("data-remove", scen.remove.length);
      var link = document.getElementById("lc-plan-maplink");
      if (link) link.href = mapLink();
    }

    function mapLink() {
      var q = new URLSearchParams();
      q.set("name", scen.name || "scenario");
      scen.add.forEach(function (a) { q.append("add", a.type + ":" + a.lon + "," + a.lat); });
      scen.remove.forEach(function (r) { q.append("remove", r.type + ":" + r.id); });
      scen.move.forEach(function (m) { q.append("move", m.type + ":" + m.id + ":" + m.lon + "," + m.lat); });
      scen.sites.forEach(function (s) { q.append("sites", s.project_id + ":" + s.type); });
      q.set("lang", api.state.lang);
      if (api.state.tiles) q.set("tiles", api.state.tiles);
      return "/maps/scenario?" + q.toString();
    }

    // ---- keeping scenarios ----------------------------------------------------------------

    function kept() {
      try { return JSON.parse(localStorage.getItem(STORE) || "{}") || {}; } catch (e) { return {}; }
    }
    // the service's saved scenarios (GET /scenarios), listed beside this browser's own
    var server = {names: [], persistent: true};
    function fetchSaved() {
      return api.getJSON("/scenarios").then(function (body) {
        server.names = body.scenarios.map(function (s) { return s.name; });
        server.persistent = body.persistent;
      }).catch(function () { server.names = []; });
    }
    function keptNames() {
      var all = {};
      Object.keys(kept()).concat(server.names).forEach(function (n) { all[n] = true; });
      return Object.keys(all).sort();
    }
    // a kept scenario's JSON: this browser's copy, else the service's
    function bodyOf(name) {
      var local = kept()[name];
      if (local) return Promise.resolve(local);
      return api.getJSON("/scenarios/" + encodeURIComponent(name));
    }
    function keep(name, body) {
      var all = kept();
      all[name] = body;
      try { localStorage.setItem(STORE, JSON.stringify(all)); } catch (e) { /* private mode */ }
    }

    function use(body) {
      scen = {name: body.name || "", add: (body.add || []).slice(), move: (body.move || []).slice(),
        remove: (body.remove || []).slice(), sites: (body.sites || []).slice()};
      renderPlan();
      return loadExisting(api.state.type).then(edited);
    }
    planApi.use = use;

    function openNamed(name) {
      return api.getJSON("/scenarios/" + encodeURIComponent(name)).catch(function () {
        var local = kept()[name];
        if (local) return local;
        throw new Error(w().notfound + " " + name);
      }).then(function (body) {
        body.name = name;
        return use(body);
      });
    }
    planApi.open = openNamed;

    function save(name) {
      scen.name = name;
      var body = scenarioJSON();
      keep(name, body);
      return fetch("/scenarios/" + encodeURIComponent(name), {method: "PUT",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)}).then(answer)
        .then(fetchSaved).then(function () {
          renderPlan();  // the kept list now holds it
          var status = document.getElementById("lc-plan-status");
          if (status) {
            status.textContent = w().saved + " · " + (server.persistent ? w().ondisk : w().memory) + " · ";
            var url = location.pathname + location.search + (location.search ? "&" : "?")
              + "scenario=" + encodeURIComponent(name);
            status.appendChild(el("a", {id: "lc-plan-link", href: url}, w().link));
          }
        }).catch(function (e) {
          var status = document.getElementById("lc-plan-status");
          if (status) status.textContent = w().failed + " (" + e.message + ")";
        });
    }
    planApi.save = save;

    // forget a kept scenario: this browser's copy and the service's (a 404 there is fine)
    function forget(name) {
      var all = kept();
      delete all[name];
      try { localStorage.setItem(STORE, JSON.stringify(all)); } catch (e) { /* private mode */ }
      return fetch("/scenarios/" + encodeURIComponent(name), {method: "DELETE"}).then(function (r) {
        if (!r.ok && r.status !== 404) return answer(r);
      }).then(fetchSaved).then(function () {
        renderPlan();
        document.documentElement.setAttribute("data-lc-plan-forgot", name);
      }).catch(function (e) {
        var status = document.getElementById("lc-plan-status");
        if (status) status.textContent = w().failed + " (" + e.message + ")";
      });
    }

    function renderPlan() {
      var t = w();
      planBox.textContent = "";
      planBox.appendChild(el("b", {}, t.plan + " · " + typeName(api.state.type)));
      planBox.appendChild(el("div", {className: "lc-plan-hint"}, t.hint));
      var row = el("div", {className: "lc-inline"});
      var toggle = el("button", {type: "button", id: "lc-plan-add", "aria-pressed": String(adding),
        className: "lc-plan-button" + (adding ? " lc-current" : "")}, adding ? t.stop : t.adding);
      toggle.addEventListener("click", function () {
        if (!geoman) setAdding(!adding);
        else if (adding) geoman.disableDraw();
        else geoman.enableDraw("Marker");
      });
      var clear = el("button", {type: "button", id: "lc-plan-clear", className: "lc-plan-button"}, t.clear);
      clear.addEventListener("click", function () {
        scen = {name: scen.name, add: [], move: [], remove: [], sites: []};
        edited();
      });
      row.appendChild(toggle);
      row.appendChild(clear);
      planBox.appendChild(row);
      planBox.appendChild(el("div", {id: "lc-plan-edits", className: "lc-plan-edits"}));
      var map_ = el("a", {id: "lc-plan-maplink", target: "_blank", rel: "noopener"}, t.maplink);
      planBox.appendChild(map_);
      planBox.appendChild(el("div", {id: "lc-plan-result", className: "lc-plan-out"}));
      // name and keep
      var save_ = el("div", {className: "lc-inline"});
      var name = el("input", {id: "lc-plan-name", type: "text", maxlength: "80",
        placeholder: t.name, value: scen.name || ""});
      var saveB = el("button", {type: "button", id: "lc-plan-save", className: "lc-plan-button"}, t.save);
      saveB.addEventListener("click", function () { if (name.value.trim()) save(name.value.trim()); });
      save_.appendChild(name);
      save_.appendChild(saveB);
      var names = keptNames();
      var pick = el("select", {id: "lc-plan-kept"});
      names.forEach(function (n) { pick.appendChild(el("option", {value: n}, n)); });
      var openB = el("button", {type: "button", id: "lc-plan-open", className: "lc-plan-button"}, t.open);
      openB.addEventListener("click", function () { if (pick.value) openNamed(pick.value); });
      var forgetB = el("button", {type: "button", id: "lc-plan-forget", className: "lc-plan-button"}, t.forget);
      forgetB.addEventListener("click", function () { if (pick.value) forget(pick.value); });
      if (names.length) {
        save_.appendChild(pick);
        save_.appendChild(openB);
        save_.appendChild(forgetB);
      }
      planBox.appendChild(save_);
      planBox.appendChild(el("div", {id: "lc-plan-status", className: "lc-plan-status"}));
      renderCompare(names);
      renderEdits();
      if (lastPlan) drawResult();
    }

    // ---- comparing two scenarios ------------------------------------------------------------

    function renderCompare(names) {
      var t = w(), box = el("div", {id: "lc-plan-compare"});
      box.appendChild(el("div", {className: "lc-heading"}, t.compare));
      var choices = [["", t.today], ["*", t.current]].concat(names.map(function (n) { return [n, n]; }));
      function select(id, value) {
        var s = el("select", {id: id});
        choices.forEach(function (c) { s.appendChild(el("option", {value: c[0]}, c[1])); });
        s.value = value;
        return s;
      }
      var a = select("lc-compare-a", ""), b = select("lc-compare-b", "*");
      var go = el("button", {type: "button", id: "lc-compare-go", className: "lc-plan-button"}, t.compare);
      var row = el("div", {className: "lc-inline"});
      row.appendChild(a);
      row.appendChild(el("span", {}, " ↔ "));
      row.appendChild(b);
      row.appendChild(go);
      box.appendChild(row);
      var out = el("div", {id: "lc-compare-out", className: "lc-plan-out"});
      box.appendChild(out);
      go.addEventListener("click", function () { compare(a.value, b.value, out); });
      planBox.appendChild(box);
    }

    function resultOf(choice) {
      var got = choice === "*" ? Promise.resolve(scenarioJSON()) : choice ? bodyOf(choice)
        : Promise.resolve(null);
      return got.then(function (body) {
        if (!body || (!(body.add || []).length && !(body.move || []).length
            && !(body.remove || []).length && !(body.sites || []).length)) {
          return null;  // today: nothing gained or lost
        }
        return postJSON("/scenarios?" + walker() + "&facilities=" + api.state.type, body);
      });
    }

    // what the side-by-side maps draw for one choice: its label and its facilities
    function sideOf(choice, label, body) {
      var today = existing[api.state.type] || [], ids = {};
      today.forEach(function (f) { ids[String(f.id)] = true; });
      return {label: label, facilities: body ? body.facilities.features : today,
        changed: body ? body.changed_areas : null,
        fresh: function (f) { return !ids[String(f.id)]; }};
    }

    function compare(a, b, out) {
      var t = w(), kind = api.state.type;
      out.textContent = t.loading;
      Promise.all([resultOf(a), resultOf(b)]).then(function (both) {
        function net(body) {
          var by = {};
          if (body) rowsOf(body, kind).forEach(function (r) { by[r.subdistrict] = r.population_gained - r.population_lost; });
          return by;
        }
        var na = net(both[0]), nb = net(both[1]);
        var subs = (config.subdistricts || []).map(function (s) { return s[0]; }).concat([ALL]);
        out.textContent = "";
        var table = el("table", {id: "lc-compare-table", className: "lc-plan-table"});
        var head = el("tr");
        [t.sub, "A " + t.net, "B " + t.net, t.diff + " B−A"].forEach(function (h) { head.appendChild(el("th", {}, h)); });
        table.appendChild(head);
        subs.forEach(function (s) {
          var x = na[s] || 0, y = nb[s] || 0, tr = el("tr", {"data-subdistrict": s, "data-diff": y - x});
          [s, x, y, (y - x > 0 ? "+" : "") + (y - x)].forEach(function (v) { tr.appendChild(el("td", {}, v)); });
          table.appendChild(tr);
        });
        out.appendChild(table);
        planApi.compared = {a: na, b: nb};
        if (planApi.sideBySide) {
          var label = function (c) { return c === "*" ? t.current : c ? c : t.today; };
          var sides = [sideOf(a, "A · " + label(a), both[0]), sideOf(b, "B · " + label(b), both[1])];
          var open = el("button", {type: "button", id: "lc-compare-maps", className: "lc-plan-button"},
            planApi.sideBySide.words().open);
          open.addEventListener("click", function () { planApi.sideBySide.show(sides); });
          out.appendChild(open);
        }
      }).catch(function (e) { out.textContent = t.failed + " (" + e.message + ")"; });
    }

    // ---- following the panel's state --------------------------------------------------------

    api.onChange(function (state, before) {
      var walkerChanged = api.query() !== planApi.query;
      planApi.query = api.query();
      if (state.type !== before.type || state.lang !== before.lang) {
        if (geoman) geomanOptions();
        renderRec();
        renderPlan();
      }
      if (state.type !== before.type) {
        recLayer.clearLayers();
        recShown = null;
        var list = document.getElementById("lc-rec-list");
        if (list) list.textContent = "";
        loadExisting(state.type).then(drawEditable);
      }
      if (walkerChanged && !empty()) evaluate();
      else if (state.type !== before.type) drawResult();
    });

    planApi.query = api.query();
    renderRec();
    renderPlan();
    Promise.all([fetchSaved(), loadExisting(api.state.type)]).then(function () {
      renderPlan();
      drawEditable();
    }).then(function () {
      document.documentElement.setAttribute("data-lc-plan-ready", "1");
    });
    if (OPEN) {
      openNamed(OPEN).catch(function (e) {
        var status = document.getElementById("lc-plan-status");
        if (status) status.textContent = e.message;
      });
    }
  }

  window.lcPanels = window.lcPanels || [];
  window.lcPanels.push(plugin);
})();
