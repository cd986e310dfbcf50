package plots

// surfaceHTML is the page of a Surface; {{TITLE}} and {{SUBTITLE}} are
// HTML-escaped text, {{DATA}} the JSON of a surfacePage (encoding/json
// escapes "<", so it cannot close the script element), {{SCRIPT}} is
// surfaceScript. Only system fonts are named, so nothing is fetched.
const surfaceHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{TITLE}}</title>
<style>
html,body{margin:0;height:100%;background:#fff;color:#1f2328;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",Arial,sans-serif}
body{display:flex;flex-direction:column}
header{padding:10px 16px 0}
h1{font-size:17px;margin:0 0 2px}
header p{margin:0;color:#59636e}
#wrap{position:relative;flex:1;min-height:320px}
canvas{position:absolute;left:0;top:0;width:100%;height:100%;cursor:grab;touch-action:none;outline:none}
canvas.drag{cursor:grabbing}
#tip{position:absolute;pointer-events:none;display:none;background:rgba(255,255,255,.96);border:1px solid #c9d1d9;border-radius:4px;padding:4px 8px;font-size:12px;white-space:nowrap;box-shadow:0 1px 4px rgba(0,0,0,.15)}
#tip b{font-weight:600}
</style></head><body>
<header><h1>{{TITLE}}</h1><p>{{SUBTITLE}}</p><p>Drag (or arrow keys) to rotate · wheel (or +/−) to zoom · double-click to reset · hover for values</p></header>
<div id="wrap"><canvas id="plot" tabindex="0" aria-label="{{TITLE}}: 3-D surface"></canvas><div id="tip"></div></div>
<script id="surface-data" type="application/json">{{DATA}}</script>
<script>{{SCRIPT}}</script>
</body></html>
`

// surfaceScript draws the surface on a 2-D canvas: an orthographic
// projection turned by azimuth and elevation, polygons sorted back to
// front (the painter's algorithm, exact enough for a height field), back
// walls with grid lines like a printed 3-D plot, and a colour bar.
const surfaceScript = `"use strict";
(function () {
  const D = JSON.parse(document.getElementById("surface-data").textContent);
  const cv = document.getElementById("plot"), tip = document.getElementById("tip");
  // The scene is drawn off screen and copied, so that hovering redraws
  // only its ring, not the whole mesh.
  const screen = cv.getContext("2d"), scene = document.createElement("canvas"), ctx = scene.getContext("2d");
  const nx = D.x.pos.length, ny = D.y.pos.length, OK = 2, FAILED = 1;
  const H = 0.7; // half-height of the box; its floor is 2 x 2
  const span = D.zmax - D.zmin;
  const zOf = v => ((v - D.zmin) / span * 2 - 1) * H;
  const colorOf = v => {
    const i = Math.max(0, Math.min(255, Math.round((v - D.zmin) / span * 255)));
    return "#" + D.colors.substr(6 * i, 6);
  };
  const font = getComputedStyle(document.body).fontFamily;

  // Grid points in box coordinates; failed points sit on the floor.
  const V = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const k = j * nx + i, s = D.state[k];
      V.push({ x: D.x.pos[i], y: D.y.pos[j], z: s === OK ? zOf(D.val[k]) : -H, s: s, k: k, i: i, j: j });
    }
  }

  // Mesh over every step-th level (and the last): a polygon per square
  // with three or four values, a segment for neighbours no polygon joins,
  // a dot for a point with no neighbour.
  function mesh(step) {
    const xi = [], yi = [];
    for (let i = 0; i < nx; i += step) xi.push(i);
    for (let j = 0; j < ny; j += step) yi.push(j);
    if (xi[xi.length - 1] !== nx - 1) xi.push(nx - 1);
    if (yi[yi.length - 1] !== ny - 1) yi.push(ny - 1);
    const at = (a, b) => yi[b] * nx + xi[a];
    const ok = (a, b) => a < xi.length && b < yi.length && V[at(a, b)].s === OK;
    const out = [], used = new Set(), edges = new Set();
    for (let b = 0; b + 1 < yi.length; b++) {
      for (let a = 0; a + 1 < xi.length; a++) {
        const c = [[a, b], [a + 1, b], [a + 1, b + 1], [a, b + 1]].filter(p => ok(p[0], p[1])).map(p => at(p[0], p[1]));
        if (c.length < 3) continue;
        out.push({ v: c, color: colorOf(c.reduce((s, k) => s + D.val[k], 0) / c.length) });
        c.forEach((k, n) => { used.add(k); edges.add(Math.min(k, c[(n + 1) % c.length]) + "-" + Math.max(k, c[(n + 1) % c.length])); });
      }
    }
    for (let b = 0; b < yi.length; b++) {
      for (let a = 0; a < xi.length; a++) {
        if (!ok(a, b)) continue;
        const k = at(a, b);
        for (const [a2, b2] of [[a + 1, b], [a, b + 1]]) {
          if (!ok(a2, b2)) continue;
          const m = at(a2, b2);
          if (!edges.has(k + "-" + m)) {
            out.push({ v: [k, m], color: colorOf((D.val[k] + D.val[m]) / 2) });
            used.add(k); used.add(m);
          }
        }
        if (!used.has(k)) out.push({ v: [k], color: colorOf(D.val[k]) }); // every neighbour is done by now
      }
    }
    return out;
  }
  // A large grid is drawn coarser while the view moves, in full at rest.
  const full = mesh(1), coarse = nx * ny > 2500 ? mesh(Math.ceil(Math.sqrt(nx * ny / 2500))) : full;
  const fails = V.filter(p => p.s === FAILED);

  const home = { az: -0.62, el: 0.52, zoom: 1 };
  let view = Object.assign({}, home), W = 0, Ht = 0, hover = -1;

  // Screen position and depth (larger is farther) of a box point.
  let cx = 0, cy = 0, scale = 1;
  function proj(x, y, z) {
    const ca = Math.cos(view.az), sa = Math.sin(view.az), ce = Math.cos(view.el), se = Math.sin(view.el);
    const x1 = x * ca - y * sa, y1 = x * sa + y * ca;
    return [cx + x1 * scale, cy - (z * ce + y1 * se) * scale, y1 * ce - z * se];
  }

  function resize() {
    const r = cv.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    W = r.width; Ht = r.height;
    cv.width = scene.width = Math.round(W * dpr); cv.height = scene.height = Math.round(Ht * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    screen.setTransform(dpr, 0, 0, dpr, 0, 0);
    draw(full);
  }

  function poly(pts, fill, stroke, width) {
    ctx.beginPath();
    pts.forEach((p, n) => n ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1]));
    ctx.closePath();
    if (fill) { ctx.fillStyle = fill; ctx.fill(); }
    if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = width; ctx.stroke(); }
  }
  function line(a, b, color, width) {
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]);
    ctx.strokeStyle = color; ctx.lineWidth = width; ctx.stroke();
  }

  // The labels of an axis that clear the last one kept, so that they
  // never overlap at any angle; grid lines follow the labels kept.
  function thin(items, align) {
    ctx.font = "12px " + font;
    const kept = [];
    let last = null;
    for (const it of items) {
      const w = ctx.measureText(it.t).width + 6, h = 16;
      const x0 = align === "right" ? it.p[0] - w : align === "center" ? it.p[0] - w / 2 : it.p[0];
      const box = [x0, it.p[1] - h / 2, x0 + w, it.p[1] + h / 2];
      if (last && box[0] < last[2] && last[0] < box[2] && box[1] < last[3] && last[1] < box[3]) continue;
      kept.push(it);
      last = box;
    }
    return kept;
  }
  function labels(items, align) {
    ctx.font = "12px " + font; ctx.fillStyle = "#1f2328"; ctx.textAlign = align; ctx.textBaseline = "middle";
    for (const it of items) ctx.fillText(it.t, it.p[0], it.p[1]);
  }
  function title(text, p, angle) {
    ctx.save(); ctx.translate(p[0], p[1]); ctx.rotate(angle);
    ctx.font = "600 13px " + font; ctx.fillStyle = "#1f2328"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(text, 0, 0); ctx.restore();
  }
  // Angle of the screen direction from a to b, turned to read left to right.
  function readable(a, b) {
    let t = Math.atan2(b[1] - a[1], b[0] - a[0]);
    if (t > Math.PI / 2) t -= Math.PI;
    if (t < -Math.PI / 2) t += Math.PI;
    return t;
  }

  // draw renders the scene with the given mesh and shows it.
  function draw(prims) {
    const barW = 86, plotW = Math.max(W - barW, 100);
    cx = plotW / 2; cy = Ht / 2 + 10;
    scale = view.zoom * Math.min(plotW / 3.7, Ht / 3.4);
    ctx.clearRect(0, 0, W, Ht);

    // Back walls: the x and y sides farther from the eye. Level labels go
    // outside the front edges, the vertical axis on the left silhouette.
    const xw = proj(1, 0, 0)[2] > proj(-1, 0, 0)[2] ? 1 : -1;
    const yw = proj(0, 1, 0)[2] > proj(0, -1, 0)[2] ? 1 : -1;
    const yn = -yw, xn = -xw, out = 1.2;
    const xl = thin(D.x.pos.map((x, n) => ({ v: x, p: proj(x, yn * out, -H), t: D.x.labels[n] })), "center");
    const yl = thin(D.y.pos.map((y, n) => ({ v: y, p: proj(xn * out, y, -H), t: D.y.labels[n] })), "center");
    const c1 = proj(xn, yw, -H), c2 = proj(xw, yn, -H);
    const zc = c1[0] < c2[0] ? [xn, yw] : [xw, yn];
    const zl = thin(D.zticks.map(t => { const s = proj(zc[0], zc[1], zOf(t.v)); return { v: zOf(t.v), p: [s[0] - 10, s[1]], t: t.l }; }).reverse(), "right");

    const wall = "#f3f5f7", grid = "#d4dae0", edge = "#8c959f";
    poly([proj(-1, -1, -H), proj(1, -1, -H), proj(1, 1, -H), proj(-1, 1, -H)], wall, edge, 1);
    poly([proj(xw, -1, -H), proj(xw, 1, -H), proj(xw, 1, H), proj(xw, -1, H)], wall, edge, 1);
    poly([proj(-1, yw, -H), proj(1, yw, -H), proj(1, yw, H), proj(-1, yw, H)], wall, edge, 1);
    for (const { v: x } of xl) { line(proj(x, -1, -H), proj(x, 1, -H), grid, 1); line(proj(x, yw, -H), proj(x, yw, H), grid, 1); }
    for (const { v: y } of yl) { line(proj(-1, y, -H), proj(1, y, -H), grid, 1); line(proj(xw, y, -H), proj(xw, y, H), grid, 1); }
    for (const { v: z } of zl) { line(proj(xw, -1, z), proj(xw, 1, z), grid, 1); line(proj(-1, yw, z), proj(1, yw, z), grid, 1); }

    // Failed points: grey crosses on the floor, under the surface.
    for (const p of fails) {
      const s = proj(p.x, p.y, -H);
      line([s[0] - 4, s[1] - 4], [s[0] + 4, s[1] + 4], "#6e7781", 1.6);
      line([s[0] - 4, s[1] + 4], [s[0] + 4, s[1] - 4], "#6e7781", 1.6);
    }

    // The surface, back to front.
    const P = V.map(p => proj(p.x, p.y, p.z));
    const dense = nx * ny > 900; // mesh lines would hide a fine grid's colours
    const items = prims.map(o => ({ o: o, d: o.v.reduce((a, k) => a + P[k][2], 0) / o.v.length }));
    items.sort((a, b) => b.d - a.d);
    for (const { o } of items) {
      const pts = o.v.map(k => P[k]);
      if (pts.length >= 3) poly(pts, o.color, dense ? o.color : "rgba(25,25,25,.38)", dense ? 0.6 : 0.7);
      else if (pts.length === 2) line(pts[0], pts[1], o.color, 3);
      else { ctx.beginPath(); ctx.arc(pts[0][0], pts[0][1], 4, 0, 2 * Math.PI); ctx.fillStyle = o.color; ctx.fill(); ctx.strokeStyle = "#333"; ctx.lineWidth = 0.8; ctx.stroke(); }
    }
    if (D.best >= 0) ring(ctx, D.best, 7);

    labels(xl, "center");
    labels(yl, "center");
    title(D.x.name, proj(0, yn * 1.45, -H), readable(proj(-1, yn, -H), proj(1, yn, -H)));
    title(D.y.name, proj(xn * 1.45, 0, -H), readable(proj(xn, -1, -H), proj(xn, 1, -H)));
    for (const t of zl) line([t.p[0] + 4, t.p[1]], [t.p[0] + 9, t.p[1]], edge, 1);
    labels(zl, "right");
    ctx.font = "12px " + font;
    const zw = Math.max(...D.zticks.map(t => ctx.measureText(t.l).width));
    const zb = proj(zc[0], zc[1], -H), zt = proj(zc[0], zc[1], H);
    title(D.metric, [Math.min(zb[0], zt[0]) - 22 - zw, (zb[1] + zt[1]) / 2], -Math.PI / 2);

    // Colour bar.
    const bx = W - barW + 14, bh = Math.min(Ht * 0.6, 320), by = (Ht - bh) / 2;
    for (let i = 0; i < 256; i++) {
      ctx.fillStyle = "#" + D.colors.substr(6 * i, 6);
      ctx.fillRect(bx, by + bh - (i + 1) * bh / 256, 14, bh / 256 + 0.6);
    }
    ctx.strokeStyle = "#1f2328"; ctx.lineWidth = 0.8; ctx.strokeRect(bx, by, 14, bh);
    const bl = thin(D.zticks.map(t => ({ p: [bx + 19, by + bh - (t.v - D.zmin) / span * bh], t: t.l })), "left");
    for (const t of bl) line([bx + 14, t.p[1]], [bx + 17, t.p[1]], "#1f2328", 0.8);
    labels(bl, "left");
    show();
  }
  function ring(c, k, r) {
    const s = proj(V[k].x, V[k].y, V[k].z);
    for (const [col, w] of [["#fff", 4], ["#000", 1.8]]) { c.beginPath(); c.arc(s[0], s[1], r, 0, 2 * Math.PI); c.strokeStyle = col; c.lineWidth = w; c.stroke(); }
  }
  // show copies the scene to the screen and rings the point under the pointer.
  function show() {
    screen.save(); screen.setTransform(1, 0, 0, 1, 0, 0); screen.clearRect(0, 0, cv.width, cv.height); screen.drawImage(scene, 0, 0); screen.restore();
    if (hover >= 0) ring(screen, hover, 5);
  }
  // redraw coalesces view changes into one frame, with the coarse mesh
  // and the full one a moment after the view comes to rest.
  let frame = 0, rest = 0;
  function redraw() {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(coarse); });
    if (coarse !== full) { clearTimeout(rest); rest = setTimeout(() => draw(full), 250); }
  }

  // Tooltip for the grid point nearest the pointer, the front one on ties.
  function pick(mx, my) {
    let best = -1, bd = 24 * 24, bz = Infinity;
    for (const p of V) {
      if (p.s !== OK && p.s !== FAILED) continue;
      const s = proj(p.x, p.y, p.z), d = (s[0] - mx) ** 2 + (s[1] - my) ** 2;
      if (d < bd - 1e-6 || (Math.abs(d - bd) <= 1e-6 && s[2] < bz)) { best = p.k; bd = d; bz = s[2]; }
    }
    return best;
  }
  function showTip(k, mx, my) {
    tip.replaceChildren();
    const rows = [[D.metric, D.note[k]], [D.x.name, D.x.labels[k % nx]], [D.y.name, D.y.labels[Math.floor(k / nx)]]];
    rows.forEach(([a, b], n) => {
      if (n) tip.appendChild(document.createElement("br"));
      const t = document.createElement("b"); t.textContent = a + " = "; tip.appendChild(t);
      tip.appendChild(document.createTextNode(b));
    });
    if (k === D.best) { tip.appendChild(document.createElement("br")); tip.appendChild(document.createTextNode("best")); }
    tip.style.display = "block";
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.min(mx + 14, W - w - 4) + "px";
    tip.style.top = Math.max(my - h - 10, 4) + "px";
  }

  let drag = null;
  cv.addEventListener("pointerdown", e => { drag = [e.clientX, e.clientY]; cv.setPointerCapture(e.pointerId); cv.classList.add("drag"); cv.focus(); });
  cv.addEventListener("pointerup", e => { drag = null; cv.releasePointerCapture(e.pointerId); cv.classList.remove("drag"); });
  cv.addEventListener("pointermove", e => {
    const r = cv.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
    if (drag) {
      rotate((e.clientX - drag[0]) * 0.01, (e.clientY - drag[1]) * 0.01);
      drag = [e.clientX, e.clientY];
      tip.style.display = "none"; hover = -1; redraw();
      return;
    }
    const k = pick(mx, my);
    if (k !== hover) { hover = k; show(); }
    if (k >= 0) showTip(k, mx, my); else tip.style.display = "none";
  });
  cv.addEventListener("pointerleave", () => { if (!drag) { hover = -1; tip.style.display = "none"; show(); } });
  cv.addEventListener("wheel", e => { e.preventDefault(); zoom(Math.exp(-e.deltaY * 0.0015)); }, { passive: false });
  cv.addEventListener("dblclick", () => { view = Object.assign({}, home); redraw(); });
  cv.addEventListener("keydown", e => {
    const k = { ArrowLeft: [-0.08, 0], ArrowRight: [0.08, 0], ArrowUp: [0, -0.06], ArrowDown: [0, 0.06] }[e.key];
    if (k) rotate(k[0], k[1]);
    else if (e.key === "+" || e.key === "=") zoom(1.1);
    else if (e.key === "-") zoom(1 / 1.1);
    else return;
    e.preventDefault(); redraw();
  });
  // The eye stays above the floor, so that the walls are always behind.
  function rotate(daz, del) {
    view.az -= daz;
    view.el = Math.max(0.05, Math.min(Math.PI / 2 - 0.01, view.el + del));
  }
  function zoom(f) { view.zoom = Math.max(0.4, Math.min(5, view.zoom * f)); redraw(); }
  window.addEventListener("resize", resize);
  resize();
})();
`
