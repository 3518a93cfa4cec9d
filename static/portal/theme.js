// The colour theme someone chose (Light or Dark), applied before the first paint so a dark page
// never flashes white. Without a choice, the CSS follows the system (prefers-color-scheme).
// Loaded in <head> without defer on purpose; portal.js runs the toggle.
(function () {
  "use strict";
  try {
    const chosen = localStorage.getItem("portal-theme");
    if (chosen === "light" || chosen === "dark") document.documentElement.setAttribute("data-theme", chosen);
  } catch (error) {
    // Storage blocked (private mode, policy): follow the system.
  }
})();
