/* Your own points (layouts/userdata.py): a file or a paste larger than the server reads
 * is refused here, before the browser reads it or sends it, with the same kind of
 * message the server gives (a request that large would only get a 413, and no message).
 * These listeners run in the capture phase, before Dash's: stopping the event keeps
 * dcc.Upload from reading the file. */
(function () {
  "use strict";

  function panel() {
    return document.querySelector(".points-panel");
  }

  function limit() {
    const p = panel();
    const bytes = p && Number(p.getAttribute("data-max-bytes"));
    return Number.isFinite(bytes) && bytes > 0 ? bytes : null;
  }

  function refuse(event, message) {
    event.preventDefault();
    event.stopImmediatePropagation();
    if (event.target && event.target.type === "file") event.target.value = "";
    window.dash_clientside.set_props("points-error", { children: message });
  }

  function kb(bytes) {
    return Math.round(bytes / 1024).toLocaleString("en") + " KB";
  }

  function tooLarge(files) {
    const max = limit();
    const file = Array.from(files || []).find((f) => max !== null && f.size > max);
    return file ? "'" + file.name.slice(0, 60) + "': the file is " + kb(file.size) +
      "; at most " + kb(max) + " (1,000 rows) are read." : null;
  }

  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!input || input.type !== "file" || !input.closest("#points-upload")) return;
    const message = tooLarge(input.files);
    if (message) refuse(event, message);
  }, true);

  document.addEventListener("drop", function (event) {
    if (!event.target || !event.target.closest || !event.target.closest("#points-upload")) return;
    const message = tooLarge(event.dataTransfer && event.dataTransfer.files);
    if (message) refuse(event, message);
  }, true);

  /* A paste that would make f(x, y) longer than the engine reads is refused with its
   * message (a megabyte in the box would only get the race's request a 413). */
  document.addEventListener("paste", function (event) {
    const box = event.target;
    if (!box || box.id !== "custom-surface-input") return;
    const holder = box.closest("[data-max-length]");
    const max = holder && Number(holder.getAttribute("data-max-length"));
    const pasted = event.clipboardData ? event.clipboardData.getData("text") : "";
    const length = box.value.length - (box.selectionEnd - box.selectionStart) + pasted.length;
    if (Number.isFinite(max) && length > max) {
      event.preventDefault();
      event.stopImmediatePropagation();
      window.dash_clientside.set_props("custom-surface-input-error", {
        children: "Not pasted: f(x, y) would be " + length.toLocaleString("en") +
          " characters; at most " + max + " are read.",
      });
    }
  }, true);

  document.addEventListener("click", function (event) {
    if (!event.target || !event.target.closest || !event.target.closest("#points-paste-button")) {
      return;
    }
    const box = document.getElementById("points-paste-input");
    const max = limit();
    if (box && max !== null && box.value.length > max) {
      refuse(event, "The pasted points: the text is " + box.value.length.toLocaleString("en") +
        " characters; at most " + max.toLocaleString("en") + " are read.");
    }
  }, true);
})();
