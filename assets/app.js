/* Optimizer Race in the browser: clientside callbacks, click-to-start, hover link.
 * Nothing here computes a race: it moves values between controls and plots. */
(function () {
  "use strict";

  function isNumber(value) {
    return typeof value === "number" && Number.isFinite(value);
  }

  function significant(value, digits) {
    return Number(value.toPrecision(digits));
  }

  function no() {
    return window.dash_clientside.no_update;
  }

  /* A slider move's loss curves ({y, x?}: typed arrays, in trace order; figures.py
   * ``loss_curves``) into the loss plot: a patch of each trace's y, and of its x on the
   * evaluations axis. (A new structure comes as a whole figure.) */
  function drawLoss(curves) {
    if (!curves || !Array.isArray(curves.y)) return no();
    const patch = new window.dash_clientside.Patch();
    curves.y.forEach(function (y, i) { patch.assign(["data", i, "y"], y); });
    (curves.x || []).forEach(function (x, i) { patch.assign(["data", i, "x"], x); });
    return patch.build();
  }

  /* Does a phase diagram drawn with ``context`` (settings.py ``sweep_context``:
   * race settings and the swept optimizer's own "own.<param>" values besides lr and μ)
   * still describe the race? */
  function sweepMatches(context, settings, optimizer) {
    const own = (settings.overrides || {})[optimizer] || {};
    const now = {};
    Object.keys(context).forEach(function (key) {
      if (!key.startsWith("own.")) now[key] = settings[key] === undefined ? null : settings[key];
    });
    Object.keys(own).forEach(function (param) {
      if (param !== "lr" && param !== "momentum") now["own." + param] = own[param];
    });
    const keys = new Set(Object.keys(context).concat(Object.keys(now)));
    return Array.from(keys).every(function (key) {
      return (context[key] === undefined ? null : context[key]) ===
        (now[key] === undefined ? null : now[key]);
    });
  }

  /* The phase diagram marks the swept optimizer's own (lr, μ) in the race (its Advanced
   * value, else the slider's), or, when the race has changed what the diagram depends
   * on, is faded and titled stale (its cells are not applied: callbacks/sweep.py). */
  function markCurrent(raceState, sweep) {
    const settings = raceState && raceState.settings;
    if (!settings || !sweep || !Number.isInteger(sweep.current_trace) || !sweep.context) {
      return no();
    }
    const fresh = sweepMatches(sweep.context, settings, sweep.optimizer);
    const own = (settings.overrides || {})[sweep.optimizer] || {};
    const lr = isNumber(own.lr) ? own.lr : settings.lr;
    const mu = !sweep.takes_momentum ? 0.5
      : isNumber(own.momentum) ? own.momentum : settings.momentum;
    const patch = new window.dash_clientside.Patch()
      .assign(["data", sweep.current_trace, "x"], fresh ? [lr] : [])
      .assign(["data", sweep.current_trace, "y"], fresh ? [mu] : [])
      .assign(["layout", "title", "text"], fresh ? sweep.title
        : "<b>Stale</b>: drawn for other race settings, not applied on click; run the " +
          "sweep again. (" + sweep.title + ")");
    for (let i = 0; i <= sweep.diverged_layer; i++) {
      patch.assign(["data", i, "opacity"], fresh ? 1 : 0.3);
    }
    return patch.build();
  }

  /* Resolves once the browser has rendered the next frame: work after it does not hold
   * that frame back. */
  function afterNextFrame() {
    return new Promise(function (resolve) {
      window.requestAnimationFrame(function () { window.setTimeout(resolve, 0); });
    });
  }

  /* The URL follows the race. A settled change (a typed value, a preset, a click, a
   * slider's key press or drag) adds a history entry, so Back undoes it; the moves of
   * one drag share one entry, replaced as the drag goes on (and by its last update,
   * which may arrive after the release). The page's first race, and the race that Back
   * or Forward brought, replace: they change nothing the user did. */
  let gesture = null;    // the slider drag or key press under way: {pushed}
  let restoring = true;  // the next write follows the page's load or Back/Forward
  function writeUrl(raceState) {
    if (!raceState || typeof raceState.query !== "string") return;
    const fromSlider = raceState.cause === "slider";
    if (!fromSlider) gesture = null;
    const query = withView(raceState.query);
    if (query === window.location.search) {
      restoring = false;
      return;
    }
    let push = !restoring;
    if (fromSlider && gesture) {
      push = push && !gesture.pushed;
      gesture.pushed = true;
    }
    restoring = false;
    // what a copy button copied described the race before this change
    window.dash_clientside.set_props("share-note", { children: null });
    window.dash_clientside.set_props("share-status", { children: null });
    const url = query + window.location.hash;
    if (push) {
      window.history.pushState(null, "", url);
      // the note on the opening link's unused values no longer describes the address
      window.dash_clientside.set_props("url-note-text", { children: null });
    } else {
      window.history.replaceState(null, "", url);
    }
  }

  /* The view's own keys (settings.py VIEW_KEYS: the embedded view and its controls) stay
   * in the address as the race changes: they are the page's, not the race's. */
  const VIEW_KEYS = ["embed", "controls", "step"];
  function withView(query) {
    const here = new URLSearchParams(window.location.search);
    const kept = VIEW_KEYS.filter((key) => here.has(key))
      .map((key) => key + "=" + encodeURIComponent(here.get(key)).replace(/%2C/g, ","));
    return kept.length ? query + (query.length > 1 ? "&" : "") + kept.join("&") : query;
  }

  function onSlider(event) {
    return event.target && event.target.closest && event.target.closest(".slider");
  }
  document.addEventListener("pointerdown", function (event) {
    if (onSlider(event)) gesture = { pushed: false };
  }, true);
  document.addEventListener("keydown", function (event) {
    if (onSlider(event) && !event.repeat) gesture = { pushed: false };
  }, true);

  /* Back and Forward: the race of that entry. dcc.Location compares the address with
   * the search it last saw, and misses the entries written here, so this listener
   * (added before dcc.Location's) answers popstate alone, through the history store. */
  window.addEventListener("popstate", function (event) {
    event.stopImmediatePropagation();
    restoring = true;
    gesture = null;
    window.dash_clientside.set_props("history-store", {
      data: { search: window.location.search, at: Date.now() },
    });
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    race: {
      applyStartClick: function (click) {
        const no = window.dash_clientside.no_update;
        if (!click || !isNumber(click.x) || !isNumber(click.y)) return [no, no];
        return [click.x, click.y];
      },

      /* Both plots as images for slides (callbacks/images.py): a copy of each, as it is
       * zoomed, with its legend shown, no band above the plot, and the settings as a
       * caption; distinct file names. */
      exportImages: function (request) {
        if (!request || !window.Plotly) return no();
        const plots = { map: "#race-graph .js-plotly-plot", loss: "#loss-graph .js-plotly-plot" };
        Object.keys(plots).forEach(function (name) {
          const gd = document.querySelector(plots[name]);
          if (!gd || !gd._fullLayout) return;
          const [width, height] = request.sizes[name];
          const lines = request.caption.split("<br>").length;
          const layout = Object.assign({}, gd.layout, {
            showlegend: true, width: width, height: height,
            legend: { orientation: "h", x: 0, y: -0.1, yanchor: "top" },
            margin: { l: 70, r: 20, t: 24 + 17 * lines, b: 110 },
            title: { text: "" },
            annotations: (gd.layout.annotations || []).concat([{
              text: request.caption, xref: "paper", yref: "paper", x: 0, y: 1, yshift: 8,
              xanchor: "left", yanchor: "bottom", align: "left", showarrow: false,
              font: { size: 13 } }]),
            xaxis: Object.assign({}, gd.layout.xaxis, { range: gd._fullLayout.xaxis.range.slice() }),
            yaxis: Object.assign({}, gd.layout.yaxis, { range: gd._fullLayout.yaxis.range.slice() }),
          });
          window.Plotly.toImage({ data: gd.data, layout: layout }, {
            format: request.format, width: width, height: height,
          }).then(function (url) {
            const link = document.createElement("a");
            link.href = url;
            link.download = request.names[name] + "." + request.format;
            document.body.appendChild(link);
            link.click();
            link.remove();
          });
        });
        return no();
      },

      /* The race, for the line fit's data plot, while it is a line fit; null once when it
       * stops being one (the plot hides); else nothing, and no request. */
      fitRequest: function (raceState, current) {
        const settings = raceState && raceState.settings;
        if (settings && settings.surface === "regression") return raceState;
        return current ? null : no();
      },

      /* A phase-diagram cell was applied: the race comes into view. */
      showRace: function (applied) {
        const race = document.getElementById("race-graph");
        if (applied && race) race.scrollIntoView({ block: "center" });
        return no();
      },

      /* The override inputs as {optimizer: {param: value}} (blank ones left out). */
      collectOverrides: function (values, ids) {
        const overrides = {};
        (ids || []).forEach(function (id, i) {
          let value = values[i];
          // a checkbox (a Checklist of one option): ticked or not; the server drops a
          // switch left at torch's default
          if (Array.isArray(value)) value = value.length > 0;
          if (value === null || value === undefined || value === "") return;
          (overrides[id.optimizer] = overrides[id.optimizer] || {})[id.param] = value;
        });
        return overrides;
      },

      /* "Copy link": the address, which always holds the race. */
      shareLink: function () {
        const span = function (props) {
          return { namespace: "dash_html_components", type: "Span", props: props };
        };
        return [
          span({ className: "muted", children: "Link to this race (the address bar always " +
                                               "holds it; share it to share the race): " }),
          { namespace: "dash_html_components", type: "Code",
            props: { id: "share-text", children: window.location.href } },
        ];
      },

      /* The text a copy button put in the share note, to the clipboard. */
      copyShared: function (children) {
        const code = (children || []).find((c) => c && c.props && c.props.id === "share-text");
        const text = code && code.props.children;
        if (typeof text !== "string") return no();
        const refused = "(not copied: the browser refused; select it and copy)";
        if (!navigator.clipboard) return refused;
        return navigator.clipboard.writeText(text).then(() => "✓ copied", () => refused);
      },

      dismiss: function () {
        return null;
      },

      resetStart: function () {
        return [null, null];
      },

      /* The stored choice, else the system's; the toggle flips it. The racers' swatch
       * colours follow (CSS variables from the palette store). */
      theme: function (clicks, stored, palettes) {
        let theme = stored === "dark" || stored === "light" ? stored : null;
        if (!theme) {
          const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");
          theme = dark && dark.matches ? "dark" : "light";
        }
        if (clicks) theme = theme === "dark" ? "light" : "dark";
        const root = document.documentElement;
        root.dataset.theme = theme;
        Object.entries((palettes || {})[theme] || {}).forEach(function ([name, color]) {
          root.style.setProperty("--racer-" + name, color);
        });
        // an empty store reads as light (figures.theme_name): no figure to redraw for it
        if (!stored && !clicks && theme === "light") return window.dash_clientside.no_update;
        return theme;
      },

      /* After each race update: the loss curves, leaderboard, theory readout, the map's
       * flags and legend, the phase diagram marker, once the frame with the new paths is on
       * screen (else their redraw, ~30 ms, can run first and hold that frame back); the
       * URL. */
      afterRace: function (followUp, raceState, sweep) {
        writeUrl(raceState);
        const fresh = (window.dash_clientside.callback_context.triggered || [])
          .some((t) => t.prop_id === "race-follow-up-store.data");
        const outputs = !fresh || !followUp
          ? [no(), no(), no(), no(), no(), markCurrent(raceState, sweep)]
          : [drawLoss(followUp.loss), followUp.board, followUp.theory, followUp.flags,
             followUp.legend, markCurrent(raceState, sweep)];
        return afterNextFrame().then(function () { return outputs; });
      },
    },
  });

  /* A number box selects its text when focused, so typing replaces the value, as in a
   * spreadsheet cell: typed after the old text, "0.5" into a box holding 0.5 would read
   * "0.50.5". (The click that focused it would place the caret: its mouseup is skipped.) */
  let focusedByPointer = null;
  document.addEventListener("focusin", function (event) {
    const box = event.target;
    if (box && box.matches && box.matches(".number-input input")) {
      box.select();
      focusedByPointer = box;
    }
  });
  document.addEventListener("mouseup", function (event) {
    if (focusedByPointer && event.target === focusedByPointer) event.preventDefault();
    focusedByPointer = null;
  }, true);

  /* Click on the map (not a drag, not a double-click, which resets the zoom) to move the
   * start there. Plotly covers the page while the mouse is down, so the click is read
   * from mousedown on the plot area and a mouseup close by. */
  let pressed = null;
  let pending = null;
  document.addEventListener("mousedown", function (event) {
    const target = event.target;
    const onMap = event.button === 0 && target && target.classList &&
      target.classList.contains("nsewdrag") && target.closest("#race-graph");
    pressed = onMap ? { x: event.clientX, y: event.clientY, time: Date.now(),
                        box: target.getBoundingClientRect(),
                        plot: target.closest(".js-plotly-plot") } : null;
    if (pending && onMap) {  // a second click soon after: a double-click
      window.clearTimeout(pending);
      pending = null;
      pressed = null;
    }
  }, true);
  document.addEventListener("mouseup", function (event) {
    const press = pressed;
    pressed = null;
    if (!press || Date.now() - press.time > 800 ||
        Math.hypot(event.clientX - press.x, event.clientY - press.y) > 4) return;
    const layout = press.plot && press.plot._fullLayout;
    if (!layout || !layout.xaxis || !layout.yaxis) return;
    const x = layout.xaxis.p2d(press.x - press.box.left);
    const y = layout.yaxis.p2d(press.y - press.box.top);
    if (!isNumber(x) || !isNumber(y)) return;
    pending = window.setTimeout(function () {
      pending = null;
      window.dash_clientside.set_props("start-click-store", {
        data: { x: significant(x, 4), y: significant(y, 4) },
      });
    }, 280);
  }, true);

  /* Hover link: hovering step k of one path, or step k on the loss plot, shows every
   * optimizer's step k on both plots. */
  function plots() {
    return {
      race: document.querySelector("#race-graph .js-plotly-plot"),
      loss: document.querySelector("#loss-graph .js-plotly-plot"),
    };
  }

  function pathTraces(plot) {
    const meta = plot._fullLayout && plot._fullLayout.meta;
    return meta && meta.traces ? meta.traces.paths : [];
  }

  function showStep(k, fromLoss) {
    const { race, loss } = plots();
    if (!race || !loss || !window.Plotly) return;
    const points = pathTraces(race)
      .filter((i) => race._fullData[i] && race._fullData[i].visible === true &&
                     k < race._fullData[i]._length)
      .map((i) => ({ curveNumber: i, pointNumber: k }));
    if (points.length) window.Plotly.Fx.hover(race, points);
    if (fromLoss) return;
    // on the evaluations axis (the curves have an x of their own) step k is each
    // curve's k-th point, at x = its evaluations; on the steps axis x is k
    const onEvals = loss._fullData && loss._fullData.some((t) => Array.isArray(t.x) ||
                                                          ArrayBuffer.isView(t.x));
    window.Plotly.Fx.hover(loss, onEvals
      ? loss._fullData.filter((t) => k < t._length)
        .map((t) => ({ curveNumber: t.index, pointNumber: k }))
      : { xval: k });
  }

  function hideSteps(except) {
    const all = plots();
    for (const name of ["race", "loss"]) {
      if (all[name] && all[name] !== except && window.Plotly) window.Plotly.Fx.unhover(all[name]);
    }
  }

  /* The map keeps the user's view (zoom, pan) while the surface stays the same
   * (``layout.uirevision``), also across a whole new figure (an optimizer toggled):
   * Plotly's own uirevision loses it there, so the view is kept here and put back. */
  let mapView = null;
  function keepView(race, event) {
    const layout = race._fullLayout;
    if (!event || !layout) return;
    if (event["xaxis.autorange"] || event["yaxis.autorange"]) {
      mapView = null;
    } else if ("xaxis.range[0]" in event || "xaxis.range" in event ||
               "yaxis.range[0]" in event || "yaxis.range" in event) {
      mapView = { revision: race.layout.uirevision, x: layout.xaxis.range.slice(),
                  y: layout.yaxis.range.slice() };
    }
  }
  function restoreView(race) {
    const layout = race._fullLayout;
    if (!mapView || !layout || !layout.xaxis || !window.Plotly) return;
    if (race.layout.uirevision !== mapView.revision) { mapView = null; return; }
    const same = (a, b) => Math.abs(a[0] - b[0]) < 1e-9 && Math.abs(a[1] - b[1]) < 1e-9;
    if (same(layout.xaxis.range, mapView.x) && same(layout.yaxis.range, mapView.y)) return;
    window.Plotly.relayout(race, { "xaxis.range": mapView.x.slice(),
                                   "yaxis.range": mapView.y.slice() });
  }

  function hook() {
    const { race, loss } = plots();
    if (race && typeof race.on === "function" && !race.__optimizerRace) {
      race.__optimizerRace = true;
      race.on("plotly_relayout", function (event) { keepView(race, event); });
      race.on("plotly_afterplot", function () { restoreView(race); });
      race.on("plotly_hover", function (data) {
        if (!(data.event instanceof MouseEvent) || data.points.length !== 1) return;
        const point = data.points[0];
        if (pathTraces(race).indexOf(point.curveNumber) >= 0) showStep(point.pointNumber, false);
      });
      race.on("plotly_unhover", function (data) {
        if (data && data.event instanceof MouseEvent) hideSteps(race);
      });
    }
    if (loss && typeof loss.on === "function" && !loss.__optimizerRace) {
      loss.__optimizerRace = true;
      loss.on("plotly_hover", function (data) {
        if (!(data.event instanceof MouseEvent) || !data.points.length) return;
        const k = data.points[0].pointNumber;  // the step, on either x axis
        if (isNumber(k)) showStep(k, true);
      });
      loss.on("plotly_unhover", function (data) {
        if (data && data.event instanceof MouseEvent) hideSteps(loss);
      });
    }
  }
  window.setInterval(hook, 400);
})();
