/* A pointer drag of the lr or μ slider, drawn frame by frame (callbacks/drag.py).
 *
 * While the pointer drags a slider marked data-drag, Dash hears nothing from it
 * (updatemode "mouseup"); each new thumb position is asked of /_drag/paths, one request
 * in flight and the newest position next (positions passed over are dropped), and the
 * answer's paths go straight into the map (Plotly.animate on the path traces alone), at
 * most once a frame. The loss curves follow at a lower rate. On release Dash runs the
 * race callback once with the final value, which draws everything, exactly.
 * Nothing here computes a race. */
(function () {
  "use strict";

  const ROUTE = "/_drag/paths";
  const LOSS_INTERVAL_MS = 150;  // the loss plot's redraw (~25 ms) at most this often
  let session = null;
  let sessions = 0;

  function plot(selector) {
    return document.querySelector(selector + " .js-plotly-plot");
  }

  /* {dtype: "f4" or "f8", bdata: base64} → Float32Array or Float64Array; other values
   * as they are. */
  function decoded(value) {
    if (!value || typeof value !== "object" || (value.dtype !== "f4" && value.dtype !== "f8")) {
      return value;
    }
    const text = window.atob(value.bdata);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return value.dtype === "f8" ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
  }

  /* {"marker.symbol": v} → {marker: {symbol: v}}, decoded. */
  function nested(attributes) {
    const out = {};
    Object.keys(attributes).forEach(function (name) {
      const parts = name.split(".");
      let target = out;
      parts.slice(0, -1).forEach(function (part) {
        target = target[part] = target[part] || {};
      });
      target[parts[parts.length - 1]] = decoded(attributes[name]);
    });
    return out;
  }

  /* Plotly's trace group (SVG <g>) of each trace index of ``gd``. */
  function traceGroups(gd) {
    const groups = {};
    gd.querySelectorAll(".scatterlayer .trace").forEach(function (g) {
      const cd = g.__data__;
      if (cd && cd[0] && cd[0].trace) groups[cd[0].trace.index] = g;
    });
    return groups;
  }

  /* The paths and the end markers written straight into the SVG Plotly drew (~1 ms;
   * Plotly.animate takes 20–40 ms a frame, mostly in its defaults and calc): a frame of
   * lines only whose end markers keep their symbols. Plotly's data stays as it was until
   * the release's update redraws the map through Plotly. False: draw through Plotly. */
  function drawDirect(gd, frame) {
    const layout = gd._fullLayout;
    const meta = layout && layout.meta && layout.meta.traces;
    if (!meta || !layout.xaxis || !layout.yaxis) return false;
    const xa = layout.xaxis, ya = layout.yaxis;
    const groups = traceGroups(gd);
    const paths = meta.paths.concat(meta.grad_points || []);  // Schedule-Free's thin paths
    const lines = paths.map(function (i) {
      return groups[i] && frame.traces[i] && frame.traces[i].mode === "lines" &&
        groups[i].querySelector(".js-line");
    });
    const ends = frame.traces[meta.ends];
    const marks = groups[meta.ends] ? groups[meta.ends].querySelectorAll("path.point") : [];
    const symbols = (gd._fullData[meta.ends] || {}).marker;
    if (lines.some(function (line) { return !line; }) || !ends ||
        marks.length !== ends["marker.symbol"].length || !symbols ||
        ends["marker.symbol"].some(function (symbol, k) {
          return symbol !== [].concat(symbols.symbol)[k];
        })) {
      return false;
    }
    paths.forEach(function (i, k) {
      const x = decoded(frame.traces[i].x), y = decoded(frame.traces[i].y);
      lines[k].setAttribute("d", pathData(xa, ya, x, y, x.length));
    });
    const ex = decoded(ends.x), ey = decoded(ends.y);
    marks.forEach(function (mark, k) { moveMark(mark, xa, ya, ex[k], ey[k]); });
    return true;
  }

  /* Pixels of data coordinates, kept within what SVG draws (a runaway point would not). */
  function clamp(v) { return Math.max(-1e6, Math.min(1e6, v)); }

  /* An SVG path's ``d`` through the first ``n`` points (x, y) on the axes xa, ya; with
   * ``ends`` (an array of n), ends[m] is the length of the ``d`` through point m, so
   * ``d.slice(0, ends[m])`` is the path to point m (the scrubber's, assets/scrub.js). */
  function pathData(xa, ya, x, y, n, ends) {
    let d = "";
    for (let m = 0; m < n; m++) {
      d += (m ? "L" : "M") + clamp(xa.c2p(x[m])).toFixed(1) + "," + clamp(ya.c2p(y[m])).toFixed(1);
      if (ends) ends[m] = d.length;
    }
    return d;
  }

  /* A marker Plotly drew (a path.point) moved to (x, y). */
  function moveMark(mark, xa, ya, x, y) {
    mark.setAttribute("transform", "translate(" + clamp(xa.c2p(x)).toFixed(1) + "," +
                      clamp(ya.c2p(y)).toFixed(1) + ")");
  }

  /* The direct SVG drawing, shared with the step scrubber (assets/scrub.js). */
  window.optimizerRaceSvg = { plot: plot, decoded: decoded, traceGroups: traceGroups,
                              pathData: pathData, moveMark: moveMark, clamp: clamp };

  function draw(s) {
    const frame = s.latest;
    s.latest = null;
    const gd = plot("#race-graph");
    if (!frame || !gd || !window.Plotly || s !== session) return;
    if (!drawDirect(gd, frame)) {
      const indices = Object.keys(frame.traces).map(Number);
      const data = indices.map(function (i) { return nested(frame.traces[i]); });
      s.drawing = true;
      window.Plotly.animate(gd, { data: data, traces: indices }, {
        mode: "immediate", frame: { duration: 0, redraw: false }, transition: { duration: 0 },
      }).catch(function () { return null; }).then(function () {
        s.drawing = false;
        if (s.latest) schedule(s);
      });
    }
    if (s.box) s.box.value = String(frame.value);  // the number, with its paths
    const loss = plot("#loss-graph");
    if (loss && frame.loss && Array.isArray(frame.loss.y)) {  // figures.py loss_curves
      const update = { y: frame.loss.y.map(decoded) };
      if (Array.isArray(frame.loss.x)) update.x = frame.loss.x.map(decoded);  // evaluations
      window.Plotly.restyle(loss, update, frame.loss.y.map(function (_, i) { return i; }));
    }
  }

  function schedule(s) {
    if (s.frameRequested || s.drawing) return;
    s.frameRequested = true;
    window.requestAnimationFrame(function () {
      s.frameRequested = false;
      draw(s);
    });
  }

  /* The map's axis ranges and plot size in pixels, for the paths' decimation. */
  function view() {
    const gd = plot("#race-graph");
    const layout = gd && gd._fullLayout;
    if (!layout || !layout.xaxis || !layout.yaxis) return "";
    const x = layout.xaxis.range, y = layout.yaxis.range;
    return [x[0], x[1], y[0], y[1], layout.xaxis._length, layout.yaxis._length]
      .map(function (v) { return Number(v).toPrecision(8); }).join(",");
  }

  function ask(s) {
    if (s.inflight || s.wanted === null || s.wanted === s.asked) return;
    const position = s.wanted;
    s.asked = position;
    s.inflight = true;
    const wantLoss = window.performance.now() - s.lossAsked >= LOSS_INTERVAL_MS;
    if (wantLoss) s.lossAsked = window.performance.now();
    const url = ROUTE + "?q=" + encodeURIComponent(s.query) + "&name=" +
      encodeURIComponent(s.name) + "&position=" + encodeURIComponent(position) +
      "&view=" + view() + (wantLoss ? "&loss=1" : "");
    window.fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).catch(function () { return null; }).then(function (frame) {
      s.inflight = false;
      if (s !== session) return;  // released: Dash draws the final race
      if (frame && frame.traces) {
        s.latest = frame;
        schedule(s);
      }
      ask(s);  // the newest position, if the pointer moved on meanwhile
    });
  }

  function start(box) {
    const thumb = box.querySelector("[role=slider]");
    if (!thumb) return;
    const s = {
      id: ++sessions, name: box.getAttribute("data-drag"), query: window.location.search,
      wanted: null, asked: null, inflight: false, latest: null, drawing: false,
      frameRequested: false, lossAsked: -Infinity,
      box: box.closest(".slider-row") && box.closest(".slider-row").querySelector("input"),
    };
    s.observer = new MutationObserver(function () {
      const value = thumb.getAttribute("aria-valuenow");
      if (value === null || value === "" || s !== session) return;
      s.wanted = value;
      ask(s);
    });
    s.observer.observe(thumb, { attributes: true, attributeFilter: ["aria-valuenow"] });
    session = s;
  }

  function stop() {
    if (!session) return;
    session.observer.disconnect();
    session = null;
  }

  document.addEventListener("pointerdown", function (event) {
    const box = event.target && event.target.closest && event.target.closest("[data-drag]");
    stop();
    if (box && event.button === 0) start(box);
  }, true);
  document.addEventListener("pointerup", stop, true);
  document.addEventListener("pointercancel", stop, true);
})();
