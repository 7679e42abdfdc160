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
                                        loss: decoded(run.loss) });
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
    const left = xa._offset + xa.c2p(k);
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

  /* Everything that shows step k. */
  function render() {
    if (!scrub.data || !svg()) return;
    const started = window.performance.now();
    const k = current();
    const gd = svg().plot("#race-graph");
    const meta = gd && gd._fullLayout && gd._fullLayout.meta && gd._fullLayout.meta.traces;
    if (meta && gd._fullLayout.xaxis && meta.paths.length === scrub.data.runs.length) {
      drawPaths(gd, svg().traceGroups(gd), meta, k);
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
    scrub: { load: load },
  });
  scrub.render = render;
  scrub.setStep = setStep;
  scrub.mechanismOn = function () {
    const box = document.querySelector("#" + MECHANISM + " input");
    return !box || box.checked;
  };
})();
