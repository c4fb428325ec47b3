/* Behaviour of the REE maps: catalog layers, uncertainty circles, hatching, legend, search, language.
   Every text and colour arrives from Python (the catalog); nothing here is data. */
var REE = (function () {
  "use strict";
  var features = {}; // search key -> {layer, group}
  var patterns = {};

  function fold(s) {  // must match maps/web/search.py fold()
    return s.replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/\s+/g, " ").trim().toLowerCase();
  }

  function decodeLine(str, scale) {  // encoded polyline (maps/web/features.py encode_line) -> [[x, y], ...]
    var out = [], i = 0, x = 0, y = 0, n = str.length;
    function next() {
      var b, shift = 0, v = 0;
      do { b = str.charCodeAt(i++) - 63; v |= (b & 0x1f) << shift; shift += 5; } while (b >= 0x20);
      return v & 1 ? ~(v >> 1) : v >> 1;
    }
    while (i < n) { x += next(); y += next(); out.push([x / scale, y / scale]); }
    return out;
  }
  function decodeCoords(c, scale) {
    return typeof c === "string" ? decodeLine(c, scale) : c.map(function (x) { return decodeCoords(x, scale); });
  }
  function decode(g, scale) {  // geometry from maps/web/features.py geometry_json(), in place
    if (!g) return g;
    if (g.type === "GeometryCollection") { g.geometries.forEach(function (x) { decode(x, scale); }); return g; }
    if (g.type !== "Point" && g.type !== "MultiPoint") g.coordinates = decodeCoords(g.coordinates, scale);
    return g;
  }

  function hatch(kind, colour, opacity) {  // a screen-space stripe pattern for the canvas renderer
    var id = kind + colour + opacity;
    if (patterns[id]) return patterns[id];
    var n = 10, c = document.createElement("canvas");
    c.width = c.height = n;
    var g = c.getContext("2d");
    g.globalAlpha = opacity; g.fillStyle = colour; g.fillRect(0, 0, n, n);
    g.globalAlpha = 0.85; g.strokeStyle = colour; g.lineWidth = 1.5; g.beginPath();
    if (kind === "diagonal" || kind === "cross") { g.moveTo(0, n); g.lineTo(n, 0); g.moveTo(-1, 1); g.lineTo(1, -1); g.moveTo(n - 1, n + 1); g.lineTo(n + 1, n - 1); }
    if (kind === "back_diagonal" || kind === "cross") { g.moveTo(0, 0); g.lineTo(n, n); g.moveTo(n - 1, -1); g.lineTo(n + 1, 1); g.moveTo(-1, n - 1); g.lineTo(1, n + 1); }
    if (kind === "horizontal") { g.moveTo(0, n / 2); g.lineTo(n, n / 2); }
    if (kind === "vertical") { g.moveTo(n / 2, 0); g.lineTo(n / 2, n); }
    g.stroke();
    patterns[id] = g.createPattern(c, "repeat");
    return patterns[id];
  }

  function pathStyle(o, flagged) {
    var s = L.extend({}, flagged ? o.styleFlag : o.style);
    if (o.hatch && o.hatch !== "none") { s.fillColor = hatch(o.hatch, s.fillColor, s.fillOpacity); s.fillOpacity = 1; }
    return s;
  }

  function uncertainty(map, layer, f, o) {  // the location-uncertainty radius on hover and while selected
    var circle = null, open = false;
    function show() {
      if (!circle) circle = L.circle(layer.getLatLng(), {radius: f.properties.u, color: o.uncColor, weight: 1.5,
        dashArray: "4 3", fillColor: o.uncColor, fillOpacity: 0.08, interactive: false});
      if (!map.hasLayer(circle)) circle.addTo(map);
    }
    function hide() { if (circle && !open) map.removeLayer(circle); }
    layer.on({mouseover: show, mouseout: hide,
      popupopen: function () { open = true; show(); }, popupclose: function () { open = false; hide(); }});
    layer.on("remove", function () { open = false; hide(); });
  }

  function wide() { return window.innerWidth >= 700; }

  function num(v, lang, digits) {  // 1.300 and 0,85 for a Vietnamese reader; 1,300 and 0.85 in English
    var parts = Math.abs(v).toFixed(digits || 0).split("."), vi = lang === "vi";
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, vi ? "." : ",");
    return (v < 0 ? "−" : "") + whole + (parts[1] ? (vi ? "," : ".") + parts[1] : "");
  }

  function popupOptions() {  // a card that fits the window: width and height from the viewport, autopan
    var w = window.innerWidth, h = window.innerHeight;
    // on a phone the card keeps clear of the zoom / fullscreen / measure buttons on the left
    return {maxWidth: Math.min(380, w - 95), minWidth: Math.min(260, w - 95), maxHeight: Math.max(160, Math.min(460, h - 200)),
            autoPanPaddingTopLeft: [wide() ? 280 : 58, wide() ? 60 : 110], autoPanPaddingBottomRight: [12, 40], keepInView: true,
            className: "ree-popup-card"};
  }

  var pieces = null;  // the page's shared popup pieces (maps/web/popup.py Pieces), parsed on first use
  function card(p) {  // a popup: HTML, or a list of inline HTML and indices into the shared pieces
    if (typeof p === "string") return p;
    if (pieces === null) pieces = JSON.parse(document.getElementById("ree_pieces").textContent);
    return p.map(function (x) { return typeof x === "number" ? pieces[x] : x; }).join("");
  }

  var canvases = {};  // one canvas renderer per pane for the project's dense layers; everything else (the
  function canvasFor(map, pane) {  // measure tool's own vertices, the uncertainty circles) stays SVG
    var key = L.stamp(map) + ":" + pane;
    return canvases[key] || (canvases[key] = L.canvas({pane: pane}));
  }

  function build(map, group, data, o) {
    data.features.forEach(function (f) { decode(f.geometry, o.scale); });
    return L.geoJSON(data, {
      interactive: o.interactive, pane: o.pane || "overlayPane", renderer: canvasFor(map, o.pane || "overlayPane"),
      style: function (f) { return pathStyle(o, f.properties && f.properties.h); },
      smoothFactor: 0,  // already simplified in Python (maps/compositions tolerance_m); Leaflet's pass cost ~1/3 of the drawing
      pointToLayer: function (f, ll) {
        var flagged = f.properties.h, s = flagged ? o.sizeFlag : o.size;
        return L.marker(ll, {icon: L.divIcon({html: flagged ? o.iconFlag : o.icon, className: "ree-icon",
          iconSize: [s, s], iconAnchor: [s / 2, s / 2], popupAnchor: [0, -s / 2], tooltipAnchor: [s / 2, 0]}),
          keyboard: false, riseOnHover: true, pane: o.markerPane || "markerPane"});
      },
      onEachFeature: function (f, l) {
        var p = f.properties || {};
        if (p.p) l.bindPopup(card(p.p), popupOptions());
        l.on("click", function (e) {  // a grid is on: the cell panel (naming this feature) instead of its card
          var at = l.getLatLng ? l.getLatLng() : e.latlng;
          if (REE.cellClick && REE.cellClick(at, p.t || "", l)) L.DomEvent.stop(e);
        });
        if (p.t) l.bindTooltip(p.t, o.labels ? {permanent: true, direction: "center", className: "ree-label"}
                                          : {sticky: !l.getLatLng, direction: "auto"});
        if (p.k !== undefined) features[p.k] = {layer: l, group: group};
        if (p.u && l.getLatLng) uncertainty(map, l, f, o);
      }
    }).addTo(group);
  }

  function foldsRelayout(map) {  // unfolding "All attributes" / "Sources" keeps the card inside the window
    map.on("popupopen", function (e) {
      var pop = e.popup;
      pop.getElement().querySelectorAll("details").forEach(function (d) {
        // re-measure only (Popup.update() would re-render the content and fold it again): Leaflet 1.9.4
        d.addEventListener("toggle", function () { pop._updateLayout(); pop._updatePosition(); pop._adjustPan(); });
      });
    });
  }

  function layer(map, group, id, o) {  // parsed and drawn now if its group is shown, else when first switched on
    function make() { var el = document.getElementById(id); build(map, group, JSON.parse(el.textContent), o); el.remove(); }
    if (map.hasLayer(group)) return make();
    group.once("add", make);
  }

  function geoJSON(data, scale, opts) {  // a plain L.geoJSON of encoded geometry (the minimap's land)
    decode(data, scale);
    return L.geoJSON(data, opts);
  }

  function legend(map) {  // the legend box as a control above the scale bar; rows follow their layers
    var box = document.getElementById("ree-legend");
    var C = L.Control.extend({options: {position: "bottomleft"}, onAdd: function () {
      L.DomUtil.addClass(box, "leaflet-control");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    }});
    new C().addTo(map);
    box.querySelector("details").open = wide();
    var rows = [].slice.call(box.querySelectorAll(".ree-legend-row[data-layer]")), watched = [];
    rows.forEach(function (r) { r.layers = r.getAttribute("data-layer").split(" ").map(function (n) { return window[n]; });
      watched = watched.concat(r.layers); });
    var heads = [].slice.call(box.querySelectorAll(".ree-legend-group"));
    function sync() {
      rows.forEach(function (r) {
        r.style.display = r.layers.some(function (l) { return l && map.hasLayer(l); }) ? "" : "none";
      });
      heads.forEach(function (h) {
        h.style.display = [].some.call(h.querySelectorAll(".ree-legend-row"), function (r) { return r.style.display !== "none"; }) ? "" : "none";
      });
    }
    map.on("layeradd layerremove", function (e) { if (watched.indexOf(e.layer) >= 0) sync(); });
    sync();
  }

  var controlled = {};  // layer key (maps/web/render.py: catalog name[.category] or grid file stem) -> its layer
  function layerControl(map, cfg) {  // basemaps and grouped overlays; groups fold, the panel fits the window
    map.createPane("reeSea").style.zIndex = 150;
    foldsRelayout(map);
    var C = L.Control.extend({options: {position: "topright"}, onAdd: function () {
      var d = L.DomUtil.create("div", "ree-layers leaflet-control-layers");
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      var btn = L.DomUtil.create("button", "ree-layers-toggle", d);
      btn.type = "button";
      btn.innerHTML = cfg.title;
      var body = L.DomUtil.create("div", "ree-layers-body", d);
      var bd = L.DomUtil.create("details", "ree-group leaflet-control-layers-base", body), current = null;
      bd.innerHTML = "<summary>" + cfg.basemapsLabel + "</summary>";
      cfg.basemaps.forEach(function (b) {
        var lyr = b.url ? L.tileLayer(b.url, {attribution: b.attribution, maxZoom: b.maxZoom}) : L.layerGroup();
        // no tiles: the sea colour fills the whole map, beyond the data window too (no grey "missing tiles")
        lyr.on("add", function () { map.getContainer().style.background = b.url ? "" : (b.background || ""); });
        var lab = L.DomUtil.create("label", "", bd), inp = L.DomUtil.create("input", "", lab);
        inp.type = "radio"; inp.name = "ree-basemap"; inp.checked = !!b.default;
        lab.insertAdjacentHTML("beforeend", " <span>" + b.label + "</span>");
        if (b.default) current = lyr.addTo(map);
        inp.addEventListener("change", function () { if (current) map.removeLayer(current); current = lyr.addTo(map); });
      });
      var ov = L.DomUtil.create("div", "leaflet-control-layers-overlays", body), all = [];
      cfg.groups.forEach(function (g) {
        var det = L.DomUtil.create("details", "ree-group", ov), items = [];
        det.setAttribute("data-group", g.key);
        det.open = g.open && wide();
        det.innerHTML = "<summary>" + g.label + ' <span class="ree-count"></span></summary>';
        g.layers.forEach(function (l) {
          var layer = window[l[1]], lab = L.DomUtil.create("label", "", det), inp = L.DomUtil.create("input", "", lab);
          if (l[2]) { controlled[l[2]] = {layer: layer, exclusive: g.exclusive, items: items}; inp.setAttribute("data-key", l[2]); }
          inp.type = "checkbox"; inp.layerId = L.stamp(layer);
          lab.insertAdjacentHTML("beforeend", " <span>" + l[0] + "</span>");
          inp.addEventListener("change", function () {
            if (!inp.checked) { map.removeLayer(layer); return; }
            if (g.exclusive) items.forEach(function (o) { if (o.layer !== layer) map.removeLayer(o.layer); });
            map.addLayer(layer);
          });
          items.push({inp: inp, layer: layer});
        });
        var count = det.querySelector(".ree-count");
        function sync() {
          var n = 0;
          items.forEach(function (o) { o.inp.checked = map.hasLayer(o.layer); if (o.inp.checked) n++; });
          count.textContent = n + "/" + items.length;
        }
        all.push.apply(all, items.map(function (o) { return o.layer; }));
        map.on("layeradd layerremove", function (e) { if (all.indexOf(e.layer) >= 0) sync(); });
        sync();
      });
      function fold(c) { L.DomUtil[c ? "addClass" : "removeClass"](d, "ree-folded"); btn.setAttribute("aria-expanded", String(!c)); }
      btn.addEventListener("click", function () { fold(!L.DomUtil.hasClass(d, "ree-folded")); });
      fold(!wide());
      return d;
    }});
    return new C().addTo(map);
  }

  function about(map, prefix) {  // the one-line attribution opens the About / Sources panel
    var panel = document.getElementById("ree-about");
    map.attributionControl.setPrefix(prefix);
    L.DomEvent.disableClickPropagation(panel);
    L.DomEvent.disableScrollPropagation(panel);
    map.getContainer().appendChild(panel);
    function show(on) { panel.hidden = !on; }
    map.getContainer().addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest(".ree-about-link");
      if (a) { e.preventDefault(); show(panel.hidden); }
    });
    panel.querySelector(".ree-about-close").addEventListener("click", function () { show(false); });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !panel.hidden) show(false); });
    document.addEventListener("click", function (e) {  // a click outside the panel closes it
      if (!panel.hidden && !panel.contains(e.target) && !(e.target.closest && e.target.closest(".ree-about-link"))) show(false);
    }, true);
  }

  function title(map) {  // the title strip across the top of the map
    var t = document.querySelector(".ree-title");
    if (!t) return;
    var c = map.getContainer();
    c.appendChild(t);
    function below() {  // the top controls start under the title (one line wide, two on a phone)
      c.querySelectorAll(".leaflet-top").forEach(function (el) { el.style.top = t.offsetHeight + "px"; });
    }
    below();
    window.addEventListener("resize", below);
  }

  var plugins = {}, lang = "vi";  // the map plugins' English texts -> {vi, en} (labels.toml [controls])
  function pluginText(root) {  // the plugins' titles and texts in the page language; numbers too in Vietnamese
    if (!root) return;
    root.querySelectorAll("[title]").forEach(function (el) {
      var en = el.getAttribute("data-title-en");
      if (en === null || (el.title !== plugins[en]?.vi && el.title !== plugins[en]?.en && el.title !== en)) {
        en = el.title; el.setAttribute("data-title-en", en);  // the plugin changed it (fullscreen on/off)
      }
      if (plugins[en]) el.title = plugins[en][lang];
    });
    var walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT), n;
    while ((n = walk.nextNode())) {
      if (n.__en === undefined || (n.nodeValue !== n.__shown)) n.__en = n.nodeValue;
      var src = n.__en, key = src.trim(), out = src;
      if (plugins[key]) out = src.replace(key, plugins[key][lang]);
      else if (/\d/.test(src) && lang === "vi") {  // "1,234.5 Meters" -> "1.234,5 m"
        out = src.replace(/\d{1,3}(,\d{3})+(\.\d+)?|\d+\.\d+/g, function (x) { return x.replace(/,/g, "\u0000").replace(/\./g, ",").replace(/\u0000/g, "."); })
          .replace(/[A-Z][a-z]+( [A-Z][a-z]+)?/g, function (w) { return plugins[w] ? plugins[w].vi : w; });
      }
      n.__shown = out;
      if (out !== n.nodeValue) n.nodeValue = out;
    }
  }
  var PLUGINS = ".leaflet-control-zoom, .leaflet-control-fullscreen, .leaflet-control-measure, " +
    ".leaflet-control-minimap, .leaflet-measure-resultpopup";  // the plugins' own elements, nothing of ours
  function pluginsAll(map) { map.getContainer().querySelectorAll(PLUGINS).forEach(pluginText); }

  function setLang(l) {
    lang = l;
    var root = document.documentElement;
    root.classList.toggle("lang-en", lang === "en");
    root.setAttribute("lang", lang);
    document.querySelectorAll("[data-placeholder-" + lang + "]").forEach(function (el) {
      el.setAttribute("placeholder", el.getAttribute("data-placeholder-" + lang));
    });
    document.querySelectorAll(".ree-lang button").forEach(function (b) {
      b.classList.toggle("active", b.getAttribute("data-lang") === lang);
    });
    if (REE.map) { pluginsAll(REE.map); REE.map.fire("ree:lang"); }
  }

  function languageControl(map, html, texts) {
    REE.map = map;
    plugins = texts || {};
    // the plugins rewrite their texts (measure panel and results, fullscreen title): follow them
    var busy = false, obs = new MutationObserver(function () {
      if (busy) return; busy = true; pluginsAll(map); obs.takeRecords(); busy = false;
    });
    map.whenReady(function () {
      var c = map.getContainer();
      [c.querySelector(".leaflet-control-container"), c.querySelector(".leaflet-popup-pane")].forEach(function (el) {
        if (el) obs.observe(el, {childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["title"]});
      });
    });
    var C = L.Control.extend({options: {position: "topright"}, onAdd: function () {
      var d = L.DomUtil.create("div", "ree-lang leaflet-bar");
      d.innerHTML = html;
      L.DomEvent.disableClickPropagation(d);
      d.querySelectorAll("button").forEach(function (b) {
        b.addEventListener("click", function () { setLang(b.getAttribute("data-lang")); });
      });
      return d;
    }});
    new C().addTo(map);
    setLang("vi");
  }

  function go(map, key, groupName) {
    var grp = window[groupName];
    if (grp && !map.hasLayer(grp)) map.addLayer(grp);  // builds a layer that was never shown
    var hit = features[key];
    if (!hit) return;
    if (!map.hasLayer(hit.group)) map.addLayer(hit.group);
    if (hit.layer.getLatLng) map.setView(hit.layer.getLatLng(), Math.max(map.getZoom(), 9), {animate: false});
    else map.fitBounds(hit.layer.getBounds(), {maxZoom: 9, animate: false});
    hit.layer.openPopup(hit.layer.getLatLng ? undefined : hit.layer.getBounds().getCenter());
  }

  function searchControl(map, index, labels, html) {
    var C = L.Control.extend({options: {position: "topleft"}, onAdd: function () {
      var d = L.DomUtil.create("div", "ree-search leaflet-bar");
      d.innerHTML = html;
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      var input = d.querySelector("input"), list = d.querySelector("ul");
      function render() {
        var q = fold(input.value), out = [];
        list.innerHTML = "";
        if (!q) return;
        for (var i = 0; i < index.length && out.length < 12; i++) if (index[i].f.indexOf(q) >= 0) out.push(index[i]);
        if (!out.length) { list.innerHTML = '<li class="ree-none">' + d.querySelector(".ree-nomatch").innerHTML + "</li>"; return; }
        out.forEach(function (e) {
          var li = document.createElement("li");
          li.innerHTML = e.n + ' <small>' + (labels[e.g] || "") + "</small>";
          li.setAttribute("data-key", e.k);
          li.setAttribute("data-group", e.g);
          li.addEventListener("click", function () { go(map, e.k, e.g); });
          list.appendChild(li);
        });
      }
      input.addEventListener("input", render);
      input.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && list.firstChild && list.firstChild.getAttribute("data-key") !== null) {
          go(map, +list.firstChild.getAttribute("data-key"), list.firstChild.getAttribute("data-group"));
        }
      });
      return d;
    }});
    new C().addTo(map);
  }

  function view(map, cfg) {  // opening view and the URL hash (#map=z/lat/lon&lang=..&layers=..)
    var keys = Object.keys(controlled);
    function read() {
      var h = {}; location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
        var i = kv.indexOf("="); if (i > 0) h[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); });
      return h;
    }
    function apply(h) {
      var v = (h.map || "").split("/").map(Number);
      if (v.length === 3 && v.every(isFinite)) map.setView([v[1], v[2]], v[0], {animate: false});
      if (h.lang === "vi" || h.lang === "en") setLang(h.lang);
      if (h.layers !== undefined) {
        var on = h.layers ? h.layers.split(",") : [];
        keys.forEach(function (k) { var c = controlled[k], want = on.indexOf(k) >= 0;
          if (!want && map.hasLayer(c.layer)) map.removeLayer(c.layer); });
        on.forEach(function (k) { var c = controlled[k]; if (c && !map.hasLayer(c.layer)) map.addLayer(c.layer); });
      }
      return v.length === 3;
    }
    function write() {
      var c = map.getCenter(), z = map.getZoom(), d = Math.max(0, Math.ceil(Math.log(Math.pow(2, z)) / Math.LN10) + 1);
      var on = keys.filter(function (k) { return map.hasLayer(controlled[k].layer); });
      var h = "#map=" + z + "/" + c.lat.toFixed(d) + "/" + c.lng.toFixed(d) + "&lang=" + lang + "&layers=" + on.join(",");
      if (h !== location.hash) history.replaceState(null, "", h);
    }
    var h = read(), hasView = apply(h);
    if (!hasView && cfg.fit) {
      var fit = L.latLngBounds(cfg.fit);
      if (!map.getBounds().contains(fit)) map.fitBounds(fit, {padding: [8, 8], animate: false});
    }
    if (h.layers === undefined && cfg.grid && controlled[cfg.grid]) map.addLayer(controlled[cfg.grid].layer);
    var timer = null;
    function later() { clearTimeout(timer); timer = setTimeout(write, 150); }
    map.on("moveend zoomend layeradd layerremove ree:lang", later);
    window.addEventListener("hashchange", function () { apply(read()); });
    write();
  }

  return {fold: fold, decode: decode, num: num, title: title, view: view, controlled: controlled, geoJSON: geoJSON, layer: layer, legend: legend, layerControl: layerControl,
          about: about, setLang: setLang, languageControl: languageControl,
          searchControl: searchControl, go: go, features: features, ready: null};
})();

/* Click anywhere on the land cells while a prospectivity overlay is on: the panel explaining its type's two
   scores there, each evidence grouped under the score it feeds, with its title, measured value and unit,
   membership and mineral-system component, the combining rule, the validation verdict and the sources
   (data: maps/web/cell_panel.py; strings arrive escaped). A click on a marker opens the panel too and names it. */
REE.cellPanel = function (map, overlays, data) {
  const bytes = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));
  const decoded = new Map();
  const arr = s => { if (!decoded.has(s)) decoded.set(s, bytes(s)); return decoded.get(s); };
  let index = null;
  const cellIndex = () => {  // preview cell -> position in the land-cell arrays (-1: not land)
    if (index) return index;
    const bits = bytes(data.mask);
    index = new Int32Array(data.width * data.height).fill(-1);
    for (let i = 0, k = 0; i < index.length; i++) if (bits[i >> 3] & (128 >> (i & 7))) index[i] = k++;
    return index;
  };
  const at = (s, k) => { if (!s) return null; const v = arr(s)[k]; return v === 255 ? null : v / data.q; };
  const LANGS = ["vi", "en"];
  const bi = f => LANGS.map(l => `<span class="ree-${l}" lang="${l}">${f(l)}</span>`).join("");
  const fill = (t, vals, l) => t[l].replace(/&#123;(\w+)&#125;/g, (m, k) => (k in vals ? (typeof vals[k] === "function" ? vals[k](l) : vals[k]) : m));
  const num = REE.num;
  const cap = t => t.charAt(0).toUpperCase() + t.slice(1);
  const sig = v => { if (v === 0) return 0; const p = Math.pow(10, Math.floor(Math.log10(Math.abs(v))) - 2); return Math.round(v / p) * p; };
  const decimals = v => Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v) || 1)));
  const score = (v, l) => v === null ? data.ui.no_data[l] : num(v, l, 3);
  const value = (ev, q, l) => {
    if (q === null) return "–";
    const x = ev.lo + q * (ev.hi - ev.lo);
    if (ev.classes) { const c = ev.classes[String(Math.round(x))]; return c ? c[l] : num(Math.round(x), l, 0); }
    const r = sig(x);
    return "≈ " + num(r, l, Math.min(3, decimals(r))) + (ev.unit ? " " + ev.unit[l] : "");
  };
  const cite = id => { const c = data.refs[id]; if (!c) return id;
    return c[1] ? `<a href="${c[1]}" target="_blank" rel="noopener" title="${c[2]}">${c[0]}</a>` : `<span title="${c[2]}">${c[0]}</span>`; };
  function verdictLine(v, figure) {
    if (!v) return "";
    const link = figure ? ` · <a href="${figure}" target="_blank">${bi(l => data.ui.figure[l])}</a>` : "";
    const fig = v.auc === null ? bi(l => fill(data.ui.sites, {n: v.sites}, l))
      : bi(l => fill(data.ui.auc, {auc: num(v.auc, l, 2), med: v.med === null ? "–" : num(v.med, l, 2),
                                      p95: v.p95 === null ? "–" : num(v.p95, l, 2), n: v.n,
                                      null: v.null ? v.null[l] : "–"}, l));
    return `<p class="ree-cell-verdict" data-verdict="${v.code}">${bi(l => data.ui.validation[l])}: <b>${v.label}</b> · ${fig}${link}</p>`;
  }
  function html(t, k, deposit) {
    let h = `<div class="ree-cell"><h4>${bi(l => t.title[l])}</h4>`;
    if (deposit) h += `<p class="ree-cell-here">${bi(l => data.ui.deposit_here[l])}: <a href="#" class="ree-cell-deposit">${deposit}</a></p>`;
    const used = new Set(t.refs);
    for (const g of t.scores) {
      const v = at(g.data, k), n = g.evidence.length, miss = g.evidence.filter(ev => at(ev.mu, k) === null).length;
      const op = t.operator === "gamma" ? bi(l => fill(data.ui.gamma, {g: num(t.gamma, l, (String(t.gamma).split(".")[1] || "").length), n: n}, l))
        : bi(l => fill(data.ui.operator, {op: t.operator, n: n}, l));
      const missing = miss ? bi(l => fill(data.ui.missing, {k: miss}, l)) : bi(l => data.ui.none_missing[l]);
      h += `<section class="ree-cell-group" data-score="${g.score}"><table><tr class="ree-cell-score"><th>${bi(l => cap(fill(data.ui.score_of, {s: g.label[l]}, l)))}</th>`
        + `<td${v === null ? "" : ` data-v="${v}"`}>${bi(l => score(v, l))}</td></tr></table>`
        + `<p class="ree-cell-op">${op}; ${missing}</p><ul class="ree-cell-ev">`;
      for (const ev of g.evidence) {
        const mu = at(ev.mu, k), q = at(ev.value, k);
        ev.refs.forEach(r => used.add(r));
        h += `<li data-evidence="${ev.name}"><span class="ree-cell-name">${bi(l => ev.title[l])}</span>`
          + `<span class="ree-mu"${mu === null ? "" : ` data-v="${mu}"`}>${bi(l => score(mu, l))}</span>`
          + `<span class="ree-cell-detail">${bi(l => [ev.value ? data.ui.value[l] + " " + value(ev, q, l) : "",
              ev.component[l] ? data.ui.component[l] + ": " + ev.component[l] : ""].filter(Boolean).join(" · "))}</span></li>`;
      }
      h += `</ul>${verdictLine(g.verdict, g.figure)}</section>`;
    }
    h += `<details class="ree-cell-src"><summary>${bi(l => data.ui.source[l])}</summary><ul>`
      + [...used].map(r => `<li>${cite(r)}</li>`).join("") + "</ul></details>";
    h += `<p class="ree-cell-note">${bi(l => data.ui.cell[l])}</p>`;
    return h + "</div>";
  }
  // opens the panel at latlng when an overlay is on and the cell is land; returns whether it did
  REE.cellClick = function (latlng, deposit, marker) {
    const on = overlays.find(o => map.hasLayer(o[0]));
    if (!on) return false;
    const t = data.types[on[1]];
    const c = Math.floor((latlng.lng - data.w) / data.cell), r = Math.floor((data.n - latlng.lat) / data.cell);
    if (c < 0 || r < 0 || c >= data.width || r >= data.height) return false;
    const k = cellIndex()[r * data.width + c];
    if (k < 0) return false;
    const centre = deposit ? latlng : [data.n - (r + 0.5) * data.cell, data.w + (c + 0.5) * data.cell];
    const w = map.getSize().x, h = map.getSize().y, wide = w >= 700;
    // as the cards: clear of the zoom / fullscreen / measure buttons on a phone, inside the window
    const pop = L.popup({maxWidth: Math.min(420, w - 95), minWidth: Math.min(280, w - 95), className: "ree-cell-popup",
      maxHeight: Math.max(200, Math.min(460, h - (wide ? 160 : 230))), keepInView: true,
      autoPanPaddingTopLeft: [wide ? 280 : 58, wide ? 60 : 130], autoPanPaddingBottomRight: [12, 40]}).setLatLng(centre).setContent(html(t, k, deposit)).openOn(map);
    const a = pop.getElement().querySelector(".ree-cell-deposit");
    if (a && marker) a.addEventListener("click", e => { e.preventDefault(); marker.openPopup(marker.getLatLng ? undefined : latlng); });
    return true;
  };
  map.on("click", e => { REE.cellClick(e.latlng); });
};
