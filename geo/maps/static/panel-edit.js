/*
 * 15分钟社区生活圈 / lifecircle: editing the layers from the served dashboard's panel.
 *
 * The write token is typed once and kept in sessionStorage (this tab, this session; never
 * localStorage, never the URL). "编辑 / edit" draws the chosen facility layer as draggable
 * markers (from /collections/{layer}/items); a click on a marker, or on a compound, opens a
 * form built from /collections/{layer}/schema (inputs by kind, required marked, Chinese or
 * English labels). The form starts from GET /collections/{layer}/items/{id}, whose ETag goes
 * back as If-Match: a 412 says someone changed the feature and offers a reload, a 422 (or a
 * 409 with errors: a rule of the layer) puts each of the server's messages at the field it names, 401/403 say how to give the token or
 * that writes are off. Adding: "添加 / add", then a click on the map. Moving: drag the marker,
 * or "移动 / move" and a click on the map, then save.
 *
 * After an accepted write the page reloads itself with its URL (so its state) unchanged: the
 * dashboard's markers, the coverage colours, the summary and the gap list are drawn by the
 * server, which recomputes after every write, so a reload shows the truth. The message of
 * the write and the edit mode survive the reload in sessionStorage. Data text is set with
 * textContent only.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "lc-edit-token", FLASH_KEY = "lc-edit-flash";
  var FACILITIES = ["clinics", "neighbor_centers", "charging_points"];
  var AREAS = "residential_areas";
  var WORDS = {
    zh: {
      title: "编辑图层", token: "写入令牌", use: "使用令牌", forget: "清除令牌",
      tokenSet: "令牌已输入（仅本次会话）",
      needToken: "写入需要令牌：在上方“写入令牌”框输入服务器的 LIFECIRCLE_API_TOKEN",
      layer: "图层", edit: "编辑模式", stop: "结束编辑", add: "添加", move: "移动",
      save: "保存", cancel: "取消", remove: "删除", confirm: "确认删除",
      addHint: "在地图上点击新设施的位置", moveHint: "在地图上点击新位置（或拖动标记）",
      editHint: "点击标记编辑设施，拖动标记移动；点击小区编辑其属性",
      moved: "位置已改，保存后生效", required: "必填", yes: "是", no: "否",
      conflict: "有人在你打开后修改了此要素，请重新加载",
      reload: "重新加载", unauthorized: "令牌缺失或错误：请在上方“写入令牌”框输入服务器的令牌",
      forbidden: "此服务器未开启写入（未设置 LIFECIRCLE_API_TOKEN）",
      offline: "无法连接服务器（离线？），未保存", invalid: "数据不符合规则，未保存",
      saved: "已保存", deleted: "已删除", created: "已添加", loading: "加载中…",
      failed: "加载失败", idAuto: "留空则自动生成", position: "位置"
    },
    en: {
      title: "Edit layers", token: "Write token", use: "use token", forget: "forget token",
      tokenSet: "token entered (this session only)",
      needToken: "writes need the token: enter the server's LIFECIRCLE_API_TOKEN in the \"Write token\" box above",
      layer: "Layer", edit: "edit mode", stop: "stop editing", add: "add", move: "move",
      save: "save", cancel: "cancel", remove: "delete", confirm: "confirm delete",
      addHint: "click the map where the new facility is", moveHint: "click the new position on the map (or drag the marker)",
      editHint: "click a marker to edit a facility, drag it to move it; click a compound to edit it",
      moved: "position changed: save to keep it", required: "required", yes: "yes", no: "no",
      conflict: "someone changed this since you opened it — reload",
      reload: "reload", unauthorized: "the token is missing or wrong: enter the server's token in the \"Write token\" box above",
      forbidden: "writes are off on this server (no LIFECIRCLE_API_TOKEN)",
      offline: "cannot reach the server (offline?); nothing was saved", invalid: "the data breaks the rules; nothing was saved",
      saved: "saved", deleted: "deleted", created: "added", loading: "loading…",
      failed: "could not load", idAuto: "empty: made for you", position: "Position"
    }
  };

  // ---- GCJ-02 (高德 basemap) <-> WGS-84, the usual approximation ---------------------------

  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }

  function gcjDelta(lon, lat) {
    var a = 6378245.0, ee = 0.00669342162296594323, x = lon - 105.0, y = lat - 35.0;
    var dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
      + (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0
      + (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0
      + (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    var dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
      + (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0
      + (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0
      + (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    var rad = lat / 180.0 * Math.PI, magic = 1 - ee * Math.sin(rad) * Math.sin(rad);
    var sq = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((a * (1 - ee)) / (magic * sq) * Math.PI);
    dLon = (dLon * 180.0) / (a / sq * Math.cos(rad) * Math.PI);
    return [dLon, dLat];
  }

  // a stored (WGS-84) [lon, lat] as the basemap shows it
  function shown(crs, lon, lat) {
    if (crs !== "gcj02" || outOfChina(lon, lat)) return [lat, lon];
    var d = gcjDelta(lon, lat);
    return [lat + d[1], lon + d[0]];
  }

  function plugin(api) {
    var map = api.map, crs = api.config.state.crs || "wgs84";
    var areas = window[api.config.areas];
    var box = api.section("lc-edit");
    var editLayer = L.layerGroup();
    var editing = false, chosen = FACILITIES.indexOf(api.kind()) >= 0 ? api.kind() : "clinics";
    var schemas = {}, markers = {}, pick = null, current = null;

    function lang() { return api.state.lang === "en" ? "en" : "zh"; }
    function w() { return WORDS[lang()]; }
    // what a write could not do is said in both languages, Chinese first
    function both(key) { return WORDS.zh[key] + " / " + WORDS.en[key]; }
    function el(tag, attrs, text) { return api.el(tag, attrs, text); }
    function token() { try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; } }

    var head = el("b", {className: "lc-edit-title"});
    var tokenRow = el("div", {className: "lc-edit-token"});
    var tools = el("div", {className: "lc-edit-tools"});
    var hint = el("div", {id: "lc-edit-hint", className: "lc-edit-hint", "aria-live": "polite"});
    var formBox = el("div", {id: "lc-edit-form-box"});
    box.appendChild(head);
    box.appendChild(tokenRow);
    box.appendChild(tools);
    box.appendChild(hint);
    box.appendChild(formBox);

    function say(text, kind) {
      hint.textContent = text || "";
      hint.className = "lc-edit-hint" + (kind ? " lc-edit-" + kind : "");
    }

    function layerName(layer) {
      var t = api.config.types.filter(function (x) { return x[0] === layer; })[0];
      if (t) return lang() === "en" ? t[2] : t[1];
      var s = schemas[layer];
      return s ? s["x-lc-title"][lang()] : layer;
    }

    // ---- token and tools ---------------------------------------------------------------------

    function renderTop() {
      var words = w();
      head.textContent = words.title;
      tokenRow.textContent = "";
      if (token()) {
        tokenRow.appendChild(el("span", {id: "lc-edit-token-set"}, words.tokenSet + " "));
        var forget = el("button", {type: "button", id: "lc-edit-forget"}, words.forget);
        forget.addEventListener("click", function () {
          sessionStorage.removeItem(TOKEN_KEY);
          renderTop();
        });
        tokenRow.appendChild(forget);
      } else {
        var input = el("input", {type: "password", id: "lc-edit-token", autocomplete: "off",
          "aria-label": words.token, placeholder: words.token});
        var use = el("button", {type: "button", id: "lc-edit-use"}, words.use);
        var keep = function () {
          if (!input.value) return;
          sessionStorage.setItem(TOKEN_KEY, input.value.trim());
          input.value = "";
          renderTop();
          say("");
        };
        use.addEventListener("click", keep);
        input.addEventListener("keydown", function (e) { if (e.key === "Enter") keep(); });
        tokenRow.appendChild(input);
        tokenRow.appendChild(use);
        tokenRow.appendChild(el("div", {id: "lc-edit-need", className: "lc-edit-note"}, both("needToken")));
      }
      tools.textContent = "";
      var select = el("select", {id: "lc-edit-layer", "aria-label": words.layer});
      FACILITIES.forEach(function (k) { select.appendChild(el("option", {value: k}, layerName(k))); });
      select.value = chosen;
      select.addEventListener("change", function () { chosen = select.value; if (editing) drawMarkers(); });
      var toggle = el("button", {type: "button", id: "lc-edit-toggle", "aria-pressed": String(editing)},
        editing ? words.stop : words.edit);
      toggle.addEventListener("click", function () { setEditing(!editing); });
      var add = el("button", {type: "button", id: "lc-edit-add"}, words.add);
      add.addEventListener("click", function () {
        setEditing(true);
        pick = {mode: "add"};
        map.getContainer().classList.add("lc-edit-picking");
        say(words.addHint);
      });
      tools.appendChild(select);
      tools.appendChild(toggle);
      tools.appendChild(add);
    }

    function setEditing(on) {
      editing = on;
      if (on) {
        editLayer.addTo(map);
        drawMarkers();
        say(w().editHint);
      } else {
        map.removeLayer(editLayer);
        pick = null;
        map.getContainer().classList.remove("lc-edit-picking");
        closeForm();
        say("");
      }
      renderTop();
    }

    // ---- the editable markers ------------------------------------------------------------

    function drawMarkers() {
      var layer = chosen;
      editLayer.clearLayers();
      markers = {};
      api.getJSON("/collections/" + layer + "/items?limit=10000").then(function (fc) {
        if (layer !== chosen || !editing) return;
        fc.features.forEach(function (f) {
          if (!f.geometry || f.geometry.type !== "Point") return;
          var c = f.geometry.coordinates, id = String(f.id);
          var m = L.marker(shown(crs, c[0], c[1]), {draggable: true, autoPan: true,
            icon: L.divIcon({className: "lc-edit-marker", iconSize: [18, 18], iconAnchor: [9, 9]})});
          m.on("click", function () { openForm(layer, id); });
          m.on("dragend", function () { openForm(layer, id, m.getLatLng()); });
          m.addTo(editLayer);
          m.getElement().setAttribute("data-id", id);
          m.getElement().setAttribute("title", (f.properties && f.properties.name) || id);
          markers[id] = m;
        });
        document.documentElement.setAttribute("data-lc-edit-markers", layer);
      }).catch(function (e) { say(w().failed + " (" + e.message + ")", "error"); });
    }

    map.on("click", function (e) {
      if (!pick) return;
      var p = pick;
      pick = null;
      map.getContainer().classList.remove("lc-edit-picking");
      if (p.mode === "add") openNew(chosen, e.latlng);
      else if (p.mode === "move") {
        p.setPosition(e.latlng);
        if (markers[p.id]) markers[p.id].setLatLng(e.latlng);
      }
    });

    if (areas) {
      areas.on("click", function (e) {
        if (!editing || pick || !e.layer || !e.layer.feature) return;
        openForm(AREAS, String(e.layer.feature.id));
      });
    }

    // ---- requests ----------------------------------------------------------------------------

    function schema(layer) {
      if (!schemas[layer]) {
        schemas[layer] = api.getJSON("/collections/" + layer + "/schema").then(function (s) {
          schemas[layer] = s;
          return s;
        }, function (e) { delete schemas[layer]; throw e; });
      }
      return Promise.resolve(schemas[layer]);
    }

    function readFeature(layer, id) {
      return fetch("/collections/" + layer + "/items/" + encodeURIComponent(id)).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        var etag = r.headers.get("ETag");
        return r.json().then(function (f) { return {feature: f, etag: etag}; });
      });
    }

    function send(method, url, body, etag) {
      var headers = {"Authorization": "Bearer " + token()};
      if (body !== null) headers["Content-Type"] = method === "PATCH" ? "application/merge-patch+json" : "application/geo+json";
      if (etag) headers["If-Match"] = etag;
      return fetch(url, {method: method, headers: headers, body: body === null ? undefined : JSON.stringify(body)})
        .then(function (r) {
          if (r.ok) return {ok: true, status: r.status};
          return r.json().then(function (p) { return {ok: false, status: r.status, problem: p}; },
            function () { return {ok: false, status: r.status, problem: {}}; });
        });
    }

    // ---- the form ------------------------------------------------------------------------------

    function closeForm() {
      current = null;
      formBox.textContent = "";
    }

    function openNew(layer, latlng) {
      Promise.all([schema(layer)]).then(function (got) {
        build(got[0], layer, null, null, latlng);
      }).catch(function (e) { say(w().failed + " (" + e.message + ")", "error"); });
    }

    function openForm(layer, id, movedTo) {
      say(w().loading);
      Promise.all([schema(layer), readFeature(layer, id)]).then(function (got) {
        build(got[0], layer, got[1].feature, got[1].etag, movedTo || null);
        say("");
      }).catch(function (e) { say(w().failed + " (" + e.message + ")", "error"); });
    }

    function inputFor(name, spec, value, words) {
      var kind = spec["x-lc-kind"], input, id = "lc-edit-f-" + name;
      if (spec.enum || kind === "bool") {
        input = el("select", {id: id, name: name});
        if (!spec.lcRequired || value === undefined || value === null) input.appendChild(el("option", {value: ""}, "—"));
        var choices = spec.enum ? spec.enum.map(function (v) {
          var t = (spec["x-lc-enum-titles"] || {})[v] || {zh: v, en: v};
          var text = t[lang()] + (t[lang()] === v ? "" : " (" + v + ")");
          return [v, text];
        }) : [["true", words.yes + " / yes"], ["false", words.no + " / no"]];
        choices.forEach(function (c) { input.appendChild(el("option", {value: c[0]}, c[1])); });
      } else if (kind === "int" || kind === "float") {
        input = el("input", {id: id, name: name, type: "number", step: kind === "int" ? "1" : "any", inputmode: "decimal"});
        if (spec.minimum !== undefined) input.setAttribute("min", String(spec.minimum));
      } else if (kind === "date") {
        input = el("input", {id: id, name: name, type: "date"});
      } else {
        input = el("input", {id: id, name: name, type: "text"});
      }
      input.value = value === undefined || value === null ? "" : String(value);
      return input;
    }

    function parsed(kind, text) {
      if (text === "") return null;
      if (kind === "bool") return text === "true";
      if (kind === "int" && /^-?\d+$/.test(text)) return parseInt(text, 10);
      if (kind === "float" && isFinite(Number(text))) return Number(text);
      if (kind === "year" && /^\d{4}$/.test(text)) return parseInt(text, 10);
      return text;  // the server says what is wrong with it, at the field
    }

    function build(s, layer, feature, etag, movedTo) {
      var words = w(), props = (feature && feature.properties) || {};
      var isNew = !feature, position = movedTo || null;
      closeForm();
      var form = el("form", {id: "lc-edit-form", className: "lc-edit-form", novalidate: "novalidate",
        "data-layer": layer, "data-id": feature ? String(feature.id) : ""});
      form.appendChild(el("div", {className: "lc-heading"}, layerName(layer) + " · "
        + (isNew ? words.add : (props.name || feature.id))));
      var general = el("div", {id: "lc-edit-general", className: "lc-edit-general", role: "alert"});
      form.appendChild(general);
      var fields = [], messages = {};
      Object.keys(s.properties).forEach(function (name) {
        var spec = s.properties[name], kind = spec["x-lc-kind"];
        if (!kind || kind === "lonlat_list") return;
        if (name === "id" && !isNew) return;
        spec.lcRequired = s.required.indexOf(name) >= 0 && name !== "id";
        var row = el("div", {className: "lc-edit-field" + (spec.lcRequired ? " lc-edit-required" : ""), "data-field": name});
        var label = el("label", {"for": "lc-edit-f-" + name}, spec["x-lc-title"][lang()]);
        if (spec.lcRequired) label.appendChild(el("span", {className: "lc-req", title: words.required}, " *"));
        row.appendChild(label);
        var input = inputFor(name, spec, props[name], words);
        if (spec.lcRequired) input.setAttribute("aria-required", "true");
        if (name === "id") input.setAttribute("placeholder", words.idAuto);
        input.setAttribute("aria-describedby", "lc-edit-err-" + name);
        var line = el("div", {className: "lc-edit-input"});
        line.appendChild(input);
        if (spec["x-ogc-unit"]) line.appendChild(el("span", {className: "lc-edit-unit"}, spec["x-ogc-unit"]));
        row.appendChild(line);
        var msg = el("div", {id: "lc-edit-err-" + name, className: "lc-edit-msg", "aria-live": "polite"});
        row.appendChild(msg);
        messages[name] = msg;
        fields.push([name, kind, input, props[name]]);
        form.appendChild(row);
      });
      var where = el("div", {id: "lc-edit-position", className: "lc-edit-note"});
      function setPosition(latlng) {
        position = latlng;
        where.textContent = words.position + ": " + latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6)
          + (isNew ? "" : " · " + words.moved);
      }
      if (position) setPosition(position);
      form.appendChild(where);

      var buttons = el("div", {className: "lc-edit-buttons"});
      var save = el("button", {type: "submit", id: "lc-edit-save"}, words.save);
      buttons.appendChild(save);
      if (!isNew && layer !== AREAS) {
        var move = el("button", {type: "button", id: "lc-edit-move"}, words.move);
        move.addEventListener("click", function () {
          pick = {mode: "move", id: String(feature.id), setPosition: setPosition};
          map.getContainer().classList.add("lc-edit-picking");
          say(words.moveHint);
        });
        buttons.appendChild(move);
        var del = el("button", {type: "button", id: "lc-edit-delete", className: "lc-edit-danger"}, words.remove);
        del.addEventListener("click", function () {
          if (del.getAttribute("data-armed") !== "1") {
            del.setAttribute("data-armed", "1");
            del.textContent = words.confirm;
            return;
          }
          submit("DELETE", null);
        });
        buttons.appendChild(del);
      }
      var cancel = el("button", {type: "button", id: "lc-edit-cancel"}, words.cancel);
      cancel.addEventListener("click", function () {
        if (!isNew && movedTo && markers[feature.id]) {
          var c = feature.geometry.coordinates;
          markers[feature.id].setLatLng(shown(crs, c[0], c[1]));
        }
        closeForm();
      });
      buttons.appendChild(cancel);
      form.appendChild(buttons);

      function clearMessages() {
        general.textContent = "";
        Object.keys(messages).forEach(function (k) {
          messages[k].textContent = "";
          messages[k].parentNode.classList.remove("lc-edit-bad");
        });
      }

      function body() {
        var out = {};
        fields.forEach(function (f) {
          var value = parsed(f[1], f[2].value.trim());
          if (isNew) { if (value !== null) out[f[0]] = value; return; }
          var before = f[3] === undefined ? null : f[3];
          if (String(value) !== String(before)) out[f[0]] = value;
        });
        var geometry = position ? {type: "Point", coordinates: [+position.lng.toFixed(7), +position.lat.toFixed(7)]} : null;
        if (isNew) return {type: "Feature", geometry: geometry, properties: out};
        var patch = {properties: out};
        if (geometry) patch.geometry = geometry;
        return patch;
      }

      function submit(method, payload) {
        clearMessages();
        if (!token()) {
          general.appendChild(el("div", {className: "lc-edit-error"}, both("needToken")));
          var box = document.getElementById("lc-edit-token");
          if (box) box.focus();
          return;
        }
        var base = "/collections/" + layer + "/items";
        var url = isNew ? base : base + "/" + encodeURIComponent(feature.id);
        if (method !== "DELETE") url += "?crs=" + crs;
        save.disabled = true;
        send(method, url, payload, isNew ? null : etag).then(function (r) {
          save.disabled = false;
          if (r.ok) {
            var done = method === "DELETE" ? words.deleted : isNew ? words.created : words.saved;
            var name = (payload && payload.properties && payload.properties.name) || props.name || (feature && feature.id) || "";
            reloadWith({msg: done + " · " + layerName(layer) + " · " + name, layer: layer});
            return;
          }
          show(r.status, r.problem || {});
        }, function () {
          save.disabled = false;
          general.appendChild(el("div", {className: "lc-edit-error"}, both("offline")));
        });
      }

      function show(status, problem) {
        var detail = problem.detail || String(status);
        if (status === 412) {
          general.appendChild(el("div", {id: "lc-edit-conflict", className: "lc-edit-error"},
            "有人在你打开后修改了此要素，请重新加载 / someone changed this since you opened it — reload"));
          var again = el("button", {type: "button", id: "lc-edit-reload"}, words.reload + " / reload");
          again.addEventListener("click", function () {
            reloadWith({layer: layer, reopen: feature ? String(feature.id) : null});
          });
          general.appendChild(again);
          return;
        }
        if (status === 401 || status === 403) {
          if (status === 401) sessionStorage.removeItem(TOKEN_KEY);
          general.appendChild(el("div", {id: "lc-edit-auth", className: "lc-edit-error"},
            both(status === 401 ? "unauthorized" : "forbidden")));
          general.appendChild(el("div", {className: "lc-edit-note"}, detail));
          renderTop();
          return;
        }
        // 422: not the layer's Feature form; 409 with errors: a layer rule the form cannot state
        var broken = status === 422 || (status === 409 && (problem.errors || []).length > 0);
        general.appendChild(el("div", {className: "lc-edit-error"}, broken ? words.invalid : detail));
        (problem.errors || []).forEach(function (p) {
          var text = p.message + (p.hint ? " → " + p.hint : "");
          var at = p.field && messages[p.field];
          if (at) {
            at.textContent = text;
            at.parentNode.classList.add("lc-edit-bad");
          } else {
            general.appendChild(el("div", {className: "lc-edit-msg"}, (p.field ? p.field + ": " : "") + text));
          }
        });
        var first = form.querySelector(".lc-edit-bad input, .lc-edit-bad select");
        if (first) first.focus();
      }

      form.addEventListener("submit", function (e) {
        e.preventDefault();
        if (isNew && !position) { say(words.addHint); return; }
        submit(isNew ? "POST" : "PATCH", body());
      });
      formBox.appendChild(form);
      current = form;
      if (window.innerWidth <= 700) form.scrollIntoView({block: "nearest"});
    }

    // ---- after a write: reload the page, its URL (so its state) unchanged --------------------

    function reloadWith(flash) {
      flash.editing = true;
      sessionStorage.setItem(FLASH_KEY, JSON.stringify(flash));
      location.reload();
    }

    api.onChange(function (now, before) {
      if (now.lang !== before.lang) {
        renderTop();
        if (current) closeForm();
      }
    });

    renderTop();
    var flash = null;
    try { flash = JSON.parse(sessionStorage.getItem(FLASH_KEY) || "null"); } catch (e) { flash = null; }
    sessionStorage.removeItem(FLASH_KEY);
    if (flash) {
      if (FACILITIES.indexOf(flash.layer) >= 0) chosen = flash.layer;
      if (flash.editing) setEditing(true);
      if (flash.msg) say(flash.msg, "ok");
      if (flash.reopen) openForm(flash.layer, flash.reopen);
    }
    window.lcEdit = {open: openForm, token: function () { return !!token(); }};
    document.documentElement.setAttribute("data-lc-edit", "ready");
  }

  window.lcPanels = window.lcPanels || [];
  window.lcPanels.push(plugin);
})();
