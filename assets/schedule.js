/* The schedule plot's step marker follows the step scrubber: assets/scrub.js says each
 * step it draws ("optimizer-race-step"); at most one relayout of the small plot a frame,
 * so that playing at 60 steps/s stays in the browser and costs little. */
(function () {
  "use strict";
  const GRAPH = "schedule-graph";
  let pending = null;

  function move() {
    const k = pending;
    pending = null;
    const gd = document.querySelector("#" + GRAPH + " .js-plotly-plot");
    if (!gd || !gd.layout || !window.Plotly) return;
    const shapes = gd.layout.shapes || [];
    const i = shapes.findIndex(function (s) { return s.name === "step-marker"; });
    if (i < 0 || shapes[i].x0 === k) return;
    const update = {};
    update["shapes[" + i + "].x0"] = k;
    update["shapes[" + i + "].x1"] = k;
    window.Plotly.relayout(gd, update);
  }

  document.addEventListener("optimizer-race-step", function (event) {
    const first = pending === null;
    pending = event.detail.step;
    if (first) window.requestAnimationFrame(move);
  });
})();
