/* Place names (maps/web/place_labels.py): each name shows from its zoom; where two would overlap, the one
   shown from the lower zoom (then the one listed first) wins. Names never take clicks. */
REE.labels = (function () {
  "use strict";
  var items = [], seq = 0, hooked = [];

  function pane(map) {
    if (!map.getPane("reeLabels")) {
      var p = map.createPane("reeLabels");
      p.style.zIndex = 590;  // above zones and borders (overlay pane 400), below the deposit markers (600)
      p.style.pointerEvents = "none";
    }
    return "reeLabels";
  }

  function overlaps(a, b) {
    return a.left < b.right + 2 && b.left < a.right + 2 && a.top < b.bottom + 1 && b.top < a.bottom + 1;
  }

  function declutter(map) {
    var z = map.getZoom(), placed = [];
    items.filter(function (it) { return it.map === map; })
      .sort(function (a, b) { return a.z - b.z || a.i - b.i; })
      .forEach(function (it) {
        var want = z >= it.z;
        if (want !== it.group.hasLayer(it.m)) { if (want) it.group.addLayer(it.m); else it.group.removeLayer(it.m); }
        var el = it.m.getElement();
        if (!want || !el || !map.hasLayer(it.group)) return;
        el.style.visibility = "";
        var r = el.querySelector("b").getBoundingClientRect();
        if (placed.some(function (p) { return overlaps(p, r); })) { el.style.visibility = "hidden"; return; }
        placed.push(r);
        var dot = el.querySelector("i");
        if (dot) placed.push(dot.getBoundingClientRect());
      });
  }

  function hook(map) {
    if (hooked.indexOf(map) >= 0) return;
    hooked.push(map);
    var again = function () { declutter(map); };
    map.on("zoomend", again);
    map.on("overlayadd overlayremove layeradd layerremove", function (e) {
      if (items.some(function (it) { return it.group === e.layer; })) setTimeout(again, 0);
    });
    document.addEventListener("click", function (e) {  // the language switch changes every name's width
      if (e.target.closest && e.target.closest(".ree-lang")) setTimeout(again, 0);
    });
    map.whenReady(function () { setTimeout(again, 0); });
  }

  return function (map, group, data, o) {  // data: [[lat, lon, minZoom, html], ...] in priority order
    var p = pane(map);
    data.forEach(function (d) {
      var html = (o.dot ? '<i style="' + o.dot + '"></i>' : "") + (o.ink ? '<b style="color:' + o.ink + '">' : "<b>") + d[3] + "</b>";
      var m = L.marker([d[0], d[1]], {pane: p, interactive: false, keyboard: false,
        icon: L.divIcon({className: "ree-place " + o.cls, html: html, iconSize: [0, 0]})});
      items.push({map: map, group: group, m: m, z: d[2], i: seq++});
    });
    hook(map);
  };
})();
