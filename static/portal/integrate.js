// The Integrate page's Copy buttons: they copy the sample shown on the page, with no server call.
// A file of its own, loaded by that page only (no inline script: Content-Security-Policy); it
// copies with portal.js's copyText, which base.html loads first.
(function () {
  "use strict";

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy-code]");
    if (!button) return;
    const code = document.getElementById(button.getAttribute("data-copy-code"));
    const status = document.getElementById("copy-status");
    const label = button.getAttribute("aria-label").replace(/^Copy /, "");
    try {
      await window.portal.copyText(code.textContent);
      if (status) status.textContent = "Copied " + label + " to the clipboard.";
    } catch (error) {
      if (status) status.textContent = "Copying failed; select the code and copy it by hand.";
    }
  });
})();
