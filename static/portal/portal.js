// The Webhooks tab's behaviour. No inline script anywhere (Content-Security-Policy): every hook
// is a data- attribute handled here by event delegation, so htmx-swapped content just works.
(function () {
  "use strict";

  const modal = () => document.getElementById("modal");
  const modalContent = () => document.getElementById("modal-content");
  let opener = null;
  let openerCardId = null;
  let openerGet = null;

  function openModal() {
    const dialog = modal();
    if (dialog && !dialog.open) {
      opener = document.activeElement;
      const card = opener && opener.closest ? opener.closest(".card") : null;
      openerCardId = card ? card.id : null;
      openerGet = opener && opener.getAttribute ? opener.getAttribute("hx-get") : null;
      dialog.showModal();
    }
  }

  function closeModal() {
    const dialog = modal();
    if (dialog && dialog.open) dialog.close();
  }

  function focusFirst(container) {
    const target = container.querySelector("[autofocus], input, select, textarea, button");
    if (target) target.focus();
  }

  function busy(message) {
    const box = document.createElement("div");
    box.className = "busy";
    box.setAttribute("role", "status");
    const spinner = document.createElement("span");
    spinner.className = "spinner big";
    spinner.setAttribute("aria-hidden", "true");
    const text = document.createElement("p");
    text.textContent = message;
    // No #modal-title here: htmx would carry this element's attributes over to the heading
    // that replaces it. The dialog's aria-label names it until that heading arrives.
    modal().setAttribute("aria-label", message);
    box.append(spinner, text);
    return box;
  }

  function toast(message) {
    const el = document.getElementById("toast");
    if (!el || !message) return;
    el.textContent = message;
    el.hidden = false;
    announce(message);
    clearTimeout(el._timer);
    el._timer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  // Buttons that open the modal: show it at once, with a busy state while the request runs.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const source = event.detail.elt;
    if (!source || !source.hasAttribute || !source.hasAttribute("data-opens-modal")) return;
    const message = source.getAttribute("data-opens-modal") || "Loading…";
    modalContent().replaceChildren(busy(message));
    openModal();
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "modal-content") {
      openModal();
      focusFirst(event.detail.target);
    }
  });

  // A change that succeeded: the server swapped the card in place and asks to close the modal.
  document.body.addEventListener("webhooks:changed", (event) => {
    closeModal();
    toast(event.detail && event.detail.message);
  });

  // A resend was queued: say so, and look at the logs again once the worker had time to send it.
  document.body.addEventListener("webhooks:queued", (event) => {
    closeModal();
    toast(event.detail && event.detail.message);
    setTimeout(() => document.body.dispatchEvent(new CustomEvent("logs:refresh")), 2500);
  });

  // The request never reached the server, or it answered with nothing htmx could swap.
  document.addEventListener("htmx:sendError", () => {
    closeModal();
    const banner = document.getElementById("banner");
    if (banner) {
      banner.innerHTML = "";
      const div = document.createElement("div");
      div.className = "banner";
      div.setAttribute("role", "alert");
      div.textContent = "The portal could not be reached. Check your connection and try again.";
      banner.append(div);
    }
  });

  // Links that act as buttons (role="button") answer Space too, as buttons do.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key === " " && target.matches && target.matches("a[role=button][href]")) {
      event.preventDefault();
      target.click();
    }
  });

  // showModal() makes the page behind inert, but Tab can still leave for the browser's own UI:
  // keep it cycling through the dialog's controls.
  document.addEventListener("keydown", (event) => {
    const dialog = modal();
    if (event.key !== "Tab" || !dialog || !dialog.open) return;
    const focusable = [...dialog.querySelectorAll("a[href], button:not([disabled]), input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])")]
      .filter((el) => el.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  });

  document.addEventListener("close", (event) => {
    if (event.target !== modal()) return;
    // A secret shown once leaves the page with its modal.
    if (modalContent().querySelector("[data-shown-once]")) modalContent().replaceChildren();
    const again = openerGet && document.querySelector(`[hx-get="${CSS.escape(openerGet)}"]`);
    if (opener && document.contains(opener)) opener.focus();
    // The button that opened it went with the card it changed: focus that card instead.
    else if (openerCardId && document.getElementById(openerCardId)) document.getElementById(openerCardId).focus();
    // The part that held the button was refreshed meanwhile (the health panel after Recover):
    // the same button, drawn again, takes the focus.
    else if (again) again.focus();
  }, true);

  document.addEventListener("click", async (event) => {
    const closer = event.target.closest("[data-close-modal]");
    if (closer) { event.preventDefault(); closeModal(); return; }

    // A click on the dialog's backdrop closes it, like Esc does.
    if (event.target === modal()) { closeModal(); return; }

    const expander = event.target.closest("[data-expand]");
    if (expander) {
      const detail = document.getElementById(expander.getAttribute("data-expand"));
      const open = expander.getAttribute("aria-expanded") === "true";
      expander.setAttribute("aria-expanded", String(!open));
      if (detail) detail.hidden = open;
      if (detail && !open) loadLogDetail(detail);
      return;
    }

    // A secret shown once (after Generate Key, Regenerate or a roll): copy the text on the page.
    const pageCopier = event.target.closest("[data-copy-from]");
    if (pageCopier) {
      const source = document.getElementById(pageCopier.getAttribute("data-copy-from"));
      try {
        await copyText(source ? source.textContent.trim() : "");
        toast(pageCopier.getAttribute("data-copied") || "Secret key copied to the clipboard.");
      } catch (error) {
        toast("Copying failed; select the key and copy it by hand.");
      }
      return;
    }

    const copier = event.target.closest("[data-copy-url]");
    if (copier) {
      event.preventDefault();
      const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
      try {
        // Asked as htmx asks, so that an ended session answers with the way to the sign-in page
        // (portal/middleware.py) instead of a sign-in page copied as the secret.
        const response = await fetch(copier.getAttribute("data-copy-url"), {
          method: "POST", credentials: "same-origin",
          headers: { "X-CSRFToken": token, "HX-Request": "true", "HX-Current-URL": window.location.href },
        });
        const signIn = response.headers.get("HX-Redirect");
        if (signIn) { window.location.href = signIn; return; }
        if (!response.ok) throw new Error(String(response.status));
        await copyText(await response.text());
        toast("Secret key copied to the clipboard.");
      } catch (error) {
        toast("Copying failed; use Reveal and copy the key by hand.");
      }
    }
  });

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain HTTP on an intranet host has no Clipboard API: fall back to a hidden selection.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  // A log row carries only what it shows closed; its request, response and Resend load the first
  // time it opens (and again when a refresh of the table brings it back open).
  function loadLogDetail(detail) {
    const slot = detail.querySelector("[data-detail-url]");
    if (!slot || slot.hasAttribute("data-detail-loading")) return;
    slot.setAttribute("data-detail-loading", "");
    htmx.ajax("GET", slot.getAttribute("data-detail-url"), { target: slot, swap: "innerHTML" });
  }

  // A detail that failed to load says so, and loads again the next time its row opens.
  function detailFailed(event) {
    const slot = event.detail && event.detail.target;
    if (!slot || !slot.hasAttribute || !slot.hasAttribute("data-detail-url")) return;
    slot.removeAttribute("data-detail-loading");
    const message = document.createElement("span");
    message.className = "error-text";
    message.textContent = "Couldn't load this row's details. Close the row and open it again to retry.";
    slot.replaceChildren(message);
  }
  document.addEventListener("htmx:responseError", detailFailed);
  document.addEventListener("htmx:sendError", detailFailed);

  // For the other pages' scripts (integrate.js: one way to copy; logs.js: open rows).
  window.portal = { copyText, loadLogDetail };

  // ---- Faults, secrets, modal requests and open rows (the tab's parts that load on their own) ----

  // A part (a card, the logs) that could not load carries a banner for its cause. The page shows
  // one banner per cause: the first is moved to #banner, later ones add their call to it. A part
  // that loads (after Retry) takes its call out, and a banner left with no call goes.
  function dropFaultSource(source) {
    document.querySelectorAll("#banner .fault-banner").forEach((banner) => {
      const sources = (banner.dataset.faultSources || "").split(" ").filter((s) => s && s !== source);
      banner.dataset.faultSources = sources.join(" ");
      banner.querySelectorAll("[data-fault-source]").forEach((item) => {
        if (item.dataset.faultSource === source) item.remove();
      });
      if (!sources.length) banner.remove();
    });
  }

  function placeFaultBanners() {
    const holder = document.getElementById("banner");
    if (!holder) return;
    document.querySelectorAll(".card, #logs").forEach((part) => {
      if (part.classList.contains("loading")) return;
      const source = part.id === "logs" ? "logs" : part.id;
      const fresh = part.querySelector(".fault-banner");
      if (!fresh && part.querySelector(".card-fault, .logs-fault")) return;  // already placed
      dropFaultSource(source);
      if (!fresh) return;
      const same = holder.querySelector(`.fault-banner[data-fault-cause="${fresh.dataset.faultCause}"]`);
      if (!same) { holder.append(fresh); return; }
      same.dataset.faultSources = (same.dataset.faultSources + " " + source).trim();
      const list = same.querySelector(".fault-calls");
      const item = fresh.querySelector("[data-fault-source]");
      if (list && item) list.append(item);
      fresh.remove();
    });
  }
  document.addEventListener("htmx:afterSettle", placeFaultBanners);
  // In embedded mode the parts come in the page itself (views.webhooks_tab).
  document.addEventListener("DOMContentLoaded", placeFaultBanners);
  // ... and a page past the end of the logs shows the last one: the address bar says which.
  document.addEventListener("DOMContentLoaded", () => {
    const logs = document.querySelector("#logs[data-replace-url]");
    if (logs) history.replaceState(history.state, "", logs.getAttribute("data-replace-url"));
  });

  // Reveal swaps the masked secret for the whole one; Hide puts the masked one back, as it was,
  // without asking the server again.
  const maskedSecrets = new Map();
  function rememberMaskedSecret(event) {
    const source = event.detail.elt;
    if (!source || !source.hasAttribute || !source.hasAttribute("data-reveal")) return;
    const box = document.getElementById("secret-box-" + source.getAttribute("data-reveal"));
    if (box) maskedSecrets.set(box.id, box.outerHTML);
  }
  document.addEventListener("htmx:beforeRequest", rememberMaskedSecret);

  function hideSecret(hider) {
    const id = "secret-box-" + hider.getAttribute("data-hide-secret");
    const box = document.getElementById(id);
    if (!box || !maskedSecrets.has(id)) return;
    box.outerHTML = maskedSecrets.get(id);
    const restored = document.getElementById(id);
    htmx.process(restored);
    const reveal = restored.querySelector("[data-reveal]");
    if (reveal) reveal.focus();
  }

  document.addEventListener("click", (event) => {
    const hider = event.target.closest("[data-hide-secret]");
    if (hider) hideSecret(hider);
  });

  // A modal closed (Esc, Cancel) while its request ran stays closed: the answer goes to a hidden
  // holder that is emptied at once, so it cannot reopen the modal, while the parts it updates
  // out of band (the card after Generate Key) and its HX-Trigger events (the logs' refresh) still
  // take effect.
  let modalClosings = 0;
  function tagModalRequest(event) {
    const target = event.detail.target;
    if (target && target.id === "modal-content") event.detail.xhr.modalClosings = modalClosings;
  }
  function dropAnswerForClosedModal(event) {
    const closingsThen = event.detail.xhr && event.detail.xhr.modalClosings;
    if (closingsThen === undefined || !event.detail.target || event.detail.target.id !== "modal-content") return;
    if (closingsThen !== modalClosings) event.detail.target = discardedAnswers();
  }
  function discardedAnswers() {
    let holder = document.getElementById("modal-discarded");
    if (!holder) {
      holder = document.createElement("div");
      holder.id = "modal-discarded";
      holder.hidden = true;
      document.body.append(holder);
    }
    return holder;
  }
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "modal-discarded") event.detail.target.replaceChildren();
  });
  document.addEventListener("htmx:beforeRequest", tagModalRequest);
  document.addEventListener("htmx:beforeSwap", dropAnswerForClosedModal);
  document.addEventListener("close", (event) => {
    if (event.target === modal()) modalClosings += 1;
  }, true);

  // A new secret is shown once: closing the modal takes it out of the page too.
  function forgetShownSecret(event) {
    if (event.target !== modal()) return;
    const content = modalContent();
    if (content && content.querySelector("#new-secret")) content.replaceChildren();
  }
  document.addEventListener("close", forgetShownSecret, true);

  // Expanded log rows stay expanded when the logs are swapped (a refresh after Resend or a test).
  const openRows = new Set();
  function rememberOpenRow(expander) {
    const id = expander.getAttribute("data-expand");
    if (expander.getAttribute("aria-expanded") === "true") openRows.add(id); else openRows.delete(id);
  }
  function reopenRows() {
    openRows.forEach((id) => {
      const expander = document.querySelector(`[data-expand="${id}"]`);
      const detail = document.getElementById(id);
      if (!expander || !detail) return;
      expander.setAttribute("aria-expanded", "true");
      detail.hidden = false;
      loadLogDetail(detail);
    });
  }
  document.addEventListener("click", (event) => {
    const expander = event.target.closest("[data-expand]");
    if (expander) rememberOpenRow(expander);
  });
  // On swap, not settle: settling waits for a timer, and the rows should not flash shut.
  document.addEventListener("htmx:afterSwap", reopenRows);

  // Dates arrive in UTC; show them in the reader's own time zone, with "3 minutes ago".
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  function ago(date) {
    const seconds = Math.round((date - Date.now()) / 1000);
    const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
    }
    return relative.format(seconds, "second");
  }
  function localiseTimes(root) {
    root.querySelectorAll("time[data-local]").forEach((el) => {
      const date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) return;
      // data-format="time": the time of day alone (the health panel's "as of").
      const style = el.getAttribute("data-format") === "time" ? { timeStyle: "medium" } : { dateStyle: "medium", timeStyle: "medium" };
      const local = date.toLocaleString(undefined, style);
      el.title = date.toISOString();
      if (el.hasAttribute("data-relative")) {
        el.textContent = local + " ";
        const small = document.createElement("span");
        small.className = "muted";
        small.textContent = "(" + ago(date) + ")";
        el.append(small);
      } else {
        el.textContent = local;
      }
    });
  }
  document.addEventListener("DOMContentLoaded", () => localiseTimes(document));
  document.addEventListener("htmx:afterSettle", (event) => localiseTimes(event.detail.elt || document));

  // ---- Focus and announcements after htmx swaps ----------------------------------------------
  // A swap replaces the control that was pressed, and the browser drops focus on <body>. Put it
  // back where it makes sense, and tell screen readers what changed through the one live region.

  function announce(message) {
    const region = document.getElementById("announcer");
    if (!region || !message) return;
    // Emptied first, so that the same words twice in a row are spoken twice.
    region.textContent = "";
    setTimeout(() => { region.textContent = message; }, 50);
  }

  function focusQuietly(el) {
    if (!el) return;
    if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) el.setAttribute("tabindex", "-1");
    el.focus();
  }

  function focusLost() {
    return !document.activeElement || document.activeElement === document.body;
  }

  // What started each request, by its xhr: background requests (the logs' live check and health
  // panel) run alongside the one whose answer is being swapped in.
  const swapOrigins = new WeakMap();
  // The message of a change saved in a modal, until its card has been swapped in.
  let changedCardMessage = null;

  function describeOrigin(elt, xhr) {
    if (!elt || !elt.closest) return null;
    let kind = "other";
    if (elt.closest(".page-size")) kind = "size";
    else if (elt.closest(".pager")) kind = "pager";
    else if (elt.closest(".toggle")) kind = "toggle";
    const label = (elt.getAttribute("aria-label") || elt.textContent || "").trim();
    return { xhr, kind, label, role: elt.getAttribute("role") || elt.tagName.toLowerCase() };
  }

  function pageAnnouncement(logs) {
    // "Page 2 of 5", "Page 1002 of at least 2001", "Page 3 from the end": as the pager says it.
    return logs.getAttribute("data-position");
  }

  // The pager button pressed, or what replaced it: same role and label ("Next" on the last page
  // is a disabled button of the same name; it still takes focus, so Tab goes on from there).
  function pagerControlLike(logs, origin) {
    return [...logs.querySelectorAll(".pager a, .pager button, .pager [role=button]")].find((el) =>
      (el.getAttribute("aria-label") || el.textContent || "").trim() === origin.label &&
      (el.getAttribute("role") || el.tagName.toLowerCase()) === origin.role);
  }

  function settleLogs(logs, origin) {
    const environment = logs.querySelector(".toggle [aria-current]");
    const environmentName = environment ? environment.textContent.trim() : "";
    if (origin && origin.kind === "pager") {
      focusQuietly(pagerControlLike(logs, origin) || logs.querySelector("h2"));
      announce(pageAnnouncement(logs));
    } else if (origin && origin.kind === "toggle") {
      focusQuietly(logs.querySelector(".log-row") || environment);
      announce(environmentName + " logs");
    } else if (origin && origin.kind === "size") {
      focusQuietly(logs.querySelector(".page-size select"));
      announce(pageAnnouncement(logs));
    } else if (focusLost()) {
      focusQuietly(logs.querySelector("h2"));
    }
  }

  function settleCard(card) {
    if (changedCardMessage !== null || focusLost()) focusQuietly(card);
    changedCardMessage = null;
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    swapOrigins.set(event.detail.xhr, describeOrigin(event.detail.elt, event.detail.xhr));
  });

  document.body.addEventListener("webhooks:changed", (event) => {
    changedCardMessage = (event.detail && event.detail.message) || "";
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    const swapped = event.target;
    if (!swapped || !swapped.matches) return;
    const origin = (event.detail.xhr && swapOrigins.get(event.detail.xhr)) || null;
    if (swapped.id === "logs") settleLogs(swapped, origin);
    else if (swapped.matches(".card")) settleCard(swapped);
  });

  // ---- Log rows: the whole row expands it, not only the small arrow --------------------------
  function toggleRowFromAnywhere(event) {
    const row = event.target.closest(".log-row");
    if (!row || event.target.closest("a, button, input, select, textarea, label")) return;
    // Someone selecting text to copy it is not asking to expand the row.
    if (String(window.getSelection() || "")) return;
    const expander = row.querySelector("[data-expand]");
    if (expander) expander.click();
  }
  document.addEventListener("click", toggleRowFromAnywhere);

  // ---- Copy a URL shown on the page: no server call, the button carries the text ------------
  async function copyShownText(event) {
    const button = event.target.closest("[data-copy-text]");
    if (!button) return;
    try {
      await copyText(button.getAttribute("data-copy-text"));
      toast("URL copied to the clipboard.");
    } catch (error) {
      toast("Copying failed; select the URL and copy it by hand.");
    }
  }
  document.addEventListener("click", copyShownText);

  // ---- The top bar's menu on narrow screens (a disclosure button) ----------------------------
  function setMenuOpen(button, open) {
    const menu = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", String(open));
    if (menu) menu.classList.toggle("open", open);
  }
  document.addEventListener("click", (event) => {
    const button = document.querySelector("[data-menu-button]");
    if (!button) return;
    if (event.target.closest("[data-menu-button]")) {
      setMenuOpen(button, button.getAttribute("aria-expanded") !== "true");
    } else if (!event.target.closest("#" + button.getAttribute("aria-controls"))) {
      setMenuOpen(button, false);
    }
  });
  document.addEventListener("keydown", (event) => {
    const button = document.querySelector("[data-menu-button][aria-expanded=true]");
    if (event.key !== "Escape" || !button || (modal() && modal().open)) return;
    setMenuOpen(button, false);
    button.focus();
  });

  // ---- Colour theme: Auto (the system's), Light or Dark, remembered in this browser ----------
  // theme.js applies the stored choice before the first paint; this runs the toggle.
  const THEMES = ["auto", "light", "dark"];
  const THEME_NAMES = { auto: "Auto", light: "Light", dark: "Dark" };

  function storedTheme() {
    try {
      const chosen = localStorage.getItem("portal-theme");
      return THEMES.includes(chosen) ? chosen : "auto";
    } catch (error) {
      return "auto";
    }
  }

  function applyTheme(theme) {
    if (theme === "auto") document.documentElement.removeAttribute("data-theme");
    else document.documentElement.setAttribute("data-theme", theme);
    try {
      if (theme === "auto") localStorage.removeItem("portal-theme");
      else localStorage.setItem("portal-theme", theme);
    } catch (error) {
      // Not remembered, but applied for this page.
    }
    document.querySelectorAll("[data-theme-name]").forEach((el) => { el.textContent = THEME_NAMES[theme]; });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-theme-name]").forEach((el) => { el.textContent = THEME_NAMES[storedTheme()]; });
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest("[data-theme-toggle]")) return;
    const next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
    applyTheme(next);
    announce("Colour theme: " + THEME_NAMES[next]);
  });
})();
