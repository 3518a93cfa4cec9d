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

  // A refresh of the table (after Resend or Recover, or when new deliveries come) keeps the
  // reader's place: the open rows' loaded details move into the new table as they are (no
  // "Loading…" again), focus stays on the control it was on, and the row being read stays where
  // it was on the screen even when new rows come in above it. Only the attempts of those rows
  // are asked for again, so a new attempt shows up in the open row.
  let kept = null;

  function rowKey(el) {
    const tr = el && el.closest ? el.closest("tr.log-row, tr.log-detail") : null;
    if (!tr) return null;
    if (tr.classList.contains("log-detail")) return tr.id;
    const expander = tr.querySelector("[data-expand]");
    return expander ? expander.getAttribute("data-expand") : null;
  }

  function rowTop(root, key) {
    const expander = key && root.querySelector('[data-expand="' + CSS.escape(key) + '"]');
    return expander ? expander.closest("tr").getBoundingClientRect().top : null;
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (!target || target.id !== "logs" || !event.detail.shouldSwap) return;
    const slots = new Map();
    target.querySelectorAll(".log-detail:not([hidden]) > [data-detail-url][data-detail-loading]").forEach((slot) => {
      slots.set(slot.parentElement.id, slot);
    });
    const active = target.contains(document.activeElement) ? document.activeElement : null;
    const openInView = [...slots.keys()].find((key) => {
      const top = rowTop(target, key);
      return top !== null && top >= 0 && top < window.innerHeight;
    });
    const anchor = rowKey(active) || openInView || null;
    kept = { slots, active, anchor, top: anchor ? rowTop(target, anchor) : null };
  });

  // On the body, so that this runs before the document's own afterSwap handlers (portal.js'
  // reopenRows), which would load the moved details again.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const logs = event.target;
    if (!kept || !logs || logs.id !== "logs") return;
    const { slots, active, anchor, top } = kept;
    kept = null;
    slots.forEach((slot, id) => {
      const detail = logs.querySelector("#" + CSS.escape(id));
      const fresh = detail && detail.querySelector("[data-detail-url]");
      const button = logs.querySelector('[data-expand="' + CSS.escape(id) + '"]');
      if (!fresh || !button) return;
      fresh.replaceWith(slot);
      detail.hidden = false;
      button.setAttribute("aria-expanded", "true");
      // htmx forgot the old table's elements: it learns them again (Resend works), and the
      // attempts, loaded when seen, load once more.
      htmx.process(slot);
    });
    if (active && logs.contains(active)) active.focus({ preventScroll: true });
    const now = rowTop(logs, anchor);
    if (top !== null && now !== null && now !== top) window.scrollBy(0, now - top);
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
    if (again && again !== document.activeElement) again.focus({ preventScroll: true });
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
  // A health panel drawn again (a delivery landed) keeps the focus on the same control in it.
  let healthFocus = null;
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const slot = event.detail.target;
    const active = document.activeElement;
    healthFocus = slot.classList.contains("health-slot") && active && slot.contains(active) ? active.getAttribute("hx-get") : null;
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const slot = event.detail.target;
    if (!healthFocus || !slot.classList.contains("health-slot")) return;
    const again = slot.querySelector(`[hx-get="${CSS.escape(healthFocus)}"]`);
    healthFocus = null;
    if (again) again.focus({ preventScroll: true });
  });
  // One Tab stop for a row of choices (the chart's hours, Attempts/Deliveries): the arrow keys,
  // Home and End move between them.
  document.addEventListener("keydown", (event) => {
    const hour = event.target.closest && event.target.closest(".chart-hour, .view-toggle a");
    if (!hour) return;
    const all = [...hour.parentElement.querySelectorAll(":scope > a")];
    const at = all.indexOf(hour);
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: all.length - 1 }[event.key];
    if (to === undefined || !all[to]) return;
    event.preventDefault();
    all.forEach((el) => el.setAttribute("tabindex", el === all[to] ? "0" : "-1"));
    all[to].focus();
  });
})();
