// tessera's minimal tile viewer: a grid of <img> tiles with drag to pan and
// wheel/buttons to zoom, for any tile matrix set (it works in tile units,
// not in a projection). No dependencies, no network access beyond tiles.
(function () {
  "use strict";
  var cfg = window.TESSERA_VIEWER;
  var map = document.getElementById("map");
  var status = document.getElementById("status");
  var z = cfg.zoom;
  var cx = cfg.center[0], cy = cfg.center[1]; // centre in tile units at z
  var imgs = {};
  var loaded = 0, failed = 0;
  window.tesseraTiles = { loaded: 0, failed: 0 };

  function tileSize() { var m = cfg.matrices[z]; return [m[2], m[3]]; }

  function render() {
    var W = map.clientWidth, H = map.clientHeight;
    var ts = tileSize(), m = cfg.matrices[z];
    var x0 = Math.floor(cx - W / 2 / ts[0]), x1 = Math.floor(cx + W / 2 / ts[0]);
    var y0 = Math.floor(cy - H / 2 / ts[1]), y1 = Math.floor(cy + H / 2 / ts[1]);
    var want = {};
    for (var y = Math.max(0, y0); y <= Math.min(m[1] - 1, y1); y++) {
      for (var x = Math.max(0, x0); x <= Math.min(m[0] - 1, x1); x++) {
        var key = z + "/" + x + "/" + y;
        want[key] = true;
        var img = imgs[key];
        if (!img) {
          img = document.createElement("img");
          img.alt = "";
          img.onload = function () { window.tesseraTiles.loaded++; };
          img.onerror = function () { this.style.visibility = "hidden"; window.tesseraTiles.failed++; };
          img.src = cfg.tiles.replace("{z}", z).replace("{x}", x).replace("{y}", y);
          imgs[key] = img;
          map.appendChild(img);
        }
        img.style.width = ts[0] + "px";
        img.style.height = ts[1] + "px";
        img.style.left = Math.round(W / 2 + (x - cx) * ts[0]) + "px";
        img.style.top = Math.round(H / 2 + (y - cy) * ts[1]) + "px";
      }
    }
    for (var k in imgs) {
      if (!want[k]) { map.removeChild(imgs[k]); delete imgs[k]; }
    }
    status.textContent = cfg.title + " — z" + z;
  }

  function zoomTo(nz, fx, fy) {
    nz = Math.max(cfg.minzoom, Math.min(cfg.maxzoom, nz));
    if (nz === z) return;
    var W = map.clientWidth, H = map.clientHeight, ts = tileSize();
    // keep the point under (fx, fy) fixed
    var px = cx + (fx - W / 2) / ts[0], py = cy + (fy - H / 2) / ts[1];
    var om = cfg.matrices[z], nm = cfg.matrices[nz];
    var sx = nm[0] / om[0], sy = nm[1] / om[1];
    z = nz;
    var nts = tileSize();
    cx = px * sx - (fx - W / 2) / nts[0];
    cy = py * sy - (fy - H / 2) / nts[1];
    render();
  }

  var drag = null;
  map.addEventListener("pointerdown", function (e) { drag = [e.clientX, e.clientY]; map.setPointerCapture(e.pointerId); });
  map.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var ts = tileSize();
    cx -= (e.clientX - drag[0]) / ts[0];
    cy -= (e.clientY - drag[1]) / ts[1];
    drag = [e.clientX, e.clientY];
    render();
  });
  map.addEventListener("pointerup", function () { drag = null; });
  map.addEventListener("wheel", function (e) { e.preventDefault(); zoomTo(z + (e.deltaY < 0 ? 1 : -1), e.offsetX, e.offsetY); }, { passive: false });
  document.getElementById("zin").onclick = function () { zoomTo(z + 1, map.clientWidth / 2, map.clientHeight / 2); };
  document.getElementById("zout").onclick = function () { zoomTo(z - 1, map.clientWidth / 2, map.clientHeight / 2); };
  window.addEventListener("resize", render);
  render();
})();
