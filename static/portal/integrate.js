// The Integrate page's Copy buttons: they copy the sample shown on the page, with no server call.
// A file of its own, loaded by that page only (no inline script: Content-Security-Policy).
(function () {
  "use strict";

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain HTTP on another host than localhost has no clipboard API.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy-code]");
    if (!button) return;
    const code = document.getElementById(button.getAttribute("data-copy-code"));
    const status = document.getElementById("copy-status");
    const label = button.getAttribute("aria-label").replace(/^Copy /, "");
    try {
      await copyText(code.textContent);
      if (status) status.textContent = "Copied " + label + " to the clipboard.";
    } catch (error) {
      if (status) status.textContent = "Copying failed; select the code and copy it by hand.";
    }
  });
})();
