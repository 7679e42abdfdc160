/* Teaching in the browser (issue 19): the embedded view, the doctor's apply-fix buttons,
 * the lessons' links. Nothing here computes: callbacks/teach.py does. */
(function () {
  "use strict";

  /* ?embed=1: the compact view for an iframe (assets/teach.css), set before the layout
   * is drawn; controls=lr,momentum names the controls it shows (settings.py
   * EMBED_CONTROLS, DEFAULT_EMBED_CONTROLS). */
  const params = new URLSearchParams(window.location.search);
  if (params.get("embed") === "1") {
    const root = document.documentElement;
    root.dataset.embed = "1";
    const controls = params.has("controls") ? params.get("controls") : "lr,momentum";
    root.dataset.controls = controls.split(",").join(" ");
  }

  function plainClick(event) {
    return event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey &&
      !event.altKey;
  }

  document.addEventListener("click", function (event) {
    const target = event.target;
    if (!target || !target.closest) return;
    /* An apply-fix button (in the doctor panel's HTML): which run's fix; the server
     * recomputes the fix from the race. */
    const button = target.closest("#doctor-panel button[name=apply-fix]");
    if (button) {
      window.dash_clientside.set_props("apply-fix-store", {
        data: { optimizer: button.value, at: Date.now() },
      });
      return;
    }
    /* A lesson's link: in the lesson select, the select takes the click (it sets the
     * lesson's race; the link's own click would stop the option's label); elsewhere, the controls take the link's query as Back would
     * (callbacks/url.py), a history entry. A middle click or a new tab gets the link. */
    const link = target.closest("a.lesson-link");
    if (!link || !plainClick(event)) return;
    event.preventDefault();
    const option = link.closest("[role=option]");
    if (option) {  // the select's own option: as a click beside the link would, select it
      const input = option.querySelector("input");
      if (input) input.click();
      return;
    }
    window.dash_clientside.set_props("history-store", {
      data: { search: link.search, at: Date.now() },
    });
  }, true);

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    teach: {
      /* The embedded view's link: the full app in the same state (the race's query,
       * without the view's keys). */
      fullAppLink: function (raceState) {
        if (!raceState || typeof raceState.query !== "string") {
          return window.dash_clientside.no_update;
        }
        return raceState.query;
      },
    },
  });
})();
