/*
 * 15分钟社区生活圈 / lifecircle: "why and how far" — a plugin of the workbench's panel
 * (static/workbench.js loads every static/panel-*.js after itself).
 *
 * Click a compound: the walking route from where its walk starts (its gate, or the street it
 * starts from: /catchment/start, as coverage measures it) to its nearest facility of the type
 * shown (/nearest?route=true), with metres and minutes. Click the map elsewhere: that point's
 * isochrones at half and the whole threshold (/isochrones), the compounds, households,
 * residents and elderly within them (/catchment) and its three nearest facilities
 * (/nearest?k=3). A button clears it; the last question is asked again when the controls
 * change. "打印 / Print" prints the map with a title, date, data version, legend, scale and
 * source (static/panel-print.css).
 *
 * Own speed goes to the service as it is (speed=, km/h); minutes shown are
 * walk_m / (speed x 1000/60).
 * Text from the data is set with textContent only.
 */
(function () {
  "use strict";

  var WORDS = {
    zh: {
      title: "集水区与步行路线",
      hint: "点击小区：到最近设施的步行路线；点击地图其他位置：该点的等时圈与覆盖人口。",
      clear: "清除",
      print: "打印",
      route: "步行路线",
      from: "起点",
      to: "最近",
      none: "步行范围内没有该类设施",
      catchment: "集水区",
      within: "步行",
      compounds: "个小区",
      households: "户",
      residents: "人",
      aged: "老人",
      nearest: "最近设施",
      metres: "米",
      minutes: "分钟",
      loading: "加载中…",
      failed: "加载失败",
      printed: "打印时间",
      version: "数据版本",
      source: "来源",
      walker: "步行速度",
      threshold: "阈值"
    },
    en: {
      title: "Catchment and walking route",
      hint: "Click a compound: the walk to its nearest facility. Click elsewhere on the map: "
        + "that point's isochrones and the people within them.",
      clear: "Clear",
      print: "Print",
      route: "Walking route",
      from: "from",
      to: "nearest",
      none: "no facility of this type within reach",
      catchment: "Catchment",
      within: "walk",
      compounds: "compounds",
      households: "households",
      residents: "residents",
      aged: "aged 60+",
      nearest: "Nearest facilities",
      metres: "m",
      minutes: "min",
      loading: "loading…",
      failed: "could not load",
      printed: "Printed",
      version: "Data version",
      source: "Source",
      walker: "walking speed",
      threshold: "threshold"
    }
  };
  var ROUTE = "#CC79A7", POINT = "#000000";
  var RINGS = ["#009E73", "#0072B2"];

  window.lcPanels = window.lcPanels || [];
  window.lcPanels.push(function (api) {
    var map = api.map, el = api.el, config = api.config, crs = config.state.crs;
    var group = L.layerGroup().addTo(map);
    var last = null;      // {kind: "route", id} or {kind: "point", lon, lat}: asked again on change
    var serial = 0;
    var out = {route: null, catchment: null, nearest: null, serial: 0};
    window.lcExplore = out;

    function w() { return WORDS[api.state.lang === "en" ? "en" : "zh"]; }
    function speed() { return api.state.speed || config.speeds[api.state.profile]; }
    function perMinute() { return speed() * 1000 / 60; }
    function threshold() { return api.state.minutes[api.state.type]; }
    function walker() { return api.state.speed ? "speed=" + api.state.speed : "profile=" + api.state.profile; }
    function typeName(kind) {
      var t = config.types.filter(function (x) { return x[0] === kind; })[0];
      return t ? (api.state.lang === "en" ? t[2] : t[1]) : kind;
    }
    function round1(v) { return Math.round(v * 10) / 10; }
    function minutesOf(m) { return round1(m / perMinute()); }

    // ---- the section -----------------------------------------------------------------------

    var box = api.section("lc-explore", "");
    var head = el("b", {className: "lc-explore-title"});
    var hint = el("div", {className: "lc-explore-hint"});
    var buttons = el("div", {className: "lc-explore-buttons"});
    var clearButton = el("button", {type: "button", id: "lc-explore-clear"});
    var printButton = el("button", {type: "button", id: "lc-print"});
    var a3Button = el("button", {type: "button", id: "lc-print-a3"}, "A3");
    var result = el("div", {id: "lc-explore-result", "aria-live": "polite"});
    box.textContent = "";
    box.appendChild(head);
    box.appendChild(hint);
    buttons.appendChild(clearButton);
    buttons.appendChild(printButton);
    buttons.appendChild(a3Button);
    box.appendChild(buttons);
    box.appendChild(result);

    // the printed page's header: title, walker, date, data version, source
    var printHead = el("div", {id: "lc-print-head", className: "lc-print-only"});
    var panel = document.getElementById("lc-panel");
    panel.insertBefore(printHead, panel.firstChild);
    var version = "";
    fetch("/collections/residential_areas/items?limit=1").then(function (r) {
      version = (r.headers.get("ETag") || "").replace(/"/g, "").slice(0, 12);
      renderPrintHead();
    }).catch(function () { /* the header says what it knows */ });

    function attribution() {
      var a = document.querySelector(".leaflet-control-attribution");
      return a ? a.textContent.replace(/^\s*Leaflet\s*\|?\s*/, "").trim() : "";
    }

    function renderPrintHead() {
      var words = w(), s = api.state;
      printHead.textContent = "";
      printHead.appendChild(el("div", {className: "lc-print-title"},
        config.words[s.lang === "en" ? "en" : "zh"].title + " · " + typeName(s.type)
        + (s.subdistrict ? " · " + s.subdistrict : "")));
      printHead.appendChild(el("div", {}, words.threshold + " " + threshold() + " " + words.minutes
        + " · " + words.walker + " " + speed() + " km/h"));
      printHead.appendChild(el("div", {}, words.printed + ": " + new Date().toLocaleString(
        s.lang === "en" ? "en-GB" : "zh-CN")));
      printHead.appendChild(el("div", {}, words.version + ": "
        + (version ? "ETag " + version : "—") + " · lifecircle"));
      var source = attribution();
      printHead.appendChild(el("div", {className: "lc-print-source"}, words.source + ": "
        + (source || "lifecircle")));
    }

    function renderHead() {
      var words = w();
      head.textContent = words.title;
      hint.textContent = words.hint;
      clearButton.textContent = words.clear;
      printButton.textContent = words.print + " A4";
      printButton.title = words.print + " (A4)";
      a3Button.title = words.print + " (A3)";
      renderPrintHead();
    }

    function status(text, failed) {
      result.textContent = "";
      result.appendChild(el("div", {className: failed ? "lc-explore-failed" : "lc-status"}, text));
    }

    function clear() {
      serial += 1;
      last = null;
      group.clearLayers();
      result.textContent = "";
      out.route = out.catchment = out.nearest = null;
    }

    function done() {
      // on a phone the answer is down in the bottom sheet: bring it up
      if (window.innerWidth <= 700 && box.scrollIntoView) box.scrollIntoView({block: "nearest"});
      out.serial += 1;
      document.documentElement.setAttribute("data-lc-explored", String(out.serial));
    }

    // ---- a compound's walk to its nearest facility ---------------------------------------

    function route(id) {
      var mine = ++serial, kind = api.state.type, words = w();
      last = {kind: "route", id: id};
      group.clearLayers();
      status(words.loading);
      api.getJSON("/catchment/start?id=" + encodeURIComponent(id) + "&type=" + kind + "&crs=" + crs)
        .then(function (start) {
          var q = "/nearest?lon=" + start.lon + "&lat=" + start.lat + "&type=" + kind
            + "&k=1&route=true&" + walker() + "&crs=" + crs;
          return api.getJSON(q).then(function (body) { return [start, body]; });
        }).then(function (pair) {
          if (mine !== serial) return;
          var start = pair[0], body = pair[1];
          var facility = body.features.filter(function (f) { return f.geometry.type === "Point"; })[0];
          var path = body.features.filter(function (f) { return f.geometry.type !== "Point"; });
          result.textContent = "";
          var words = w();
          L.circleMarker([start.lat, start.lon], {radius: 5, color: POINT, weight: 2,
            fillColor: "#fff", fillOpacity: 1, interactive: false}).addTo(group);
          if (!facility) {
            result.appendChild(el("div", {id: "lc-explore-route"}, words.route + ": " + words.none));
            out.route = {id: id, lon: start.lon, lat: start.lat, walk_m: null};
            done();
            return;
          }
          var p = facility.properties;
          L.geoJSON({type: "FeatureCollection", features: path}, {interactive: false,
            style: {color: ROUTE, weight: 5, opacity: 0.9}}).addTo(group);
          var c = facility.geometry.coordinates;
          L.circleMarker([c[1], c[0]], {radius: 7, color: ROUTE, weight: 3, fill: false,
            interactive: false}).addTo(group);
          var line = el("div", {id: "lc-explore-route", "data-walk-m": p.walk_m});
          line.appendChild(el("b", {}, words.route + " · " + typeName(kind)));
          line.appendChild(el("div", {}, words.to + ": " + (p.name || p.facility_id)));
          line.appendChild(el("div", {className: "lc-explore-big"}, p.walk_m + " " + words.metres
            + " · " + minutesOf(p.walk_m) + " " + words.minutes));
          result.appendChild(line);
          out.route = {id: id, lon: start.lon, lat: start.lat, walk_m: p.walk_m,
            route_m: path.length ? path[0].properties.walk_m : null, facility: p.facility_id};
          done();
        }).catch(function (e) {
          if (mine === serial) status(w().failed + " (" + e.message + ")", true);
        });
    }

    // ---- a point's isochrones, catchment and nearest facilities --------------------------

    function point(lon, lat) {
      var mine = ++serial, kind = api.state.type, words = w(), t = threshold();
      last = {kind: "point", lon: lon, lat: lat};
      group.clearLayers();
      status(words.loading);
      var shown = [t / 2, t];
      var asked = shown.join(",");
      var where = "lon=" + lon + "&lat=" + lat + "&" + walker() + "&crs=" + crs;
      L.circleMarker([lat, lon], {radius: 5, color: POINT, weight: 2, fillColor: "#fff",
        fillOpacity: 1, interactive: false}).addTo(group);
      Promise.all([
        api.getJSON("/catchment?" + where + "&minutes=" + asked),
        api.getJSON("/isochrones?" + where + "&minutes=" + asked),
        api.getJSON("/nearest?" + where + "&type=" + kind + "&k=3")
      ]).then(function (answers) {
        if (mine !== serial) return;
        var body = answers[0], rings = answers[1], near = answers[2], words = w();
        rings.features.slice().reverse().forEach(function (f, i) {
          L.geoJSON(f, {interactive: false, style: {color: RINGS[rings.features.length - 1 - i] || RINGS[1],
            weight: 1.5, fillOpacity: 0.12}}).addTo(group);
        });
        result.textContent = "";
        var table = el("table", {id: "lc-catchment", className: "lc-catchment"});
        var tr = el("tr");
        [words.within, words.compounds, words.households, words.residents, words.aged]
          .forEach(function (h) { tr.appendChild(el("th", {}, h)); });
        table.appendChild(tr);
        body.catchments.forEach(function (row, i) {
          var r = el("tr", {"data-minutes": shown[i], "data-compounds": row.compounds,
            "data-households": row.households, "data-population": row.population,
            "data-elderly": row.elderly});
          var sw = el("td");
          sw.appendChild(el("span", {className: "lc-swatch", style: "background:" + RINGS[i]
            + ";opacity:0.5"}));
          sw.appendChild(document.createTextNode(" ≤ " + round1(shown[i]) + " " + words.minutes
            + " (" + Math.round(row.limit_m) + " " + words.metres + ")"));
          r.appendChild(sw);
          [row.compounds, row.households, row.population, row.elderly].forEach(function (v) {
            r.appendChild(el("td", {}, v));
          });
          table.appendChild(r);
        });
        result.appendChild(el("b", {}, words.catchment + " · " + typeName(kind) + " "
          + words.threshold + " " + t + " " + words.minutes));
        // a point no street is near: nothing within reach, and why (bilingual, from the server)
        if (body.reason) result.appendChild(el("div", {id: "lc-explore-reason"}, body.reason));
        var wrap = el("div", {className: "lc-table-wrap"});
        wrap.appendChild(table);
        result.appendChild(wrap);
        var list = el("ol", {id: "lc-explore-nearest"});
        near.features.forEach(function (f) {
          var p = f.properties;
          list.appendChild(el("li", {"data-walk-m": p.walk_m}, (p.name || p.facility_id) + " · "
            + p.walk_m + " " + words.metres + " · " + minutesOf(p.walk_m) + " " + words.minutes));
          var c = f.geometry.coordinates;
          L.circleMarker([c[1], c[0]], {radius: 7, color: ROUTE, weight: 3, fill: false,
            interactive: false}).addTo(group);
        });
        result.appendChild(el("b", {}, words.nearest + " · " + typeName(kind)));
        if (near.features.length) result.appendChild(list);
        else result.appendChild(el("div", {}, words.none));
        out.catchment = body;
        out.nearest = near;
        out.point = {lon: lon, lat: lat, minutes: asked};
        done();
      }).catch(function (e) {
        if (mine === serial) status(w().failed + " (" + e.message + ")", true);
      });
    }

    function again() {
      if (!last) return;
      if (last.kind === "route") route(last.id); else point(last.lon, last.lat);
    }

    // ---- where the clicks come from --------------------------------------------------------

    var areas = window[config.areas];
    if (areas) {
      // a compound's click bubbles up to its group (its popup opens as before)
      areas.on("click", function (e) {
        var layer = e.layer || e.propagatedFrom;
        var id = layer && layer.feature && layer.feature.id;
        if (id !== undefined && id !== null) route(String(id));
      });
    }
    // Leaflet fires the map's click only where no clickable layer is
    map.on("click", function (e) {
      // a click that places a facility in the scenario editor (panel-plan.js) is not a question
      if (window.lcPlan && window.lcPlan.adding) return;
      point(+e.latlng.lng.toFixed(7), +e.latlng.lat.toFixed(7));
    });

    clearButton.addEventListener("click", clear);

    var pageSize = el("style", {id: "lc-print-size"});
    document.head.appendChild(pageSize);
    function print(size) {
      pageSize.textContent = "@page { size: " + size + " landscape; margin: 8mm; }";
      renderPrintHead();
      window.print();
    }
    printButton.addEventListener("click", function () { print("A4"); });
    a3Button.addEventListener("click", function () { print("A3"); });

    // the map is another size on paper: let Leaflet measure it, before and after
    window.addEventListener("beforeprint", function () {
      renderPrintHead();
      map.invalidateSize(false);
    });
    window.addEventListener("afterprint", function () { map.invalidateSize(false); });

    api.onChange(function (state, before) {
      renderHead();
      var same = state.type === before.type && state.profile === before.profile
        && state.speed === before.speed && threshold() === before.minutes[before.type];
      if (!same) again();
      else if (state.lang !== before.lang) again();
    });
    renderHead();
    out.clear = clear;
    out.route_to = route;
    out.point_at = point;
  });
})();
