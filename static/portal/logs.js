// The logs table's own behaviour (loaded by webhooks_tab.html; no inline script, as the CSP wants):
// open rows and focus kept when the table refreshes, the live check only while the tab is seen,
// and "2 minutes ago" kept current.
(function () {
  "use strict";

  let openRows = [];
  let focused = null;

  // How to find the focused control again in the new table: by id, else by the row it expands.
  function focusKey(el) {
    if (!el || el === document.body) return null;
    if (el.id) return "#" + CSS.escape(el.id);
    if (el.hasAttribute("data-expand")) return '[data-expand="' + CSS.escape(el.getAttribute("data-expand")) + '"]';
    return null;
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (!target || target.id !== "logs") return;
    openRows = [...target.querySelectorAll("[data-expand][aria-expanded=true]")].map((b) => b.getAttribute("data-expand"));
    focused = target.contains(document.activeElement) ? focusKey(document.activeElement) : null;
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    const logs = event.target;
    if (!logs || logs.id !== "logs") return;
    openRows.forEach((id) => {
      const button = logs.querySelector('[data-expand="' + CSS.escape(id) + '"]');
      const detail = document.getElementById(id);
      if (!button || !detail) return;
      button.setAttribute("aria-expanded", "true");
      detail.hidden = false;
      window.portal.loadLogDetail(detail);
    });
    openRows = [];
    const again = focused && logs.querySelector(focused);
    if (again) again.focus();
    focused = null;
  });

  document.addEventListener("htmx:confirm", (event) => {
    const elt = event.detail.elt;
    // The live check waits while the tab is hidden: nobody is looking, and it costs a call.
    if (elt.hasAttribute("data-live-poll") && document.visibilityState !== "visible") {
      event.preventDefault();
      return;
    }
    // A refresh would throw away filters being typed; the next check brings the new rows.
    const trigger = event.detail.triggeringEvent;
    const active = document.activeElement;
    if (elt.id === "logs" && trigger && trigger.type === "logs:refresh" && active && active.closest(".log-filters")) {
      event.preventDefault();
    }
  });

  // A custom time range needs From and To, which wait behind "More filters": open it.
  document.addEventListener("change", (event) => {
    const select = event.target;
    if (select.name !== "range" || select.value !== "custom" || !select.closest(".log-filters")) return;
    const more = select.form.querySelector("details.more-filters");
    if (more) more.open = true;
  });

  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  function ago(date) {
    const seconds = Math.round((date - Date.now()) / 1000);
    const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
    }
    return relative.format(seconds, "second");
  }
  setInterval(() => {
    document.querySelectorAll("time[data-relative]").forEach((el) => {
      const date = new Date(el.getAttribute("datetime"));
      const small = el.querySelector(".muted");
      if (small && !isNaN(date)) small.textContent = "(" + ago(date) + ")";
    });
  }, 30000);
})();

// The health chart (_health.html): an hour's figures on hover and on focus, and the arrow keys
// move between the hours, which are one Tab stop together.
(function () {
  "use strict";

  function show(hour) {
    const hours = hour.closest("[data-chart-tip]");
    const tip = hours && document.getElementById(hours.getAttribute("data-chart-tip"));
    if (tip) tip.textContent = hour.getAttribute("data-tip");
  }
  document.addEventListener("mouseover", (event) => {
    const hour = event.target.closest && event.target.closest(".chart-hour");
    if (hour) show(hour);
  });
  document.addEventListener("focusin", (event) => {
    const hour = event.target.closest && event.target.closest(".chart-hour");
    if (hour) show(hour);
  });
  // The table refreshes when deliveries land: the panel, kept across the swap (hx-preserve), is
  // asked again too, and the new row makes the server compute it afresh (health_panel.py).
  document.body.addEventListener("logs:refresh", () => {
    const slot = document.querySelector("#logs .health-slot[data-health-url]");
    if (slot) htmx.ajax("GET", slot.getAttribute("data-health-url"), { target: slot, swap: "innerHTML" });
  });
  document.addEventListener("keydown", (event) => {
    const hour = event.target.closest && event.target.closest(".chart-hour");
    if (!hour) return;
    const all = [...hour.parentElement.querySelectorAll(".chart-hour")];
    const at = all.indexOf(hour);
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: all.length - 1 }[event.key];
    if (to === undefined || !all[to]) return;
    event.preventDefault();
    all.forEach((el) => el.setAttribute("tabindex", el === all[to] ? "0" : "-1"));
    all[to].focus();
  });
})();
