/* The step scrubber: the race drawn at step k, in the browser (layouts/scrub.py).
 *
 * The race callback sends each race's points once (the scrub store, figures.scrub_data);
 * scrubbing and playing draw from it, with no request: each path is written up to step k
 * straight into the SVG Plotly drew (assets/drag.js's helpers, ~1 ms for 8 × 1000
 * points, where Plotly.restyle takes tens of ms), a marker at each run's point k (a
 * diverged run's stays at its last finite step), a vertical line at k over the loss plot
 * and the leaderboard's loss at k. The address holds ``step=k`` (not at the end). When
 * the race changes the step stays if the new race has it. Keys (focus outside a text
 * box or another slider): space plays or pauses, ← → a step, Home / End.
 * Nothing here computes a race. */
(function () {
  "use strict";

  const SLIDER = "step-slider", PLAY = "play-button", SPEED = "play-speed-select";
  const READOUT = "step-readout", MECHANISM = "mechanism-toggle";
  const URL_WRITE_MS = 250;  // the address follows a scrub at most this often
  const scrub = {
    data: null,      // the store's value, its arrays decoded
    step: null,      // null: the race's end (it follows the race's steps)
    pending: undefined,  // a step a link or Back asked for, until the race is there
    playing: false, carry: 0, lastTime: 0, urlTimer: null,
    mechanism: null,  // the arrows' and the walkthrough's data (decodeMechanism)
  };
  window.optimizerRaceScrub = scrub;  // for the tests and the benchmark

  function svg() { return window.optimizerRaceSvg; }

  function steps() { return scrub.data ? scrub.data.steps : 0; }

  function current() { return scrub.step === null ? steps() : scrub.step; }

  function decodeRuns(data) {
    const decoded = svg().decoded;
    return Object.assign({}, data, {
      runs: data.runs.map(function (run) {
        return Object.assign({}, run, { x: decoded(run.x), y: decoded(run.y),
                                        loss: decoded(run.loss),
                                        evals: run.evals ? decoded(run.evals) : null });
      }),
    });
  }

  /* Each run's whole drawn path in pixels, once per race and view: a frame's path to
   * step k is a prefix of it (no string built per frame: 8 × 1000 points otherwise cost
   * a few ms a frame). A runaway path is drawn to where it leaves the map, then the edge
   * point, as the figure draws it. */
  function pixelPaths(xa, ya) {
    const view = [xa.range, ya.range, xa._length, ya._length].join();
    if (scrub.pixels && scrub.pixels.view === view && scrub.pixels.data === scrub.data) {
      return scrub.pixels.runs;
    }
    const runs = scrub.data.runs.map(function (run) {
      const ends = new Array(run.shared);
      let d = svg().pathData(xa, ya, run.x, run.y, run.shared, ends);
      if (run.edge) {
        d += "L" + svg().clamp(xa.c2p(run.edge[0])).toFixed(1) + "," +
          svg().clamp(ya.c2p(run.edge[1])).toFixed(1);
      }
      return { d: d, ends: ends };
    });
    scrub.pixels = { view: view, data: scrub.data, runs: runs };
    return runs;
  }

  /* Each run's path through step k, and its marker at step k. */
  function drawPaths(gd, groups, meta, k) {
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const pixels = pixelPaths(xa, ya);
    scrub.data.runs.forEach(function (run, i) {
      const g = groups[meta.paths[i]];
      const line = g && g.querySelector(".js-line");
      if (!line) return;
      const path = pixels[i];
      line.setAttribute("d", k < run.shared ? path.d.slice(0, path.ends[k]) : path.d);
      const dots = g.querySelectorAll(".points path.point");  // while a race has few points
      for (let m = 0; m < dots.length; m++) dots[m].style.display = m > k ? "none" : "";
    });
    const group = groups[meta.at_step];
    if (!group) return;
    const atEnd = k >= steps();
    group.style.display = atEnd ? "none" : "";
    group.querySelectorAll("path.point").forEach(function (mark, i) {
      const run = scrub.data.runs[i];
      if (!run) return;
      const m = Math.min(k, run.x.length - 1);  // a diverged run's last finite step
      if (run.edge && m >= run.shared) {  // past where its path leaves the map: its cross
        svg().moveMark(mark, xa, ya, run.edge[0], run.edge[1]);
      } else {
        svg().moveMark(mark, xa, ya, run.x[m], run.y[m]);
      }
    });
  }

  /* Step k on the loss plot's x axis: k, or on the evaluations axis the evaluations of
   * f and ∇f made to reach step k. Runs differ there (L-BFGS makes several a step): the
   * line follows the run that makes the most, whose curve spans the axis (a run that
   * stopped early keeps its last). */
  function lossX(k) {
    const runs = (scrub.data ? scrub.data.runs : []).filter(function (r) { return r.evals; });
    if (!runs.length) return k;
    const last = function (r) { return r.evals[r.evals.length - 1]; };
    const run = runs.reduce(function (a, b) { return last(b) > last(a) ? b : a; });
    return run.evals[Math.min(k, run.evals.length - 1)];
  }

  /* The loss plot's vertical line at step k (a div over the plot: no Plotly relayout). */
  function drawLossLine(k) {
    const gd = svg().plot("#loss-graph");
    const layout = gd && gd._fullLayout;
    if (!layout || !layout.xaxis || !layout.yaxis) return;
    let line = gd.parentElement.querySelector(".step-line");
    if (!line) {
      line = document.createElement("div");
      line.className = "step-line";
      gd.parentElement.appendChild(line);
    }
    const xa = layout.xaxis, ya = layout.yaxis;
    const left = xa._offset + xa.c2p(lossX(k));
    const visible = k < steps() && left >= xa._offset && left <= xa._offset + xa._length;
    line.style.display = visible ? "block" : "none";
    line.style.left = left.toFixed(1) + "px";
    line.style.top = ya._offset + "px";
    line.style.height = ya._length + "px";
  }

  /* As layouts/race.py ``_fmt`` writes a number. */
  function formatted(value, digits) {
    if (!Number.isFinite(value)) return "—";
    if (value === 0) return "0";
    const a = Math.abs(value);
    if (a >= 1e-3 && a < 1e4) return String(Number(value.toPrecision(digits)));
    return value.toExponential(Math.max(digits - 2, 0)).replace(/e([+-])(\d)$/, "e$10$2");
  }

  /* The leaderboard's loss and f − f* cells read at step k (their own text at the end). */
  function drawBoard(k) {
    const board = document.getElementById("leaderboard");
    if (!board || !scrub.data) return;
    const atEnd = k >= steps();
    const title = function (cls, end, at) {
      const cell = board.querySelector("." + cls);
      if (cell) cell.textContent = atEnd ? end : at + " at step " + k;
    };
    title("board-loss-title", "final loss", "loss");
    title("board-gap-title", "final f − f*", "f − f*");
    scrub.data.runs.forEach(function (run) {
      const loss = board.querySelector(".board-loss-" + run.optimizer);
      const gap = board.querySelector(".board-gap-" + run.optimizer);
      [loss, gap].forEach(function (cell) {
        if (cell && cell.dataset.end === undefined) cell.dataset.end = cell.textContent;
      });
      const m = Math.min(k, run.loss.length - 1);
      const stopped = k > run.loss.length - 1 ? " (diverged)" : "";
      if (loss) {
        loss.textContent = atEnd ? loss.dataset.end
          : formatted(run.loss[m] + scrub.data.f_min, 4) + stopped;
      }
      if (gap) gap.textContent = atEnd ? gap.dataset.end : formatted(run.loss[m], 3) + stopped;
    });
  }

  /* --- inside a step: the mechanism arrows and the walkthrough (callbacks/mechanism.py) --- */

  const SVG_NS = "http://www.w3.org/2000/svg";
  const MIN_ARROW_PX = 4;  // shorter: drawn as a dot, and the hover says so
  const ARROW_STYLES = {  // stroke dash and width of each kind of arrow
    gradient_step: { dash: "5 3", width: 1.8 }, momentum_carry: { dash: "1.5 3", width: 2.2 },
    step: { dash: "", width: 2.6 }, torch_step: { dash: "", width: 1.2 },
  };

  function decodeMechanism(store) {
    const decoded = svg().decoded;
    const pairs = function (typed) { return typed ? decoded(typed) : null; };
    const runs = store.runs && store.runs.map(function (run) {
      const points = {}, arrows = {};
      Object.keys(run.points).forEach(function (name) { points[name] = pairs(run.points[name]); });
      Object.keys(run.arrows).forEach(function (name) {
        const a = run.arrows[name];
        arrows[name] = { origin: a.origin, toNext: !!a.to_next, vector: pairs(a.vector) };
      });
      return { optimizer: run.optimizer, labels: run.labels, points: points, arrows: arrows,
               stepSize: pairs(run.step_size) };
    });
    const w = store.walkthrough;
    const values = {};
    Object.keys(w.values).forEach(function (c) { values[c] = decoded(w.values[c]); });
    return { query: store.query, runs: runs, walkthrough: Object.assign({}, w, { values: values }) };
  }

  /* Point ``name`` of run i at step k ([x, y]; null where it does not exist). */
  function pointAt(i, name, k) {
    const run = scrub.data.runs[i];
    if (name === "iterate" || name === "lookahead") {  // the path's own points
      return k < run.x.length ? [run.x[k], run.y[k]] : null;
    }
    const p = scrub.mechanism.runs[i].points[name];
    return p && 2 * k + 1 < p.length ? [p[2 * k], p[2 * k + 1]] : null;
  }

  function vectorAt(i, arrow, k) {
    if (arrow.toNext) {
      const a = pointAt(i, arrow.origin, k), b = pointAt(i, arrow.origin, k + 1);
      return a && b ? [b[0] - a[0], b[1] - a[1]] : null;
    }
    const v = arrow.vector;
    return 2 * k + 1 < v.length ? [v[2 * k], v[2 * k + 1]] : null;
  }

  function pair(values, digits) {
    return "(" + formatted(values[0], digits) + ", " + formatted(values[1], digits) + ")";
  }

  /* The segment a→b clipped to [0, w] × [0, h] (Liang–Barsky): [a', b'], or null. */
  function clipped(a, b, w, h) {
    let t0 = 0, t1 = 1;
    const dx = b[0] - a[0], dy = b[1] - a[1];
    const edges = [[-dx, a[0]], [dx, w - a[0]], [-dy, a[1]], [dy, h - a[1]]];
    for (const [p, q] of edges) {
      if (p === 0) { if (q < 0) return null; continue; }
      const t = q / p;
      if (p < 0) { if (t > t1) return null; if (t > t0) t0 = t; }
      else { if (t < t0) return null; if (t < t1) t1 = t; }
    }
    return [[a[0] + t0 * dx, a[1] + t0 * dy], [a[0] + t1 * dx, a[1] + t1 * dy]];
  }

  function svgElement(name, attributes) {
    const element = document.createElementNS(SVG_NS, name);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    return element;
  }

  function mechanismLayer(gd) {
    const host = gd.parentElement;
    let layer = host.querySelector("svg.mechanism-layer");
    if (!layer) {
      layer = svgElement("svg", { class: "mechanism-layer" });
      host.appendChild(layer);
      const tip = document.createElement("div");
      tip.className = "mechanism-hover";
      host.appendChild(tip);
      layer.addEventListener("mouseover", function (event) {
        const text = event.target.getAttribute && event.target.getAttribute("data-hover");
        if (!text) return;
        tip.textContent = text;
        const box = host.getBoundingClientRect();
        tip.style.left = (event.clientX - box.left + 12) + "px";
        tip.style.top = (event.clientY - box.top + 12) + "px";
        tip.style.display = "block";
      });
      layer.addEventListener("mouseout", function () { tip.style.display = "none"; });
    }
    return layer;
  }

  /* Each run's arrows from its point at step k, in its colour; one off the map is cut at
   * the edge, one too short to see is a dot: the hover says which, and its numbers. */
  function drawMechanism(gd, meta, k, show) {
    const layer = mechanismLayer(gd);
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    layer.style.display = show ? "block" : "none";
    if (!show) return;
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const w = xa._length, h = ya._length;
    Object.assign(layer.style, { left: xa._offset + "px", top: ya._offset + "px",
                                 width: w + "px", height: h + "px" });
    const px = function (p) { return [xa.c2p(p[0]), ya.c2p(p[1])]; };
    const inside = function (p) { return p[0] >= 0 && p[0] <= w && p[1] >= 0 && p[1] <= h; };
    scrub.mechanism.runs.forEach(function (run, i) {
      const trace = gd._fullData[meta.paths[i]];
      if (!trace || k >= scrub.data.runs[i].x.length) return;  // diverged before k
      const color = trace.line.color, title = trace.name;
      const heading = title + " · step " + k + "\n";
      const dot = function (at, text, kind) {
        const c = px(at);
        const shown = [Math.max(0, Math.min(w, c[0])), Math.max(0, Math.min(h, c[1]))];
        layer.appendChild(svgElement("circle", {
          cx: shown[0].toFixed(1), cy: shown[1].toFixed(1), r: 3.2, fill: color,
          stroke: color, class: "mechanism-dot", "data-kind": kind,
          "data-optimizer": run.optimizer, "data-hover": heading + text }));
      };
      Object.keys(run.labels).forEach(function (name) {  // the marked points
        if (!(name in run.points) && name !== "lookahead") return;
        const at = pointAt(i, name, k);
        if (!at) return;
        const c = px(at);
        const text = run.labels[name] + "\n" + pair(at, 5) +
          (inside(c) ? "" : "\n(off the map: shown at its edge)");
        layer.appendChild(svgElement("circle", {
          cx: Math.max(0, Math.min(w, c[0])).toFixed(1),
          cy: Math.max(0, Math.min(h, c[1])).toFixed(1), r: name === "lookahead" ? 7 : 4.5,
          fill: "none", stroke: color, "stroke-width": 1.6, class: "mechanism-point",
          "data-kind": name, "data-optimizer": run.optimizer, "data-hover": heading + text }));
      });
      Object.keys(run.arrows).forEach(function (name) {
        const arrow = run.arrows[name];
        const from = pointAt(i, arrow.origin, k), v = vectorAt(i, arrow, k);
        if (!from || !v || !Number.isFinite(v[0]) || !Number.isFinite(v[1])) return;
        let text = run.labels[name] + "\n" + pair(v, 5) + " from " + pair(from, 5);
        if (run.stepSize && (name === "step" || name === "gradient_step") &&
            Number.isFinite(run.stepSize[2 * k])) {
          text += "\neffective step size γ/(√v̂ + ε) per coordinate: " +
            pair([run.stepSize[2 * k], run.stepSize[2 * k + 1]], 4);
        }
        const a = px(from), b = px([from[0] + v[0], from[1] + v[1]]);
        if (!inside(a)) { dot(from, text + "\n(starts off the map: a dot at its edge)", name); return; }
        if (Math.hypot(b[0] - a[0], b[1] - a[1]) < MIN_ARROW_PX) {
          dot(from, text + "\n(too short to draw at this zoom: a dot)", name);
          return;
        }
        const cut = clipped(a, b, w, h);
        const end = cut ? cut[1] : a;
        const isCut = !inside(b);
        if (isCut) text += "\n(runs off the map: cut at its edge)";
        const style = ARROW_STYLES[name] || ARROW_STYLES.step;
        const g = svgElement("g", { class: "mechanism-arrow", "data-kind": name,
                                    "data-optimizer": run.optimizer, "data-cut": isCut });
        g.appendChild(svgElement("line", {
          x1: a[0].toFixed(1), y1: a[1].toFixed(1), x2: end[0].toFixed(1), y2: end[1].toFixed(1),
          stroke: color, "stroke-width": style.width, "stroke-dasharray": style.dash,
          "data-hover": heading + text }));
        if (!isCut) {  // the head: a triangle at the tip
          const angle = Math.atan2(b[1] - a[1], b[0] - a[0]), size = 7;
          const corner = function (turn) {
            return (b[0] - size * Math.cos(angle + turn)).toFixed(1) + "," +
              (b[1] - size * Math.sin(angle + turn)).toFixed(1);
          };
          g.appendChild(svgElement("polygon", {
            points: b[0].toFixed(1) + "," + b[1].toFixed(1) + " " + corner(0.45) + " " +
              corner(-0.45), fill: color, "data-hover": heading + text }));
        }
        layer.appendChild(g);
      });
    });
  }

  function escaped(text) {
    return String(text).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  function firstFive() {
    const box = document.querySelector("#walkthrough-first-steps-toggle input");
    return !!box && box.checked;
  }

  /* The walkthrough's rows k − 2 … k + 2 (or the first five), the step's row marked. */
  function drawWalkthrough(k) {
    const host = document.getElementById("walkthrough-table");
    const w = scrub.mechanism && scrub.mechanism.walkthrough;
    if (!host || !w) return;
    const at = Math.min(k, w.rows - 1);
    const first = firstFive() ? 0 : Math.max(at - 2, 0);
    const last = firstFive() ? Math.min(4, w.rows - 1) : Math.min(at + 2, w.rows - 1);
    const key = [w.optimizer, w.rows, first, last, at, scrub.mechanism.query].join();
    if (host.dataset.drawn === key) return;
    const cell = function (column, row) {
      const values = w.values[column];
      return w.pairs.indexOf(column) >= 0
        ? pair([values[2 * row], values[2 * row + 1]], 5) : formatted(values[row], 5);
    };
    let html = "<table class=\"table walkthrough\" data-optimizer=\"" + escaped(w.optimizer) +
      "\"><caption>" + escaped(w.title) + ", steps " + first + "–" + last + "</caption><thead><tr><th>k</th>" +
      w.columns.map(function (c) { return "<th>" + escaped(w.titles[c]) + "</th>"; }).join("") +
      "</tr><tr class=\"formulas\"><th></th>" +
      w.columns.map(function (c) { return "<th>" + escaped(w.formulas[c]) + "</th>"; }).join("") +
      "</tr></thead><tbody>";
    for (let row = first; row <= last; row++) {
      html += "<tr data-k=\"" + row + "\"" + (row === at ? " class=\"current\"" : "") +
        "><td>" + row + "</td>" +
        w.columns.map(function (c) { return "<td>" + cell(c, row) + "</td>"; }).join("") + "</tr>";
    }
    host.innerHTML = html + "</tbody></table>";
    host.dataset.drawn = key;
  }

  /* The arrows and the table, when their data is this race's. */
  function drawInside(gd, meta, k) {
    const fresh = scrub.mechanism && scrub.mechanism.query === scrub.data.query;
    if (!fresh) return;
    if (gd && meta && scrub.mechanism.runs) {
      drawMechanism(gd, meta, k, scrub.mechanismOn() && !scrub.playing && k < steps());
    }
    drawWalkthrough(k);
  }

  /* Everything that shows step k. */
  function render() {
    if (!scrub.data || !svg()) return;
    const started = window.performance.now();
    const k = current();
    const gd = svg().plot("#race-graph");
    const meta = gd && gd._fullLayout && gd._fullLayout.meta && gd._fullLayout.meta.traces;
    if (meta && gd._fullLayout.xaxis && meta.paths.length === scrub.data.runs.length) {
      drawPaths(gd, svg().traceGroups(gd), meta, k);
      drawInside(gd, meta, k);
    }
    drawLossLine(k);
    drawBoard(k);
    const slider = document.getElementById(SLIDER);
    if (slider) {
      if (Number(slider.max) !== steps()) slider.max = String(steps());
      if (Number(slider.value) !== k) slider.value = String(k);
    }
    const readout = document.getElementById(READOUT);
    if (readout) readout.textContent = "step " + k + " of " + steps();
    document.dispatchEvent(new CustomEvent("optimizer-race-step", {
      detail: { step: k, ms: window.performance.now() - started } }));
  }

  /* The address's ``step=k`` (none at the end), replacing the entry: a scrub is a view. */
  function writeUrl() {
    window.clearTimeout(scrub.urlTimer);
    scrub.urlTimer = window.setTimeout(function () {
      const params = new URLSearchParams(window.location.search);
      if (scrub.step === null) params.delete("step");
      else params.set("step", String(scrub.step));
      const query = params.toString().replace(/%2C/g, ",");
      const search = query ? "?" + query : "";
      if (search !== window.location.search) {
        window.history.replaceState(window.history.state, "", search + window.location.hash);
      }
    }, URL_WRITE_MS);
  }

  function setStep(k, writeAddress) {
    const n = steps();
    const step = Math.max(0, Math.min(n, Math.round(k)));
    scrub.step = step >= n ? null : step;
    render();
    if (writeAddress !== false) writeUrl();
  }

  function speed() {
    const select = document.getElementById(SPEED);
    const value = select ? select.value : "30";
    if (value === "fit") {
      const option = select.querySelector("option[value=fit]");
      return steps() / Number(option.dataset.seconds || 5);
    }
    return Number(value) || 30;
  }

  function showPlaying() {
    const button = document.getElementById(PLAY);
    if (button) button.textContent = scrub.playing ? "❚❚ Pause" : "▶ Play";
    document.documentElement.classList.toggle("race-playing", scrub.playing);
  }

  function tick(now) {
    if (!scrub.playing) return;
    scrub.carry += (now - scrub.lastTime) / 1000 * speed();
    scrub.lastTime = now;
    const advance = Math.floor(scrub.carry);
    if (advance > 0) {
      scrub.carry -= advance;
      setStep(current() + advance, false);
      if (scrub.step === null) { pause(); return; }
    }
    window.requestAnimationFrame(tick);
  }

  function play() {
    if (!scrub.data || scrub.playing) return;
    if (scrub.step === null) setStep(0, false);  // at the end: from the start
    scrub.playing = true;
    scrub.carry = 0;
    scrub.lastTime = window.performance.now();
    showPlaying();
    window.requestAnimationFrame(tick);
  }

  function pause() {
    if (!scrub.playing) return;
    scrub.playing = false;
    showPlaying();
    render();
    writeUrl();
  }

  function toggle() { if (scrub.playing) pause(); else play(); }

  /* A new race (its points), or the step a link asks for ({step: k or null}). */
  function load(data, request) {
    const triggered = (window.dash_clientside.callback_context.triggered || [])
      .map(function (t) { return t.prop_id; });
    if (triggered.indexOf("step-request-store.data") >= 0 && request) {
      scrub.pending = Number.isInteger(request.step) ? request.step : null;
    }
    if (triggered.indexOf("scrub-store.data") >= 0 && data && Array.isArray(data.runs)) {
      scrub.data = decodeRuns(data);
    }
    if (scrub.data) {
      if (scrub.pending !== undefined) {
        scrub.step = scrub.pending;
        scrub.pending = undefined;
      }
      setStep(current(), true);  // a step past the new race's end: its end
    }
    return window.dash_clientside.no_update;
  }

  /* The arrows' and the walkthrough's data (a new race, or the table's optimizer: then
   * the runs' arrows are kept), or the toggles. */
  function loadMechanism(store) {
    const triggered = (window.dash_clientside.callback_context.triggered || [])
      .map(function (t) { return t.prop_id; });
    if (triggered.indexOf("mechanism-store.data") >= 0 && store && store.walkthrough) {
      const next = decodeMechanism(store);
      if (!next.runs && scrub.mechanism && scrub.mechanism.query === next.query) {
        next.runs = scrub.mechanism.runs;
      }
      scrub.mechanism = next;
    }
    render();
    return window.dash_clientside.no_update;
  }

  /* Plotly redrew a plot (a race, a zoom, a resize): the step is drawn again on it. */
  function hook() {
    ["#race-graph", "#loss-graph"].forEach(function (selector) {
      const gd = svg() && svg().plot(selector);
      if (gd && typeof gd.on === "function" && !gd.__optimizerRaceScrub) {
        gd.__optimizerRaceScrub = true;
        gd.on("plotly_afterplot", render);
      }
    });
    const board = document.getElementById("leaderboard");
    if (board && !board.__optimizerRaceScrub) {
      board.__optimizerRaceScrub = true;
      new MutationObserver(function () { if (scrub.step !== null) drawBoard(current()); })
        .observe(board, { childList: true, subtree: false });
    }
  }
  window.setInterval(hook, 400);

  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === SLIDER) {
      if (scrub.playing) pause();
      setStep(Number(event.target.value), true);
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target && event.target.closest && event.target.closest("#" + PLAY)) toggle();
  });

  /* Keys where they do nothing else: not in a text box, a select, a button or another
   * slider (the lr slider's arrows are its own). */
  function keysFree(target) {
    if (!target || target === document.body || !target.closest) return true;
    if (target.id === SLIDER) return true;
    return !target.closest("input, textarea, select, button, [contenteditable], " +
                           "[role=slider], .Select, .dash-dropdown");
  }
  const KEYS = {
    " ": toggle,
    ArrowLeft: function () { if (scrub.playing) pause(); setStep(current() - 1); },
    ArrowRight: function () { if (scrub.playing) pause(); setStep(current() + 1); },
    Home: function () { if (scrub.playing) pause(); setStep(0); },
    End: function () { if (scrub.playing) pause(); setStep(steps()); },
  };
  document.addEventListener("keydown", function (event) {
    const action = KEYS[event.key];
    if (!action || !scrub.data || event.ctrlKey || event.metaKey || event.altKey ||
        !keysFree(event.target) || !document.getElementById(SLIDER)) return;
    event.preventDefault();
    action();
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    scrub: { load: load, loadMechanism: loadMechanism },
  });
  scrub.render = render;
  scrub.setStep = setStep;
  scrub.mechanismOn = function () {
    const box = document.querySelector("#" + MECHANISM + " input");
    return !box || box.checked;
  };
})();
