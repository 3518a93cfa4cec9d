// A delivery's page (webhooks_app/delivery_page.py): each copy button copies the text of a JSON
// script element as it is, so a body is copied byte for byte as it was signed.
(function () {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy-json]");
    if (!button) return;
    const source = document.getElementById(button.getAttribute("data-copy-json"));
    const status = document.getElementById("copy-status");
    try {
      await window.portal.copyText(JSON.parse(source.textContent));
      status.textContent = button.getAttribute("data-copied");
    } catch (error) {
      status.textContent = "Copying failed; select the text and copy it by hand.";
    }
  });
})();
